// Connected apps on the dashboard: the apps that sign in with this account
// (OpenID Connect), each with its last use and a Revoke button, which ends
// the app's access: its refresh tokens stop working and the next sign-in
// asks again.
"use strict";

(function (app) {
  var el = app.el;
  var list = document.getElementById("apps");
  if (!list) {
    return;
  }


  function when(iso) {
    var t = el("time", null, new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
    t.dateTime = iso;
    return t;
  }

  async function load() {
    var data;
    try {
      data = await app.request("GET", "/api/apps");
    } catch (err) {
      list.textContent = "";
      list.appendChild(el("li", "item empty", "Could not load your apps: " + app.describe(err)));
      return;
    }
    var apps = (data && data.apps) || [];
    list.textContent = "";
    apps.forEach(function (a) {
      var li = el("li", "item");
      li.setAttribute("data-client-id", a.clientId);
      li.appendChild(el("p", "item-title", a.name));
      var meta = el("p", "item-meta");
      if (a.trusted) {
        meta.appendChild(document.createTextNode("Set up by your administrator · "));
      }
      if (a.lastUsedAt) {
        meta.appendChild(document.createTextNode("Last used "));
        meta.appendChild(when(a.lastUsedAt));
      } else {
        meta.appendChild(document.createTextNode("Allowed "));
        meta.appendChild(when(a.createdAt));
      }
      li.appendChild(meta);
      var actions = el("div", "item-actions");
      var b = el("button", "small", "Revoke");
      b.type = "button";
      b.setAttribute("data-action", "revoke-app");
      b.setAttribute("aria-label", "Revoke " + a.name);
      actions.appendChild(b);
      li.appendChild(actions);
      list.appendChild(li);
    });
    if (apps.length === 0) {
      list.appendChild(el("li", "item empty", "No apps use your account to sign in."));
    }
  }

  list.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest('button[data-action="revoke-app"]') : null;
    var li = button && button.closest("li[data-client-id]");
    if (!li || app.isBusy()) {
      return;
    }
    var name = li.querySelector(".item-title").textContent;
    app.ceremony("apps", async function () {
      app.say("info", "Revoking " + name + "…");
      await app.request("DELETE", "/api/apps/" + encodeURIComponent(li.getAttribute("data-client-id")));
      app.say("success", name + " can no longer use your account. It will ask again the next time you sign in to it.");
      await load();
    });
  });

  load();
})(window.passkeyd);
