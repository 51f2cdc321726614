// The step after a recovery sign-in (by emailed link or recovery code), on
// the recovery and link pages: the recovery session may only create a new
// passkey. Where the browser supports it, it may create one without a
// prompt (conditional create); the button is there all along.
//
// document.body.dataset.conditionalCreate tells tests (and the curious)
// where conditional create stands: "pending" while the browser holds it,
// "aborted" once a button cancelled it, "done" when it returned a passkey,
// "error" if the browser refused it, "unsupported" when it does not offer it.
"use strict";

(function (app) {
  var step = document.getElementById("new-passkey");
  var conditional = null;       // {ctrl, done} of the pending conditional create
  var offerConditional = false; // start conditional create once the running action ends

  // show replaces what came before on the page (the recovery forms, or the
  // link's explanation: the step has its own heading) with the step for
  // email ("" keeps the address the page shows) and offers conditional create.
  function show(email, before) {
    if (before) {
      before.hidden = true;
    }
    if (email) {
      document.getElementById("new-passkey-email").textContent = email;
    }
    step.hidden = false;
    document.getElementById("new-passkey-heading").focus();
    if (app.isBusy()) {
      offerConditional = true; // when the action that got here ends
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
    if (app.isBusy() || conditional) {
      return; // the button's action runs (or one already waits)
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
      var options = await app.api("/api/passkeys/generate-registration-options", { mediation: "conditional" }, signal);
      if (signal.aborted) {
        return;
      }
      document.body.dataset.conditionalCreate = "pending";
      cred = await navigator.credentials.create({
        publicKey: app.creationOptions(options),
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
    await app.ceremony("add", async function () {
      return finish(await app.saveRegistration(cred));
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

  // finish follows a registration in a recovery session: the session is a
  // full one now.
  function finish(result) {
    if (result.signedIn === true) {
      app.say("success", "Your new passkey is saved and you are signed in. Opening your account…");
      location.assign(app.base + "/dashboard");
      return app.NAVIGATING;
    }
    app.say("success", "Your new passkey is saved. Sign in with it to open your account.");
    step.hidden = true;
  }

  document.getElementById("create-passkey").addEventListener("click", function () {
    if (app.unsupported()) {
      app.say("error", "This browser cannot create passkeys here. Open the link in a current browser on the device you want to use.");
      return;
    }
    app.ceremony("add", async function () {
      return finish(await app.register({}));
    });
  });
  app.inBackground({
    stop: stopConditionalCreate,
    resume: function () {
      if (offerConditional) {
        offerConditional = false;
        startConditionalCreate();
      }
    }
  });

  if (!step.hidden) {
    // The page was rendered in a recovery session (a reload).
    startConditionalCreate();
  }
  app.showNewPasskeyStep = show;
})(window.passkeyd);
