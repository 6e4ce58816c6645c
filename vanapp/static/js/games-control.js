/* The crew's control of the live game: state, joined and online phones, the open/close/
   reveal/next/finish buttons, show-of-hands counts per choice, buzzer judging and scores.
   The same panel sits on the Games page, Run and the phone Remote; with data-hide-idle its
   section ([data-game-panel]) hides unless a game runs (the programme has moved on from a
   finished one). */
(function () {
  "use strict";
  var G = window.VKGames, el = G.el;
  var root = document.getElementById("control");
  if (!root) return;
  var S = JSON.parse(document.getElementById("control-strings").textContent);
  var lang = root.getAttribute("data-lang") || "hi";
  var liveUrl = root.getAttribute("data-live-url");
  var actionUrl = root.getAttribute("data-action-url");
  var handsUrl = root.getAttribute("data-hands-url");
  var resultsUrl = root.getAttribute("data-results-url");
  var state = null, handsFor = null, busy = false, message = "", offset = 0, lastJson = "";
  var panel = root.getAttribute("data-hide-idle") ? root.closest("[data-game-panel]") : null;

  function t(key, vars) {
    var s = S[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }
  function P(pair) { return G.pick(pair, lang); }

  function act(action, body) {
    if (busy) return;
    busy = true;
    message = "";
    G.send(actionUrl.replace("ACTION", action), body || {}).then(function (s) { state = s; })
      .catch(function (err) { message = t("error") + " " + err.message; })
      .finally(function () { busy = false; render(); });
  }

  function saveHands(form, qid) {
    var counts = {};
    form.querySelectorAll("input[data-choice]").forEach(function (input) {
      counts[input.getAttribute("data-choice")] = parseInt(input.value || "0", 10) || 0;
    });
    G.send(handsUrl, {question: qid, counts: counts}, "PUT").then(function (s) {
      state = s; message = t("saved");
    }).catch(function (err) { message = t("error") + " " + err.message; }).finally(render);
  }

  function button(label, action, cls, body) {
    return el("button", {type: "button", class: cls || "", "data-action": action, disabled: busy,
                         onclick: function () {
                           if (action === "finish" && !window.confirm(t("finish_confirm"))) return;
                           act(action, body);
                         }}, [label]);
  }

  function handsForm(q, counts, hands) {
    var form = el("form", {class: "hands-form", "data-question": q.id, onsubmit: function (e) { e.preventDefault(); saveHands(form, q.id); }});
    var rows = q.choices.map(function (c) {
      var x = counts[c.id] || {phones: 0, hands: 0};
      return el("tr", {"data-choice": c.id}, [
        el("td", {}, [P(c.text), q.answer === c.id ? el("span", {class: "badge ok", text: t("right")}) : null]),
        // each number keeps its column's name when the table turns into cards on a phone
        el("td", {class: "num phones-count", "data-label": t("phones"), text: String(x.phones)}),
        el("td", {"data-label": t("hands")}, [el("input", {type: "number", min: "0", max: "100000", inputmode: "numeric", class: "hands-input",
                                    "data-choice": c.id, "aria-label": t("hands") + ": " + P(c.text),
                                    value: String((hands || {})[c.id] || 0),
                                    oninput: function (e) { e.target.setAttribute("data-dirty", "1"); }})]),
        el("td", {class: "num total-count", "data-label": t("total"), text: String(x.phones + x.hands)})]);
    });
    form.appendChild(el("table", {class: "table hands"}, [
      el("thead", {}, [el("tr", {}, [el("th", {text: t("choice")}), el("th", {text: t("phones")}),
                                     el("th", {text: t("hands")}), el("th", {text: t("total")})])]),
      el("tbody", {}, rows)]));
    form.appendChild(el("button", {type: "submit", class: "primary", "data-action": "hands"}, [t("save_hands")]));
    return form;
  }

  function updateCounts(form, counts) {   // refresh phone counts without touching what the crew is typing
    Object.keys(counts).forEach(function (c) {
      var row = form.querySelector('tr[data-choice="' + CSS.escape(c) + '"]');
      if (!row) return;
      row.querySelector(".phones-count").textContent = String(counts[c].phones);
      row.querySelector(".total-count").textContent = String(counts[c].phones + counts[c].hands);
    });
  }

  function buzzerPanel(s) {
    var tally = s.tally || {}, game = s.game;
    var name = function (id) { var x = game.teams.filter(function (y) { return y.id === id; })[0]; return x ? P(x.name) : id; };
    var parts = [];
    parts.push(el("p", {text: (tally.queue || []).length ? t("queue") + " " + tally.queue.map(name).join(" → ") : t("none_rang")}));
    if (tally.turn) {
      parts.push(el("p", {class: "lead"}, [t("turn") + " ", el("strong", {text: name(tally.turn)})]));
      parts.push(el("p", {class: "actions"}, [button(t("correct"), "judge", "primary", {correct: true}),
                                             button(t("wrong"), "judge", "danger", {correct: false})]));
    }
    parts.push(el("ul", {class: "teams small"}, game.teams.map(function (x) {
      return el("li", {class: "team", style: {"--team": x.colour || "#555", color: G.inkOn(x.colour || "#555")},
                       "data-team": x.id}, [
        el("span", {class: "team-name", text: name(x.id) + " (" + ((s.team_players || {})[x.id] || 0) + ")"}),
        el("span", {class: "team-score", text: String((tally.scores || {})[x.id] || 0)}),
        button("−1", "score", "", {team: x.id, delta: -1}), button("+1", "score", "", {team: x.id, delta: 1})]);
    })));
    return parts;
  }

  function render() {
    var s = state;
    if (panel) panel.hidden = !s || s.state === "idle" || s.state === "finished";
    if (!s || s.state === "idle") { root.replaceChildren(el("p", {class: "muted", text: t("idle")})); handsFor = null; return; }
    var existing = root.querySelector(".hands-form");
    var q = s.q, game = s.game, tally = s.tally || {};
    var key = s.run + "|" + (q ? q.id : "") + "|" + s.state;
    if (existing && handsFor === key && document.activeElement && existing.contains(document.activeElement)) {
      updateCounts(existing, tally.counts || {});
      return;                 // the crew is typing a count: do not redraw under their fingers
    }
    var typed = {};            // counts typed but not saved yet survive a redraw of the same question
    if (existing && handsFor === key) existing.querySelectorAll("input[data-dirty]").forEach(function (i) {
      typed[i.getAttribute("data-choice")] = i.value;
    });
    var parts = [];
    parts.push(el("p", {class: "live-title"}, [el("strong", {text: P(game.title)}),
      s.phase ? el("span", {class: "badge", text: t("phase_" + s.phase)}) : null,
      el("span", {class: "badge state-badge", "data-state": s.state, text: (S.states || {})[s.state] || s.state})]));
    parts.push(el("p", {class: "phone-count"}, [el("strong", {id: "joined-count", text: String(tally.joined || 0)}), " " + t("joined") + " · ",
      el("strong", {id: "online-count", text: String(s.online || 0)}), " " + t("online")]));
    if (q) {
      if (game.kind !== "pledge") parts.push(el("p", {class: "eyebrow", text: t("question_of", {n: q.index + 1, m: game.count})}));
      parts.push(el("p", {class: "lead", text: P(q.text)}));
      if (s.state === "question_open" && q.deadline) {
        parts.push(el("p", {class: "countdown", id: "control-countdown"}));
      }
    }
    var buttons = [];
    if (s.state === "lobby") buttons.push(button(game.kind === "pledge" ? t("open_pledge") : t("next_first"), "next", "primary big"));
    if (s.state === "question_open") buttons.push(button(t("close"), "close", "primary big"));
    if (s.state === "question_closed" && game.kind !== "pledge") buttons.push(button(game.kind === "poll" ? t("show_split") : t("reveal"), "reveal", "primary big"));
    var last = q && q.index + 1 >= game.count;
    if ((s.state === "question_closed" || s.state === "revealed") && game.kind !== "pledge") buttons.push(button(last ? t("end_game") : t("next"), "next", s.state === "revealed" ? "primary big" : "big"));
    if (s.state === "question_closed" && game.kind === "pledge") buttons.push(button(t("end_game"), "next", "primary big"));
    if (s.state !== "finished") buttons.push(button(t("finish"), "finish", "danger"));
    if (s.state === "finished") buttons.push(el("a", {class: "button primary", href: resultsUrl.replace("RUN", s.run), text: t("results")}));
    parts.push(el("p", {class: "actions"}, buttons));
    if (q && game.kind === "buzzer") parts = parts.concat(buzzerPanel(s));
    else if (q) parts.push(handsForm(q, tally.counts || {}, (s.hands || {})[q.id]));
    if (message) parts.push(el("p", {class: "flash", role: "status", text: message}));
    root.replaceChildren.apply(root, parts);
    var countdown = document.getElementById("control-countdown");
    if (countdown) countdown.textContent = t("timer", {n: Math.max(0, Math.ceil((q.deadline - Date.now() - offset) / 1000))});
    Object.keys(typed).forEach(function (c) {
      var input = root.querySelector('input[data-choice="' + CSS.escape(c) + '"]');
      if (input) { input.value = typed[c]; input.setAttribute("data-dirty", "1"); }
    });
    handsFor = key;
  }

  function refresh() {
    G.request(liveUrl, {}, 4000).then(function (r) {
      var now = parseInt(r.headers.get("X-Now") || "0", 10);
      if (now) offset = now - Date.now();
      return r.ok ? r.json() : null;
    }).then(function (s) {
      var json = JSON.stringify(s);
      if (s && !busy && json !== lastJson) { lastJson = json; state = s; render(); }
    }).catch(function () {}).finally(function () { setTimeout(refresh, 500); });
  }
  setInterval(function () {
    var node = document.getElementById("control-countdown");
    if (node && state && state.q && state.q.deadline) {
      node.textContent = t("timer", {n: Math.max(0, Math.ceil((state.q.deadline - Date.now() - offset) / 1000))});
    }
  }, 250);
  refresh();
})();
