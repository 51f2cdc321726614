// The dashboard's security log, newest first, paged.
"use strict";

(function (app) {
  var el = app.el;
  var d = app.dashboard;

  var logNext = null;

  function eventItem(ev) {
    var alert = ["login_failed", "clone_warning", "oidc_code_reused", "oidc_refresh_reuse"].indexOf(ev.type) >= 0;
    var li = el("li", "item" + (alert ? " alert" : ""));
    li.setAttribute("data-event-id", String(ev.id));
    li.setAttribute("data-event-type", ev.type);
    var what = app.eventWording[ev.type] || String(ev.type || "Event").replace(/_/g, " ");
    var pk = ev.passkeyId ? d.findInfo(ev.passkeyId) : null;
    if (pk && pk.name && (!ev.detail || ev.detail.indexOf(pk.name) < 0)) {
      what += " · " + pk.name;
    }
    li.appendChild(el("p", "item-title", what));
    if (ev.detail) {
      li.appendChild(el("p", "item-detail", ev.detail));
    }
    var meta = el("p", "item-meta");
    meta.appendChild(d.timeEl(ev.createdAt));
    var where = [ev.ip, d.device(ev.userAgent)].filter(Boolean).join(" · ");
    if (where) {
      meta.appendChild(document.createTextNode(" · " + where));
    }
    li.appendChild(meta);
    return li;
  }

  // loadLog shows the newest events, or, with before, appends older ones.
  async function loadLog(before) {
    var list = document.getElementById("security-log");
    var older = document.getElementById("log-older");
    var data;
    try {
      data = await app.request("GET", "/api/security-log?limit=20" + (before ? "&before=" + encodeURIComponent(before) : ""));
    } catch (err) {
      if (before) {
        throw err;
      }
      list.textContent = "";
      list.appendChild(el("li", "item empty", "Could not load the security log: " + app.describe(err)));
      return;
    }
    if (!before) {
      list.textContent = "";
    }
    var events = (data && data.events) || [];
    events.forEach(function (ev) {
      list.appendChild(eventItem(ev));
    });
    if (!before && events.length === 0) {
      list.appendChild(el("li", "item empty", "Nothing yet."));
    }
    logNext = data && data.next !== undefined && data.next !== null ? data.next : null;
    older.hidden = logNext === null;
  }

  function initLog() {
    document.getElementById("log-older").addEventListener("click", function () {
      if (logNext === null) {
        return;
      }
      app.ceremony("log", async function () {
        var first = document.getElementById("security-log").children.length;
        await loadLog(logNext);
        app.say("success", "Older events loaded.");
        var next = document.getElementById("security-log").children[first];
        if (next) {
          next.setAttribute("tabindex", "-1");
          next.focus();
        }
      });
    });
  }

  d.onReload("log", loadLog);
  initLog();
  d.passkeysLoaded.then(function () {
    return loadLog(); // after the passkeys, so events can name them
  });
})(window.passkeyd);
