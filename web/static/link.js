// The page a link from an email opens: a recovery or takeover link, the
// link that verifies (or changes) the account's address, the one that
// cancels a change, or a sign-up link. The token is used only when
// the visitor presses the button: mail scanners that open links, even ones
// that run scripts, must not sign the owner out everywhere or confirm an
// address nobody looked at.
"use strict";

(function (app) {
  var box = document.getElementById("link");
  var offer = document.getElementById("link-offer");
  var action = box.dataset.action;
  var params = new URLSearchParams(location.search);
  var token = params.get("token");
  if (token !== null || params.has("created")) {
    // The token is a secret: keep it out of the history, bookmarks and
    // anything the page's address is shown to. The button still has it.
    // (The account's creation date was for the server, which put it on
    // the page.)
    params.delete("token");
    params.delete("created");
    var rest = params.toString();
    history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }

  var signUpOptions = null; // the creation options a sign-up link bought

  // What the button does, by the link's kind.
  async function recover(path, accepted) {
    var data = await app.api(path, { token: token });
    var who = (data && data.user && data.user.email) || "";
    app.say("success", accepted + " Now create a new passkey" + (who ? " for " + who : "") + ".");
    app.showNewPasskeyStep(who, box);
  }
  var uses = {
    "recover": function () {
      return recover("/api/recovery/email/verify", "Link accepted.");
    },
    "takeover": function () {
      return recover("/api/recovery/email/takeover", "The account is yours: your address is confirmed and its old passkeys are removed.");
    },
    "cancel-email-change": async function () {
      var data = await app.api("/api/account/email/cancel", { token: token });
      app.say("success", "The change is cancelled: your account's email address stays " + ((data && data.email) || "as it was") +
        ", and every device and app signed in to it is signed out. Sign in again and check your passkeys.");
    },
    "verify-email": async function () {
      var data = await app.api("/api/email/verify", { token: token });
      app.say("success", "Your email address " + ((data && data.email) || "") + " is verified. Thank you!");
    },
    "confirm-email": async function () {
      var data = await app.api("/api/account/email/confirm", { token: token });
      app.say("success", "Your email address is now " + ((data && data.email) || "changed") + ". Your old address has been told about the change.");
    },
    "sign-up": async function () {
      // The first press spends the link; the options it bought serve a
      // press after a cancelled prompt, for as long as they last.
      if (!signUpOptions) {
        app.say("info", "Preparing your account…");
        signUpOptions = await app.api("/api/signup/email/verify", { token: token });
      }
      app.say("info", "Follow your browser's prompt to create your passkey…");
      var cred = await app.createCredential(signUpOptions, "registration");
      var result = await app.saveRegistration(cred);
      if (result.signedIn === true) {
        app.say("success", "Your account is ready and you are signed in. Opening your account…");
        location.assign(app.base + "/dashboard");
        return app.NAVIGATING;
      }
      app.say("success", "Your account is ready. Sign in with your new passkey on the start page.");
    }
  };

  if (!token) {
    offer.hidden = true;
    if ((action === "recover" || action === "takeover") && box.dataset.recovery === "true") {
      // Reloaded after the link signed in: carry on.
      app.showNewPasskeyStep("", box);
      return;
    }
    app.say("error", "This page needs the link from your email. Open the link in the message again, or copy all of it into the address bar.");
    return;
  }

  document.getElementById("link-use").addEventListener("click", function () {
    app.ceremony(action, async function () {
      var result;
      try {
        result = await uses[action]();
      } catch (err) {
        // A link the server refuses (used, expired, mistyped) stays refused:
        // offer it no more. Trying again helps only after an outage or a
        // rate limit.
        if (err instanceof app.APIError && err.status >= 400 && err.status < 500 && err.status !== 429) {
          offer.hidden = true;
        }
        throw err;
      }
      offer.hidden = true;
      return result;
    });
  });
})(window.passkeyd);
