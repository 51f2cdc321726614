// The dashboard's shared parts: the account's passkeys as the server
// lists them (for the Signal API and the security log), the step-up that
// sensitive changes may need (withStepUp runs it when the server asks),
// and signing out. Each panel has a
// script of its own (dashboard-passkeys.js, -email, -profile, -codes,
// -sessions, -log; apps.js), loaded after this one; a panel reloads
// another with d.reload(name).
"use strict";

(function (app) {
  var d = app.dashboard = {};
  var passkeyInfo = null; // GET /api/passkeys: rpId, userHandle, email, passkeys
  var reloaders = {};

  // onReload registers how a panel reloads; reload runs it, if the page
  // has that panel.
  d.onReload = function (panel, fn) { reloaders[panel] = fn; };
  d.reload = function (panel, arg) {
    return reloaders[panel] ? reloaders[panel](arg) : Promise.resolve();
  };

  // withStepUp runs call, with a passkey check first if the server asks
  // for one (app.withStepUp); the check signs this browser in again, so the
  // sessions panel reloads.
  function withStepUp(call) {
    return app.withStepUp(call, accountEmail, function () { d.reload("sessions"); });
  }

  function accountEmail() {
    if (passkeyInfo && passkeyInfo.email) {
      return passkeyInfo.email;
    }
    return document.getElementById("user-email").textContent.trim();
  }

  // loadPasskeyInfo fetches what the Signal API needs (credential IDs,
  // user handle, RP ID) and tells the passkey provider which passkeys of
  // this account still exist and what the account is called.
  async function loadPasskeyInfo() {
    try {
      passkeyInfo = await app.request("GET", "/api/passkeys");
    } catch (err) {
      passkeyInfo = null;
      return;
    }
    signalAccepted();
  }

  function signalAccepted() {
    var info = passkeyInfo;
    if (!info || !info.rpId || !info.userHandle || !info.passkeys) {
      return;
    }
    // An empty list would make the provider forget every passkey of the
    // account: never send one.
    if (info.passkeys.length > 0) {
      app.signal("signalAllAcceptedCredentials", {
        rpId: info.rpId,
        userId: info.userHandle,
        allAcceptedCredentialIds: info.passkeys.map(function (p) { return p.credentialId; })
      });
    }
    if (info.email) {
      app.signal("signalCurrentUserDetails", {
        rpId: info.rpId,
        userId: info.userHandle,
        name: info.email,
        displayName: info.email
      });
    }
  }

  function findInfo(id) {
    var list = (passkeyInfo && passkeyInfo.passkeys) || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].id === id) {
        return list[i];
      }
    }
    return null;
  }

  d.plural = app.plural;
  d.withStepUp = withStepUp;
  d.accountEmail = accountEmail;
  d.loadPasskeyInfo = loadPasskeyInfo;
  d.signalAccepted = signalAccepted;
  d.findInfo = findInfo;
  d.passkeyInfo = function () { return passkeyInfo; };
  d.timeEl = app.timeEl;
  d.device = app.device;

  document.getElementById("signout").addEventListener("click", function () {
    app.ceremony("signout", async function () {
      app.say("info", "Signing out…");
      try {
        await app.api("/api/auth/logout", {});
      } catch (err) {
        // Already signed out (session expired): the start page is right anyway.
        if (!(err instanceof app.APIError && err.status === 401)) {
          throw err;
        }
      }
      location.assign(app.base + "/");
      return app.NAVIGATING;
    });
  });
  // The security log names passkeys, so it loads after their list.
  d.passkeysLoaded = loadPasskeyInfo();
})(window.passkeyd);
