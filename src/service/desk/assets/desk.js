// Review desk: small conveniences only; every page works without this script.
(function () {
  "use strict";
  // Filters apply with the Filter button, never while a choice is being made (a select
  // that reloads on each arrow key loses keyboard users their place: WCAG 3.2.2).
  // Irreversible-looking actions ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  // A button is pressed once: a double click must not send the action twice.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var b = form.querySelector("button[type=submit]");
      if (b) { setTimeout(function () { b.disabled = true; }, 0); }
    });
  });
  // Times are printed in UTC; the reader's own clock is added beside them.
  document.querySelectorAll("time.utc[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime())) { return; }
    var local = document.createElement("span");
    local.className = "local-time";
    local.textContent = " · " + d.toLocaleString(undefined, {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    }) + " your time";
    t.insertAdjacentElement("afterend", local);
  });
})();
