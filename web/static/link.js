// The page a link from an email opens: a recovery link, or the link that
// verifies (or changes) the account's address.
"use strict";

(function (app) {
  var box = document.getElementById("link");
  var intro = document.getElementById("link-intro");
  var action = box.dataset.action;
  var params = new URLSearchParams(location.search);
  var token = params.get("token");
  if (token !== null) {
    // The token is a secret: keep it out of the history, bookmarks and
    // anything the page's address is shown to.
    params.delete("token");
    var rest = params.toString();
    history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }

  // What the link does, by its kind.
  var uses = {
    "recover": async function () {
      var data = await app.api("/api/recovery/email/verify", { token: token });
      var who = (data && data.user && data.user.email) || "";
      app.say("success", "Link accepted. Now create a new passkey" + (who ? " for " + who : "") + ".");
      app.showNewPasskeyStep(who, box);
    },
    "verify-email": async function () {
      var data = await app.api("/api/email/verify", { token: token });
      app.say("success", "Your email address " + ((data && data.email) || "") + " is verified. Thank you!");
    },
    "confirm-email": async function () {
      var data = await app.api("/api/account/email/confirm", { token: token });
      app.say("success", "Your email address is now " + ((data && data.email) || "changed") + ". Your old address has been told about the change.");
    }
  };

  if (!token) {
    if (action === "recover" && box.dataset.recovery === "true") {
      // Reloaded after the link signed in: carry on.
      app.showNewPasskeyStep("", box);
      return;
    }
    intro.hidden = true;
    app.say("error", "This page needs the link from your email. Open the link in the message again, or copy all of it into the address bar.");
    return;
  }

  app.ceremony(action, uses[action]).then(function () {
    intro.hidden = true;
  });
})(window.passkeyd);
