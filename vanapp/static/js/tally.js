/* The tally page: one thumb, a flaky hotspot, no lost or doubled taps.
 *
 * Every tap gets its own UUID and goes into a queue kept in localStorage (it survives a reload
 * or a closed tab) before anything is sent. The queue is sent in order, one request at a time,
 * and retried with backoff; the server stores a tap id once, so a retry after a lost answer
 * cannot count twice. A tap leaves the queue only when the server has answered 200/201, which
 * it does after its commit. The number on a button is the server's count plus this phone's
 * taps still waiting, so the crew sees the tap at once ("waiting") and then "saved".
 */
(function () {
  'use strict';

  var cfg = JSON.parse(document.getElementById('tally-config').textContent);
  var S = cfg.strings;
  var QUEUE_KEY = 'vk_tally_queue_v1';
  var POLL_MS = 1500;
  var MAX_BACKOFF_MS = 8000;
  var REQUEST_TIMEOUT_MS = 8000;

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var confirmed = cfg.state.counts;       // the server's counts for this screening, last we heard
  var inflight = false;                   // one request at a time keeps the server's order = tap order
  var sendSeq = 0;                        // bumps on every send, so a poll can tell it was overtaken
  var backoff = 0;
  var retryTimer = null;
  var savedOnce = {};
  var statusText = '';
  var statusClass = '';

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

  // Always read and write the stored queue (never a copy): another tab may have changed it.
  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (e) { return memoryQueue; }
  }
  var memoryQueue = [];
  function saveQueue(q) {
    memoryQueue = q;
    try { localStorage.setItem(QUEUE_KEY, JSON.stringify(q)); } catch (e) { /* memory only */ }
  }
  function enqueue(item) { var q = loadQueue(); q.push(item); saveQueue(q); }
  function dequeue(id) { saveQueue(loadQueue().filter(function (x) { return x.id !== id; })); }
  function markTried(id) {
    var q = loadQueue();
    q.forEach(function (x) { if (x.id === id) { x.tries = (x.tries || 0) + 1; } });
    saveQueue(q);
  }

  function pendingFor(category) {
    var n = 0, count = 0;
    loadQueue().forEach(function (x) {
      if (x.screening === cfg.screening && x.body.category === category) { n += x.body.delta; count += 1; }
    });
    return {delta: n, taps: count};
  }

  function shown(category) {
    return (confirmed[category] || 0) + pendingFor(category).delta;
  }

  function render() {
    var total = 0;
    Object.keys(confirmed).forEach(function (c) { total += shown(c); });
    document.querySelectorAll('[data-count-for]').forEach(function (el) {
      var c = el.getAttribute('data-count-for');
      var p = pendingFor(c);
      el.textContent = String(shown(c));
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
    inflight = true;
    sendSeq += 1;
    markTried(item.id);
    post(item.url, item.body).then(function (r) {
      inflight = false;
      var code = r.data && r.data.error ? r.data.error.code : '';
      if (r.status === 200 || r.status === 201) {
        dequeue(item.id);
        backoff = 0;
        if (item.screening === cfg.screening) {
          if (r.data && r.data.counts) { confirmed = r.data.counts; }
          if (r.data && r.data.headcounts) { showHeadcounts(r.data.headcounts); }
          if (item.body.category) { savedOnce[item.body.category] = true; }
        }
        if (statusClass !== 'refused') { setStatus(S.online, 'online'); } else { render(); }
        pump();
      } else if (r.status === 401) {
        failed(S.login, 'offline');
      } else if (r.status === 400 && code === 'csrf') {
        refreshToken().then(function () { failed(S.csrf, 'offline'); }, function () { failed(S.csrf, 'offline'); });
      } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        // Refused for good (e.g. the count is already 0): retrying would be refused again.
        dequeue(item.id);
        setStatus(S.refused + ' ' + (r.data && r.data.error ? r.data.error.message : String(r.status)), 'refused');
        poll();
        pump();
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

  function queueHasTried() {
    return loadQueue().some(function (x) { return x.screening === cfg.screening && x.tries; });
  }

  function poll() {
    if (document.visibilityState === 'hidden') { return; }
    var seq = sendSeq;
    fetch(cfg.attendanceUrl, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        // A tap in flight, or one sent whose answer was lost, may or may not be in these counts:
        // then the next answer to a send is the truth, not this poll.
        if (!data || inflight || seq !== sendSeq || queueHasTried()) { return; }
        confirmed = data.counts;
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
  window.addEventListener('storage', function (ev) { if (ev.key === QUEUE_KEY) { render(); } });
  window.addEventListener('online', function () { backoff = 0; pump(); });
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') { pump(); poll(); } });

  render();
  pump();
  setInterval(poll, POLL_MS);
}());
