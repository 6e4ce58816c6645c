/* Run a screening: the run page, the phone remote and the projector page.
   Polls GET /api/v1/player (the show: the player, the live game, the resume offer, the closing
   screen) twice a second and posts commands with the session's CSRF token. The live game's own
   controls are games-control.js's, in place on the same page.
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
  var MEDIA = ["opening", "playing", "paused"];
  var last = null;          // the last snapshot
  var playsKey = "";        // when this changes, the play log is fetched again
  var volumeBusy = false;   // the crew is dragging the slider: do not move it under their thumb
  var titles = {};          // id -> [hi, en] of every media item and game (run page, remote)
  var titlesNode = document.getElementById("run-titles");
  if (titlesNode) { titles = JSON.parse(titlesNode.textContent); }

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
  function fill(text, vars) {
    Object.keys(vars).forEach(function (k) { text = text.split("{" + k + "}").join(String(vars[k])); });
    return text;
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
    var word = S.problems[p.code] || S.problems.other;
    return lang === "en" && p.error ? word + " (" + p.error + ")" : word;
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
    root.classList.toggle("on-game", !!item && item.kind === "game" && snap.state === "game");
    renderResume(snap);
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

  // -- resume after a power cut (run page, remote) ---------------------------------------
  function renderResume(snap) {
    var card = $("resume-card");
    if (!card) { return; }
    var offer = snap.resume;
    var here = offer && (page !== "run" || offer.screening === screening);
    card.hidden = !here;
    if (!here) { return; }
    var title = pick(titles[offer.ref]) || offer.ref;
    var vars = {n: offer.index + 1, t: clock(offer.ms), title: title};
    setText("resume-text", fill(offer.kind === "game" ? S.resume_game_text : S.resume_text, vars));
    var button = $("resume");
    button.textContent = fill(offer.kind === "game" ? S.resume_game : S.resume_at, vars);
    button.dataset.url = root.dataset.resumeUrl.replace("SCREENING", offer.screening);
  }

  // -- the projector: one page that follows the show ----------------------------------------
  function projectorView(snap) {
    if (snap.closing) { return "closing"; }
    var game = snap.game, onMedia = MEDIA.indexOf(snap.state) >= 0;
    // a game shows while it runs, and its results until something else is on (not those of a
    // game that ended long ago, nor of another screening's)
    var results = game && !onMedia && !game.stale && (!snap.screening || game.screening === snap.screening);
    if (game && (game.state !== "finished" || results)) { return "game"; }
    return onMedia ? "card" : "welcome";
  }
  function both(hiId, enId, pair) {
    pair = pair || {};
    setText(hiId, pair.hi || pair.en || "");
    setText(enId, pair.en && pair.en !== pair.hi ? pair.en : "");
  }

  function renderProjector(snap) {
    var view = projectorView(snap);
    ["welcome", "card", "game", "closing"].forEach(function (name) { show("view-" + name, name === view); });
    root.dataset.view = view;
    root.dataset.state = snap.state;
    var village = snap.village || (snap.closing && snap.closing.village) || {};
    var names = {hi: village.name || "", en: village.name_en || ""};
    both("welcome-hi", "welcome-en", names);
    both("village-hi", "village-en", names);
    var item = snap.item;
    if (view === "card" && item) {
      setText("kind", S.kinds[item.prefix] || "");
      both("title-hi", "title-en", item.title);
      show("next-line", !!snap.next);
      if (snap.next) { both("next-hi", "next-en", snap.next.title); }
    }
    if (view === "closing") {
      var words = JSON.parse($("closing-strings").textContent);
      var c = snap.closing;
      both("thanks-hi", "thanks-en", {hi: fill(words.thanks.hi, {village: c.village.name}),
                                      en: fill(words.thanks.en, {village: c.village.name_en || c.village.name})});
      show("closing-pledges", c.pledges > 0);
      setText("closing-count", String(c.pledges));
      both("pledged-hi", "pledged-en", words.pledged);
      both("pledge-hi", "pledge-en", c.pledge || {});
    }
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
          p.problem ? (S.problems[p.problem] || S.problems.other) : ""
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
      show("offline", !ok);      // a small dot for the crew's eye; no words for the audience
    } else if (!ok) {
      var el = $("form-error");
      if (el) { el.textContent = S.offline; el.hidden = false; }
      setText("state", S.offline);          // where the crew is looking, not only at the bottom
      if ($("state")) { $("state").classList.add("offline"); }
    } else {
      if ($("state")) { $("state").classList.remove("offline"); }
      if ($("form-error") && $("form-error").textContent === S.offline) { cleared(); }
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
    } else if (button.id === "start" || button.id === "finish" || button.id === "resume") {
      if (button.id === "finish" && !window.confirm(S.confirm_finish)) { return; }
      button.disabled = true;
      cleared();
      request("POST", button.dataset.url, {}).then(function (answer) {
        if (button.id === "finish") {        // the night's summary, with its success message
          window.location.assign(answer.summary + "?finished=1");
        } else if (button.id === "start") {
          window.location.reload();
        } else {
          button.disabled = false;
          render(answer);
        }
      }).catch(function (error) { button.disabled = false; failed(error); });
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
