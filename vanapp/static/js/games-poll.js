/* Shared by the phone page, the projector and the crew control: keep a live game's state
   current by polling with the last version seen (204 = no change, else a delta or the whole
   state), survive dropped requests, and build DOM with textContent only (never innerHTML). */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k === "style") Object.keys(v).forEach(function (s) { node.style.setProperty(s, v[s]); });
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function pick(pair, lang) {
    if (!pair) return "";
    if (typeof pair === "string") return pair;
    return pair[lang] || pair.hi || pair.en || "";
  }

  /* fetch with a deadline: on a hotspot that drops packets a request may never answer. */
  function request(url, options, timeoutMs) {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, timeoutMs || 4000);
    options = options || {};
    options.signal = ctrl.signal;
    options.cache = "no-store";
    options.credentials = "same-origin";
    return fetch(url, options).finally(function () { clearTimeout(timer); });
  }

  function send(url, body, method) {
    return request(url, {
      method: method || "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify(body || {})
    }, 5000).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error((data.error && data.error.message) || r.statusText);
                     e.code = data.error && data.error.code; e.status = r.status; throw e; }
        return data;
      });
    });
  }

  /* Poll `url` every `interval` ms; onState(state, full) after each change, onFail(n) after
     n failures in a row. */
  function poll(url, interval, onState, onFail) {
    var state = null, version = null, failures = 0, stopped = false;
    var api = { offset: 0, stop: function () { stopped = true; }, now: function () { return Date.now() + api.offset; },
                state: function () { return state; }, kick: function () { clearTimeout(timer); tick(); } };
    var timer = null;
    function schedule(ms) { if (!stopped) timer = setTimeout(tick, ms); }
    function tick() {
      var q = url + (url.indexOf("?") < 0 ? "?" : "&") + "v=" + (version === null ? "" : version);
      request(q, {}, 4000).then(function (r) {
        var now = parseInt(r.headers.get("X-Now") || "0", 10);
        if (now) api.offset = now - Date.now();
        if (r.status === 204) return null;
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (body) {
        failures = 0;
        if (body) {
          var full = !body.delta;
          if (full) state = body;
          else if (state) { state.v = body.v; state.state = body.state; state.tally = body.tally; }
          version = body.v;
          if (state) onState(state, full);
        }
        schedule(interval + Math.floor(Math.random() * 100));
      }).catch(function () {
        failures += 1;           // lost on the hotspot: try again soon, then back off a little
        if (onFail) onFail(failures);
        schedule(Math.min(3000, 300 * failures));
      });
    }
    tick();
    return api;
  }

  /* Each choice's mark: the same letter, colour and shape on the projector and every phone
     (the n-th choice of a question is always A, blue, a circle), so that people who do not
     read can still answer "the blue circle". Colours are in games.css (.key-0 ... .key-5). */
  var LETTERS = ["A", "B", "C", "D", "E", "F"];
  var SHAPES = [
    "M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20z",                      // circle
    "M12 2L23 21H1z",                                              // triangle
    "M3 3h18v18H3z",                                               // square
    "M12 1l11 11l-11 11l-11-11z",                                  // diamond
    "M12 1l3.1 7.2l7.9.7l-6 5.2l1.8 7.7L12 17.8l-6.8 4l1.8-7.7l-6-5.2l7.9-.7z",  // star
    "M6.5 2.5h11L23 12l-5.5 9.5h-11L1 12z"                         // hexagon
  ];
  function choiceKey(i, extraClass) {
    var n = i % LETTERS.length;
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "key-shape");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", SHAPES[n]);
    svg.appendChild(path);
    return el("span", {class: "choice-key key-" + n + (extraClass ? " " + extraClass : ""), "data-key": LETTERS[n]},
              [svg, el("span", {class: "key-letter", text: LETTERS[n]})]);
  }

  /* The text colour that reads on a team's colour (a game file may choose yellow): dark ink on a
     light colour, white on a dark one (WCAG relative luminance). */
  function inkOn(colour) {
    var m = /^#([0-9a-f]{6})$/i.exec(colour || "");
    if (!m) return "#fff";
    var rgb = [0, 2, 4].map(function (i) {
      var c = parseInt(m[1].slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var light = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return (light + 0.05) / 0.05 > 1.05 / (light + 0.05) ? "#1d1a24" : "#fff";
  }

  window.VKGames = { el: el, pick: pick, send: send, poll: poll, request: request, choiceKey: choiceKey,
                     inkOn: inkOn };
})();
