// passkeyd pages: passkey registration, sign-in (buttons and browser
// autofill), sign-out, account management on the dashboard, and account
// recovery. One plain script, no modules and no build step, so the strict
// Content-Security-Policy holds. The page is recognised by its elements:
// #signin is the start page, #add-passkey the dashboard, #recover-email-form
// the recovery page and #link the page an emailed link opens.
//
// document.body.dataset.autofill tells tests (and the curious) where the
// autofill request stands: "pending" while the browser holds it, "aborted"
// once a button cancelled it, "done" when it returned a passkey, "error" if
// the browser refused it. document.body.dataset.conditionalCreate does the
// same for conditional create after a recovery, plus "unsupported" when the
// browser does not offer it.
"use strict";

(function () {
  var base = document.body.dataset.base || "";
  var statusEl = document.getElementById("status");
  var emailInput = document.getElementById("email");
  var isHome = !!document.getElementById("signin");
  var isDashboard = !!document.getElementById("add-passkey");
  var isRecover = !!document.getElementById("recover-email-form");
  var linkEl = document.getElementById("link");

  var NAVIGATING = "navigating"; // a ceremony's result when the page is being left
  var busy = false;              // a ceremony started by a button (or by autofill) runs
  var autofill = null;           // {ctrl, done} of the pending conditional request
  var autofillSupported = false;
  var conditional = null;        // {ctrl, done} of the pending conditional create
  var offerConditional = false;  // start conditional create once the running ceremony ends

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

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  // --- ceremonies ---

  // ceremony runs fn with the buttons disabled and the autofill request (or
  // conditional create) stopped, shows what went wrong if it fails, and
  // restores the page afterwards unless fn returned NAVIGATING. Every action
  // on the pages runs through it, so only one runs at a time.
  async function ceremony(kind, fn) {
    if (busy) {
      return;
    }
    setBusy(true);
    var result;
    try {
      await stopAutofill();
      await stopConditionalCreate();
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
      if (offerConditional) {
        offerConditional = false;
        startConditionalCreate();
      }
    }
    return result;
  }

  // register creates a passkey: a new account's (body {email}), one more for
  // the signed-in account, or the new one after a recovery (body {}). It
  // returns the server's answer.
  async function register(body) {
    say("info", "Asking the server to prepare a passkey…");
    var options = await withStepUp(function () {
      return api("/api/passkeys/generate-registration-options", body);
    });
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

  async function signIn(email) {
    say("info", "Asking the server for a sign-in challenge…");
    var options = await api("/api/passkeys/generate-authentication-options", email ? { email: email } : {});
    say("info", email ? "Follow your browser's prompt to use your passkey…" : "Choose a passkey in your browser's prompt…");
    var cred = await getCredential(options, "authentication");
    var result = await verifySignIn(cred, options);
    var who = result.user && result.user.email ? " as " + result.user.email : "";
    say("success", "Signed in" + who + ". Opening your account…");
    location.assign(base + "/dashboard");
    return NAVIGATING;
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

  // withStepUp runs call; when the server wants a fresh passkey check first
  // (403 step_up_required), it runs one and retries the call once.
  async function withStepUp(call) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof APIError && err.code === "step_up_required")) {
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
    if (isDashboard) {
      loadSessions();
    }
  }

  function accountEmail() {
    if (passkeyInfo && passkeyInfo.email) {
      return passkeyInfo.email;
    }
    var el = document.getElementById("user-email");
    return el ? el.textContent.trim() : "";
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
        if (!(err instanceof APIError)) {
          reportError("autofill", err);
        }
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
    await ceremony("signin", async function () {
      var result = await verifySignIn(cred, options);
      var who = result.user && result.user.email ? " as " + result.user.email : "";
      say("success", "Signed in" + who + ". Opening your account…");
      location.assign(base + "/dashboard");
      return NAVIGATING;
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

  // --- after a recovery: the new passkey ---

  // showNewPasskeyStep offers the new passkey to a visitor in a recovery
  // session and, where the browser supports it, lets it create one without
  // a prompt (conditional create).
  function showNewPasskeyStep(email) {
    var step = document.getElementById("new-passkey");
    var forms = document.getElementById("recover-forms");
    if (forms) {
      forms.hidden = true;
    }
    if (linkEl) {
      linkEl.hidden = true; // the link's heading and intro: the step has its own
    }
    if (email) {
      document.getElementById("new-passkey-email").textContent = email;
    }
    step.hidden = false;
    document.getElementById("new-passkey-heading").focus();
    if (busy) {
      offerConditional = true; // when the ceremony that got here ends
    } else {
      startConditionalCreate();
    }
  }

  async function startConditionalCreate() {
    if (conditional || !window.PublicKeyCredential || typeof PublicKeyCredential.getClientCapabilities !== "function") {
      document.body.dataset.conditionalCreate = "unsupported";
      return;
    }
    var caps = null;
    try {
      caps = await PublicKeyCredential.getClientCapabilities();
    } catch (err) {
      caps = null;
    }
    if (!caps || caps.conditionalCreate !== true) {
      document.body.dataset.conditionalCreate = "unsupported";
      return;
    }
    if (busy || conditional) {
      return; // the button's ceremony runs (or one already waits)
    }
    var state = { ctrl: new AbortController(), done: null };
    conditional = state;
    state.done = runConditionalCreate(state);
  }

  // runConditionalCreate asks the browser to make the passkey without a
  // prompt. It fails silently: the button is there all along.
  async function runConditionalCreate(state) {
    var signal = state.ctrl.signal;
    var cred;
    try {
      var options = await api("/api/passkeys/generate-registration-options", { mediation: "conditional" }, signal);
      if (signal.aborted) {
        return;
      }
      document.body.dataset.conditionalCreate = "pending";
      cred = await navigator.credentials.create({
        publicKey: creationOptions(options),
        mediation: "conditional",
        signal: signal
      });
    } catch (err) {
      if (conditional === state) {
        conditional = null;
      }
      if (!signal.aborted && !(err && err.name === "AbortError")) {
        document.body.dataset.conditionalCreate = "error";
        if (window.console) {
          console.info("conditional create not used:", err);
        }
      }
      return;
    }
    if (conditional === state) {
      conditional = null;
    }
    if (signal.aborted || !cred) {
      return;
    }
    document.body.dataset.conditionalCreate = "done";
    await ceremony("add", async function () {
      return finishRecovery(await saveRegistration(cred));
    });
  }

  async function stopConditionalCreate() {
    var state = conditional;
    if (!state) {
      return;
    }
    conditional = null;
    state.ctrl.abort();
    document.body.dataset.conditionalCreate = "aborted";
    await Promise.race([
      state.done,
      new Promise(function (resolve) { setTimeout(resolve, 1000); })
    ]);
  }

  // finishRecovery follows a registration in a recovery session: the session
  // is a full one now.
  function finishRecovery(result) {
    if (result.signedIn === true) {
      say("success", "Your new passkey is saved and you are signed in. Opening your account…");
      location.assign(base + "/dashboard");
      return NAVIGATING;
    }
    say("success", "Your new passkey is saved. Sign in with it to open your account.");
    var step = document.getElementById("new-passkey");
    if (step) {
      step.hidden = true;
    }
  }

  function initNewPasskeyStep() {
    var button = document.getElementById("create-passkey");
    if (!button) {
      return;
    }
    button.addEventListener("click", function () {
      if (unsupported()) {
        say("error", "This browser cannot create passkeys here. Open the link in a current browser on the device you want to use.");
        return;
      }
      ceremony("add", async function () {
        return finishRecovery(await register({}));
      });
    });
  }

  // --- wiring: start page ---

  function unsupported() {
    return !window.PublicKeyCredential || !navigator.credentials;
  }

  // restoreOnShow makes a page usable again when the browser's history
  // brings it back as it was left (buttons disabled).
  function restoreOnShow() {
    window.addEventListener("pageshow", function (ev) {
      if (ev.persisted) {
        setBusy(false);
        startAutofill();
      }
    });
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
        await register({ email: email });
        say("success", "Passkey registered. You can now sign in with it.");
      });
    });
    restoreOnShow();
    if (typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        autofillSupported = !!ok;
        startAutofill();
      }, function () {});
    }
  }

  // --- wiring: recovery page ---

  function initRecover() {
    var emailForm = document.getElementById("recover-email-form");
    var recoverEmail = document.getElementById("recover-email");
    var codeForm = document.getElementById("recover-code-form");
    var codeEmail = document.getElementById("code-email");
    var codeInput = document.getElementById("recovery-code");
    var prefilled = ""; // what the code form's email got from the link form

    emailForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = recoverEmail.value.trim();
      if (!email) {
        say("error", "Enter your account's email address.");
        recoverEmail.focus();
        return;
      }
      ceremony("recover", async function () {
        say("info", "Sending…");
        var data = await api("/api/recovery/email", { email: email });
        say("success", (data && data.message) || "If that address belongs to an account, a link is on its way.");
        if (!codeEmail.value || codeEmail.value === prefilled) {
          codeEmail.value = prefilled = email;
        }
      });
    });

    codeForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = codeEmail.value.trim();
      var code = codeInput.value.trim();
      if (!email || !code) {
        say("error", !email ? "Enter your account's email address." : "Enter one of your recovery codes.");
        (!email ? codeEmail : codeInput).focus();
        return;
      }
      ceremony("recover", async function () {
        say("info", "Checking your code…");
        var data = await api("/api/recovery/codes/verify", { email: email, code: code });
        codeInput.value = "";
        var who = (data && data.user && data.user.email) || email;
        say("success", "Code accepted. Now create a new passkey for " + who + ".");
        showNewPasskeyStep(who);
      });
    });

    initNewPasskeyStep();
    restoreOnShow();
    if (!document.getElementById("new-passkey").hidden) {
      // Already in a recovery session (the page was reloaded).
      startConditionalCreate();
    }
  }

  // --- wiring: the page an emailed link opens ---

  function initLink() {
    var action = linkEl.dataset.action;
    var params = new URLSearchParams(location.search);
    var token = params.get("token");
    if (token !== null) {
      // The token is a secret: keep it out of the history, bookmarks and
      // anything the page's address is shown to.
      params.delete("token");
      var rest = params.toString();
      history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    }
    initNewPasskeyStep();
    restoreOnShow();
    var intro = document.getElementById("link-intro");

    if (!token) {
      if (action === "recover" && linkEl.dataset.recovery === "true") {
        // Reloaded after the link signed in: carry on.
        showNewPasskeyStep("");
        return;
      }
      intro.hidden = true;
      say("error", "This page needs the link from your email. Open the link in the message again, or copy all of it into the address bar.");
      return;
    }

    switch (action) {
      case "recover":
        ceremony("recover", async function () {
          var data = await api("/api/recovery/email/verify", { token: token });
          var who = (data && data.user && data.user.email) || "";
          say("success", "Link accepted. Now create a new passkey" + (who ? " for " + who : "") + ".");
          showNewPasskeyStep(who);
        }).then(function () {
          intro.hidden = true;
        });
        break;
      case "verify-email":
        ceremony("verify", async function () {
          var data = await api("/api/email/verify", { token: token });
          say("success", "Your email address " + ((data && data.email) || "") + " is verified. Thank you!");
        }).then(function () {
          intro.hidden = true;
        });
        break;
      case "confirm-email":
        ceremony("confirm", async function () {
          var data = await api("/api/account/email/confirm", { token: token });
          say("success", "Your email address is now " + ((data && data.email) || "changed") + ". Your old address has been told about the change.");
        }).then(function () {
          intro.hidden = true;
        });
        break;
      default:
        say("error", "This link is not one this site understands.");
    }
  }

  // --- wiring: dashboard ---

  var passkeyInfo = null; // GET /api/passkeys: rpId, userHandle, email, passkeys

  // loadPasskeyInfo fetches what the Signal API needs (credential IDs,
  // user handle, RP ID) and tells the passkey provider which passkeys of
  // this account still exist and what the account is called.
  async function loadPasskeyInfo() {
    try {
      passkeyInfo = await request("GET", "/api/passkeys");
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
      signal("signalAllAcceptedCredentials", {
        rpId: info.rpId,
        userId: info.userHandle,
        allAcceptedCredentialIds: info.passkeys.map(function (p) { return p.credentialId; })
      });
    }
    if (info.email) {
      signal("signalCurrentUserDetails", {
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
    var d = new Date(s);
    if (!s || isNaN(d.getTime())) {
      return "";
    }
    return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function timeEl(s) {
    var t = document.createElement("time");
    t.setAttribute("datetime", s);
    t.textContent = formatTime(s);
    return t;
  }

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

  // Passkeys: rename and delete, in place.

  function passkeyItem(node) {
    return node && node.closest ? node.closest("li[data-passkey-id]") : null;
  }

  function showPanel(li, which) {
    var controls = li.querySelector("[data-controls]");
    var rename = li.querySelector('[data-form="rename"]');
    var del = li.querySelector('[data-form="delete"]');
    controls.hidden = which !== "";
    rename.hidden = which !== "rename";
    del.hidden = which !== "delete";
    if (which === "rename") {
      var input = rename.querySelector("input");
      input.value = li.querySelector(".passkey-label").textContent;
      input.focus();
      input.select();
    } else if (which === "delete") {
      del.querySelector('[data-action="confirm-delete"]').focus();
    } else {
      controls.querySelector('[data-action="rename"]').focus();
    }
  }

  function setPasskeyName(li, name, provider) {
    var p = li.querySelector(".passkey-name");
    p.textContent = "";
    p.appendChild(el("span", "passkey-label", name));
    if (provider && provider !== name) {
      p.appendChild(document.createTextNode(" "));
      p.appendChild(el("span", "passkey-provider", provider));
    }
  }

  async function renamePasskey(li, name) {
    var id = li.getAttribute("data-passkey-id");
    say("info", "Renaming…");
    var pk = await request("PATCH", "/api/passkeys/" + encodeURIComponent(id), { name: name });
    var newName = (pk && pk.name) || name;
    setPasskeyName(li, newName, pk && pk.provider);
    showPanel(li, "");
    var known = findInfo(id);
    if (known) {
      known.name = newName;
    }
    say("success", "Passkey renamed to “" + newName + "”.");
    signalAccepted();
    loadLog();
  }

  async function deletePasskey(li) {
    var id = li.getAttribute("data-passkey-id");
    var name = li.querySelector(".passkey-label").textContent;
    if (!passkeyInfo) {
      await loadPasskeyInfo();
    }
    var known = findInfo(id);
    say("info", "Deleting…");
    try {
      await withStepUp(function () {
        return request("DELETE", "/api/passkeys/" + encodeURIComponent(id));
      });
    } catch (err) {
      showPanel(li, "");
      throw err;
    }
    var list = li.parentNode;
    li.remove();
    if (!list.querySelector("li[data-passkey-id]")) {
      list.appendChild(el("li", "passkey empty", "No passkeys yet."));
    }
    if (passkeyInfo) {
      passkeyInfo.passkeys = passkeyInfo.passkeys.filter(function (p) { return p.id !== id; });
      if (known) {
        forgetCredential(passkeyInfo.rpId, known.credentialId);
      }
    }
    say("success", "Passkey “" + name + "” deleted. Remove it from your device's passkey list too, if it is still there.");
    document.getElementById("add-passkey").focus();
    loadLog();
  }

  function initPasskeys() {
    var list = document.getElementById("passkeys");
    list.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest("button[data-action]") : null;
      var li = passkeyItem(button);
      if (!button || !li || busy) {
        return;
      }
      switch (button.getAttribute("data-action")) {
        case "rename":
          showPanel(li, "rename");
          break;
        case "delete":
          showPanel(li, "delete");
          break;
        case "cancel":
          showPanel(li, "");
          break;
        case "confirm-delete":
          ceremony("delete", function () { return deletePasskey(li); });
          break;
      }
    });
    list.addEventListener("submit", function (ev) {
      var li = passkeyItem(ev.target);
      if (!li) {
        return;
      }
      ev.preventDefault();
      var name = ev.target.querySelector("input").value.trim();
      if (!name) {
        say("error", "Enter a name for the passkey.");
        ev.target.querySelector("input").focus();
        return;
      }
      ceremony("rename", function () { return renamePasskey(li, name); });
    });
    list.addEventListener("keydown", function (ev) {
      var li = passkeyItem(ev.target);
      if (ev.key === "Escape" && li && !busy && ev.target.closest("[data-form]")) {
        showPanel(li, "");
      }
    });
  }

  // Email: verification and change.

  function initEmail() {
    var resend = document.getElementById("resend-verification");
    if (resend) {
      resend.addEventListener("click", function () {
        ceremony("email", async function () {
          say("info", "Sending…");
          var data = await api("/api/email/resend-verification", {});
          say("success", (data && data.message) || "We sent a new verification link to " + accountEmail() + ".");
        });
      });
    }
    var form = document.getElementById("change-email-form");
    var input = document.getElementById("new-email");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = input.value.trim();
      if (!email) {
        say("error", "Enter the new email address.");
        input.focus();
        return;
      }
      ceremony("email", async function () {
        say("info", "Sending a confirmation link…");
        var data = await withStepUp(function () {
          return api("/api/account/email", { email: email });
        });
        input.value = "";
        say("success", (data && data.message) || "We sent a confirmation link to " + email + ". Open it to finish the change.");
      });
    });
  }

  // Recovery codes: generated, shown once, acknowledged.

  function setCodesCount(n) {
    var count = document.getElementById("codes-count");
    count.dataset.count = String(n);
    count.textContent = n === 0 ? "You have no recovery codes." : plural(n, "unused code", "unused codes") + ".";
    document.getElementById("generate-codes").textContent = n > 0 ? "Regenerate codes" : "Generate recovery codes";
    document.getElementById("regenerate-hint").hidden = n === 0;
  }

  function initCodes() {
    var panel = document.getElementById("new-codes");
    var list = document.getElementById("codes-list");
    var actions = document.getElementById("codes-actions");
    var shown = [];

    document.getElementById("generate-codes").addEventListener("click", function () {
      ceremony("codes", async function () {
        var hadCodes = Number(document.getElementById("codes-count").dataset.count || "0") > 0;
        say("info", "Generating recovery codes…");
        var data = await withStepUp(function () {
          return api("/api/recovery/codes", {});
        });
        shown = (data && data.codes) || [];
        list.textContent = "";
        shown.forEach(function (c) {
          var li = el("li");
          li.appendChild(el("code", "", c));
          list.appendChild(li);
        });
        document.getElementById("codes-replaced").hidden = !hadCodes;
        setCodesCount(shown.length);
        panel.hidden = false;
        actions.hidden = true;
        document.getElementById("regenerate-hint").hidden = true;
        say("success", "Your new recovery codes are below. Save them now: they are not shown again.");
        document.getElementById("new-codes-heading").focus();
        loadLog();
      });
    });

    document.getElementById("copy-codes").addEventListener("click", function () {
      if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
        say("error", "This browser cannot copy from here. Select the codes and copy them, or write them down.");
        return;
      }
      navigator.clipboard.writeText(shown.join("\n")).then(function () {
        say("success", "Codes copied. Paste them somewhere safe, such as a password manager.");
      }, function () {
        say("error", "Copying was refused. Select the codes and copy them, or write them down.");
      });
    });

    document.getElementById("codes-saved").addEventListener("click", function () {
      // Shown once: gone from the page as soon as the user has them.
      list.textContent = "";
      shown = [];
      panel.hidden = true;
      actions.hidden = false;
      var n = Number(document.getElementById("codes-count").dataset.count || "0");
      setCodesCount(n);
      say("success", "Recovery codes saved. You have " + plural(n, "unused code", "unused codes") + ".");
      document.getElementById("generate-codes").focus();
    });
  }

  // Sessions: where the account is signed in.

  async function loadSessions() {
    var list = document.getElementById("sessions");
    var others = document.getElementById("revoke-others");
    var data;
    try {
      data = await request("GET", "/api/sessions");
    } catch (err) {
      list.textContent = "";
      list.appendChild(el("li", "item empty", "Could not load your sessions: " + describe(err)));
      return;
    }
    var sessions = (data && data.sessions) || [];
    list.textContent = "";
    var otherCount = 0;
    sessions.forEach(function (s) {
      var li = el("li", "item" + (s.current ? " current" : ""));
      li.setAttribute("data-session-id", s.id);
      var title = el("p", "item-title", s.device || device(s.userAgent) || "Unknown browser");
      if (s.userAgent) {
        title.title = s.userAgent;
      }
      if (s.current) {
        title.appendChild(document.createTextNode(" "));
        title.appendChild(el("span", "badge badge-ok", "This browser"));
      } else {
        otherCount++;
      }
      li.appendChild(title);
      var meta = el("p", "item-meta");
      if (s.ip) {
        meta.appendChild(document.createTextNode(s.ip + " · "));
      }
      meta.appendChild(document.createTextNode("Last active "));
      meta.appendChild(timeEl(s.lastSeenAt || s.createdAt));
      if (s.createdAt) {
        meta.appendChild(document.createTextNode(" · Signed in "));
        meta.appendChild(timeEl(s.createdAt));
      }
      li.appendChild(meta);
      if (!s.current) {
        var actions = el("div", "item-actions");
        var b = el("button", "small", "Sign out");
        b.type = "button";
        b.setAttribute("data-action", "revoke-session");
        b.setAttribute("aria-label", "Sign out " + (s.device || "this session"));
        actions.appendChild(b);
        li.appendChild(actions);
      }
      list.appendChild(li);
    });
    if (sessions.length === 0) {
      list.appendChild(el("li", "item empty", "No active sessions."));
    }
    others.hidden = otherCount === 0;
  }

  function initSessions() {
    var list = document.getElementById("sessions");
    list.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest('button[data-action="revoke-session"]') : null;
      var li = button && button.closest("li[data-session-id]");
      if (!li || busy) {
        return;
      }
      ceremony("sessions", async function () {
        say("info", "Signing that session out…");
        await request("DELETE", "/api/sessions/" + encodeURIComponent(li.getAttribute("data-session-id")));
        say("success", "Signed out " + (li.querySelector(".item-title").firstChild.textContent.trim() || "that session") + ".");
        await loadSessions();
        loadLog();
      });
    });
    document.getElementById("revoke-others").addEventListener("click", function () {
      ceremony("sessions", async function () {
        say("info", "Signing out your other sessions…");
        var data = await request("DELETE", "/api/sessions");
        var n = (data && data.revoked) || 0;
        say("success", n === 0 ? "You were not signed in anywhere else." : "Signed out " + plural(n, "other session", "other sessions") + ".");
        await loadSessions();
        loadLog();
      });
    });
  }

  // Security log, newest first, paged.

  var eventWording = {
    user_created: "Account created",
    passkey_added: "Passkey added",
    passkey_renamed: "Passkey renamed",
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
    recovery_codes_generated: "Recovery codes generated"
  };

  var logNext = null;

  function eventItem(ev) {
    var li = el("li", "item" + (ev.type === "login_failed" || ev.type === "clone_warning" ? " alert" : ""));
    li.setAttribute("data-event-id", String(ev.id));
    li.setAttribute("data-event-type", ev.type);
    var what = eventWording[ev.type] || String(ev.type || "Event").replace(/_/g, " ");
    var pk = ev.passkeyId ? findInfo(ev.passkeyId) : null;
    if (pk && pk.name && (!ev.detail || ev.detail.indexOf(pk.name) < 0)) {
      what += " · " + pk.name;
    }
    li.appendChild(el("p", "item-title", what));
    if (ev.detail) {
      li.appendChild(el("p", "item-detail", ev.detail));
    }
    var meta = el("p", "item-meta");
    meta.appendChild(timeEl(ev.createdAt));
    var where = [ev.ip, device(ev.userAgent)].filter(Boolean).join(" · ");
    if (where) {
      meta.appendChild(document.createTextNode(" · " + where));
    }
    li.appendChild(meta);
    return li;
  }

  // loadLog shows the newest events, or, with before, appends older ones.
  async function loadLog(before) {
    var list = document.getElementById("security-log");
    var older = document.getElementById("log-older");
    var data;
    try {
      data = await request("GET", "/api/security-log?limit=20" + (before ? "&before=" + encodeURIComponent(before) : ""));
    } catch (err) {
      if (before) {
        throw err;
      }
      list.textContent = "";
      list.appendChild(el("li", "item empty", "Could not load the security log: " + describe(err)));
      return;
    }
    if (!before) {
      list.textContent = "";
    }
    var events = (data && data.events) || [];
    events.forEach(function (ev) {
      list.appendChild(eventItem(ev));
    });
    if (!before && events.length === 0) {
      list.appendChild(el("li", "item empty", "Nothing yet."));
    }
    logNext = data && data.next !== undefined && data.next !== null ? data.next : null;
    older.hidden = logNext === null;
  }

  function initLog() {
    document.getElementById("log-older").addEventListener("click", function () {
      if (logNext === null) {
        return;
      }
      ceremony("log", async function () {
        var first = document.getElementById("security-log").children.length;
        await loadLog(logNext);
        say("success", "Older events loaded.");
        var next = document.getElementById("security-log").children[first];
        if (next) {
          next.setAttribute("tabindex", "-1");
          next.focus();
        }
      });
    });
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
        await register({});
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
    initPasskeys();
    initEmail();
    initCodes();
    initSessions();
    initLog();
    restoreOnShow();
    loadPasskeyInfo().then(function () {
      return loadLog(); // after the passkeys, so events can name them
    });
    loadSessions();
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
  } else if (isRecover) {
    initRecover();
  } else if (linkEl) {
    initLink();
  }
})();
