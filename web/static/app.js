// passkeyd pages, the part every page shares: the status line, one action
// at a time, the JSON API, the WebAuthn calls with their JSON encodings,
// signing in and the step-up (a fresh passkey check before a sensitive
// change), and showing times and browsers.
// Each page then loads its own script (home.js, dashboard.js, recover.js,
// link.js; new-passkey.js for the step after a recovery), which finds what
// it needs in window.passkeyd. Plain scripts loaded with defer run in order
// after the document is parsed; no modules, because an import would have to
// name the content-hashed file.
"use strict";

window.passkeyd = (function () {
  var base = document.body.dataset.base || "";
  var statusEl = document.getElementById("status");

  var NAVIGATING = "navigating"; // an action's result when the page is being left
  var busy = false;              // an action started by a button (or by autofill) runs
  var background = [];           // {stop, resume} of browser requests that wait in the background

  // --- status line and buttons ---

  // say shows a message of a kind (info, success or error) in #status,
  // keeping the element's other classes.
  function say(kind, text) {
    statusEl.className = statusEl.className.replace(/\s*\bstatus-\w+/g, "") + " status-" + kind;
    statusEl.textContent = text;
  }

  function setBusy(on) {
    busy = on;
    var buttons = document.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = on;
    }
    document.body.setAttribute("aria-busy", on ? "true" : "false");
  }

  function isBusy() {
    return busy;
  }

  // --- talking to the server ---

  function APIError(message, code, status) {
    this.name = "APIError";
    this.message = message;
    this.code = code || "";
    this.status = status || 0;
  }
  APIError.prototype = Object.create(Error.prototype);

  // request sends body (if not undefined) as JSON with method to path under
  // base and returns the decoded answer (null for 204). A non-2xx answer
  // throws an APIError with the server's message.
  async function request(method, path, body, signal) {
    var init = {
      method: method,
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      signal: signal
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var res;
    try {
      res = await fetch(base + path, init);
    } catch (err) {
      if (err && err.name === "AbortError") {
        throw err;
      }
      throw new APIError("Could not reach the server. Check your connection and try again.", "network");
    }
    var data = null;
    if (res.status !== 204) {
      try {
        data = await res.json();
      } catch (err) {
        data = null;
      }
    }
    if (!res.ok) {
      var message = data && typeof data.error === "string" && data.error
        ? data.error
        : "The server could not handle the request (HTTP " + res.status + "). Please try again.";
      throw new APIError(message, data && data.code, res.status);
    }
    return data;
  }

  // api POSTs body as JSON.
  function api(path, body, signal) {
    return request("POST", path, body || {}, signal);
  }

  // reportError tells the server's metrics that a WebAuthn call rejected
  // (the server cannot see those otherwise). Fire and forget.
  function reportError(ceremony, err) {
    if (!err || typeof err.name !== "string") {
      return;
    }
    try {
      fetch(base + "/api/client-errors", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ceremony: ceremony, name: err.name }),
        credentials: "same-origin",
        keepalive: true
      }).catch(function () {});
    } catch (e) {
      // Metrics never get in the user's way.
    }
  }

  // --- WebAuthn JSON encodings (for browsers without the JSON helpers) ---

  function fromB64url(s) {
    s = String(s).replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      bytes[i] = bin.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBinaryIDs(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: fromB64url(c.id) });
    });
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = fromB64url(json.challenge);
    o.user = Object.assign({}, json.user, { id: fromB64url(json.user.id) });
    if (json.excludeCredentials) {
      o.excludeCredentials = withBinaryIDs(json.excludeCredentials);
    }
    return o;
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = fromB64url(json.challenge);
    if (json.allowCredentials) {
      o.allowCredentials = withBinaryIDs(json.allowCredentials);
    }
    return o;
  }

  function commonJSON(cred) {
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: { clientDataJSON: toB64url(cred.response.clientDataJSON) },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  // registrationJSON returns RegistrationResponseJSON.
  function registrationJSON(cred) {
    if (typeof cred.toJSON === "function") {
      return cred.toJSON();
    }
    var out = commonJSON(cred);
    var r = cred.response;
    out.response.attestationObject = toB64url(r.attestationObject);
    out.response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    if (typeof r.getAuthenticatorData === "function") {
      out.response.authenticatorData = toB64url(r.getAuthenticatorData());
    }
    if (typeof r.getPublicKey === "function") {
      var key = r.getPublicKey();
      if (key) {
        out.response.publicKey = toB64url(key);
      }
    }
    if (typeof r.getPublicKeyAlgorithm === "function") {
      out.response.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
    }
    return out;
  }

  // authenticationJSON returns AuthenticationResponseJSON.
  function authenticationJSON(cred) {
    if (typeof cred.toJSON === "function") {
      return cred.toJSON();
    }
    var out = commonJSON(cred);
    var r = cred.response;
    out.response.authenticatorData = toB64url(r.authenticatorData);
    out.response.signature = toB64url(r.signature);
    if (r.userHandle) {
      out.response.userHandle = toB64url(r.userHandle);
    }
    return out;
  }

  // createCredential and getCredential call WebAuthn and report a
  // rejection to the server's metrics under the ceremony's name.
  async function createCredential(optionsJSON, metric) {
    var publicKey = creationOptions(optionsJSON);
    try {
      return await navigator.credentials.create({ publicKey: publicKey });
    } catch (err) {
      reportError(metric, err);
      throw err;
    }
  }

  async function getCredential(optionsJSON, metric) {
    var publicKey = requestOptions(optionsJSON);
    try {
      return await navigator.credentials.get({ publicKey: publicKey });
    } catch (err) {
      reportError(metric, err);
      throw err;
    }
  }

  function unsupported() {
    return !window.PublicKeyCredential || !navigator.credentials;
  }

  // --- the Signal API: telling the passkey provider what changed ---

  function signal(method, args) {
    if (!window.PublicKeyCredential || typeof PublicKeyCredential[method] !== "function") {
      return;
    }
    try {
      Promise.resolve(PublicKeyCredential[method](args)).catch(function () {});
    } catch (err) {
      // Feature detection passed but the call did not: nothing to do.
    }
  }

  // forgetCredential tells the passkey provider that the server does not know
  // this passkey (deleted account or passkey), so it can stop offering it.
  function forgetCredential(rpId, credentialId) {
    signal("signalUnknownCredential", { rpId: rpId, credentialId: credentialId });
  }

  // --- messages ---

  function describe(err, kind) {
    if (err instanceof APIError) {
      return err.message;
    }
    switch (err && err.name) {
      case "NotAllowedError":
        return kind === "signin"
          ? "Sign-in was cancelled or timed out."
          : "Passkey creation was cancelled or timed out. Nothing was saved.";
      case "InvalidStateError":
        if (kind === "register") {
          return "This device already has a passkey for this account. Use it to sign in.";
        }
        if (kind === "add") {
          return "This device already has a passkey for your account. To add another, use a different device or security key.";
        }
        return "Your browser is busy with another passkey request. Please try again.";
      case "AbortError":
        return "The passkey request was interrupted. Please try again.";
      case "SecurityError":
        return "The browser refused: this page's address does not match the site's passkey settings.";
      case "NotSupportedError":
      case "ConstraintError":
        return "This device or browser cannot " + (kind === "signin" ? "use" : "create") + " the kind of passkey this site needs.";
    }
    return "Something went wrong: " + ((err && err.message) || String(err));
  }

  // --- actions ---

  // inBackground registers a browser request that waits without a click
  // (autofill on the start page, conditional create after a recovery):
  // stop() ends it, and resolves once the browser has let go of it, before
  // an action runs; resume() may start it again when the action is over.
  function inBackground(task) {
    background.push(task);
  }

  // ceremony runs fn with the buttons disabled and the background requests
  // stopped, shows what went wrong if it fails, and restores the page
  // afterwards unless fn returned NAVIGATING. Every action on the pages runs
  // through it, so only one runs at a time.
  async function ceremony(kind, fn) {
    if (busy) {
      return;
    }
    setBusy(true);
    var result;
    try {
      for (var i = 0; i < background.length; i++) {
        await background[i].stop();
      }
      result = await fn();
    } catch (err) {
      say("error", describe(err, kind));
      if (!(err instanceof APIError) && window.console) {
        console.warn("passkey " + kind + ":", err);
      }
    }
    if (result !== NAVIGATING) {
      setBusy(false);
      resumeBackground();
    }
    return result;
  }

  function resumeBackground() {
    background.forEach(function (task) {
      task.resume();
    });
  }

  // A page the browser's history brings back as it was left (buttons
  // disabled, a ceremony navigating away) must be usable again.
  window.addEventListener("pageshow", function (ev) {
    if (ev.persisted) {
      setBusy(false);
      resumeBackground();
    }
  });

  // register creates a passkey: a new account's (body {email}), one more for
  // the signed-in account, or the new one after a recovery (body {}). It
  // returns the server's answer. The dashboard passes its withStepUp as
  // getOptions, since adding a passkey there may need a fresh passkey check.
  async function register(body, getOptions) {
    say("info", "Asking the server to prepare a passkey…");
    var ask = function () {
      return api("/api/passkeys/generate-registration-options", body);
    };
    var options = await (getOptions ? getOptions(ask) : ask());
    say("info", "Follow your browser's prompt to create the passkey…");
    var cred = await createCredential(options, "registration");
    return saveRegistration(cred);
  }

  async function saveRegistration(cred) {
    say("info", "Saving your new passkey…");
    var result = await api("/api/passkeys/verify-registration", registrationJSON(cred));
    if (!result || result.verified !== true) {
      throw new APIError("The server could not verify the new passkey. Please try again.");
    }
    return result;
  }

  // verifySignIn posts an assertion and returns the server's answer; a
  // passkey the server does not know is reported to the provider.
  async function verifySignIn(cred, options) {
    say("info", "Checking your passkey…");
    var result;
    try {
      result = await api("/api/passkeys/verify-authentication", authenticationJSON(cred));
    } catch (err) {
      if (err instanceof APIError && err.code === "unknown_credential") {
        forgetCredential(options.rpId || location.hostname, cred.id);
      }
      throw err;
    }
    if (!result || result.verified !== true) {
      throw new APIError("The server could not verify your passkey. Please try again.");
    }
    return result;
  }

  // signIn runs a sign-in ceremony (for email, or any passkey on the
  // device when it is empty) and returns the server's answer: the start
  // page's sign-in, and the console's setup page's.
  async function signIn(email) {
    say("info", "Asking the server for a sign-in challenge…");
    var options = await api("/api/passkeys/generate-authentication-options", email ? { email: email } : {});
    say("info", email ? "Follow your browser's prompt to use your passkey…" : "Choose a passkey in your browser's prompt…");
    var cred = await getCredential(options, "authentication");
    return verifySignIn(cred, options);
  }

  // withStepUp runs call; when the server wants a fresh passkey check first
  // (403 step_up_required), it runs confirmIdentity and retries the call
  // once. The dashboard and the console share it. email is the signed-in
  // account's address (a string or a function giving it); confirmed, if
  // given, runs after the check (it signed this browser in again).
  async function withStepUp(call, email, confirmed) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof APIError && err.code === "step_up_required")) {
        throw err;
      }
    }
    await confirmIdentity(typeof email === "function" ? email() : email);
    if (confirmed) {
      confirmed();
    }
    return call();
  }

  // confirmIdentity is the step-up: a sign-in ceremony for the signed-in
  // account, which refreshes the session's last passkey check.
  async function confirmIdentity(email) {
    say("info", "For your security, confirm it's you: follow your browser's prompt to use your passkey…");
    var options = await api("/api/passkeys/generate-authentication-options", email ? { email: email } : {});
    var cred;
    try {
      cred = await getCredential(options, "authentication");
    } catch (err) {
      if (err && err.name === "NotAllowedError") {
        throw new APIError("This change needs a fresh check with your passkey, which was cancelled or timed out. Nothing was changed.");
      }
      throw err;
    }
    var result = await verifySignIn(cred, options);
    if (email && result.user && result.user.email &&
        result.user.email.toLowerCase() !== email.toLowerCase()) {
      throw new APIError("That passkey belongs to " + result.user.email + ", not to " + email +
        ". You are now signed in as " + result.user.email + ": reload the page. Nothing was changed.");
    }
  }

  // eventWording names the events of the security and audit logs.
  var eventWording = {
    user_created: "Account created",
    passkey_added: "Passkey added",
    passkey_renamed: "Passkey renamed",
    profile_changed: "Name shown to apps changed",
    passkey_deleted: "Passkey deleted",
    login_succeeded: "Signed in",
    login_failed: "Failed sign-in attempt",
    clone_warning: "Possibly copied passkey refused",
    backup_eligibility_changed: "Passkey's backup ability changed",
    backup_state_changed: "Passkey's backup status changed",
    logout: "Signed out",
    session_revoked: "Session signed out",
    recovery_used: "Account recovery used",
    email_changed: "Email address changed",
    email_verified: "Email address verified",
    recovery_codes_generated: "Recovery codes generated",
    recovery_link_issued: "Recovery link made by an administrator",
    email_change_requested: "Email address change requested",
    email_change_cancelled: "Email address change cancelled",
    account_taken_over: "Account taken over by the owner of its address",
    oidc_sign_in: "Signed in to an app",
    oidc_app_revoked: "App disconnected",
    oidc_code_reused: "An app's sign-in code was used twice; its access was ended",
    oidc_refresh_reuse: "An app's old token was used again; its access was ended",
    admin_granted: "Made an administrator",
    admin_revoked: "Administrator role revoked",
    user_disabled: "Account disabled",
    user_enabled: "Account enabled",
    user_deleted: "Account deleted",
    sessions_ended: "All sessions ended by an administrator",
    group_created: "Group created",
    group_renamed: "Group renamed",
    group_deleted: "Group deleted",
    group_member_added: "Added to a group",
    group_member_removed: "Removed from a group",
    app_created: "App created",
    app_updated: "App changed",
    app_secret_rotated: "App's secret rotated",
    app_deleted: "App deleted",
    api_key_created: "API key created",
    api_key_revoked: "API key revoked"
  };

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
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

  // el makes an element with an optional class and text: the pages build
  // their lists with it, never with HTML strings.
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) {
      e.className = className;
    }
    if (text !== undefined && text !== null) {
      e.textContent = text;
    }
    return e;
  }

  return {
    base: base,
    el: el,
    NAVIGATING: NAVIGATING,
    APIError: APIError,
    say: say,
    isBusy: isBusy,
    request: request,
    api: api,
    reportError: reportError,
    creationOptions: creationOptions,
    requestOptions: requestOptions,
    createCredential: createCredential,
    getCredential: getCredential,
    unsupported: unsupported,
    signal: signal,
    forgetCredential: forgetCredential,
    describe: describe,
    inBackground: inBackground,
    ceremony: ceremony,
    register: register,
    saveRegistration: saveRegistration,
    verifySignIn: verifySignIn,
    signIn: signIn,
    plural: plural,
    eventWording: eventWording,
    timeEl: timeEl,
    formatTime: formatTime,
    device: device,
    withStepUp: withStepUp,
    confirmIdentity: confirmIdentity
  };
})();
