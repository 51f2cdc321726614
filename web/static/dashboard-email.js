// The dashboard's email panel: resend the verification link, change the
// address (after a step-up).
"use strict";

(function (app) {
  var d = app.dashboard;

  function initEmail() {
    var resend = document.getElementById("resend-verification");
    if (resend) {
      resend.addEventListener("click", function () {
        app.ceremony("email", async function () {
          app.say("info", "Sending…");
          var data = await app.api("/api/email/resend-verification", {});
          app.say("success", (data && data.message) || "We sent a new verification link to " + d.accountEmail() + ".");
        });
      });
    }
    var form = document.getElementById("change-email-form");
    var input = document.getElementById("new-email");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = input.value.trim();
      if (!email) {
        app.say("error", "Enter the new email address.");
        input.focus();
        return;
      }
      app.ceremony("email", async function () {
        app.say("info", "Sending a confirmation link…");
        var data = await d.withStepUp(function () {
          return app.api("/api/account/email", { email: email });
        });
        input.value = "";
        app.say("success", (data && data.message) || "We sent a confirmation link to " + email + ". Open it to finish the change.");
        d.reload("log");
      });
    });
  }

  initEmail();
})(window.passkeyd);
