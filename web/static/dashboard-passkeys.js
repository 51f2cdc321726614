// The dashboard's passkeys panel: rename and delete in place, add one.
"use strict";

(function (app) {
  var el = app.el;
  var d = app.dashboard;

  function passkeyItem(node) {
    return node && node.closest ? node.closest("li[data-passkey-id]") : null;
  }

  function showPanel(li, which) {
    var controls = li.querySelector("[data-controls]");
    var rename = li.querySelector('[data-form="rename"]');
    var del = li.querySelector('[data-form="delete"]');
    controls.hidden = which !== "";
    rename.hidden = which !== "rename";
    del.hidden = which !== "delete";
    if (which === "rename") {
      var input = rename.querySelector("input");
      input.value = li.querySelector(".passkey-label").textContent;
      input.focus();
      input.select();
    } else if (which === "delete") {
      del.querySelector('[data-action="confirm-delete"]').focus();
    } else {
      controls.querySelector('[data-action="rename"]').focus();
    }
  }

  function setPasskeyName(li, name, provider) {
    var p = li.querySelector(".passkey-name");
    p.textContent = "";
    p.appendChild(el("span", "passkey-label", name));
    if (provider && provider !== name) {
      p.appendChild(document.createTextNode(" "));
      p.appendChild(el("span", "passkey-provider", provider));
    }
  }

  async function renamePasskey(li, name) {
    var id = li.getAttribute("data-passkey-id");
    app.say("info", "Renaming…");
    var pk = await app.request("PATCH", "/api/passkeys/" + encodeURIComponent(id), { name: name });
    var newName = (pk && pk.name) || name;
    setPasskeyName(li, newName, pk && pk.provider);
    showPanel(li, "");
    var known = d.findInfo(id);
    if (known) {
      known.name = newName;
    }
    app.say("success", "Passkey renamed to “" + newName + "”.");
    d.signalAccepted();
    d.reload("log");
  }

  async function deletePasskey(li) {
    var id = li.getAttribute("data-passkey-id");
    var name = li.querySelector(".passkey-label").textContent;
    if (!d.passkeyInfo()) {
      await d.loadPasskeyInfo();
    }
    var info = d.passkeyInfo();
    var known = d.findInfo(id);
    app.say("info", "Deleting…");
    var answer;
    try {
      answer = await d.withStepUp(function () {
        return app.request("DELETE", "/api/passkeys/" + encodeURIComponent(id));
      });
    } catch (err) {
      showPanel(li, "");
      throw err;
    }
    if (info && known) {
      app.forgetCredential(info.rpId, known.credentialId);
    }
    if (answer && answer.signedOut) {
      // This browser signed in with the passkey just deleted, and the
      // server ended its session: nothing more can be done here.
      location.assign(app.base + "/?notice=passkey-deleted");
      return app.NAVIGATING;
    }
    var list = li.parentNode;
    li.remove();
    if (!list.querySelector("li[data-passkey-id]")) {
      list.appendChild(el("li", "passkey empty", "No passkeys yet."));
    }
    if (info) {
      info.passkeys = info.passkeys.filter(function (p) { return p.id !== id; });
    }
    app.say("success", "Passkey “" + name + "” deleted. Remove it from your device's passkey list too, if it is still there.");
    document.getElementById("add-passkey").focus();
    d.reload("log");
  }

  function initPasskeys() {
    var list = document.getElementById("passkeys");
    list.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest("button[data-action]") : null;
      var li = passkeyItem(button);
      if (!button || !li || app.isBusy()) {
        return;
      }
      switch (button.getAttribute("data-action")) {
        case "rename":
          showPanel(li, "rename");
          break;
        case "delete":
          showPanel(li, "delete");
          break;
        case "cancel":
          showPanel(li, "");
          break;
        case "confirm-delete":
          app.ceremony("delete", function () { return deletePasskey(li); });
          break;
      }
    });
    list.addEventListener("submit", function (ev) {
      var li = passkeyItem(ev.target);
      if (!li) {
        return;
      }
      ev.preventDefault();
      var name = ev.target.querySelector("input").value.trim();
      if (!name) {
        app.say("error", "Enter a name for the passkey.");
        ev.target.querySelector("input").focus();
        return;
      }
      app.ceremony("rename", function () { return renamePasskey(li, name); });
    });
    list.addEventListener("keydown", function (ev) {
      var li = passkeyItem(ev.target);
      if (ev.key === "Escape" && li && !app.isBusy() && ev.target.closest("[data-form]")) {
        showPanel(li, "");
      }
    });
  }

  // Show dates in the visitor's own time zone and language.
  var times = document.querySelectorAll("#passkeys time[datetime]");
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute("datetime"));
    if (!isNaN(at.getTime())) {
      times[i].title = times[i].textContent;
      times[i].textContent = at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  }
  document.getElementById("add-passkey").addEventListener("click", function () {
    if (app.unsupported()) {
      app.say("error", "This browser cannot create passkeys here.");
      return;
    }
    app.ceremony("add", async function () {
      await app.register({}, d.withStepUp);
      app.say("success", "Passkey added. Updating the list…");
      location.reload();
      return app.NAVIGATING;
    });
  });
  initPasskeys();
})(window.passkeyd);
