// The setup link's page: whoever holds the link, signed in with a passkey,
// makes their account the first administrator. Signed out, the page signs
// in first (the start page's ceremony, app.signIn) and stays here.
"use strict";

(function (app) {
  var a = app.admin;
  var token = document.getElementById("setup").dataset.token;

  function signedInAs(email) {
    document.getElementById("setup-signin").hidden = true;
    document.getElementById("setup-claim").hidden = false;
    document.getElementById("setup-email").textContent = email;
  }

  async function whoIsSignedIn() {
    try {
      var me = await app.request("GET", "/api/auth/me");
      signedInAs((me && (me.email || (me.user && me.user.email))) || "your account");
    } catch (err) {
      document.getElementById("setup-signin").hidden = false;
    }
  }

  document.getElementById("setup-signin-button").addEventListener("click", function () {
    app.ceremony("signin", async function () {
      if (app.unsupported()) {
        throw new app.APIError("This browser cannot use passkeys here. Passkeys need a current browser and a secure (https) connection.");
      }
      var result = await app.signIn("");
      signedInAs((result.user && result.user.email) || "your account");
      app.say("success", "Signed in. Now make this account the administrator.");
      document.getElementById("setup-claim-button").focus();
    });
  });

  a.on("setup-claim-button", async function () {
    app.say("info", "Making you the administrator…");
    await app.request("POST", "/api/admin/setup", { token: token });
    app.say("success", "You are the administrator. Opening the console…");
    location.assign(a.url("/admin"));
    return app.NAVIGATING;
  });

  whoIsSignedIn();
})(window.passkeyd);
