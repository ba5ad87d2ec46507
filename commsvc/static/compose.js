// The compose page: the live SMS counter, the service topic's reason, and the live
// audience breakdown. The server counts (one source of truth for GSM-7/UCS-2, segments
// and the audience): this only sends what is typed and ticked and shows the answer.
(function () {
  "use strict";
  var tokenField = document.querySelector("input[name=csrf_token]");
  var token = tokenField ? tokenField.value : "";

  // The SMS counters (English, and Welsh when given): work at every length, and say how
  // far over a limit the text is. Each box names its output in data-count-out.
  var counter = function (box) {
    var out = document.getElementById(box.getAttribute("data-count-out") || "sms-count");
    if (!out) { return; }
    var url = box.getAttribute("data-count-url");
    var timer = null;
    var sent = 0;
    var show = function (data) {
      out.classList.remove("too-long", "long");
      if (data.template_error) { out.textContent = data.template_error; out.classList.add("too-long"); return; }
      if (typeof data.segments !== "number") { out.textContent = data.detail || "The count is not available."; return; }
      var text = data.characters.toLocaleString("en-GB") + " characters with the opt-out line · " + data.encoding +
        " · " + data.segments + " segment" + (data.segments === 1 ? "" : "s") +
        " (" + data.per_segment + " per segment)";
      if (data.too_long) { text += " · too long to save: " + (data.limit_note || "shorten it"); out.classList.add("too-long"); }
      else if (data.warning) { text += " · " + data.warning; out.classList.add("long"); }
      out.textContent = text;
    };
    var ask = function () {
      var mine = ++sent;
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: JSON.stringify({ sms_body: box.value })
      })
        .then(function (r) { return r.json(); })
        .then(function (data) { if (mine === sent) { show(data); } })
        .catch(function () { /* the count shows again on the next keystroke */ });
    };
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 250); });
    ask();
  };
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-count-url]"), counter);

  // The reason box shows when a service topic is chosen (it is always there without JS).
  var topic = document.getElementById("topic");
  var reason = document.getElementById("service-reason-group");
  function showReason() {
    if (!topic || !reason) { return; }
    var chosen = topic.options[topic.selectedIndex];
    var isService = chosen && chosen.getAttribute("data-kind") === "service";
    var hasError = reason.classList.contains("field-error");
    reason.hidden = !(isService || hasError);
  }
  if (topic) { topic.addEventListener("change", showReason); showReason(); }

  // The live breakdown: who will get it by email, by text, and who is left out and why.
  var form = document.getElementById("compose");
  var panel = document.getElementById("breakdown");
  if (form && panel) {
    var audienceUrl = form.getAttribute("data-audience-url");
    var waiting = null;
    var asked = 0;
    var line = function (text) { var p = document.createElement("p"); p.textContent = text; return p; };
    var render = function (data) {
      panel.textContent = "";
      if (typeof data.audience_size !== "number") { panel.appendChild(line(data.detail || "")); return; }
      var channels = data.channels || {};
      var names = { email: "email", sms: "text message" };
      var head = line(data.audience_size.toLocaleString("en-GB") + " members in this audience" +
        (typeof data.reached === "number" ? " · " + data.reached.toLocaleString("en-GB") + " will get it" : ""));
      head.className = "breakdown-head";
      panel.appendChild(head);
      var list = document.createElement("ul");
      Object.keys(channels).forEach(function (c) {
        var n = channels[c];
        var item = document.createElement("li");
        item.textContent = n.will_receive.toLocaleString("en-GB") + " will get the " + names[c] +
          " · " + n.skipped + " skipped (chose not to get this topic or channel, or stopped everything)" +
          " · " + n.suppressed + " suppressed (address blocked)" +
          " · " + n.no_address + " have no " + (c === "email" ? "email address" : "mobile number");
        list.appendChild(item);
      });
      if (!Object.keys(channels).length) { panel.appendChild(line("Choose a topic and channels to see who will get it.")); }
      panel.appendChild(list);
    };
    var refresh = function () {
      var mine = ++asked;
      var body = new URLSearchParams(new FormData(form));
      fetch(audienceUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token }, body: body })
        .then(function (r) { return r.json(); })
        .then(function (data) { if (mine === asked) { render(data); } })
        .catch(function () { /* shown again on the next change */ });
    };
    form.addEventListener("change", function () { clearTimeout(waiting); waiting = setTimeout(refresh, 200); });
    refresh();
  }
})();
