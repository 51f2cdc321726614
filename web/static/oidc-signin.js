// The OpenID Connect provider's sign-in page (/oidc/login): sign in with a
// passkey, or create an account with one and then sign in with it, through
// app.js. Once signed in the page reloads: the login step sees the new
// session and goes on to the consent page or back to the app.
"use strict";

(function (app) {
  var form = document.getElementById("signin");
  var emailInput = document.getElementById("email");
  var signUp = document.getElementById("signup-button"); // not offered to a signed-in user

  if (app.unsupported()) {
    app.say("error", "This browser cannot use passkeys here. Passkeys need a current browser and a secure (https) connection.");
    document.getElementById("signin-button").disabled = true;
    if (signUp) {
      signUp.disabled = true;
    }
    return;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var email = emailInput.value.trim();
    app.ceremony("signin", async function () {
      app.say("info", "Asking the server for a sign-in challenge…");
      var options = await app.api("/api/passkeys/generate-authentication-options", email ? { email: email } : {});
      app.say("info", email ? "Follow your browser's prompt to use your passkey…" : "Choose a passkey in your browser's prompt…");
      var cred = await app.getCredential(options, "authentication");
      await app.verifySignIn(cred, options);
      app.say("success", "Signed in. Continuing…");
      location.reload();
      return app.NAVIGATING;
    });
  });

  // As on the start page, creating an account does not sign in: the user
  // signs in with the new passkey next, which proves it works.
  if (signUp) {
    signUp.addEventListener("click", function () {
      var email = emailInput.value.trim();
      if (!email) {
        app.say("error", "Enter your email address to create an account.");
        emailInput.focus();
        return;
      }
      app.ceremony("register", async function () {
        await app.register({ email: email });
        app.say("success", "Account created. Now sign in with your new passkey.");
      });
    });
  }
})(window.passkeyd);
