// The console's API keys: create one (shown once, with a Copy button),
// list them with their last use, revoke one.
"use strict";

(function (app) {
  var a = app.admin;

  async function load() {
    var list = document.getElementById("keys");
    var data;
    try {
      data = await a.get("/api-keys");
    } catch (err) {
      a.failed(list, "the API keys", err);
      return;
    }
    a.fill(list, data.keys, function (k) {
      var li = a.item(k.name, [], [[
        "Created by " + (k.createdBy || "unknown"),
        a.span("on ", app.timeEl(k.createdAt)),
        a.span("Last used ", a.when(k.lastUsedAt))
      ]]);
      li.setAttribute("data-key-id", k.id);
      return a.actions(li, [a.button("Revoke", "revoke-key", "Revoke the key " + k.name, "danger")]);
    }, "No API keys.");
  }

  a.on("key-create", async function () {
    var input = document.getElementById("key-name");
    var res = await a.send("POST", "/api-keys", { name: input.value.trim() });
    input.value = "";
    a.showSecret("key-panel", "key-value", "copy-key", res.secret);
    app.say("success", "Created the key " + res.key.name + ". Copy it now: it is shown only once.");
    await load();
  });

  // Revoking asks once more on the item itself.
  document.getElementById("keys").addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-action]");
    if (!b || app.isBusy()) {
      return;
    }
    var li = b.closest("li");
    var name = li.querySelector(".item-title").textContent;
    if (b.dataset.action === "revoke-key") {
      b.textContent = "Revoke for good";
      b.className = "small danger-primary";
      b.dataset.action = "confirm-revoke";
      b.setAttribute("aria-label", "Revoke the key " + name + " for good: scripts using it stop working");
      app.say("info", "Scripts using " + name + " will stop working. Press Revoke for good to go on.");
      return;
    }
    a.run(async function () {
      await a.send("DELETE", "/api-keys/" + encodeURIComponent(li.dataset.keyId));
      app.say("success", "Revoked the key " + name + ".");
      await load();
    });
  });

  load();
})(window.passkeyd);
