// The console's audit log: every account's and app's events, newest first,
// filtered by event, person, app and days (UTC), fifty at a time. The
// filters live in the page's address, so a filtered view can be linked to
// (a person's page links to their events with ?user=ID).
"use strict";

(function (app) {
  var el = app.el;
  var a = app.admin;
  var form = document.getElementById("audit-filters");
  var next = null;
  var userID = ""; // the person filter, resolved from the address typed

  function dayAfter(day) {
    var d = new Date(day + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }

  function query(before) {
    var q = new URLSearchParams();
    var type = form.elements.type.value;
    var clientID = form.elements.app.value;
    var since = form.elements.since.value;
    var until = form.elements.until.value;
    if (type) {
      q.set("type", type);
    }
    if (userID) {
      q.set("user", userID);
    }
    if (clientID) {
      q.set("app", clientID);
    }
    if (since) {
      q.set("since", since + "T00:00:00Z");
    }
    if (until) {
      q.set("until", dayAfter(until) + "T00:00:00Z"); // the To day is included
    }
    if (before) {
      q.set("before", String(before));
    }
    return q;
  }

  // resolveUser turns the person field into a user ID: an address is
  // looked up; anything else is taken as an ID.
  async function resolveUser() {
    var typed = form.elements.user.value.trim();
    if (!typed || typed.indexOf("@") < 0) {
      userID = typed;
      return;
    }
    var found = await a.get("/people?q=" + encodeURIComponent(typed));
    var p = (found.people || []).filter(function (x) { return x.email.toLowerCase() === typed.toLowerCase(); })[0];
    if (!p) {
      throw new app.APIError("No account has the address " + typed + ".");
    }
    userID = p.id;
  }

  async function load(before) {
    var list = document.getElementById("audit");
    var data;
    try {
      data = await a.get("/audit?" + query(before));
    } catch (err) {
      if (before) {
        throw err;
      }
      a.failed(list, "the audit log", err);
      return;
    }
    if (!before) {
      a.fill(list, data.events, a.eventItem, "No events match.");
    } else {
      (data.events || []).forEach(function (ev) { list.appendChild(a.eventItem(ev)); });
    }
    next = data.next || null;
    document.getElementById("audit-older").hidden = !next;
  }

  function keepInAddress() {
    var q = query();
    if (form.elements.user.value.trim()) {
      q.set("user", form.elements.user.value.trim());
    }
    q.delete("since");
    q.delete("until");
    if (form.elements.since.value) {
      q.set("since", form.elements.since.value);
    }
    if (form.elements.until.value) {
      q.set("until", form.elements.until.value);
    }
    history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
  }

  async function fillChoices(params) {
    var select = form.elements.type;
    Object.keys(app.eventWording).sort(function (x, y) {
      return app.eventWording[x].localeCompare(app.eventWording[y]);
    }).forEach(function (type) {
      var o = el("option", null, app.eventWording[type]);
      o.value = type;
      select.appendChild(o);
    });
    try {
      var data = await a.get("/apps");
      (data.apps || []).forEach(function (x) {
        var o = el("option", null, x.name);
        o.value = x.id;
        form.elements.app.appendChild(o);
      });
    } catch (err) {
      // Without the list, the filter offers only "Any app".
    }
    select.value = params.get("type") || "";
    form.elements.app.value = params.get("app") || "";
    form.elements.user.value = params.get("user") || "";
    form.elements.since.value = params.get("since") || "";
    form.elements.until.value = params.get("until") || "";
  }

  a.on("audit-filters", async function () {
    await resolveUser();
    keepInAddress();
    await load();
    app.say("success", "Showing the events that match.");
  });
  a.on("audit-clear", async function () {
    form.reset();
    userID = "";
    keepInAddress();
    await load();
    app.say("success", "Showing every event.");
  });
  a.on("audit-older", async function () {
    var list = document.getElementById("audit");
    var first = list.children.length;
    await load(next);
    var item = list.children[first];
    if (item) {
      item.setAttribute("tabindex", "-1");
      item.focus();
    }
  });

  var params = new URLSearchParams(location.search);
  fillChoices(params).then(function () {
    return a.run(async function () {
      await resolveUser();
      await load();
    });
  });
})(window.passkeyd);
