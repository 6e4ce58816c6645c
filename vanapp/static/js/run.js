/* Run a screening: the run page, the phone remote and the projector page.
   Polls GET /api/v1/player twice a second and posts commands with the session's CSRF token.
   Every word shown comes from the page (#run-strings); text goes in with textContent only. */
(function () {
  "use strict";
  var root = document.querySelector("[data-page]");
  var stringsNode = document.getElementById("run-strings");
  if (!root || !stringsNode) { return; }
  var S = JSON.parse(stringsNode.textContent);
  var page = root.dataset.page;
  var lang = root.dataset.lang || "hi";
  var playerUrl = root.dataset.player;
  var screening = root.dataset.screening || null;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var ACTIVE = ["opening", "playing", "paused", "game"];
  var last = null;          // the last snapshot
  var playsKey = "";        // when this changes, the play log is fetched again
  var volumeBusy = false;   // the crew is dragging the slider: do not move it under their thumb

  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) { el.textContent = text; } }
  function show(id, on) { var el = $(id); if (el) { el.hidden = !on; } }
  function pick(title) {
    if (!title) { return ""; }
    if (Array.isArray(title)) { title = {hi: title[0], en: title[1]}; }
    return (lang === "hi" ? title.hi : title.en) || title.hi || title.en || "";
  }
  function clock(ms) {
    ms = Math.max(ms || 0, 0);
    var s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }

  function request(method, url, body) {
    var options = {method: method, credentials: "same-origin",
                   headers: {"Accept": "application/json"}};
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
      options.body = JSON.stringify(body || {});
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 401) { window.location.reload(); throw new Error("login"); }
      return response.json().then(function (data) {
        if (!response.ok) { throw data; }
        return data;
      });
    });
  }

  function failed(error) {
    // the crew's own words for what the API refused (its message is English, for scripts)
    var e = (error && error.error) || {};
    var message = (S.errors && S.errors[e.code]) || (e.code === "bad_request" && S.fields && S.fields[e.field])
                  || e.message || String(error);
    var el = $("form-error");
    if (el) { el.textContent = S.failed + " " + message; el.hidden = false; }
  }
  // The player's diagnostics are English: a page in another language says the kind of problem only.
  function problemText(p) {
    var word = S.problems[p.code] || playProblem(p.error);
    return lang === "en" && p.error ? word + " (" + p.error + ")" : word;
  }
  function playProblem(error) {
    if (!error) { return ""; }
    var text = error.trim().toLowerCase();
    var found = (S.play_problems || []).filter(function (pair) { return text.indexOf(pair[0]) === 0; })[0];
    return found ? found[1] : S.did_not_play;
  }

  function cleared() { show("form-error", false); }

  function command(cmd, body) {
    cleared();
    return request("POST", playerUrl + "/" + cmd, body).then(render).catch(failed);
  }

  // -- render -------------------------------------------------------------------------
  function renderPlayer(snap) {
    var mine = page !== "run" || snap.screening === screening;
    var active = ACTIVE.indexOf(snap.state) >= 0;
    if (page === "run") {
      if (mine && (active || snap.state === "finished" || snap.state === "stopped")) { show("player", true); }
      var other = !!snap.screening && !mine && active;
      show("other", other);
      if (other) {
        var link = $("other-link");
        link.href = root.dataset.runUrl.replace("SCREENING", snap.screening);
      }
    }
    if (page === "remote" && snap.village) {
      setText("village", snap.village.name + (lang !== "hi" && snap.village.name_en ? " · " + snap.village.name_en : ""));
    }
    setText("state", S.states[snap.state] || snap.state);
    var item = mine ? snap.item : null;
    setText("now-title", item ? pick(item.title) : "\u00a0");
    var fraction = snap.duration_ms ? Math.min(snap.position_ms / snap.duration_ms, 1) : 0;
    var bar = $("bar");
    if (bar) {
      bar.style.width = (mine && item && item.kind === "media" ? fraction * 100 : 0) + "%";
      $("progress").setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    }
    setText("time", mine && snap.duration_ms ? clock(snap.position_ms) + " / " + clock(snap.duration_ms) : "\u00a0");
    setText("next-title", mine && snap.next ? pick(snap.next.title) : S.nothing_next);
    var toggle = $("toggle");
    if (toggle) {
      var paused = snap.state === "paused";
      toggle.dataset.cmd = paused ? "resume" : "pause";
      var label = toggle.querySelector("span");
      if (label) {
        toggle.firstChild.textContent = paused ? "▶" : "❚❚";
        label.textContent = paused ? S.resume : S.pause;
      } else {
        toggle.textContent = (paused ? "▶ " : "❚❚ ") + (paused ? S.resume : S.pause);
      }
      toggle.setAttribute("aria-label", paused ? S.resume : S.pause);
    }
    document.querySelectorAll("[data-cmd]").forEach(function (button) {
      var cmd = button.dataset.cmd;
      var usable = mine && (active || (cmd === "previous" && snap.state === "finished"));
      if (cmd === "pause") { usable = mine && ["opening", "playing"].indexOf(snap.state) >= 0; }
      if (cmd === "resume") { usable = mine && snap.state === "paused"; }
      button.disabled = !usable;
    });
    var volume = $("volume");
    if (volume && !volumeBusy) { volume.value = snap.volume; }
    setText("volume-text", snap.volume + "%");
    var problem = mine && snap.problems && snap.problems.length ? snap.problems[snap.problems.length - 1] : null;
    var message = $("message");
    if (message) {
      message.hidden = !problem;
      if (problem) {
        message.textContent = S.skipped_because + " " + pick(problem.title) + " — " + problemText(problem);
      }
    }
    var list = $("problems");
    if (list) {
      list.textContent = "";
      (mine && snap.problems ? snap.problems.slice(0, -1) : []).forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = (p.index + 1) + ". " + pick(p.title) + " — " + problemText(p);
        list.appendChild(li);
      });
    }
    document.querySelectorAll("#programme li").forEach(function (li) {
      var current = mine && active && Number(li.dataset.index) === snap.index;
      li.classList.toggle("current", current);
      li.classList.toggle("done", mine && snap.index !== null && Number(li.dataset.index) < snap.index);
    });
  }

  function renderProjector(snap) {
    var gameUrl = root.dataset.gameUrl;
    if (snap.item && snap.item.kind === "game" && snap.state === "game" && gameUrl) {
      window.location.assign(gameUrl);
      return;
    }
    var village = snap.village || {};
    setText("village-hi", village.name || "");
    setText("village-en", village.name_en && village.name_en !== village.name ? village.name_en : "");
    var item = snap.item;
    if (item && ACTIVE.indexOf(snap.state) >= 0) {
      setText("kind", S.kinds[item.prefix] || "");
      setText("title-hi", item.title.hi || item.title.en);
      setText("title-en", item.title.en !== item.title.hi ? item.title.en : "");
    } else {
      setText("kind", "");
      setText("title-hi", snap.state === "finished" ? S.states.finished : (village.name || "VanKit"));
      setText("title-en", "");
    }
    show("next-line", !!snap.next && ACTIVE.indexOf(snap.state) >= 0);
    if (snap.next) {
      setText("next-hi", snap.next.title.hi || snap.next.title.en);
      setText("next-en", snap.next.title.en !== snap.next.title.hi ? snap.next.title.en : "");
    }
    root.dataset.state = snap.state;
  }

  function render(snap) {
    if (!snap || !snap.state) { return; }
    last = snap;
    if (page === "projector") { renderProjector(snap); } else { renderPlayer(snap); }
    if (page === "run") {
      var key = [snap.screening, snap.index, snap.state, (snap.problems || []).length].join("|");
      if (key !== playsKey && (snap.screening === screening || playsKey === "")) {
        playsKey = key;
        loadPlays();
      }
    }
  }

  // -- the play log (run page) ----------------------------------------------------------
  var titles = {};
  var titlesNode = document.getElementById("run-titles");
  if (titlesNode) { titles = JSON.parse(titlesNode.textContent); }
  var timeFormat = null;
  try {
    timeFormat = new Intl.DateTimeFormat(lang === "hi" ? "hi-IN" : "en-IN",
      {timeZone: root.dataset.timezone || undefined, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
  } catch (e) { timeFormat = null; }

  function loadPlays() {
    if (!root.dataset.plays) { return; }
    request("GET", root.dataset.plays + "?limit=500").then(function (data) {
      var body = document.querySelector("#plays tbody");
      body.textContent = "";
      data.items.forEach(function (p) {
        var tr = document.createElement("tr");
        tr.className = "outcome-" + p.outcome;
        var started = p.started_at ? new Date(p.started_at) : null;
        var cells = [
          String(p.position + 1),
          pick(titles[p.media_id]) || p.media_id,
          started ? (timeFormat ? timeFormat.format(started) : started.toLocaleTimeString()) : "",
          clock(p.position_ms) + (p.duration_ms ? " / " + clock(p.duration_ms) : ""),
          S.outcomes[p.outcome] || p.outcome,
          playProblem(p.error)
        ];
        cells.forEach(function (text) {
          var td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      show("no-plays", data.items.length === 0);
    }).catch(function () { /* the next change tries again */ });
  }

  // -- polling ------------------------------------------------------------------------
  function online(ok) {
    if (page === "projector") {
      show("offline", !ok);
      setText("offline", ok ? "" : S.offline);
    } else if (!ok) {
      var el = $("form-error");
      if (el) { el.textContent = S.offline; el.hidden = false; }
    } else if ($("form-error") && $("form-error").textContent === S.offline) {
      cleared();
    }
  }

  function poll() {
    request("GET", playerUrl).then(function (snap) { online(true); render(snap); })
      .catch(function () { online(false); })
      .then(function () { window.setTimeout(poll, 500); });
  }

  // -- controls -----------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !root.contains(button)) { return; }
    if (button.dataset.cmd) {
      if (button.dataset.cmd === "stop" && !window.confirm(S.confirm_stop)) { return; }
      command(button.dataset.cmd);
    } else if (button.dataset.volume) {
      var level = Math.max(0, Math.min(100, ((last && last.volume) || 0) + Number(button.dataset.volume)));
      command("volume", {level: level});
    } else if (button.dataset.from !== undefined) {
      command("play", {screening: screening, from: Number(button.dataset.from)});
    } else if (button.id === "start" && button.dataset.notToday && !button.dataset.confirmed) {
      show("confirm-start", true);        // another day's screening: the crew says yes first
      var yes = $("confirm-start-yes");
      if (yes) { yes.focus(); }
    } else if (button.id === "confirm-start-no") {
      show("confirm-start", false);
    } else if (button.id === "confirm-start-yes") {
      show("confirm-start", false);
      $("start").dataset.confirmed = "1";
      $("start").click();
    } else if (button.id === "start" || button.id === "finish") {
      if (button.id === "finish" && !window.confirm(S.confirm_finish)) { return; }
      button.disabled = true;
      cleared();
      request("POST", button.dataset.url, {}).then(function () { window.location.reload(); })
        .catch(function (error) { button.disabled = false; failed(error); });
    }
  });

  var volume = $("volume");
  if (volume) {
    volume.addEventListener("input", function () { volumeBusy = true; setText("volume-text", volume.value + "%"); });
    volume.addEventListener("change", function () {
      command("volume", {level: Number(volume.value)}).then(function () { volumeBusy = false; });
    });
  }

  document.querySelectorAll("form[data-url]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      cleared();
      var body = {};
      new FormData(form).forEach(function (value, name) { body[name] = value; });
      request("POST", form.dataset.url, body).then(function () { window.location.reload(); }).catch(failed);
    });
  });

  poll();
}());
