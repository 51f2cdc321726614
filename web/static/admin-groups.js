// The console's groups: the list with a form to create one, and a group's
// page (rename, members, the apps that admit it, delete).
"use strict";

(function (app) {
  var a = app.admin;

  function groupPath(id) {
    return "/admin/groups/" + encodeURIComponent(id);
  }

  function appLinks(apps) {
    return (apps || []).map(function (x) { return a.link("/admin/apps/" + encodeURIComponent(x.id), x.name); });
  }

  // --- the list ---

  async function loadList() {
    var list = document.getElementById("groups");
    var data;
    try {
      data = await a.get("/groups");
    } catch (err) {
      a.failed(list, "the groups", err);
      return;
    }
    a.fill(list, data.groups, function (g) {
      var apps = appLinks(g.apps);
      var li = a.item(a.link(groupPath(g.id), g.name), [], [
        [app.plural(g.members, "member", "members"), apps.length ? "Admitted by " : "No app restricted to it"]
      ]);
      var meta = li.querySelector(".item-meta");
      apps.forEach(function (l, i) {
        meta.appendChild(document.createTextNode(i ? ", " : ""));
        meta.appendChild(l);
      });
      li.setAttribute("data-group-id", g.id);
      return li;
    }, "No groups yet.");
  }

  function initList() {
    a.on("group-create", async function () {
      var input = document.getElementById("group-name");
      var res = await a.send("POST", "/groups", { name: input.value.trim() });
      input.value = "";
      app.say("success", "Created the group " + res.group.name + ".");
      await loadList();
    });
    loadList();
  }

  // --- a group ---

  function initGroup() {
    var path = "/groups/" + encodeURIComponent(a.id);
    var group = null;

    async function load() {
      var data;
      try {
        data = await a.get(path);
      } catch (err) {
        app.say("error", "Could not load this group: " + app.describe(err));
        return;
      }
      group = data.group;
      a.setHeading(group.name);
      document.getElementById("group-new-name").value = group.name;
      a.fill(document.getElementById("group-members"), data.members, function (p) {
        var li = a.item(a.link("/admin/people/" + encodeURIComponent(p.id), p.email), [], [[p.name || "", a.span("Last sign-in ", a.when(p.lastSignInAt))]]);
        li.setAttribute("data-user-id", p.id);
        return a.actions(li, [a.button("Remove", "remove-member", "Remove " + p.email + " from " + group.name)]);
      }, "No members yet.");
      a.fill(document.getElementById("group-apps"), data.apps, function (x) {
        return a.item(a.link("/admin/apps/" + encodeURIComponent(x.id), x.name));
      }, "No app admits only certain groups with this one.");
    }

    a.on("group-rename", async function () {
      var res = await a.send("PATCH", path, { name: document.getElementById("group-new-name").value.trim() });
      app.say("success", "Renamed to " + res.group.name + ".");
      await load();
    });

    a.on("group-add-member", async function () {
      var input = document.getElementById("group-member-email");
      var email = input.value.trim();
      var found = await a.get("/people?q=" + encodeURIComponent(email));
      var p = (found.people || []).filter(function (x) { return x.email.toLowerCase() === email.toLowerCase(); })[0];
      if (!p) {
        app.say("error", "No account has the address " + email + ".");
        input.focus();
        return;
      }
      await a.send("PUT", "/people/" + encodeURIComponent(p.id) + "/groups/" + encodeURIComponent(group.id));
      input.value = "";
      app.say("success", "Added " + p.email + " to " + group.name + ".");
      await load();
    });

    document.getElementById("group-members").addEventListener("click", function (ev) {
      var b = ev.target.closest('button[data-action="remove-member"]');
      if (!b || app.isBusy()) {
        return;
      }
      var li = b.closest("li");
      a.run(async function () {
        await a.send("DELETE", "/people/" + encodeURIComponent(li.dataset.userId) + "/groups/" + encodeURIComponent(group.id));
        app.say("success", "Removed " + li.querySelector(".item-title").textContent + " from " + group.name + ".");
        await load();
      });
    });

    a.toggle("group-delete", "group-delete-confirm", "group-delete-cancel");
    a.on("group-delete-confirmed", async function () {
      await a.send("DELETE", path);
      location.assign(a.url("/admin/groups"));
      return app.NAVIGATING;
    });
    load();
  }

  if (a.section === "groups") {
    initList();
  } else {
    initGroup();
  }
})(window.passkeyd);
