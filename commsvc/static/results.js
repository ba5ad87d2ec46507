// Live results while a question is open: poll the results endpoint and update the
// turnout and each choice's bar. Breakdown tables refresh on reload.
(function () {
  "use strict";
  var box = document.querySelector("[data-results-url]");
  if (!box || box.getAttribute("data-open") !== "yes") { return; }
  var url = box.getAttribute("data-results-url");
  function set(root, name, value) {
    var el = root.querySelector("[data-field=" + name + "]");
    if (el) { el.textContent = value; }
  }
  function render(data) {
    set(box, "turnout", (Math.round(data.turnout * 1000) / 10) + "%");
    set(box, "responded", data.responded);
    set(box, "eligible", data.eligible);
    set(box, "state", data.open ? "Open" : "Closed");
    box.querySelectorAll("[data-choice]").forEach(function (row) {
      var n = data.choices[row.getAttribute("data-choice")] || 0;
      var share = data.responded ? n / data.responded * 100 : 0;
      set(row, "count", n);
      set(row, "share", Math.round(share));
      row.querySelector(".bar-fill").style.width = share.toFixed(1) + "%";
    });
    return data.open;
  }
  var failures = 0;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { failures = 0; if (render(data)) { setTimeout(poll, 5000); } })
      .catch(function () { failures += 1; if (failures < 20) { setTimeout(poll, 10000); } });
  }
  setTimeout(poll, 5000);
})();
