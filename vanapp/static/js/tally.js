/* The tally page: one thumb, a flaky hotspot, no lost or doubled taps.
 *
 * Every tap gets its own UUID and is kept in localStorage (it survives a reload or a closed tab)
 * before anything is sent. Queued taps are sent in order, one request at a time, and retried
 * with backoff. The tap's id is sent with it and the server stores an id once, so a retry after a
 * lost answer, or a second tab sending the same queued tap, cannot count twice. A tap leaves the
 * queue only when the server has answered 200/201, which it does after its commit.
 *
 * Several tabs of one phone share the queue. localStorage has no locks and another tab may read
 * a stale copy, so nothing is ever read, changed and written back: each queued item is its own
 * key, added once and removed once (a shared array could lose a tap or bring a sent one back).
 *
 * The number on a button is the newest server count this page knows plus this phone's queued
 * taps that the server has not yet acknowledged. Every server answer carries "taps", how many
 * taps the screening had stored: it only grows, so an older answer never replaces a newer one,
 * and a tap acknowledged at "taps" = n is in every count read at n or later, so it is not added
 * again. Tabs share their newest answer and acknowledgements through localStorage too.
 */
(function () {
  'use strict';

  var cfg = JSON.parse(document.getElementById('tally-config').textContent);
  var S = cfg.strings;
  var ITEM_PREFIX = 'vk_tally_tap_v2:';                     // one key per queued tap or headcount
  var OLD_QUEUE_KEY = 'vk_tally_queue_v1';                  // the single-array queue of before
  var SERVER_KEY = 'vk_tally_server_v2:' + cfg.screening;   // the newest answer any tab has had
  var POLL_MS = 1500;
  var MAX_BACKOFF_MS = 8000;
  var REQUEST_TIMEOUT_MS = 8000;
  var ORPHAN_MS = 4000;       // a queued item this old is sent by any tab (the tab that made it may be closed)
  var ACKED_KEEP = 500;

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var clock = 0;                          // this tab's own order of requests sent and answers heard
  // The newest server state this page knows: counts read when `taps` taps were stored.
  var server = {taps: tapsOf(cfg.state), counts: cfg.state.counts, heard: clock};
  var acked = {};                         // tap id -> smallest "taps" of an answer known to include it
  var ackedOrder = [];
  var tried = {};                         // ids this tab has sent without hearing an answer
  var inflight = false;                   // one request at a time keeps the server's order = tap order
  var backoff = 0;
  var retryTimer = null;
  var savedOnce = {};
  var statusText = '';
  var statusClass = '';
  var madeHere = 0;

  function tapsOf(data) {
    var n = data ? data.taps : null;
    return typeof n === 'number' && isFinite(n) ? n : -1;
  }

  function uuid() {
    // randomUUID exists only in secure contexts (https, localhost); phones reach the van over
    // plain http on the hotspot, where getRandomValues still works.
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === 'function') { return c.randomUUID(); }
    var b = new Uint8Array(16);
    if (c && typeof c.getRandomValues === 'function') { c.getRandomValues(b); }
    else { for (var i = 0; i < 16; i++) { b[i] = Math.floor(Math.random() * 256) ^ (Date.now() >> (i % 4) * 8 & 255); } }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = '';
    for (var j = 0; j < 16; j++) { h += (b[j] + 0x100).toString(16).slice(1); }
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function device() {
    var d = null;
    try { d = localStorage.getItem('vk_device'); } catch (e) { /* private mode */ }
    if (!d) { d = uuid(); try { localStorage.setItem('vk_device', d); } catch (e) { /* kept for this page */ } }
    return d;
  }
  var DEVICE = device();

  function parse(text) { try { return JSON.parse(text); } catch (e) { return null; } }

  // --- the queue: one localStorage key per item -----------------------------------------------
  var memory = {};                        // items localStorage would not take (private mode, full)
  function put(item) {
    try { localStorage.setItem(ITEM_PREFIX + item.id, JSON.stringify(item)); delete memory[item.id]; }
    catch (e) { memory[item.id] = item; return false; }
    return true;
  }
  function dequeue(id) {
    delete memory[id];
    delete tried[id];
    try { localStorage.removeItem(ITEM_PREFIX + id); } catch (e) { /* memory only */ }
  }
  function loadQueue() {
    var items = [], seen = {};
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var k = localStorage.key(i);
        if (k && k.indexOf(ITEM_PREFIX) === 0) {
          var x = parse(localStorage.getItem(k));
          if (x && x.id && x.body && !seen[x.id]) { items.push(x); seen[x.id] = true; }
        }
      }
    } catch (e) { /* memory only */ }
    Object.keys(memory).forEach(function (id) { if (!seen[id]) { items.push(memory[id]); } });
    items.sort(function (p, q) {
      return (p.t - q.t) || (p.n - q.n) || (p.id < q.id ? -1 : (p.id > q.id ? 1 : 0));
    });
    return items;
  }
  function enqueue(item) {
    var q = loadQueue();
    // after every item already queued, even if this phone's clock was set back meanwhile
    item.t = Math.max(Date.now(), q.length ? q[q.length - 1].t : 0);
    item.n = ++madeHere;
    put(item);
  }
  // A page of an earlier version kept the queue as one array: its taps move to their own keys
  // (the oldest first) and are then sent like any other; a copy sent twice is stored once.
  function migrateOldQueue() {
    var old = null;
    try { old = parse(localStorage.getItem(OLD_QUEUE_KEY)); } catch (e) { return; }
    if (!Array.isArray(old)) { return; }
    var all = true;
    old.forEach(function (x, i) {
      if (x && x.id && x.body && x.url) {
        all = put({id: x.id, url: x.url, screening: x.screening, body: x.body, t: 0, n: i}) && all;
      }
    });
    if (all) { try { localStorage.removeItem(OLD_QUEUE_KEY); } catch (e) { /* tried */ } }
  }

  // --- what the server has said ---------------------------------------------------------------
  function ack(id, taps) {
    if (!(id in acked)) {
      ackedOrder.push(id);
      if (ackedOrder.length > ACKED_KEEP) { delete acked[ackedOrder.shift()]; }
    } else if (acked[id] <= taps) { return; }
    acked[id] = taps;
  }
  function included(id) { return (id in acked) && acked[id] <= server.taps; }

  // One answer about this screening, to a request this tab sent at `sentAt` (0: another tab's).
  // Fewer taps than we know means a late answer, older than ours: it is ignored, unless it was
  // asked after ours was heard, when the server's taps really went back (its data was rebuilt) and
  // what it acknowledged before proves nothing now.
  function learn(taps, counts, sentAt) {
    if (!counts) { return; }
    if (taps < server.taps) {
      if (!(sentAt > server.heard)) { return; }
      acked = {}; ackedOrder = [];
    }
    server = {taps: taps, counts: counts, heard: ++clock};
  }

  // Tell the other tabs (their 'storage' event) the newest answer and which queued taps it holds.
  function share(q) {
    var mine = {};
    q.forEach(function (x) { if (x.id in acked) { mine[x.id] = acked[x.id]; } });
    try { localStorage.setItem(SERVER_KEY, JSON.stringify({taps: server.taps, counts: server.counts, acked: mine})); }
    catch (e) { /* this tab still knows */ }
  }
  function fromOtherTab(text) {
    var d = parse(text);
    if (!d || typeof d !== 'object') { return; }
    var q = loadQueue();
    Object.keys(d.acked || {}).forEach(function (id) {
      if (typeof d.acked[id] === 'number') { ack(id, d.acked[id]); }
      q.forEach(function (x) { if (x.id === id && x.body.category) { savedOnce[x.body.category] = true; } });
    });
    learn(tapsOf(d), d.counts, 0);
  }

  function pendingFor(category, q) {
    var n = 0, count = 0;
    q.forEach(function (x) {
      if (x.screening === cfg.screening && x.body.category === category && !included(x.id)) {
        n += x.body.delta; count += 1;
      }
    });
    return {delta: n, taps: count};
  }

  function shown(category, q) {
    return (server.counts[category] || 0) + pendingFor(category, q || loadQueue()).delta;
  }

  function render() {
    var total = 0, q = loadQueue();
    Object.keys(server.counts).forEach(function (c) { total += shown(c, q); });
    document.querySelectorAll('[data-count-for]').forEach(function (el) {
      var c = el.getAttribute('data-count-for');
      var p = pendingFor(c, q);
      el.textContent = String(shown(c, q));
      var state = document.querySelector('[data-state-for="' + c + '"]');
      var cell = el.closest('.tally-cell');
      if (p.taps > 0) {
        state.textContent = S.pending.replace('%(n)s', String(p.taps));
        cell.classList.add('is-pending'); cell.classList.remove('is-saved');
      } else {
        state.textContent = savedOnce[c] ? '✓ ' + S.saved : '\u00a0';
        cell.classList.remove('is-pending'); cell.classList.toggle('is-saved', !!savedOnce[c]);
      }
    });
    document.getElementById('tally-total').textContent = String(total);
    var status = document.getElementById('tally-status');
    status.textContent = statusText;
    status.className = 'tally-status ' + statusClass;
  }

  function setStatus(text, cls) { statusText = text; statusClass = cls || ''; render(); }

  function schedule(ms) {
    if (retryTimer) { clearTimeout(retryTimer); }
    retryTimer = setTimeout(function () { retryTimer = null; pump(); }, ms);
  }

  function failed(message, cls) {
    backoff = backoff ? Math.min(backoff * 2, MAX_BACKOFF_MS) : 1000;
    setStatus(message, cls || 'offline');
    schedule(backoff + Math.floor(Math.random() * 300));
  }

  function refreshToken() {
    // After a new login elsewhere the token in this page is stale: take the one a fresh page has.
    return fetch(window.location.pathname, {credentials: 'same-origin'}).then(function (r) { return r.text(); })
      .then(function (html) {
        var m = /name="csrf-token" content="([^"]+)"/.exec(html);
        if (m) { csrf = m[1]; }
      });
  }

  function post(url, body) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, REQUEST_TIMEOUT_MS) : null;
    return fetch(url, {
      method: 'POST', credentials: 'same-origin', signal: ctrl ? ctrl.signal : undefined,
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRFToken': csrf},
      body: JSON.stringify(body)
    }).then(function (r) {
      if (timer) { clearTimeout(timer); }
      return r.json().catch(function () { return null; }).then(function (data) { return {status: r.status, data: data}; });
    }, function (err) { if (timer) { clearTimeout(timer); } throw err; });
  }

  function pump() {
    if (inflight) { return; }
    var q = loadQueue();
    if (!q.length) { backoff = 0; if (statusClass !== 'refused') { setStatus(S.online, 'online'); } return; }
    var item = q[0];
    var body = {};
    Object.keys(item.body).forEach(function (k) { body[k] = item.body[k]; });
    body.id = item.id;                    // the server stores an id once: a resend is not a second tap
    inflight = true;
    tried[item.id] = true;
    var sentAt = ++clock;
    post(item.url, body).then(function (r) {
      inflight = false;
      var code = r.data && r.data.error ? r.data.error.code : '';
      if (r.status === 200 || r.status === 201) {
        backoff = 0;
        if (item.screening === cfg.screening) {
          if (item.body.category) {
            // the answer's counts hold this tap (a "duplicate" answer too: it was stored before)
            learn(tapsOf(r.data), r.data && r.data.counts, sentAt);
            ack(item.id, tapsOf(r.data));
            savedOnce[item.body.category] = true;
            share(loadQueue());           // before the item goes, so no tab adds it twice meanwhile
          }
          if (r.data && r.data.headcounts) { showHeadcounts(r.data.headcounts); }
        }
        dequeue(item.id);
        if (statusClass !== 'refused') { setStatus(S.online, 'online'); } else { render(); }
        pump();
      } else if (r.status === 401) {
        delete tried[item.id];
        failed(S.login, 'offline');
      } else if (r.status === 400 && code === 'csrf') {
        delete tried[item.id];
        refreshToken().then(function () { failed(S.csrf, 'offline'); }, function () { failed(S.csrf, 'offline'); });
      } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        // Refused for good (e.g. the count is already 0): retrying would be refused again.
        dequeue(item.id);
        var refusal = (r.data && r.data.error) || {};
        setStatus(S.refused + ' ' + ((S.errors && S.errors[refusal.code]) || refusal.message || String(r.status)), 'refused');
        poll();
        pump();
      } else if (r.status === 507) {
        // The laptop's disk is full: the tap was not stored. It stays queued on this phone and is
        // sent again (with backoff) until space is freed; the crew is told why, not "offline".
        delete tried[item.id];
        failed((S.errors && S.errors[code]) || S.offline, 'offline');
      } else {
        failed(S.offline, 'offline');
      }
    }, function () {
      inflight = false;
      failed(S.offline, 'offline');
    });
  }

  function tap(category, delta) {
    if (delta < 0 && shown(category) <= 0) { return; }
    enqueue({
      id: uuid(), url: cfg.attendanceUrl, screening: cfg.screening,
      body: {category: category, delta: delta, at: new Date().toISOString(), device: DEVICE}
    });
    if (statusClass === 'refused') { statusText = ''; statusClass = ''; }
    if (navigator.vibrate) { try { navigator.vibrate(12); } catch (e) { /* not allowed */ } }
    render();
    if (retryTimer && backoff) { return; }  // offline: the retry timer will send it
    pump();
  }

  function showHeadcounts(h) {
    ['start', 'end'].forEach(function (k) {
      var el = document.getElementById('headcount-' + k);
      if (el) { el.textContent = h[k] ? String(h[k].count) : '–'; }
    });
  }

  function headcount(kind) {
    var input = document.getElementById('headcount-input');
    var value = input.value.trim() === '' ? input.placeholder : input.value.trim();
    var n = parseInt(value, 10);
    if (!/^\d+$/.test(value) || isNaN(n)) { setStatus(S.headcountBad, 'refused'); return; }
    enqueue({
      id: uuid(), url: cfg.headcountUrl, screening: cfg.screening,
      body: {kind: kind, count: n, at: new Date().toISOString()}
    });
    input.value = '';
    setStatus(S.headcountSaved, 'online');
    pump();
  }

  function poll() {
    if (document.visibilityState === 'hidden') { return; }
    var q = loadQueue();
    // An item queued a while ago that nobody here is sending: its tab may have been closed.
    if (!inflight && !retryTimer && q.length && Date.now() - q[0].t > ORPHAN_MS) { pump(); }
    var sentAt = ++clock;
    fetch(cfg.attendanceUrl, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        // A tap of ours in flight, or sent with its answer lost, may be in these counts without
        // our knowing: its own answer will tell (and say which taps it holds), not this poll.
        if (inflight || loadQueue().some(function (x) { return tried[x.id]; })) { return; }
        learn(tapsOf(data), data.counts, sentAt);
        showHeadcounts(data.headcounts);
        var pc = document.getElementById('participants-count');
        if (pc) { pc.textContent = String(data.participants); }
        render();
      }, function () { /* the send loop reports the connection */ });
  }

  document.getElementById('tally-grid').addEventListener('click', function (ev) {
    var btn = ev.target.closest('button[data-category]');
    if (!btn || btn.disabled) { return; }
    var cell = btn.closest('.tally-cell');
    cell.classList.remove('bump'); void cell.offsetWidth; cell.classList.add('bump');
    tap(btn.getAttribute('data-category'), parseInt(btn.getAttribute('data-delta'), 10));
  });
  document.querySelectorAll('[data-headcount]').forEach(function (btn) {
    btn.addEventListener('click', function () { headcount(btn.getAttribute('data-headcount')); });
  });
  window.addEventListener('storage', function (ev) {
    if (ev.key === SERVER_KEY) { fromOtherTab(ev.newValue); render(); }
    else if (ev.key === OLD_QUEUE_KEY) { migrateOldQueue(); render(); }
    else if (ev.key === null || ev.key.indexOf(ITEM_PREFIX) === 0) { render(); }
  });
  window.addEventListener('online', function () { backoff = 0; pump(); });
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') { pump(); poll(); } });

  // The page came with the server's state; what another tab stored earlier is not read (it may
  // be older, or from before the van's data was rebuilt): live 'storage' events bring theirs.
  migrateOldQueue();
  render();
  pump();
  setInterval(poll, POLL_MS);
}());
