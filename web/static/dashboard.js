// The dashboard's shared parts: the account's passkeys as the server
// lists them (for the Signal API and the security log), the step-up that
// sensitive changes may need (withStepUp runs it when the server asks),
// helpers to show times and browsers, and signing out. Each panel has a
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

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  // withStepUp runs call; when the server wants a fresh passkey check first
  // (403 step_up_required), it runs one and retries the call once.
  async function withStepUp(call) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof app.APIError && err.code === "step_up_required")) {
        throw err;
      }
    }
    await confirmIdentity();
    return call();
  }

  // confirmIdentity is the step-up: a sign-in ceremony for the signed-in
  // account, which refreshes the session's last passkey check.
  async function confirmIdentity() {
    var email = accountEmail();
    app.say("info", "For your security, confirm it's you: follow your browser's prompt to use your passkey…");
    var options = await app.api("/api/passkeys/generate-authentication-options", email ? { email: email } : {});
    var cred;
    try {
      cred = await app.getCredential(options, "authentication");
    } catch (err) {
      if (err && err.name === "NotAllowedError") {
        throw new app.APIError("This change needs a fresh check with your passkey, which was cancelled or timed out. Nothing was changed.");
      }
      throw err;
    }
    var result = await app.verifySignIn(cred, options);
    if (email && result.user && result.user.email &&
        result.user.email.toLowerCase() !== email.toLowerCase()) {
      throw new app.APIError("That passkey belongs to " + result.user.email + ", not to " + email +
        ". You are now signed in as " + result.user.email + ": reload the page. Nothing was changed.");
    }
    d.reload("sessions"); // the check signed this browser in again
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

  // formatTime shows an RFC 3339 time in the visitor's language and zone.
  function formatTime(s) {
    var at = new Date(s);
    if (!s || isNaN(at.getTime())) {
      return "";
    }
    return at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function timeEl(s) {
    var t = document.createElement("time");
    t.setAttribute("datetime", s);
    t.textContent = formatTime(s);
    return t;
  }

  // device names a browser from its User-Agent: "Chrome on Linux".
  function device(ua) {
    if (!ua) {
      return "";
    }
    var browser = /Edg\//.test(ua) ? "Edge"
      : /OPR\//.test(ua) ? "Opera"
      : /Firefox\//.test(ua) ? "Firefox"
      : /Chrom(e|ium)\//.test(ua) ? "Chrome"
      : /Safari\//.test(ua) ? "Safari" : "";
    var os = /iPhone|iPad|iPod/.test(ua) ? "iOS"
      : /Android/.test(ua) ? "Android"
      : /Windows/.test(ua) ? "Windows"
      : /CrOS/.test(ua) ? "ChromeOS"
      : /Mac OS X|Macintosh/.test(ua) ? "macOS"
      : /Linux/.test(ua) ? "Linux" : "";
    if (browser && os) {
      return browser + " on " + os;
    }
    return browser || os || "";
  }

  d.plural = plural;
  d.withStepUp = withStepUp;
  d.accountEmail = accountEmail;
  d.loadPasskeyInfo = loadPasskeyInfo;
  d.signalAccepted = signalAccepted;
  d.findInfo = findInfo;
  d.passkeyInfo = function () { return passkeyInfo; };
  d.timeEl = timeEl;
  d.device = device;

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
