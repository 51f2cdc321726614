// The dashboard's "Name shown to apps" panel: the name and
// preferred_username claims.
"use strict";

(function (app) {
  var d = app.dashboard;

  function initProfile() {
    var form = document.getElementById("profile-form");
    var name = document.getElementById("display-name");
    var username = document.getElementById("username");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      app.ceremony("profile", async function () {
        var data = await app.request("PUT", "/api/account/profile", {
          displayName: name.value, username: username.value.trim()
        });
        name.value = data.displayName;
        username.value = data.username;
        app.say("success", data.displayName || data.username ? "Saved." : "Saved: apps receive no name or username.");
        d.reload("log");
      });
    });
  }

  initProfile();
})(window.passkeyd);
