// The console's people: the list (search, pages, the most recent sign-in
// first) and a person's page (passkeys, sessions, connected apps, groups,
// security log, and what an administrator may do to the account).
"use strict";

(function (app) {
  var el = app.el;
  var a = app.admin;

  function personPath(id) {
    return "/admin/people/" + encodeURIComponent(id);
  }

  function badges(p) {
    var out = [];
    if (p.admin) {
      out.push(a.badge("Administrator"));
    }
    if (p.disabled) {
      out.push(a.badge("Disabled", "warn"));
    }
    if (!p.emailVerified) {
      out.push(a.badge("Address not confirmed", "warn"));
    }
    return out;
  }

  // --- the list ---

  function initList() {
    var q = new URLSearchParams(location.search);
    var state = { q: q.get("q") || "", page: Math.max(parseInt(q.get("page"), 10) || 1, 1), pages: 1 };
    var input = document.getElementById("people-q");
    input.value = state.q;

    async function load() {
      var list = document.getElementById("people");
      var data;
      try {
        data = await a.get("/people?q=" + encodeURIComponent(state.q) + "&page=" + state.page);
      } catch (err) {
        a.failed(list, "the people", err);
        return;
      }
      var perPage = data.perPage || 25;
      state.pages = Math.max(Math.ceil(data.total / perPage), 1);
      a.fill(list, data.people, function (p) {
        var title = a.link(personPath(p.id), p.email);
        var li = a.item(title, badges(p), [[
          p.name || "", p.username ? "@" + p.username : "",
          app.plural(p.passkeys, "passkey", "passkeys"),
          a.span("Last sign-in ", a.when(p.lastSignInAt))
        ]]);
        li.setAttribute("data-user-id", p.id);
        return li;
      }, state.q ? "Nobody matches “" + state.q + "”." : "No accounts yet.");
      document.getElementById("people-count").textContent = app.plural(data.total, "person", "people") +
        (state.q ? (data.total === 1 ? " matches" : " match") : "") + (state.pages > 1 ? " · page " + state.page + " of " + state.pages : "");
      document.getElementById("people-prev").hidden = state.page <= 1;
      document.getElementById("people-next").hidden = state.page >= state.pages;
      var params = new URLSearchParams();
      if (state.q) {
        params.set("q", state.q);
      }
      if (state.page > 1) {
        params.set("page", String(state.page));
      }
      history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
    }

    a.on("people-search", function () {
      state.q = input.value.trim();
      state.page = 1;
      return load();
    });
    a.on("people-prev", function () {
      state.page--;
      return load();
    });
    a.on("people-next", function () {
      state.page++;
      return load();
    });
    load();
  }

  // --- a person ---

  function initPerson() {
    var id = a.id;
    var path = "/people/" + encodeURIComponent(id);
    var person = null;
    var groupNames = {}; // every group, by ID, for the add-to-group list

    async function load() {
      var data;
      try {
        data = await a.get(path);
      } catch (err) {
        app.say("error", "Could not load this person: " + app.describe(err));
        return;
      }
      person = data.person;
      a.setHeading(person.email);
      var summary = document.getElementById("person-summary");
      summary.textContent = [person.name, person.username ? "@" + person.username : ""].filter(Boolean).join(" · ");
      badges(person).forEach(function (b) {
        summary.appendChild(document.createTextNode(" "));
        summary.appendChild(b);
      });
      a.facts(document.getElementById("person-facts"), [
        ["Email address", person.email + (person.emailVerified ? " (confirmed)" : " (not confirmed)")],
        ["Account created", app.timeEl(person.createdAt)],
        ["Last sign-in", a.when(person.lastSignInAt)],
        ["Status", person.disabled ? "Disabled" : "Active"],
        ["Role", person.admin ? "Administrator" : "Member"]
      ]);
      document.getElementById("person-disable").hidden = person.disabled;
      document.getElementById("person-enable").hidden = !person.disabled;
      document.getElementById("person-make-admin").hidden = person.admin;
      document.getElementById("person-revoke-admin").hidden = !person.admin;

      a.fill(document.getElementById("person-passkeys"), data.passkeys, function (k) {
        return a.item(k.name || "Passkey", k.backedUp ? [a.badge("Synced")] : [], [
          [k.provider || "", a.span("Created ", app.timeEl(k.createdAt)), a.span("Last used ", a.when(k.lastUsedAt))]
        ]);
      }, "No passkeys.");

      a.fill(document.getElementById("person-sessions"), data.sessions, function (s) {
        return a.item(app.device(s.userAgent) || "Unknown browser", [],
          [[s.ip || "", a.span("Last active ", app.timeEl(s.lastSeenAt || s.createdAt)), a.span("Signed in ", app.timeEl(s.createdAt))]]);
      }, "Not signed in anywhere.");

      a.fill(document.getElementById("person-apps"), data.apps, function (x) {
        var li = a.item(a.link("/admin/apps/" + encodeURIComponent(x.clientId), x.name || x.clientId), [],
          [[(x.scopes || []).join(" "), a.span("Last used ", a.when(x.lastUsedAt))]]);
        li.setAttribute("data-client-id", x.clientId);
        return a.actions(li, [a.button("Revoke", "revoke-app", "Revoke " + (x.name || x.clientId), "danger")]);
      }, "No connected apps.");

      var member = {};
      a.fill(document.getElementById("person-groups"), data.groups, function (g) {
        member[g.id] = true;
        var li = a.item(a.link("/admin/groups/" + encodeURIComponent(g.id), g.name));
        li.setAttribute("data-group-id", g.id);
        return a.actions(li, [a.button("Remove", "remove-group", "Remove from " + g.name)]);
      }, "In no group.");
      fillGroupSelect(member);

      a.fill(document.getElementById("person-log"), data.events, a.eventItem, "Nothing yet.");
    }

    function fillGroupSelect(member) {
      var select = document.getElementById("person-group-select");
      select.textContent = "";
      Object.keys(groupNames).filter(function (gid) { return !member[gid]; }).sort(function (x, y) {
        return groupNames[x].localeCompare(groupNames[y]);
      }).forEach(function (gid) {
        var o = el("option", null, groupNames[gid]);
        o.value = gid;
        select.appendChild(o);
      });
      var none = select.options.length === 0;
      document.getElementById("person-add-group").hidden = none;
    }

    async function loadGroups() {
      try {
        var data = await a.get("/groups");
        (data.groups || []).forEach(function (g) { groupNames[g.id] = g.name; });
      } catch (err) {
        // The add-to-group form stays hidden; the rest of the page works.
      }
    }

    // act runs a change and reloads the page's facts.
    function act(button, fn) {
      a.on(button, async function () {
        await fn();
        await load();
      });
    }

    act("person-disable", async function () {
      app.say("info", "Disabling the account…");
      await a.send("POST", path + "/disable");
      app.say("success", person.email + " is disabled: signed out everywhere, and their sign-ins are refused.");
    });
    act("person-enable", async function () {
      await a.send("POST", path + "/enable");
      app.say("success", person.email + " may sign in again.");
    });
    act("person-recovery", async function () {
      app.say("info", "Sending a recovery link…");
      await a.send("POST", path + "/recovery-link");
      app.say("success", "A recovery link is on its way to " + person.email + ".");
    });
    act("person-end-sessions", async function () {
      var data = await a.send("DELETE", path + "/sessions");
      var n = (data && data.ended) || 0;
      app.say("success", n === 0 ? person.email + " was not signed in anywhere." : "Ended " + app.plural(n, "session", "sessions") + " of " + person.email + ".");
    });
    act("person-make-admin", async function () {
      await a.send("POST", path + "/admin", { admin: true });
      app.say("success", person.email + " is now an administrator.");
    });
    act("person-revoke-admin", async function () {
      await a.send("POST", path + "/admin", { admin: false });
      app.say("success", person.email + " is no longer an administrator; any API keys they made are revoked.");
    });
    act("person-add-group", async function () {
      var select = document.getElementById("person-group-select");
      var gid = select.value;
      await a.send("PUT", path + "/groups/" + encodeURIComponent(gid));
      app.say("success", "Added " + person.email + " to " + groupNames[gid] + ".");
    });

    a.toggle("person-delete", "person-delete-form", "person-delete-cancel", "person-delete-confirm");
    a.on("person-delete-form", async function () {
      var typed = document.getElementById("person-delete-confirm").value.trim();
      if (typed.toLowerCase() !== person.email.toLowerCase()) {
        app.say("error", "Type " + person.email + " to confirm. Nothing was deleted.");
        document.getElementById("person-delete-confirm").focus();
        return;
      }
      app.say("info", "Deleting the account…");
      await a.send("DELETE", path, { confirm: typed });
      location.assign(a.url("/admin/people"));
      return app.NAVIGATING;
    });

    // The item lists' buttons, by delegation.
    document.getElementById("console").addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-action]");
      if (!b || app.isBusy()) {
        return;
      }
      var li = b.closest("li");
      if (b.dataset.action === "revoke-app") {
        a.run(async function () {
          await a.send("DELETE", path + "/apps/" + encodeURIComponent(li.dataset.clientId));
          app.say("success", "Revoked " + li.querySelector(".item-title").textContent + ": its tokens for " + person.email + " no longer work.");
          await load();
        });
      } else if (b.dataset.action === "remove-group") {
        a.run(async function () {
          await a.send("DELETE", path + "/groups/" + encodeURIComponent(li.dataset.groupId));
          app.say("success", "Removed " + person.email + " from " + li.querySelector(".item-title").textContent + ".");
          await load();
        });
      }
    });

    loadGroups().then(load);
  }

  if (a.section === "people") {
    initList();
  } else {
    initPerson();
  }
})(window.passkeyd);
