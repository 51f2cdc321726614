// The start page: register a passkey (or, where sign-up starts with the
// email, ask for the sign-up link), sign in with one (by button, or from
// the browser's autofill while the email field is focused).
//
// document.body.dataset.autofill tells tests (and the curious) where the
// autofill request stands: "pending" while the browser holds it, "aborted"
// once a button cancelled it, "done" when it returned a passkey, "error" if
// the browser refused it.
"use strict";

(function (app) {
  var emailInput = document.getElementById("email");
  var form = document.getElementById("passkey-form");
  var autofill = null; // {ctrl, done} of the pending conditional request
  var autofillSupported = false;

  function signedIn(result) {
    var who = result.user && result.user.email ? " as " + result.user.email : "";
    app.say("success", "Signed in" + who + ". Opening your account…");
    location.assign(app.base + "/dashboard");
    return app.NAVIGATING;
  }

  async function signIn(email) {
    return signedIn(await app.signIn(email));
  }

  // --- autofill (conditional mediation) ---

  function startAutofill() {
    if (!autofillSupported || app.isBusy() || autofill) {
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
      options = await app.api("/api/passkeys/generate-authentication-options", {}, signal);
      if (signal.aborted) {
        return;
      }
      document.body.dataset.autofill = "pending";
      cred = await navigator.credentials.get({
        publicKey: app.requestOptions(options),
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
        if (!(err instanceof app.APIError)) {
          app.reportError("autofill", err);
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
    await app.ceremony("signin", async function () {
      return signedIn(await app.verifySignIn(cred, options));
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

  if (app.unsupported()) {
    app.say("error", "This browser cannot use passkeys here. Passkeys need a current browser and a secure (https) connection.");
    document.getElementById("register").disabled = true;
    document.getElementById("signin").disabled = true;
    return;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var email = emailInput.value.trim();
    app.ceremony("signin", function () { return signIn(email); });
  });
  document.getElementById("register").addEventListener("click", function () {
    var email = emailInput.value.trim();
    if (!email) {
      app.say("error", "Enter your email address to " + (form.dataset.signup === "email" ? "sign up." : "register a passkey."));
      emailInput.focus();
      return;
    }
    if (form.dataset.signup === "email") {
      // The answer is the same whether or not the address has an account;
      // the email tells its owner what comes next.
      app.ceremony("register", async function () {
        app.say("info", "Sending…");
        var data = await app.api("/api/signup/email", { email: email });
        app.say("success", (data && data.message) || "Check your email.");
      });
      return;
    }
    app.ceremony("register", async function () {
      await app.register({ email: email });
      app.say("success", "Passkey registered. You can now sign in with it.");
    });
  });
  app.inBackground({ stop: stopAutofill, resume: startAutofill });
  if (typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      autofillSupported = !!ok;
      startAutofill();
    }, function () {});
  }
})(window.passkeyd);
