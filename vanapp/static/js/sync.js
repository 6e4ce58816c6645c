/* The Sync page: "Sync now" posts with the session's CSRF token and the page follows the sync
   by polling /sync/status.json (twice a second while a sync runs, every few seconds otherwise,
   so an automatic sync shows too). Every word comes from the server, already translated;
   text goes in with textContent only. Without JavaScript the form posts and the page reloads. */
(function () {
  "use strict";
  var root = document.getElementById("sync-state");
  var stringsNode = document.getElementById("sync-strings");
  if (!root || !stringsNode || !window.fetch) { return; }
  var S = JSON.parse(stringsNode.textContent);
  var statusUrl = root.dataset.statusUrl;
  var form = document.getElementById("sync-now-form");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var running = root.dataset.running === "true";
  var parked = root.dataset.parked;
  var paired = (document.getElementById("paired") || {dataset: {}}).dataset.paired;
  var timer = null;
  var notice = "";

  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) { el.textContent = text; } }

  function renderWaiting(list) {
    var ul = $("waiting");
    if (!ul) { return; }
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    if (!list.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = S.nothing;
      ul.appendChild(none);
      return;
    }
    list.forEach(function (w) {
      var li = document.createElement("li");
      li.dataset.kind = w.kind;
      li.appendChild(document.createTextNode(w.label + ": "));
      var n = document.createElement("strong");
      n.textContent = String(w.count);
      li.appendChild(n);
      ul.appendChild(li);
    });
  }

  function render(data) {
    var bar = $("sync-progress");
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
      bar.hidden = !(data.running || data.last);
    }
    var message = $("sync-message");
    if (message) {
      message.textContent = notice || data.message;
      message.dataset.state = data.running ? "running" : (data.last ? (data.last.ok ? "ok" : "failed") : "idle");
    }
    var button = $("sync-now");
    if (button) { button.disabled = data.running || !data.paired; }
    setText("last-success", data.last_success_local || S.never);
    setText("parked-count", String(data.parked_count));
    setText("auto-sync", data.auto_text);
    renderWaiting(data.waiting);
    var box = $("last-error");
    if (box) {
      box.hidden = !data.last_error;
      setText("last-error-words", data.last_error);
      setText("last-error-when", data.last_error_local || "");
      setText("last-error-detail", data.last_error_detail);
    }
    var finished = running && !data.running;
    running = data.running;
    if (finished) { notice = ""; }
    // parked records or the pairing changed: the tables below come from the server
    if (!data.running && (String(data.parked_count) !== parked || String(data.paired) !== paired)) {
      window.location.reload();
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, running ? 500 : 4000);
  }

  function poll() {
    fetch(statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401 || response.redirected) { window.location.reload(); throw new Error("login"); }
        return response.json();
      })
      .then(function (data) { render(data); schedule(); })
      .catch(function () { setText("sync-message", S.failed); schedule(); });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = $("sync-now");
      if (button) { button.disabled = true; }
      fetch(form.action, {method: "POST", credentials: "same-origin",
                          headers: {"Accept": "application/json", "X-CSRFToken": csrf}})
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); throw new Error("login"); }
          return response.json();
        })
        .then(function (data) {
          notice = data.started ? "" : data.notice;
          running = data.running;
          render(data);
          if (!data.started) {           // a sync was already running: say so, then follow it
            setText("sync-message", data.notice);
            setTimeout(function () { notice = ""; }, 3000);
          }
          schedule();
        })
        .catch(function () { setText("sync-message", S.failed); schedule(); });
    });
  }
  schedule();
}());
