// Live SMS counter on the compose and template pages. The server counts (one source of
// truth for GSM-7/UCS-2 and segments): this only sends the text and shows the answer.
// Each SMS body (English, and Welsh when given) has its own counter: the element its
// aria-describedby names.
function commsvcSmsCounter(box) {
  "use strict";
  var out = document.getElementById(box.getAttribute("aria-describedby"));
  if (!out) { return; }
  var url = box.getAttribute("data-count-url");
  var tokenField = document.querySelector("input[name=csrf_token]");
  var timer = null;
  var sent = 0;
  function show(data) {
    out.classList.remove("too-long", "long");
    if (data.template_error) { out.textContent = data.template_error; out.classList.add("too-long"); return; }
    var text = data.characters + " characters with the opt-out hint · " + data.encoding +
      " · " + data.segments + " segment" + (data.segments === 1 ? "" : "s") +
      " (" + data.per_segment + " per segment)";
    if (data.too_long) { text += " · too long to save"; out.classList.add("too-long"); }
    else if (data.warning) { text += " · " + data.warning; out.classList.add("long"); }
    out.textContent = text;
  }
  function ask() {
    var mine = ++sent;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": tokenField ? tokenField.value : "" },
      body: JSON.stringify({ sms_body: box.value })
    })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (mine === sent) { show(data); } })
      .catch(function () { /* the count shows again on the next keystroke */ });
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  });
  ask();
}
Array.prototype.forEach.call(document.querySelectorAll("textarea[data-count-url]"), commsvcSmsCounter);
