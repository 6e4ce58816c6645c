/* The phone page: join the live game (as itself again after a reload, by cookie or by the
   rejoin token kept in localStorage), answer with big buttons, see "answer received" and
   the reveal. Everything shown is set with textContent. */
(function () {
  "use strict";
  var G = window.VKGames, el = G.el;
  var root = document.getElementById("phone");
  var statusLine = document.getElementById("phone-status");
  var S = JSON.parse(document.getElementById("phone-strings").textContent);
  var lang = root.getAttribute("data-lang") || "hi";
  var urls = {state: root.getAttribute("data-state-url"), me: root.getAttribute("data-me-url"),
              join: root.getAttribute("data-join-url"), vote: root.getAttribute("data-vote-url"),
              buzz: root.getAttribute("data-buzz-url")};
  var me = null, joining = null, pending = {}, rings = {}, note = "", lastKey = "", poller = null, countdown = null;

  function t(key, vars) {
    var s = S[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }
  function P(pair) { return G.pick(pair, lang); }
  function tokenKey(run) { return "vk_rejoin:" + run; }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function say(text) { statusLine.textContent = text || ""; }

  function failed(err) {
    if (err && err.status === 429) say(t("too_many"));
    else if (err && err.code === "closed") say(t("closed"));
    else if (err && err.code === "no_game") { say(""); poller.kick(); }
    else say(t("error"));
  }

  function join(run, extra) {
    var token = load(tokenKey(run));
    var body = extra || {};
    if (token && !me) body.token = token;
    return G.send(urls.join, body).then(function (d) {
      me = d.me;
      if (d.token) store(tokenKey(run), d.token);
      render(true);
    });
  }

  function ensureJoined(state) {
    if (!state.run || state.state === "finished" || state.state === "idle") return;
    if ((me && me.run === state.run) || joining === state.run) return;
    joining = state.run;
    me = null;
    G.request(urls.me, {}, 4000).then(function (r) { return r.json(); }).then(function (d) {
      if (d.me && d.me.run === state.run) { me = d.me; render(true); return null; }
      return join(state.run);
    }).catch(function () { /* try again on the next poll */ }).finally(function () { joining = null; });
  }

  function vote(state, q, choice) {
    pending[q.id] = choice;
    say(t("sending"));
    render(true);
    G.send(urls.vote, {run: state.run, question: q.id, choice: choice}).then(function (d) {
      me.votes[d.question] = d.choice;
      delete pending[q.id];
      say("");
      render(true);
    }).catch(function (err) { delete pending[q.id]; failed(err); render(true); });
  }

  function ring(state, q) {
    rings[q.id] = {sending: true};
    render(true);
    G.send(urls.buzz, {run: state.run, question: q.id}).then(function (d) {
      rings[q.id] = d;
      if (me.rung.indexOf(q.id) < 0) me.rung.push(q.id);
      render(true);
    }).catch(function (err) { delete rings[q.id]; failed(err); render(true); });
  }

  function chooseTeam(state, team) {
    join(state.run, {team: team}).catch(failed);
  }

  function bars(q, tally) {
    var counts = (tally && tally.counts) || {};
    var total = 0;
    Object.keys(counts).forEach(function (c) { total += counts[c].phones + counts[c].hands; });
    return el("ul", {class: "bars small"}, q.choices.map(function (c, i) {
      var n = counts[c.id] ? counts[c.id].phones + counts[c.id].hands : 0;
      var pct = total ? Math.round(100 * n / total) : 0;
      return el("li", {class: "bar" + (q.answer === c.id ? " right" : "")}, [
        el("span", {class: "bar-label"}, [G.choiceKey(i), " " + P(c.text)]),
        el("span", {class: "bar-track"}, [el("span", {class: "bar-fill phones", style: {width: pct + "%"}})]),
        el("span", {class: "bar-num", text: pct + "%"})]);
    }));
  }

  function teamName(state, id) {
    var team = (state.game.teams || []).filter(function (x) { return x.id === id; })[0];
    return team ? P(team.name) : id;
  }

  function view(state) {
    var game = state.game, q = state.q, tally = state.tally || {}, kind = game.kind;
    var parts = [el("p", {class: "phone-game", text: P(game.title)})];
    if (kind === "buzzer" && me && me.team) {
      var team = game.teams.filter(function (x) { return x.id === me.team; })[0];
      parts.push(el("p", {class: "team-chip", style: {background: (team && team.colour) || "#555",
                                                      color: G.inkOn((team && team.colour) || "#555")}},
                    [t("your_team") + " " + teamName(state, me.team)]));
    }
    if (state.state === "finished") {
      parts.push(el("h1", {class: "finished", text: t("finished")}));
      var summary = state.summary || {};
      if (kind === "quiz") parts.push(el("p", {class: "score", text: t("right_pct", {p: summary.right_pct || 0})}));
      if (kind === "pledge") parts.push(el("p", {class: "pledge-count", text: (summary.pledges || 0) + " " + t("pledges")}));
      if (kind === "buzzer") parts.push(el("ul", {class: "scores"}, game.teams.map(function (x) {
        return el("li", {text: P(x.name) + ": " + ((summary.scores || {})[x.id] || 0)});
      })));
      return parts;
    }
    if (!me) { parts.push(el("p", {class: "phone-wait", text: t("waiting")})); return parts; }
    if (kind === "buzzer" && !me.team) {
      parts.push(el("h1", {text: t("choose_team")}));
      parts.push(el("div", {class: "choices"}, game.teams.map(function (x) {
        return el("button", {class: "choice team", type: "button",
                              style: {background: x.colour || "#555", color: G.inkOn(x.colour || "#555")},
                              "data-team": x.id, onclick: function () { chooseTeam(state, x.id); }}, [P(x.name)]);
      })));
      return parts;
    }
    if (state.state === "lobby" || !q) {
      if (game.intro) parts.push(el("p", {class: "lead", text: P(game.intro)}));
      parts.push(el("p", {class: "phone-wait", text: t("joined")}));
      return parts;
    }
    if (kind !== "pledge") parts.push(el("p", {class: "eyebrow", text: t("question_of", {n: q.index + 1, m: game.count})}));
    parts.push(el("h1", {class: "phone-q", text: P(q.text)}));
    var open = state.state === "question_open";
    if (open && q.deadline) parts.push(el("p", {class: "countdown", id: "countdown"}));
    var mine = pending[q.id] || (me.votes || {})[q.id];
    if (kind === "pledge") {
      var done = !!(me.votes || {})[q.id];
      var n = tally.counts && tally.counts.pledge ? tally.counts.pledge.phones + tally.counts.pledge.hands : 0;
      parts.push(el("p", {class: "pledge-count", text: n + " " + t("pledges")}));
      if (done) parts.push(el("p", {class: "received", text: t("pledged")}));
      else if (open) parts.push(el("button", {class: "choice pledge-button", type: "button", "data-choice": "pledge",
                                              onclick: function () { vote(state, q, "pledge"); }}, [t("pledge")]));
      else parts.push(el("p", {class: "phone-wait", text: t("closed")}));
      return parts;
    }
    if (kind === "buzzer") {
      var rang = rings[q.id] || ((me.rung || []).indexOf(q.id) >= 0 ? {} : null);
      if (open && !rang) {
        parts.push(el("button", {class: "bell-button", type: "button", "data-ring": "1",
                                 onclick: function () { ring(state, q); }}, [t("ring")]));
      } else if (rang && rang.rank) {
        parts.push(el("p", {class: "received", text: rang.first ? t("rang_first") : t("rang", {n: rang.rank})}));
      } else if (rang) {
        parts.push(el("p", {class: "received", text: t("wait_team")}));
      } else {
        parts.push(el("p", {class: "phone-wait", text: t("closed")}));
      }
      if (state.state === "revealed") parts.push(reveal(state, q, null));
      return parts;
    }
    parts.push(el("div", {class: "choices"}, q.choices.map(function (c, i) {
      var chosen = mine === c.id;
      var cls = "choice" + (chosen ? " chosen" : "") +
        (state.state === "revealed" && q.answer === c.id ? " right" : "");
      // the same mark as on the big screen: "press the blue circle" works without reading
      return el("button", {class: cls, type: "button", "data-choice": c.id, "aria-pressed": chosen ? "true" : "false",
                           disabled: !open, onclick: function () { vote(state, q, c.id); }},
                [G.choiceKey(i), el("span", {class: "choice-text", text: P(c.text)})]);
    })));
    if (open && (me.votes || {})[q.id] && !pending[q.id]) parts.push(el("p", {class: "received", text: t("received")}));
    if (state.state === "question_closed") parts.push(el("p", {class: "phone-wait", text: mine ? t("closed") : t("no_answer")}));
    if (state.state === "revealed") parts.push(reveal(state, q, mine));
    return parts;
  }

  function reveal(state, q, mine) {
    var box = el("div", {class: "reveal"});
    if (q.answer && state.game.kind === "quiz") {
      box.appendChild(el("p", {class: "verdict " + (mine === q.answer ? "ok" : "bad"),
                               text: mine ? (mine === q.answer ? t("right") : t("wrong")) : t("no_answer")}));
    }
    if (q.answer) {
      var at = q.choices.map(function (c) { return c.id; }).indexOf(q.answer);
      box.appendChild(el("p", {class: "answer"}, [t("the_answer") + " ", at >= 0 ? G.choiceKey(at) : null,
                                                  " " + P(at >= 0 ? q.choices[at].text : null)]));
    }
    if (q.explanation) box.appendChild(el("p", {class: "explanation", text: P(q.explanation)}));
    if (state.game.kind !== "buzzer") box.appendChild(bars(q, state.tally));
    return box;
  }

  function render(force) {
    var state = poller && poller.state();
    if (!state) return;
    var key = JSON.stringify([state.state, state.run, state.q && state.q.id, me, pending, rings,
                              state.state === "revealed" || (state.game && state.game.kind === "pledge") ? state.tally : null,
                              state.summary || null]);
    if (!force && key === lastKey) return;
    lastKey = key;
    root.replaceChildren.apply(root, state.state === "idle" || !state.game
      ? [el("p", {class: "phone-wait", text: t("waiting")})] : view(state));
    tickCountdown();
  }

  function tickCountdown() {
    var node = document.getElementById("countdown");
    var state = poller && poller.state();
    if (!node || !state || !state.q || !state.q.deadline) return;
    var left = Math.max(0, Math.ceil((state.q.deadline - poller.now()) / 1000));
    node.textContent = t("seconds", {n: left});
  }

  poller = G.poll(urls.state, 500, function (state) {
    if (state.run && me && me.run !== state.run) { me = null; pending = {}; rings = {}; }
    say("");
    ensureJoined(state);
    render(false);
  }, function (failures) { if (failures >= 2) say(t("offline")); });
  countdown = setInterval(tickCountdown, 250);
})();
