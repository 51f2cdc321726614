// The dashboard's sessions panel: where the account is signed in, and
// signing those out.
"use strict";

(function (app) {
  var el = app.el;
  var d = app.dashboard;

  async function loadSessions() {
    var list = document.getElementById("sessions");
    var others = document.getElementById("revoke-others");
    var data;
    try {
      data = await app.request("GET", "/api/sessions");
    } catch (err) {
      list.textContent = "";
      list.appendChild(el("li", "item empty", "Could not load your sessions: " + app.describe(err)));
      return;
    }
    var sessions = (data && data.sessions) || [];
    list.textContent = "";
    var otherCount = 0;
    sessions.forEach(function (s) {
      var li = el("li", "item" + (s.current ? " current" : ""));
      li.setAttribute("data-session-id", s.id);
      var title = el("p", "item-title", s.device || d.device(s.userAgent) || "Unknown browser");
      if (s.userAgent) {
        title.title = s.userAgent;
      }
      if (s.current) {
        title.appendChild(document.createTextNode(" "));
        title.appendChild(el("span", "badge badge-ok", "This browser"));
      } else {
        otherCount++;
      }
      li.appendChild(title);
      var meta = el("p", "item-meta");
      if (s.ip) {
        meta.appendChild(document.createTextNode(s.ip + " · "));
      }
      meta.appendChild(document.createTextNode("Last active "));
      meta.appendChild(d.timeEl(s.lastSeenAt || s.createdAt));
      if (s.createdAt) {
        meta.appendChild(document.createTextNode(" · Signed in "));
        meta.appendChild(d.timeEl(s.createdAt));
      }
      li.appendChild(meta);
      if (!s.current) {
        var actions = el("div", "item-actions");
        var b = el("button", "small", "Sign out");
        b.type = "button";
        b.setAttribute("data-action", "revoke-session");
        b.setAttribute("aria-label", "Sign out " + (s.device || "this session"));
        actions.appendChild(b);
        li.appendChild(actions);
      }
      list.appendChild(li);
    });
    if (sessions.length === 0) {
      list.appendChild(el("li", "item empty", "No active sessions."));
    }
    others.hidden = otherCount === 0;
  }

  function initSessions() {
    var list = document.getElementById("sessions");
    list.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest('button[data-action="revoke-session"]') : null;
      var li = button && button.closest("li[data-session-id]");
      if (!li || app.isBusy()) {
        return;
      }
      app.ceremony("sessions", async function () {
        app.say("info", "Signing that session out…");
        await app.request("DELETE", "/api/sessions/" + encodeURIComponent(li.getAttribute("data-session-id")));
        app.say("success", "Signed out " + (li.querySelector(".item-title").firstChild.textContent.trim() || "that session") + ".");
        await loadSessions();
        d.reload("log");
      });
    });
    document.getElementById("revoke-others").addEventListener("click", function () {
      app.ceremony("sessions", async function () {
        app.say("info", "Signing out your other sessions…");
        var data = await app.request("DELETE", "/api/sessions");
        var n = (data && data.revoked) || 0;
        app.say("success", n === 0 ? "You were not signed in anywhere else." : "Signed out " + d.plural(n, "other session", "other sessions") + ".");
        await loadSessions();
        d.reload("log");
      });
    });
  }

  d.onReload("sessions", loadSessions);
  initSessions();
  loadSessions();
})(window.passkeyd);
