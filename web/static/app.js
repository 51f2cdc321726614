// passkeyd pages: passkey registration, sign-in (buttons and browser
// autofill) and sign-out. One plain script, no modules and no build step, so
// the strict Content-Security-Policy holds. The page is recognised by its
// elements: #signin is the start page, #add-passkey the dashboard.
//
// document.body.dataset.autofill tells tests (and the curious) where the
// autofill request stands: "pending" while the browser holds it, "aborted"
// once a button cancelled it, "done" when it returned a passkey, "error" if
// the browser refused it.
"use strict";

(function () {
  var base = document.body.dataset.base || "";
  var statusEl = document.getElementById("status");
  var emailInput = document.getElementById("email");
  var isHome = !!document.getElementById("signin");
  var isDashboard = !!document.getElementById("add-passkey");

  var NAVIGATING = "navigating"; // a ceremony's result when the page is being left
  var busy = false;              // a ceremony started by a button (or by autofill) runs
  var autofill = null;           // {ctrl, done} of the pending conditional request
  var autofillSupported = false;

  // --- status line and buttons ---

  function say(kind, text) {
    statusEl.className = "status status-" + kind; // info, success or error
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

  // --- talking to the server ---

  function APIError(message, code, status) {
    this.name = "APIError";
    this.message = message;
    this.code = code || "";
    this.status = status || 0;
  }
  APIError.prototype = Object.create(Error.prototype);

  // api POSTs body as JSON to path under base and returns the decoded answer.
  // A non-2xx answer throws an APIError with the server's message.
  async function api(path, body, signal) {
    var res;
    try {
      res = await fetch(base + path, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(body || {}),
        credentials: "same-origin",
        cache: "no-store",
        signal: signal
      });
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

  // --- ceremonies ---

  // ceremony runs fn with the buttons disabled and the autofill request
  // stopped, shows what went wrong if it fails, and restores the page
  // afterwards unless fn returned NAVIGATING.
  async function ceremony(kind, fn) {
    if (busy) {
      return;
    }
    setBusy(true);
    var result;
    try {
      await stopAutofill();
      result = await fn();
    } catch (err) {
      say("error", describe(err, kind));
      if (!(err instanceof APIError) && window.console) {
        console.warn("passkey " + kind + ":", err);
      }
    }
    if (result !== NAVIGATING) {
      setBusy(false);
      startAutofill();
    }
  }

  async function register(email) {
    say("info", "Asking the server to prepare a passkey…");
    var options = await api("/api/passkeys/generate-registration-options", email ? { email: email } : {});
    say("info", "Follow your browser's prompt to create the passkey…");
    var cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
    say("info", "Saving your new passkey…");
    var result = await api("/api/passkeys/verify-registration", registrationJSON(cred));
    if (!result || result.verified !== true) {
      throw new APIError("The server could not verify the new passkey. Please try again.");
    }
  }

  async function signIn(email) {
    say("info", "Asking the server for a sign-in challenge…");
    var options = await api("/api/passkeys/generate-authentication-options", email ? { email: email } : {});
    say("info", email ? "Follow your browser's prompt to use your passkey…" : "Choose a passkey in your browser's prompt…");
    var cred = await navigator.credentials.get({ publicKey: requestOptions(options) });
    return finishSignIn(cred, options);
  }

  async function finishSignIn(cred, options) {
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
    var who = result.user && result.user.email ? " as " + result.user.email : "";
    say("success", "Signed in" + who + ". Opening your account…");
    location.assign(base + "/dashboard");
    return NAVIGATING;
  }

  // forgetCredential tells the passkey provider that the server does not know
  // this passkey (deleted account or passkey), so it can stop offering it.
  function forgetCredential(rpId, credentialId) {
    if (typeof PublicKeyCredential.signalUnknownCredential !== "function") {
      return;
    }
    PublicKeyCredential.signalUnknownCredential({ rpId: rpId, credentialId: credentialId })
      .catch(function () {});
  }

  // --- autofill (conditional mediation) on the start page ---

  function startAutofill() {
    if (!isHome || !autofillSupported || busy || autofill) {
      return;
    }
    var state = { ctrl: new AbortController(), done: null };
    autofill = state;
    state.done = runAutofill(state);
  }

  async function runAutofill(state) {
    var signal = state.ctrl.signal;
    var options, cred;
    try {
      options = await api("/api/passkeys/generate-authentication-options", {}, signal);
      if (signal.aborted) {
        return;
      }
      document.body.dataset.autofill = "pending";
      cred = await navigator.credentials.get({
        publicKey: requestOptions(options),
        mediation: "conditional",
        signal: signal
      });
    } catch (err) {
      if (autofill === state) {
        autofill = null;
      }
      if (!signal.aborted && !(err && err.name === "AbortError")) {
        // The buttons still work; autofill just stays off until the next try.
        document.body.dataset.autofill = "error";
        if (window.console) {
          console.warn("passkey autofill:", err);
        }
      }
      return;
    }
    if (autofill === state) {
      autofill = null;
    }
    if (signal.aborted || !cred) {
      return;
    }
    document.body.dataset.autofill = "done";
    await ceremony("signin", function () {
      return finishSignIn(cred, options);
    });
  }

  // stopAutofill aborts the pending conditional request and waits (briefly)
  // until the browser has let go of it: a pending autofill request otherwise
  // blocks the modal ceremony in some browsers.
  async function stopAutofill() {
    var state = autofill;
    if (!state) {
      return;
    }
    autofill = null;
    state.ctrl.abort();
    document.body.dataset.autofill = "aborted";
    await Promise.race([
      state.done,
      new Promise(function (resolve) { setTimeout(resolve, 1000); })
    ]);
  }

  // --- wiring ---

  function unsupported() {
    return !window.PublicKeyCredential || !navigator.credentials;
  }

  function initHome() {
    var form = document.getElementById("passkey-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = emailInput.value.trim();
      ceremony("signin", function () { return signIn(email); });
    });
    document.getElementById("register").addEventListener("click", function () {
      var email = emailInput.value.trim();
      if (!email) {
        say("error", "Enter your email address to register a passkey.");
        emailInput.focus();
        return;
      }
      ceremony("register", async function () {
        await register(email);
        say("success", "Passkey registered. You can now sign in with it.");
      });
    });
    // Coming back through the browser's history restores the page as it was
    // left, buttons disabled: make it usable again.
    window.addEventListener("pageshow", function (ev) {
      if (ev.persisted) {
        setBusy(false);
        startAutofill();
      }
    });
    if (typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        autofillSupported = !!ok;
        startAutofill();
      }, function () {});
    }
  }

  function initDashboard() {
    // Show dates in the visitor's own time zone and language.
    var times = document.querySelectorAll("#passkeys time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        times[i].title = times[i].textContent;
        times[i].textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      }
    }
    document.getElementById("add-passkey").addEventListener("click", function () {
      if (unsupported()) {
        say("error", "This browser cannot create passkeys here.");
        return;
      }
      ceremony("add", async function () {
        await register("");
        say("success", "Passkey added. Updating the list…");
        location.reload();
        return NAVIGATING;
      });
    });
    document.getElementById("signout").addEventListener("click", function () {
      ceremony("signout", async function () {
        say("info", "Signing out…");
        try {
          await api("/api/auth/logout", {});
        } catch (err) {
          // Already signed out (session expired): the start page is right anyway.
          if (!(err instanceof APIError && err.status === 401)) {
            throw err;
          }
        }
        location.assign(base + "/");
        return NAVIGATING;
      });
    });
  }

  if (isHome) {
    if (unsupported()) {
      say("error", "This browser cannot use passkeys here. Passkeys need a current browser and a secure (https) connection.");
      document.getElementById("register").disabled = true;
      document.getElementById("signin").disabled = true;
      return;
    }
    initHome();
  } else if (isDashboard) {
    initDashboard();
  }
})();
