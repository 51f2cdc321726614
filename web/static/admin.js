// The administrator's console, the part every section shares: calls to the
// JSON API under /api/admin (with the passkey check that destructive ones
// may ask for first), and small builders for the lists, facts, badges and
// events the sections show. Each section has its script (admin-people.js,
// admin-apps.js, ...), loaded after this one, which reads the section and
// the ID it shows from #console's data-section and data-id.
"use strict";

(function (app) {
  var el = app.el;
  var root = document.getElementById("console");
  var a = app.admin = {
    section: root.dataset.section,
    id: root.dataset.id
  };

  function adminEmail() {
    var e = document.getElementById("admin-email");
    return e ? e.textContent.trim() : "";
  }

  // url is a console address under the server's base path.
  a.url = function (path) {
    return app.base + path;
  };

  // get reads from the API; send changes something, running the passkey
  // check first when the server asks for one (step_up_required).
  a.get = function (path) {
    return app.request("GET", "/api/admin" + path);
  };
  a.send = function (method, path, body) {
    return app.withStepUp(function () {
      return app.request(method, "/api/admin" + path, body);
    }, adminEmail);
  };

  // run performs a button's action: one at a time, buttons disabled
  // meanwhile, and what went wrong said in the status line.
  a.run = function (fn) {
    return app.ceremony("admin", fn);
  };

  // on calls fn when the element with this ID is clicked (or, for a form,
  // submitted), unless another action runs.
  a.on = function (id, fn) {
    var e = document.getElementById(id);
    e.addEventListener(e.tagName === "FORM" ? "submit" : "click", function (ev) {
      ev.preventDefault();
      if (!app.isBusy()) {
        a.run(function () { return fn(ev); });
      }
    });
  };

  // setHeading names what the page shows, in the heading and the title.
  a.setHeading = function (text) {
    document.getElementById("console-heading").textContent = text;
    document.title = text + " · " + document.title.split(" · ").pop();
  };

  // --- builders ---

  a.link = function (path, text) {
    var l = el("a", null, text);
    l.href = a.url(path);
    return l;
  };

  a.badge = function (text, kind) {
    return el("span", "badge badge-" + (kind || "ok"), text);
  };

  // when is a <time> for an RFC 3339 time, or the text never when it is
  // empty.
  a.when = function (iso, never) {
    return iso ? app.timeEl(iso) : document.createTextNode(never || "never");
  };

  // span is text followed by a node: "Last used " and a <time>.
  a.span = function (text, node) {
    var s = el("span", null, text);
    s.appendChild(node);
    return s;
  };

  // line makes a paragraph of parts (strings or nodes), joined by " · ".
  a.line = function (className, parts) {
    var p = el("p", className);
    parts.filter(function (x) { return x !== "" && x !== null && x !== undefined; }).forEach(function (part, i) {
      if (i > 0) {
        p.appendChild(document.createTextNode(" · "));
      }
      p.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    return p;
  };

  // item makes a list item: a title (text or node, with badges after it),
  // then lines of meta parts.
  a.item = function (title, badges, metas) {
    var li = el("li", "item");
    var t = el("p", "item-title");
    t.appendChild(typeof title === "string" ? document.createTextNode(title) : title);
    (badges || []).forEach(function (b) {
      t.appendChild(document.createTextNode(" "));
      t.appendChild(b);
    });
    li.appendChild(t);
    (metas || []).forEach(function (parts) {
      li.appendChild(a.line("item-meta", parts));
    });
    return li;
  };

  // button makes a small button acting on an item; label names the item
  // for screen readers ("Remove from admins").
  a.button = function (text, action, label, className) {
    var b = el("button", "small" + (className ? " " + className : ""), text);
    b.type = "button";
    b.setAttribute("data-action", action);
    if (label) {
      b.setAttribute("aria-label", label);
    }
    return b;
  };

  a.actions = function (li, buttons) {
    var d = el("div", "item-actions");
    buttons.forEach(function (b) { d.appendChild(b); });
    li.appendChild(d);
    return li;
  };

  // fill replaces a list's items by those render makes of items, or by one
  // saying empty.
  a.fill = function (list, items, render, empty) {
    list.textContent = "";
    (items || []).forEach(function (x) { list.appendChild(render(x)); });
    if (!items || items.length === 0) {
      list.appendChild(el("li", "item empty", empty));
    }
  };

  // failed shows in a list why it could not load.
  a.failed = function (list, what, err) {
    list.textContent = "";
    list.appendChild(el("li", "item empty", "Could not load " + what + ": " + app.describe(err)));
  };

  // facts fills a <dl> with [term, value] pairs; a value is text or a node.
  a.facts = function (dl, pairs) {
    dl.textContent = "";
    pairs.forEach(function (p) {
      var div = el("div");
      div.appendChild(el("dt", null, p[0]));
      var dd = el("dd");
      dd.appendChild(typeof p[1] === "string" ? document.createTextNode(p[1]) : p[1]);
      div.appendChild(dd);
      dl.appendChild(div);
    });
  };

  // lines splits a textarea's value into its non-empty lines.
  a.lines = function (text) {
    return text.split(/[\r\n]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  };

  // toggle shows panel when the trigger is pressed and hides it on cancel,
  // moving the focus along.
  a.toggle = function (triggerId, panelId, cancelId, focusId) {
    var panel = document.getElementById(panelId);
    document.getElementById(triggerId).addEventListener("click", function () {
      panel.hidden = false;
      document.getElementById(focusId || cancelId).focus();
    });
    document.getElementById(cancelId).addEventListener("click", function () {
      panel.hidden = true;
      document.getElementById(triggerId).focus();
    });
  };

  // showSecret shows a secret once in a read-only field with a Copy
  // button: the clipboard if the browser allows it, else the text is
  // selected for the person to copy.
  a.showSecret = function (panelId, inputId, buttonId, secret) {
    var panel = document.getElementById(panelId);
    var input = document.getElementById(inputId);
    input.value = secret;
    panel.hidden = false;
    var heading = panel.querySelector("h2");
    if (heading) {
      heading.focus();
    }
    var button = document.getElementById(buttonId);
    if (button.dataset.wired) {
      return;
    }
    button.dataset.wired = "true";
    button.addEventListener("click", function () {
      var copied = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(input.value)
        : Promise.reject(new Error("no clipboard"));
      copied.then(function () {
        app.say("success", "Copied to the clipboard.");
      }, function () {
        input.focus();
        input.select();
        app.say("info", "Selected: press Ctrl+C (or ⌘C) to copy.");
      });
    });
  };

  // --- events ---

  a.eventTitle = function (type) {
    return app.eventWording[type] || String(type || "Event").replace(/_/g, " ");
  };

  // eventItem shows an event of the audit or a person's log: what, about
  // whom (unless the page is that person's) and which app, by which
  // administrator, when, from where.
  a.eventItem = function (ev) {
    var li = a.item(a.eventTitle(ev.type));
    li.setAttribute("data-event-id", String(ev.id));
    li.setAttribute("data-event-type", ev.type);
    if (["login_failed", "clone_warning", "oidc_code_reused", "oidc_refresh_reuse"].indexOf(ev.type) >= 0) {
      li.className += " alert";
    }
    if (ev.detail) {
      li.appendChild(el("p", "item-detail", ev.detail));
    }
    var onTheirPage = a.section === "person" && ev.userId === a.id;
    var who = ev.userId && !onTheirPage ? a.link("/admin/people/" + encodeURIComponent(ev.userId), ev.email || ev.userId) : "";
    var appName = ev.clientId ? a.link("/admin/apps/" + encodeURIComponent(ev.clientId), ev.app || ev.clientId) : "";
    var by = ev.adminName ? el("span", "admin-name", "by " + ev.adminName) : "";
    li.appendChild(a.line("item-meta", [app.timeEl(ev.createdAt), who, appName, by]));
    var where = [ev.ip, app.device(ev.userAgent)].filter(Boolean).join(" · ");
    if (where) {
      li.appendChild(el("p", "item-meta", where));
    }
    return li;
  };
})(window.passkeyd);
