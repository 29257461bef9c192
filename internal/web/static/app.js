// MedWarden console: progressive enhancement only. Every page works
// without this file; it adds live import progress (server-sent events)
// and confirmations before destructive actions.
"use strict";
(function () {
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function importProgress() {
    var box = document.querySelector("[data-events]");
    if (!box || !window.EventSource) { return; }
    var bar = document.getElementById("import-bar");
    var status = document.getElementById("import-status");
    var es = new EventSource(box.getAttribute("data-events"));
    function show(e) {
      var d = JSON.parse(e.data);
      bar.value = d.percent;
      bar.textContent = d.percent + "%";
      status.textContent = d.percent + "% read · " + fmt(d.records) + " records · " + fmt(d.created) +
        " new · " + fmt(d.updated) + " updated · " + fmt(d.invalid) + " invalid";
      return d;
    }
    es.addEventListener("progress", show);
    es.addEventListener("done", function (e) {
      show(e);
      es.close();
      window.location.reload();
    });
    es.onerror = function () { es.close(); window.setTimeout(function () { window.location.reload(); }, 2000); };
  }
  document.addEventListener("DOMContentLoaded", function () { confirmForms(); importProgress(); });
})();
