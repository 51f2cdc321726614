// The console's apps: the list, the form that creates or edits an app
// (every setting of `passkeyd clients add`), the secret shown once, what
// the app's own settings need (discovery URL, settings for common apps),
// rotating the secret and deleting the app. Apps declared in the server's
// clients file are shown read-only.
"use strict";

(function (app) {
  var el = app.el;
  var a = app.admin;

  function appPath(id) {
    return "/admin/apps/" + encodeURIComponent(id);
  }

  // --- the list ---

  async function loadList() {
    var list = document.getElementById("apps");
    var data;
    try {
      data = await a.get("/apps");
    } catch (err) {
      a.failed(list, "the apps", err);
      return;
    }
    a.fill(list, data.apps, function (x) {
      var b = [a.badge(x.public ? "Public" : "Confidential", "plain")];
      if (x.declared) {
        b.push(a.badge("From the clients file", "plain"));
      }
      if (x.trusted) {
        b.push(a.badge("Trusted", "plain"));
      }
      if ((x.allowedUsers || []).length || (x.allowedGroups || []).length) {
        b.push(a.badge("Restricted", "warn"));
      }
      var li = a.item(a.link(appPath(x.id), x.name), b, [[
        el("code", null, x.id),
        a.span("Last used ", a.when(x.lastUsedAt)),
        (x.redirectUris || [])[0] || ""
      ]]);
      li.setAttribute("data-client-id", x.id);
      return li;
    }, "No apps yet. Create one to let people sign in to it with their passkeys.");
  }

  // --- the form ---

  var scopeBoxes = document.querySelectorAll('input[name="scope"]');
  var current = null; // the app shown, once loaded or created

  function field(id) {
    return document.getElementById(id);
  }

  async function loadGroups(chosen) {
    var box = field("app-groups");
    var names = [];
    try {
      var data = await a.get("/groups");
      names = (data.groups || []).map(function (g) { return g.name; });
    } catch (err) {
      box.textContent = "";
      box.appendChild(el("p", "hint", "Could not load the groups: " + app.describe(err)));
      return;
    }
    chosen.forEach(function (n) {
      if (names.indexOf(n) < 0) {
        names.push(n);
      }
    });
    box.textContent = "";
    if (names.length === 0) {
      var p = el("p", "hint", "No groups yet. ");
      p.appendChild(a.link("/admin/groups", "Create groups"));
      p.appendChild(document.createTextNode(" to admit only their members."));
      box.appendChild(p);
    }
    names.sort().forEach(function (n, i) {
      var div = el("div", "check");
      var input = el("input");
      input.type = "checkbox";
      input.id = "app-group-" + i;
      input.name = "allowedGroup";
      input.value = n;
      input.checked = chosen.indexOf(n) >= 0;
      var label = el("label", null, n);
      label.htmlFor = input.id;
      div.appendChild(input);
      div.appendChild(label);
      box.appendChild(div);
    });
  }

  function fillForm(x) {
    field("app-name").value = x.name || "";
    field("app-public").checked = !!x.public;
    field("app-redirects").value = (x.redirectUris || []).join("\n");
    field("app-post-logout").value = (x.postLogoutRedirectUris || []).join("\n");
    scopeBoxes.forEach(function (b) {
      b.checked = b.value === "openid" || (x.scopes || []).indexOf(b.value) >= 0;
    });
    field("app-alg").value = x.idTokenAlg || "RS256";
    field("app-access-ttl").value = x.accessTokenTtl || "";
    field("app-id-ttl").value = x.idTokenTtl || "";
    field("app-refresh-ttl").value = x.refreshTokenTtl || "";
    field("app-allowed-users").value = (x.allowedUsers || []).join("\n");
    field("app-trusted").checked = !!x.trusted;
    field("app-unverified").checked = !!x.allowUnverifiedEmail;
  }

  function readForm() {
    var body = {
      name: field("app-name").value.trim(),
      public: field("app-public").checked,
      redirectUris: a.lines(field("app-redirects").value),
      postLogoutRedirectUris: a.lines(field("app-post-logout").value),
      scopes: Array.prototype.filter.call(scopeBoxes, function (b) { return b.checked; }).map(function (b) { return b.value; }),
      idTokenAlg: field("app-alg").value,
      accessTokenTtl: field("app-access-ttl").value.trim(),
      idTokenTtl: field("app-id-ttl").value.trim(),
      refreshTokenTtl: field("app-refresh-ttl").value.trim(),
      trusted: field("app-trusted").checked,
      allowedUsers: a.lines(field("app-allowed-users").value),
      allowedGroups: Array.prototype.map.call(document.querySelectorAll('input[name="allowedGroup"]:checked'), function (b) { return b.value; }),
      allowUnverifiedEmail: field("app-unverified").checked
    };
    var id = field("app-id");
    if (id && id.value.trim()) {
      body.id = id.value.trim();
    }
    return body;
  }

  // showConnect shows what the app's own settings need.
  function showConnect(data) {
    var x = data.app;
    var discovery = el("code", "copyable", data.discoveryUrl);
    a.facts(field("app-facts"), [
      ["Client ID", el("code", "copyable client-id", x.id)],
      ["Client type", x.public ? "Public: no secret, PKCE" : "Confidential: with a client secret"],
      ["Issuer", el("code", "copyable", data.issuer)],
      ["Discovery URL", discovery],
      ["Created", app.timeEl(x.createdAt)],
      ["Last used", a.when(x.lastUsedAt)]
    ]);
    var box = field("app-settings");
    box.textContent = "";
    (data.settings || []).forEach(function (s) {
      var d = el("details", "more settings");
      d.appendChild(el("summary", null, "Settings for " + s.name));
      d.appendChild(el("pre", null, (s.lines || []).join("\n")));
      box.appendChild(d);
    });
    field("app-connect").hidden = false;
  }

  async function loadApp(id) {
    var data;
    try {
      data = await a.get("/apps/" + encodeURIComponent(id));
    } catch (err) {
      app.say("error", "Could not load this app: " + app.describe(err));
      return null;
    }
    current = data.app;
    showConnect(data);
    return data;
  }

  async function initApp() {
    var data = await loadApp(a.id);
    if (!data) {
      return;
    }
    a.setHeading(current.name);
    fillForm(current);
    field("declared-note").hidden = !current.declared;
    field("app-fieldset").disabled = !!current.declared;
    field("app-danger").hidden = !!current.declared;
    field("app-rotate").hidden = !!current.public;
    await loadGroups(current.allowedGroups || []);

    a.on("app-form", async function () {
      app.say("info", "Saving…");
      var res = await a.send("PUT", "/apps/" + encodeURIComponent(current.id), readForm());
      current = res.app;
      fillForm(current);
      a.setHeading(current.name);
      app.say("success", "Saved " + current.name + ".");
    });
    a.toggle("app-rotate", "app-rotate-confirm", "app-rotate-cancel");
    a.on("app-rotate-confirmed", async function () {
      var res = await a.send("POST", "/apps/" + encodeURIComponent(current.id) + "/secret");
      field("app-rotate-confirm").hidden = true;
      a.showSecret("secret-panel", "secret-value", "copy-secret", res.secret);
      app.say("success", "New secret made: the old one no longer works. Copy it into " + current.name + "'s settings.");
    });
    a.toggle("app-delete", "app-delete-confirm", "app-delete-cancel");
    a.on("app-delete-confirmed", async function () {
      await a.send("DELETE", "/apps/" + encodeURIComponent(current.id));
      location.assign(a.url("/admin/apps"));
      return app.NAVIGATING;
    });
  }

  function initNew() {
    loadGroups([]);
    a.on("app-form", async function () {
      app.say("info", "Creating the app…");
      var res = await a.send("POST", "/apps", readForm());
      current = res.app;
      field("app-form-section").hidden = true;
      a.setHeading(current.name);
      field("open-app").href = a.url(appPath(current.id));
      await loadApp(current.id);
      if (res.secret) {
        a.showSecret("secret-panel", "secret-value", "copy-secret", res.secret);
      } else {
        field("console-heading").focus();
      }
      app.say("success", "Created " + current.name + "." + (res.secret ? " Copy its secret now: it is shown only once." : ""));
    });
  }

  if (a.section === "apps") {
    loadList();
  } else if (a.section === "new-app") {
    initNew();
  } else {
    initApp();
  }
})(window.passkeyd);
