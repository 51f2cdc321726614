// The OpenID Connect provider's consent page (/oidc/login), when letting
// the app in needs a fresh passkey check: the session's last one is older
// than the step-up window, and a new app gets tokens that outlive the
// session, so a copied session cookie alone must not be enough. Allow
// first runs a sign-in ceremony for the signed-in account (through app.js),
// which renews the session's check, then posts the form. Cancel posts at
// once.
"use strict";

(function (app) {
  var form = document.getElementById("consent");
  if (!form || form.getAttribute("data-step-up") !== "true") {
    return;
  }
  var email = form.getAttribute("data-email");

  form.addEventListener("submit", function (ev) {
    if (ev.submitter && ev.submitter.id !== "allow") {
      return; // Cancel needs no check
    }
    ev.preventDefault();
    if (app.unsupported()) {
      app.say("error", "This browser cannot use passkeys here. Passkeys need a current browser and a secure (https) connection.");
      return;
    }
    app.ceremony("signin", async function () {
      app.say("info", "Confirm it's you: follow your browser's prompt to use your passkey…");
      var options = await app.api("/api/passkeys/generate-authentication-options", email ? { email: email } : {});
      var cred = await app.getCredential(options, "authentication");
      await app.verifySignIn(cred, options);
      app.say("success", "Confirmed. Continuing…");
      // form.submit() sends no submitter and fires no submit event: the
      // decision goes in a field of its own.
      var decision = document.createElement("input");
      decision.type = "hidden";
      decision.name = "decision";
      decision.value = "allow";
      form.appendChild(decision);
      form.submit();
      return app.NAVIGATING;
    });
  });
})(window.passkeyd);
