// Live progress on a bulletin page: poll the status endpoint, update the bar and counts.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-status-url");
  var finished = { sent: true, cancelled: true, draft: true };
  function render(data) {
    var percent = Math.round(data.progress * 100);
    live.querySelector("[data-field=status]").textContent = data.status;
    live.querySelector("[data-field=percent]").textContent = percent + "% done";
    live.querySelector(".fill").style.width = percent + "%";
    live.querySelector(".bar").setAttribute("aria-valuenow", String(percent));
    var body = live.querySelector("[data-field=counts]");
    body.textContent = "";
    Object.keys(data.counts).sort().forEach(function (name) {
      var row = document.createElement("tr");
      var a = document.createElement("td"); a.textContent = name;
      var b = document.createElement("td"); b.textContent = data.counts[name];
      row.appendChild(a); row.appendChild(b); body.appendChild(row);
    });
    return finished[data.status] && percent === 100;
  }
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (!render(data)) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
