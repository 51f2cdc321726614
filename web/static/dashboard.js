// The dashboard: the account's passkeys (rename, delete, add), its email
// address (verify, change), recovery codes, where it is signed in, and its
// security log. Sensitive changes may need a fresh passkey check first
// (step-up), which withStepUp runs when the server asks for it.
"use strict";

(function (app) {
  var el = app.el;
  var passkeyInfo = null; // GET /api/passkeys: rpId, userHandle, email, passkeys

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
    loadSessions(); // the check signed this browser in again
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
    app.say("info", "Renaming…");
    var pk = await app.request("PATCH", "/api/passkeys/" + encodeURIComponent(id), { name: name });
    var newName = (pk && pk.name) || name;
    setPasskeyName(li, newName, pk && pk.provider);
    showPanel(li, "");
    var known = findInfo(id);
    if (known) {
      known.name = newName;
    }
    app.say("success", "Passkey renamed to “" + newName + "”.");
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
    app.say("info", "Deleting…");
    var answer;
    try {
      answer = await withStepUp(function () {
        return app.request("DELETE", "/api/passkeys/" + encodeURIComponent(id));
      });
    } catch (err) {
      showPanel(li, "");
      throw err;
    }
    if (passkeyInfo && known) {
      app.forgetCredential(passkeyInfo.rpId, known.credentialId);
    }
    if (answer && answer.signedOut) {
      // This browser signed in with the passkey just deleted, and the
      // server ended its session: nothing more can be done here.
      location.assign(app.base + "/?notice=passkey-deleted");
      return app.NAVIGATING;
    }
    var list = li.parentNode;
    li.remove();
    if (!list.querySelector("li[data-passkey-id]")) {
      list.appendChild(el("li", "passkey empty", "No passkeys yet."));
    }
    if (passkeyInfo) {
      passkeyInfo.passkeys = passkeyInfo.passkeys.filter(function (p) { return p.id !== id; });
    }
    app.say("success", "Passkey “" + name + "” deleted. Remove it from your device's passkey list too, if it is still there.");
    document.getElementById("add-passkey").focus();
    loadLog();
  }

  function initPasskeys() {
    var list = document.getElementById("passkeys");
    list.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest("button[data-action]") : null;
      var li = passkeyItem(button);
      if (!button || !li || app.isBusy()) {
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
          app.ceremony("delete", function () { return deletePasskey(li); });
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
        app.say("error", "Enter a name for the passkey.");
        ev.target.querySelector("input").focus();
        return;
      }
      app.ceremony("rename", function () { return renamePasskey(li, name); });
    });
    list.addEventListener("keydown", function (ev) {
      var li = passkeyItem(ev.target);
      if (ev.key === "Escape" && li && !app.isBusy() && ev.target.closest("[data-form]")) {
        showPanel(li, "");
      }
    });
  }

  // Email: verification and change.

  function initEmail() {
    var resend = document.getElementById("resend-verification");
    if (resend) {
      resend.addEventListener("click", function () {
        app.ceremony("email", async function () {
          app.say("info", "Sending…");
          var data = await app.api("/api/email/resend-verification", {});
          app.say("success", (data && data.message) || "We sent a new verification link to " + accountEmail() + ".");
        });
      });
    }
    var form = document.getElementById("change-email-form");
    var input = document.getElementById("new-email");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = input.value.trim();
      if (!email) {
        app.say("error", "Enter the new email address.");
        input.focus();
        return;
      }
      app.ceremony("email", async function () {
        app.say("info", "Sending a confirmation link…");
        var data = await withStepUp(function () {
          return app.api("/api/account/email", { email: email });
        });
        input.value = "";
        app.say("success", (data && data.message) || "We sent a confirmation link to " + email + ". Open it to finish the change.");
        loadLog();
      });
    });
  }

  // Name shown to apps: the name and preferred_username claims.

  function initProfile() {
    var form = document.getElementById("profile-form");
    var name = document.getElementById("display-name");
    var username = document.getElementById("username");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      app.ceremony("profile", async function () {
        var data = await app.request("PUT", "/api/account/profile", {
          displayName: name.value, username: username.value.trim()
        });
        name.value = data.displayName;
        username.value = data.username;
        app.say("success", data.displayName || data.username ? "Saved." : "Saved: apps receive no name or username.");
        loadLog();
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
      app.ceremony("codes", async function () {
        var hadCodes = Number(document.getElementById("codes-count").dataset.count || "0") > 0;
        app.say("info", "Generating recovery codes…");
        var data = await withStepUp(function () {
          return app.api("/api/recovery/codes", {});
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
        app.say("success", "Your new recovery codes are below. Save them now: they are not shown again.");
        document.getElementById("new-codes-heading").focus();
        loadLog();
      });
    });

    document.getElementById("copy-codes").addEventListener("click", function () {
      if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
        app.say("error", "This browser cannot copy from here. Select the codes and copy them, or write them down.");
        return;
      }
      navigator.clipboard.writeText(shown.join("\n")).then(function () {
        app.say("success", "Codes copied. Paste them somewhere safe, such as a password manager.");
      }, function () {
        app.say("error", "Copying was refused. Select the codes and copy them, or write them down.");
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
      app.say("success", "Recovery codes saved. You have " + plural(n, "unused code", "unused codes") + ".");
      document.getElementById("generate-codes").focus();
    });
  }

  // Sessions: where the account is signed in.

  async function loadSessions() {
    var list = document.getElementById("sessions");
    var others = document.getElementById("revoke-others");
    var data;
    try {
      data = await app.request("GET", "/api/sessions");
    } catch (err) {
      list.textContent = "";
      list.appendChild(el("li", "item empty", "Could not load your sessions: " + app.describe(err)));
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
      if (!li || app.isBusy()) {
        return;
      }
      app.ceremony("sessions", async function () {
        app.say("info", "Signing that session out…");
        await app.request("DELETE", "/api/sessions/" + encodeURIComponent(li.getAttribute("data-session-id")));
        app.say("success", "Signed out " + (li.querySelector(".item-title").firstChild.textContent.trim() || "that session") + ".");
        await loadSessions();
        loadLog();
      });
    });
    document.getElementById("revoke-others").addEventListener("click", function () {
      app.ceremony("sessions", async function () {
        app.say("info", "Signing out your other sessions…");
        var data = await app.request("DELETE", "/api/sessions");
        var n = (data && data.revoked) || 0;
        app.say("success", n === 0 ? "You were not signed in anywhere else." : "Signed out " + plural(n, "other session", "other sessions") + ".");
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
    oidc_refresh_reuse: "An app's old token was used again; its access was ended"
  };

  var logNext = null;

  function eventItem(ev) {
    var alert = ["login_failed", "clone_warning", "oidc_code_reused", "oidc_refresh_reuse"].indexOf(ev.type) >= 0;
    var li = el("li", "item" + (alert ? " alert" : ""));
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
      data = await app.request("GET", "/api/security-log?limit=20" + (before ? "&before=" + encodeURIComponent(before) : ""));
    } catch (err) {
      if (before) {
        throw err;
      }
      list.textContent = "";
      list.appendChild(el("li", "item empty", "Could not load the security log: " + app.describe(err)));
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
      app.ceremony("log", async function () {
        var first = document.getElementById("security-log").children.length;
        await loadLog(logNext);
        app.say("success", "Older events loaded.");
        var next = document.getElementById("security-log").children[first];
        if (next) {
          next.setAttribute("tabindex", "-1");
          next.focus();
        }
      });
    });
  }

  // --- wiring ---

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
    if (app.unsupported()) {
      app.say("error", "This browser cannot create passkeys here.");
      return;
    }
    app.ceremony("add", async function () {
      await app.register({}, withStepUp);
      app.say("success", "Passkey added. Updating the list…");
      location.reload();
      return app.NAVIGATING;
    });
  });
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
  initPasskeys();
  initEmail();
  initProfile();
  initCodes();
  initSessions();
  initLog();
  loadPasskeyInfo().then(function () {
    return loadLog(); // after the passkeys, so events can name them
  });
  loadSessions();
})(window.passkeyd);
