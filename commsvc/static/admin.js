// Live progress without reloads: every element with data-status-url polls that
// bulletin's status endpoint and updates its bar, percentage, status and counts.
(function () {
  "use strict";
  var finished = { sent: true, cancelled: true, draft: true };
  function field(box, name) { return box.querySelector("[data-field=" + name + "]"); }
  function render(box, data) {
    var percent = Math.round(data.progress * 100);
    var status = field(box, "status"), label = field(box, "percent");
    var bar = field(box, "bar"), counts = field(box, "counts");
    if (status) { status.textContent = data.status; }
    if (label) { label.textContent = percent + "% done"; }
    if (bar) { bar.value = percent; bar.textContent = percent + "%"; }
    if (counts) {
      counts.textContent = "";
      Object.keys(data.counts).sort().forEach(function (name) {
        var row = document.createElement("tr");
        var a = document.createElement("td"); a.textContent = name.replace(/_/g, " ");
        var b = document.createElement("td"); b.textContent = data.counts[name];
        row.appendChild(a); row.appendChild(b); counts.appendChild(row);
      });
    }
    box.setAttribute("data-state", data.status);
    return finished[data.status] && (percent === 100 || data.status !== "sent");
  }
  function watch(box) {
    var url = box.getAttribute("data-status-url");
    var failures = 0;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { failures = 0; if (!render(box, data)) { setTimeout(poll, 1000); } })
        .catch(function () { failures += 1; if (failures < 20) { setTimeout(poll, 3000); } });
    }
    poll();
  }
  document.querySelectorAll("[data-status-url]").forEach(watch);
})();
// An error summary takes the focus when the page loads, so a screen reader reads it first
// and a keyboard user can follow its links to the fields (GOV.UK's error pattern).
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
