// The dashboard's recovery codes panel: generated (after a step-up),
// shown once, acknowledged.
"use strict";

(function (app) {
  var el = app.el;
  var d = app.dashboard;

  function setCodesCount(n) {
    var count = document.getElementById("codes-count");
    count.dataset.count = String(n);
    count.textContent = n === 0 ? "You have no recovery codes." : d.plural(n, "unused code", "unused codes") + ".";
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
        var data = await d.withStepUp(function () {
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
        d.reload("log");
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
      app.say("success", "Recovery codes saved. You have " + d.plural(n, "unused code", "unused codes") + ".");
      document.getElementById("generate-codes").focus();
    });
  }

  initCodes();
})(window.passkeyd);
