// The provider's "confirm your address first" page: the app is reached
// once the address is confirmed (Continue asks the sign-in step again).
// This script only sends a new link.
"use strict";

(function (app) {
  var resend = document.getElementById("resend-verification");
  resend.addEventListener("click", function () {
    app.ceremony("email", async function () {
      app.say("info", "Sending…");
      var data = await app.api("/api/email/resend-verification", {});
      app.say("success", (data && data.message) || "A new link is on its way.");
    });
  });
})(window.passkeyd);
