// The console's overview: counts, sign-ins per day over 30 days as a bar
// chart (an SVG drawn here, failures beside successes, redrawn to the
// width it gets; the same figures as a table for screen readers), and the
// apps people signed in to.
"use strict";

(function (app) {
  var el = app.el;
  var a = app.admin;
  var SVG = "http://www.w3.org/2000/svg";
  var days = [];

  function svg(tag, attrs, className) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (className) {
      e.setAttribute("class", className);
    }
    return e;
  }

  function dayLabel(day, long) {
    var d = new Date(day + "T00:00:00Z");
    return d.toLocaleDateString(undefined, long
      ? { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }
      : { timeZone: "UTC", day: "numeric", month: "short" });
  }

  // niceMax rounds the tallest bar up to 1, 2 or 5 times a power of ten,
  // so the axis reads in round numbers.
  function niceMax(n) {
    if (n <= 4) {
      return 4;
    }
    var p = Math.pow(10, Math.floor(Math.log10(n)));
    return [1, 2, 5, 10].map(function (m) { return m * p; }).filter(function (x) { return x >= n; })[0];
  }

  function draw() {
    var fig = document.getElementById("signin-chart");
    var width = Math.max(fig.clientWidth, 280);
    var height = width < 500 ? 180 : 220;
    var left = 36, right = 8, top = 10, bottom = 26;
    var plotW = width - left - right, plotH = height - top - bottom;
    var max = niceMax(Math.max.apply(null, days.map(function (d) { return Math.max(d.succeeded, d.failed); }).concat([0])));
    var ok = 0, failed = 0;
    days.forEach(function (d) { ok += d.succeeded; failed += d.failed; });

    var chart = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img", "aria-labelledby": "chart-title" });
    var title = svg("title", { id: "chart-title" });
    title.textContent = "Sign-ins per day over the last " + days.length + " days: " + ok + " succeeded, " + failed + " failed.";
    chart.appendChild(title);
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      chart.appendChild(svg("line", { x1: left, x2: width - right, y1: y, y2: y }, f === 0 ? "axis" : "grid"));
      var label = svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, "tick");
      label.textContent = String(Math.round(f * max));
      chart.appendChild(label);
    });
    var step = plotW / Math.max(days.length, 1);
    var bar = Math.max(step * 0.36, 1);
    // A date label needs about 52 pixels: label every day, every other
    // day, ... or every week, whichever fits.
    var labelEvery = [1, 2, 3, 7, 14].filter(function (n) { return n * step >= 52; })[0] || 14;
    days.forEach(function (d, i) {
      var barX = left + i * step + step * 0.12;
      [[d.succeeded, "bar-ok", "succeeded"], [d.failed, "bar-fail", "failed"]].forEach(function (b, j) {
        var h = b[0] / max * plotH;
        var r = svg("rect", { x: barX + j * bar, y: top + plotH - h, width: bar, height: Math.max(h, b[0] > 0 ? 1 : 0) }, b[1]);
        var tip = svg("title", {});
        tip.textContent = dayLabel(d.day, true) + ": " + b[0] + " " + b[2];
        r.appendChild(tip);
        chart.appendChild(r);
      });
      if ((days.length - 1 - i) % labelEvery === 0) {
        // Centred under its day, unless that would run off the right edge.
        var x = left + i * step + step / 2;
        var end = x + 26 > width;
        var t = svg("text", { x: end ? width - 2 : x, y: height - 8, "text-anchor": end ? "end" : "middle" }, "tick");
        t.textContent = dayLabel(d.day);
        chart.appendChild(t);
      }
    });
    fig.textContent = "";
    fig.appendChild(chart);
  }

  function table() {
    var body = document.querySelector("#signin-table tbody");
    body.textContent = "";
    days.slice().reverse().forEach(function (d) {
      var tr = el("tr");
      var th = el("th", null, dayLabel(d.day, true));
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(el("td", null, String(d.succeeded)));
      tr.appendChild(el("td", null, String(d.failed)));
      body.appendChild(tr);
    });
  }

  async function load() {
    var list = document.getElementById("app-signins");
    var data;
    try {
      data = await a.get("/overview");
    } catch (err) {
      a.failed(list, "the overview", err);
      document.getElementById("signin-chart").textContent = "";
      return;
    }
    days = data.signIns || [];
    var ok = 0, failed = 0;
    days.forEach(function (d) { ok += d.succeeded; failed += d.failed; });
    document.getElementById("count-accounts").textContent = String(data.accounts);
    document.getElementById("count-active").textContent = String(data.activeAccounts);
    document.getElementById("count-signins").textContent = String(ok);
    document.getElementById("count-failed").textContent = String(failed);
    draw();
    table();
    var apps = (data.apps || []).slice().sort(function (x, y) { return y.signIns - x.signIns; });
    var most = Math.max.apply(null, apps.map(function (x) { return x.signIns; }).concat([1]));
    a.fill(list, apps, function (x) {
      var li = a.item(a.link("/admin/apps/" + encodeURIComponent(x.clientId), x.name || x.clientId), [],
        [[app.plural(x.signIns, "sign-in", "sign-ins")]]);
      var meter = el("meter");
      meter.max = most;
      meter.value = x.signIns;
      meter.setAttribute("aria-hidden", "true");
      li.appendChild(meter);
      return li;
    }, "No apps yet.");
  }

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      if (days.length) {
        draw();
      }
    }, 150);
  });
  load();
})(window.passkeyd);
