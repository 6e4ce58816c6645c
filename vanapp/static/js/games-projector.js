/* The projector: the live game in big text — join QR, question, live bars (phones and hands
   shown apart), the reveal with its explanation, buzzer scores, the pledge counter, and at
   the end the results (and, after a film, how the split moved). textContent only. It is the
   game part of the projector page; run.js shows it while the show is on a game. */
(function () {
  "use strict";
  var G = window.VKGames, el = G.el;
  var box = document.getElementById("projector");
  var stage = document.getElementById("stage");
  var joinbox = document.getElementById("joinbox");
  var joined = document.getElementById("joined");
  var S = JSON.parse(document.getElementById("projector-strings").textContent);
  var lang = box.getAttribute("data-lang") || "hi";
  var other = lang === "hi" ? "en" : "hi";
  var poller = null, lastKey = "";

  function t(key, vars) {
    var s = S[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }
  function P(pair) { return G.pick(pair, lang); }
  // The crowd's language big; on an English screen the Hindi small under it (a Hindi screen is
  // for a crowd that reads Hindi: no English on it).
  function both(tag, cls, pair) {
    var second = lang !== "hi" && pair && pair[other] && pair[other] !== pair[lang] ? el("span", {class: "second", lang: other, text: pair[other]}) : null;
    return el(tag, {class: cls}, [el("span", {class: "first", lang: lang, text: P(pair)}), second]);
  }

  function bars(q, tally) {
    var counts = (tally && tally.counts) || {};
    var total = 0, max = 0;
    q.choices.forEach(function (c) {
      var x = counts[c.id] || {phones: 0, hands: 0};
      total += x.phones + x.hands;
      max = Math.max(max, x.phones + x.hands);
    });
    var list = el("ul", {class: "bars"}, q.choices.map(function (c, i) {
      var x = counts[c.id] || {phones: 0, hands: 0};
      var n = x.phones + x.hands;
      var scale = max ? 100 / max : 0;
      return el("li", {class: "bar" + (q.answer === c.id ? " right" : "") + (q.answer && q.answer !== c.id ? " dim" : ""),
                       "data-choice": c.id}, [
        G.choiceKey(i, "bar-key"),
        el("span", {class: "bar-label"}, [both("span", "", c.text)]),
        el("span", {class: "bar-track"}, [
          el("span", {class: "bar-fill phones", style: {width: (x.phones * scale) + "%"}}),
          el("span", {class: "bar-fill hands", style: {width: (x.hands * scale) + "%"}})]),
        el("span", {class: "bar-num", text: n + (total ? " · " + Math.round(100 * n / total) + "%" : "")})]);
    }));
    var legend = el("p", {class: "legend"}, [
      el("span", {class: "key phones"}), " " + t("phones") + "  ",
      el("span", {class: "key hands"}), " " + t("hands") + "  · " + total + " " + t("answers")]);
    return [list, legend];
  }

  /* While a question is open the crowd sees the choices and how many have answered, not the
     split: the answers show when it closes (a poll whose file says live_results: true shows
     its bars all along). */
  function choicesOnly(q, tally) {
    var counts = (tally && tally.counts) || {}, total = 0;
    Object.keys(counts).forEach(function (c) { total += counts[c].phones + counts[c].hands; });
    return [el("ul", {class: "choice-list"}, q.choices.map(function (c, i) {
      return el("li", {class: "choice-line", "data-choice": c.id}, [G.choiceKey(i), both("span", "choice-text", c.text)]);
    })), el("p", {class: "answer-count", id: "answer-count", text: total + " " + t("answers")})];
  }

  function teamOf(game, id) { return (game.teams || []).filter(function (x) { return x.id === id; })[0] || {id: id, name: {hi: id, en: id}}; }

  function buzzer(state) {
    var game = state.game, tally = state.tally || {};
    var scores = tally.scores || (state.summary && state.summary.scores) || {};
    var queue = tally.queue || [];
    var cards = el("ul", {class: "teams"}, game.teams.map(function (x) {
      var pos = queue.indexOf(x.id);
      return el("li", {class: "team" + (tally.turn === x.id ? " turn" : ""),
                       style: {"--team": x.colour || "#555", color: G.inkOn(x.colour || "#555")},
                       "data-team": x.id}, [
        el("span", {class: "team-name", text: P(x.name)}),
        el("span", {class: "team-score", text: String(scores[x.id] || 0)}),
        el("span", {class: "team-rank", text: pos >= 0 ? "#" + (pos + 1) : ""})]);
    }));
    var parts = [cards];
    if (tally.turn) parts.push(el("p", {class: "turn-line", text: t("turn") + " " + P(teamOf(game, tally.turn).name)}));
    (tally.judged || []).forEach(function (j) {
      parts.push(el("p", {class: "judged " + (j[1] ? "ok" : "bad"), text: P(teamOf(game, j[0]).name) + ": " + (j[1] ? t("correct") : t("wrong"))}));
    });
    return parts;
  }

  function summary(state) {
    var s = state.summary || {}, game = state.game, parts = [el("h1", {class: "big", text: t("finished")})];
    if (game.kind === "pledge") {
      parts.push(el("p", {class: "counter", text: String(s.pledges || 0)}), el("p", {class: "lead", text: t("pledges")}));
    } else if (game.kind === "buzzer") {
      parts = parts.concat(buzzer(state));
    } else if (s.before_after) {
      parts.push(el("h2", {text: t("moved")}));
      s.before_after.questions.forEach(function (q) {
        parts.push(both("p", "q-small", q.text));
        parts.push(el("ul", {class: "moved"}, q.choices.map(function (c, i) {
          return el("li", {"data-choice": c.id}, [
            el("span", {class: "bar-label"}, [G.choiceKey(i), " " + P(c.text)]),
            el("span", {class: "pair"}, [
              el("span", {class: "bar-track thin"}, [el("span", {class: "bar-fill before", style: {width: c.before + "%"}})]),
              el("span", {class: "bar-num", text: t("before") + " " + c.before + "%"})]),
            el("span", {class: "pair"}, [
              el("span", {class: "bar-track thin"}, [el("span", {class: "bar-fill after", style: {width: c.after + "%"}})]),
              el("span", {class: "bar-num", text: t("after") + " " + c.after + "%"})])]);
        })));
      });
    } else {
      (s.questions || []).forEach(function (q) {
        var line = P(q.text) + (game.kind === "quiz" ? " — " + t("right_pct", {p: q.right_pct || 0}) : "");
        parts.push(el("p", {class: "q-small", text: line}));
        if (game.kind === "poll") parts.push(el("ul", {class: "bars small"}, q.choices.map(function (c, i) {
          return el("li", {class: "bar"}, [el("span", {class: "bar-label"}, [G.choiceKey(i), " " + P(c.text)]),
            el("span", {class: "bar-track"}, [el("span", {class: "bar-fill phones", style: {width: c.pct + "%"}})]),
            el("span", {class: "bar-num", text: c.pct + "%"})]);
        })));
      });
      // the crowd's score: the biggest thing on the screen
      if (game.kind === "quiz") parts.splice(1, 0, el("p", {class: "score", id: "quiz-score", text: t("right_pct", {p: s.right_pct || 0})}));
    }
    return parts;
  }

  function view(state) {
    var game = state.game, q = state.q, tally = state.tally || {};
    var parts = [both("p", "game-title", game.title)];
    if (state.state === "finished") return parts.concat(summary(state));
    if (state.state === "lobby" || !q) {
      if (game.intro) parts.push(both("p", "intro", game.intro));
      if (game.kind === "pledge") parts.push(both("p", "pledge-text", game.pledge));
      if (game.kind === "buzzer") parts = parts.concat(buzzer(state));
      parts.push(el("p", {class: "join-call", text: t("join")}));
      return parts;
    }
    if (game.kind === "pledge") {
      var c = tally.counts && tally.counts.pledge ? tally.counts.pledge : {phones: 0, hands: 0};
      var n = c.phones + c.hands;
      parts.push(both("p", "pledge-text", game.pledge));
      parts.push(el("p", {class: "counter", id: "pledge-counter", text: String(n)}));
      parts.push(el("p", {class: "lead", text: t("pledges") + " (" + c.phones + " " + t("phones") + ", " + c.hands + " " + t("hands") + ")"}));
      if (game.target) parts.push(el("div", {class: "goal"}, [
        el("span", {class: "bar-track"}, [el("span", {class: "bar-fill phones", style: {width: Math.min(100, 100 * n / game.target) + "%"}})]),
        el("span", {class: "bar-num", text: t("target", {n: game.target})})]));
      if (state.state !== "question_open") parts.push(el("p", {class: "closed-line", text: t("closed")}));
      return parts;
    }
    parts.push(el("p", {class: "eyebrow big", text: t("question_of", {n: q.index + 1, m: game.count})}));
    parts.push(both("h1", "question", q.text));
    if (state.state === "question_open" && q.deadline) parts.push(el("p", {class: "countdown", id: "countdown"}));
    if (state.state === "question_closed") parts.push(el("p", {class: "closed-line", text: t("closed")}));
    if (game.kind === "buzzer") {
      if (state.state === "question_open") parts.push(el("p", {class: "ring-call", text: t("ring_now")}));
      parts = parts.concat(buzzer(state));
      if (state.state === "revealed" && q.answer) {
        var right = q.choices.filter(function (x) { return x.id === q.answer; })[0];
        parts.push(el("p", {class: "answer", text: t("the_answer") + " " + P(right && right.text)}));
      }
    } else if (state.state === "question_open" && !(game.kind === "poll" && game.live_results)) {
      parts = parts.concat(choicesOnly(q, tally));
    } else {
      parts = parts.concat(bars(q, tally));
    }
    if (state.state === "revealed" && q.explanation) parts.push(both("p", "explanation", q.explanation));
    return parts;
  }

  function render(state) {
    joined.textContent = String((state.tally && state.tally.joined) || 0);
    var key = JSON.stringify([state.v]);
    if (key === lastKey) return;
    lastKey = key;
    box.className = "state-" + state.state + (state.game ? " kind-" + state.game.kind : "");
    stage.replaceChildren.apply(stage, state.state === "idle" || !state.game
      ? [el("p", {class: "stage-wait", text: t("waiting")})] : view(state));
    tick();
  }

  function tick() {
    var node = document.getElementById("countdown");
    var state = poller && poller.state();
    if (!node || !state || !state.q || !state.q.deadline) return;
    node.textContent = t("seconds", {n: Math.max(0, Math.ceil((state.q.deadline - poller.now()) / 1000))});
  }

  poller = G.poll(box.getAttribute("data-state-url"), 500, function (state) {
    joinbox.classList.remove("offline");
    render(state);
  }, function (n) { if (n >= 2) joinbox.classList.add("offline"); });
  setInterval(tick, 250);
})();
