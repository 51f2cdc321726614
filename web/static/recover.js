// The lost-passkey page: ask for a recovery link by email, or use a
// recovery code, then create a new passkey (new-passkey.js).
"use strict";

(function (app) {
  var forms = document.getElementById("recover-forms");
  var emailForm = document.getElementById("recover-email-form");
  var recoverEmail = document.getElementById("recover-email");
  var codeForm = document.getElementById("recover-code-form");
  var codeEmail = document.getElementById("code-email");
  var codeInput = document.getElementById("recovery-code");
  var prefilled = ""; // what the code form's email got from the link form

  emailForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var email = recoverEmail.value.trim();
    if (!email) {
      app.say("error", "Enter your account's email address.");
      recoverEmail.focus();
      return;
    }
    app.ceremony("recover", async function () {
      app.say("info", "Sending…");
      var data = await app.api("/api/recovery/email", { email: email });
      app.say("success", (data && data.message) || "If that address belongs to an account, a link is on its way.");
      if (!codeEmail.value || codeEmail.value === prefilled) {
        codeEmail.value = prefilled = email;
      }
    });
  });

  codeForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var email = codeEmail.value.trim();
    var code = codeInput.value.trim();
    if (!email || !code) {
      app.say("error", !email ? "Enter your account's email address." : "Enter one of your recovery codes.");
      (!email ? codeEmail : codeInput).focus();
      return;
    }
    app.ceremony("recover", async function () {
      app.say("info", "Checking your code…");
      var data = await app.api("/api/recovery/codes/verify", { email: email, code: code });
      codeInput.value = "";
      var who = (data && data.user && data.user.email) || email;
      app.say("success", "Code accepted. Now create a new passkey for " + who + ".");
      app.showNewPasskeyStep(who, forms);
    });
  });
})(window.passkeyd);
