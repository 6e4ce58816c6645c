"""The van's sync client: pair with a hub, then push the outbox in acknowledged batches and pull
the plan. One sync at a time; the checkpoint moves only after the hub's acknowledgement, so a
dropped link costs at most the batch in flight, which is resent under the same key."""
import hashlib
import http.client
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from .. import clock, jsontext
from ..tours import identity
from ..ids import utcnow
from ..models import Setting, SyncParked, SyncRun, db
from . import incoming, outbox, state
from ..protocol.wire import WireError, time_text, unpack

log = logging.getLogger(__name__)

# Plain words for the crew (the console shows them translated, by code).
ERRORS = {
    "offline": "Could not reach the hub: no connection, or the hub is switched off. Sync will try again.",
    "unauthorized": "The hub did not accept this van's key. Pair the van again with a new code from the coordinator.",
    "revoked": "The coordinator has blocked this van. Ask the coordinator before syncing again.",
    "not_paired": "This van is not paired with a hub yet.",
    "busy": "A sync is already running.",
    "refused": "The hub refused a batch of records. The records are kept on this laptop; tell the coordinator.",
    "server": "The hub had a problem. Sync will try again.",
    "pairing": "Pairing did not work.",
    "wrong_van": "The pairing code is for another van than this laptop's.",
}
TRANSIENT = {"offline", "server", "busy"}
GROW_BELOW = 1.0                 # seconds: a batch acknowledged this fast lets the next ones double...
GROW_TO = 9000                   # ...up to this many outbox rows (a hub takes wire.MAX_RECORDS, 10000)
MAX_ROUNDS = 100_000             # requests in one push: a guard against a loop, never reached honestly
SET_ASIDE_LISTED = 1000         # records set aside listed to the hub (the count is always whole)


class SyncError(Exception):
    def __init__(self, code: str, detail: str = "", **vans):
        super().__init__(f"{ERRORS.get(code, code)} ({detail})" if detail else ERRORS.get(code, code))
        self.code, self.message, self.detail = code, ERRORS.get(code, code), detail
        self.mine, self.theirs = vans.get("mine", ""), vans.get("theirs", "")   # wrong_van: both vans

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT


@dataclass
class Result:
    ok: bool = False
    van: str = ""                  # this van's id on the hub
    hub: str = ""                  # the hub's address
    pushed: int = 0                # van records the hub acknowledged (new, updated or already held)
    stored: int = 0                # ... of which the hub did not have before (it holds them now)
    updated: int = 0               # ... of which replaced an older version on the hub
    duplicates: int = 0            # records the hub already held in that version (nothing changed)
    resent: int = 0                # records of a batch an earlier, broken-off sync had in flight, sent again
    retried: int = 0               # records sent again in this sync after the link failed (same batch key)
    replayed: int = 0              # batches the hub had already applied (answered from its record)
    cursor: int = 0                # the hub's acknowledged outbox position for this van
    pulled: int = 0                # plan/content records written on the van
    parked: int = 0                # records set aside in this sync
    batches: int = 0               # batches the hub acknowledged
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    error_code: str = ""
    error: str = ""
    detail: str = ""
    skipped: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


class Http:
    """A keep-alive HTTP(S) connection to the hub that counts the bytes it moves."""

    def __init__(self, base_url: str, authorization: str | None = None, timeout: float = 30.0):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SyncError("pairing", f"hub address {base_url!r} must start with http:// or https://")
        self.https, self.host, self.port = parts.scheme == "https", parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.authorization, self.timeout = authorization, timeout
        self.conn, self.sent, self.received = None, 0, 0
        self.outbox = ""          # X-Van-Outbox: what the van tells the hub of its outbox (set by sync)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """-> (status, response headers, body bytes); network trouble raises SyncError("offline")."""
        sent_headers = {"User-Agent": "vankit-sync/1", "Accept-Encoding": "gzip"}
        if self.authorization:
            sent_headers["Authorization"] = self.authorization
        if self.outbox:
            sent_headers["X-Van-Outbox"] = self.outbox
        sent_headers.update(headers or {})
        if self.conn is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.conn = kind(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, self.prefix + path, body=body, headers=sent_headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise SyncError("offline", f"{method} {path}: {exc.__class__.__name__}: {exc}") from None
        self.sent += len(body or b"") + len(method) + len(path) + 12 + sum(len(k) + len(v) + 4 for k, v in sent_headers.items())
        self.received += len(data) + sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
        if response.will_close:
            self.close()
        return response.status, dict(response.getheaders()), data

    def json(self, method: str, path: str, body=None, retries: int = 0, headers=None):
        """A request with up to `retries` repeats after a network failure (every call we make is
        safe to repeat); -> (status, parsed JSON or None)."""
        for attempt in range(retries + 1):
            try:
                status, _headers, data = self.request(method, path, body, headers)
                break
            except SyncError:
                if attempt == retries:
                    raise
                time.sleep(min(0.25 * 2 ** attempt, 2.0))
        try:
            return status, unpack(data) if data[:2] == b"\x1f\x8b" else jsontext.loads(data or b"null")
        except (ValueError, WireError):
            return status, None


def _error_of(status: int, payload) -> SyncError:
    error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
    detail = f"HTTP {status} {error.get('code', '')}: {error.get('message', '')}".strip()
    if status == 401:
        return SyncError("revoked" if error.get("code") == "revoked" else "unauthorized", detail)
    if status >= 500 or status in (429, 502, 503, 504):
        return SyncError("server", detail)
    return SyncError("refused", detail)


# --- pairing ------------------------------------------------------------------------------------

def parse_pair_link(text: str) -> tuple[str | None, str | None]:
    """`http://hub/pair?code=X` or `vankit:pair?hub=URL&code=X` -> (hub url, code)."""
    from urllib.parse import parse_qs
    parts = urlsplit(text)
    query = parse_qs(parts.query)
    code = (query.get("code") or [None])[0]
    if parts.scheme == "vankit":
        return (query.get("hub") or [None])[0], code
    if parts.scheme in ("http", "https") and parts.path.rstrip("/").endswith("/pair"):
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')[:-5]}", code
    return None, None


def pair(hub_url: str, code: str, timeout: float = 30.0, retries: int = 2) -> dict:
    """Exchange the one-time code for this van's id and secret and keep them. -> {"van_id", "hub_url"}.

    The van makes its own secret and sends it with the code, and keeps it (with the code) until
    the hub's answer arrives, so pairing is safe to repeat: after a lost answer — here, or by
    running `vanapp pair` again with the same code — the hub recognises the secret and answers
    the same, instead of finding its one-time code used up."""
    hub_url = hub_url.rstrip("/")
    me = identity.this_van()
    secret = state.pairing_secret(hub_url, code)
    request = {"code": code, "secret": secret}
    if me.van:
        # one van id per laptop: the hub refuses another van's code without using it up
        request["van"] = me.van
    client = Http(hub_url, timeout=timeout)
    try:
        status, payload = client.json("POST", "/api/v1/pair", json.dumps(request).encode(),
                                      headers={"Content-Type": "application/json"}, retries=retries)
    except SyncError as exc:
        raise SyncError("pairing", f"could not reach the hub at {hub_url}: {exc.detail}; the same command "
                        "with the same code can be run again") from None
    finally:
        client.close()
    if status != 200 or not isinstance(payload, dict) or "secret" not in payload:
        error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
        if error.get("code") == "wrong_van":
            raise SyncError("wrong_van", error.get("message", ""), mine=me.van, theirs=error.get("van", ""))
        raise SyncError("pairing", error.get("message") or f"HTTP {status} from {hub_url}")
    try:
        identity.check_pairing(payload["van_id"], me)    # a hub that did not check it itself
    except identity.WrongVan as exc:
        raise SyncError("wrong_van", exc.message, mine=exc.mine, theirs=exc.theirs) from None
    # one van id per laptop: a laptop that was another van was refused above
    state.save_pairing(hub_url, payload["van_id"], payload["secret"])
    return {"van_id": payload["van_id"], "hub_url": hub_url, "name": payload.get("name", "")}


# --- sync ---------------------------------------------------------------------------------------

def sync(data_dir: str, trigger: str = "cli", progress=None, timeout: float = 30.0, retries: int = 2,
         batch_rows: int = outbox.BATCH_ROWS, wait: float = 0.0) -> Result:
    """Push everything new, then pull the plan; never raises for hub or network trouble — the
    Result says what happened (and a SyncRun row remembers it for the console).
    `progress(phase, done, total)` is called as it goes (phase: connect, push, pull, done).
    `wait`: seconds to wait for another sync on this van to finish before answering "busy"."""
    result, started = Result(), time.monotonic()
    report = progress or (lambda *a: None)
    try:
        with state.sync_lock(data_dir, wait):
            with db.atomic():
                run = SyncRun.create(trigger=trigger, started_at=utcnow())
            try:
                _sync(result, report, timeout, retries, batch_rows)
                result.ok = True
            except SyncError as exc:
                result.error_code, result.error, result.detail = exc.code, exc.message, exc.detail
                log.warning("sync failed: %s %s", exc.code, exc.detail)
            result.seconds = round(time.monotonic() - started, 3)
            with db.atomic():
                SyncRun.update(finished_at=utcnow(), ok=result.ok, pushed=result.pushed, pulled=result.pulled,
                               parked=result.parked, bytes_sent=result.bytes_sent,
                               bytes_received=result.bytes_received, error_code=result.error_code,
                               error=result.error, detail=result.detail[:2000]).where(SyncRun.id == run.id).execute()
                SyncRun.delete().where(SyncRun.id < run.id - 500).execute()
    except state.Busy:
        result.error_code, result.error = "busy", ERRORS["busy"]
    report("done", 1, 1)
    return result


def _sync(result: Result, report, timeout, retries, batch_rows):
    creds = state.credentials()
    if creds is None:
        raise SyncError("not_paired", "run `vanapp pair HUB_URL CODE`")
    hub_url, van_id, secret = creds
    result.van, result.hub = van_id, hub_url
    hub = Http(hub_url, f"Bearer {van_id}.{secret}", timeout)
    try:
        report("connect", 0, 1)
        epoch = state.epoch()
        hub.outbox = _outbox_header(epoch)
        sent_at = utcnow()
        status, st = hub.json("GET", f"/api/v1/sync/state?epoch={quote(epoch)}", retries=retries)
        if status != 200 or not isinstance(st, dict):
            raise _error_of(status, st)
        clock.note_hub_time(st.get("server_time"), sent_at, utcnow())   # the console warns if far off
        cursor = result.cursor = int(st.get("cursor", 0))
        if cursor > state.max_seq():
            # the hub holds more than this outbox ever had: the database was restored or made anew
            epoch, cursor = state.new_epoch(), 0
            hub.outbox = _outbox_header(epoch)
        told = _push(hub, result, report, van_id, epoch, cursor, retries, batch_rows)
        # what is waiting and what is set aside, as this sync leaves them: the next request tells
        # the hub (the list of records set aside goes too, when it changed), so the coordinator's
        # Vans page shows the same numbers as the crew's Sync page
        hub.outbox = _outbox_header(epoch)
        _report_set_aside(hub, van_id, retries)
        hub_plan = int(st.get("pull_cursor", 0))
        local_plan = state.get_int(state.PULL_CURSOR)
        if local_plan > hub_plan:
            local_plan = 0                  # the hub's outbox was reset: pull everything again
        if hub_plan > local_plan:
            _pull(hub, result, report, local_plan, hub_plan, retries)
        elif hub.outbox != told:
            try:                            # no pull to carry the news: one small request
                hub.json("GET", f"/api/v1/sync/state?epoch={quote(epoch)}", retries=retries)
            except SyncError as exc:        # what was pushed is pushed; the next sync tells it
                log.warning("could not tell the hub what is waiting: %s", exc.detail)
    finally:
        result.bytes_sent, result.bytes_received = hub.sent, hub.received
        hub.close()


def _outbox_header(epoch: str, waiting: int | None = None) -> str:
    """X-Van-Outbox: the installation, the highest outbox seq, how many records are set aside and
    how many are waiting (state.waiting: the count the crew's Sync page shows). The hub shows a
    coordinator what has not arrived yet and what the van set aside."""
    waiting = state.waiting_total() if waiting is None else waiting
    return f"{epoch} {state.max_seq()} {state.parked_count()} {waiting}"


def _report_set_aside(hub, van_id: str, retries: int) -> None:
    """Tell the hub which records this van holds back and why, when that list changed since it was
    last told (PUT /api/v1/sync/parked), so a coordinator sees them. Never fails the sync."""
    listed = [{"model": p.model, "id": p.record_id, "version": p.version, "code": p.code,
               "message": p.reason[:500], "parked_at": time_text(p.parked_at)}
              for p in SyncParked.active().order_by(SyncParked.parked_at.desc()).limit(SET_ASIDE_LISTED)]
    body = json.dumps({"total": state.parked_count(), "records": listed}, sort_keys=True).encode()
    fingerprint = f"{hub.host}:{hub.port}{hub.prefix} {van_id} {hashlib.sha256(body).hexdigest()}"
    if Setting.get_value(state.SET_ASIDE_TOLD) == fingerprint:
        return
    try:
        status, payload = hub.json("PUT", "/api/v1/sync/parked", body,
                                   headers={"Content-Type": "application/json"}, retries=retries)
    except SyncError as exc:
        log.warning("could not tell the hub which records are set aside: %s", exc.detail)
        return
    if status == 200:
        with db.atomic():
            Setting.put(state.SET_ASIDE_TOLD, fingerprint)
    else:
        log.warning("the hub did not take the list of records set aside: HTTP %s %s", status, payload)


# What a refusal may name that is about records (set them aside, send the rest), as opposed to the
# batch as a whole (a bad header, a reused key: a fault of this van's software, never parked).
RECORD_REFUSALS = {"invalid_records", "foreign_van", "conflict", "missing_parent", "invalid"}


def _push(hub, result, report, van_id, epoch, cursor, retries, batch_rows) -> str:
    """Send the outbox after `cursor` batch by batch. A record the hub refuses never holds back
    the others: the records a refusal names are set aside with the hub's reason and the batch goes
    again without them; a refusal that names none this van can match (say, a plan record it
    sent along) is narrowed down by halving the batch, until the one change the hub refuses is
    set aside with its reason. -> the X-Van-Outbox value the hub was last told."""
    if state.get_int(state.PUSH_CURSOR) != cursor:
        state.acknowledge(cursor)           # the hub's word is the checkpoint
    pend = state.pending()
    if pend and (pend.get("epoch") != epoch or pend.get("from") != cursor
                 or (batch_rows < outbox.BATCH_ROWS and pend.get("to", 0) - cursor > batch_rows)):
        pend = None
    resending = pend is not None            # the batch in flight when an earlier sync broke off
    first, last = cursor, state.max_seq()
    parked, sent_plan, limit = state.parked_keys(), set(), batch_rows
    after = state.WaitingAfter(cursor)
    told = hub.outbox
    report("push", 0, last - first)
    prepared = None                         # the next batch, built while the hub applied this one
    for _round in range(MAX_ROUNDS):
        if prepared is not None and pend is None:
            batch, prepared = prepared, None
            key = batch.key
        else:
            key = pend["key"] if pend else state.new_batch_key()
            batch = outbox.collect(cursor, van_id, epoch, key, parked, sent_plan,
                                   end=pend["to"] if pend else None, limit=limit, waiting_after=after)
        if batch is None:
            return told
        if batch.held_back:
            _set_aside(batch.held_back, result, parked, after)
        pend = {"key": key, "epoch": epoch, "from": batch.start, "to": batch.end}
        state.set_pending(pend)
        # the hub applies this batch (network wait, in a thread) while we build the next one
        # from the outbox; it is used only if the hub acknowledges exactly up to this batch's end
        waiting = _in_background(lambda: _post_batch(hub, batch, retries, result, resending))
        try:
            prepared = outbox.collect(batch.end, van_id, epoch, state.new_batch_key(), parked,
                                      sent_plan | batch.plan, limit=_next_limit(limit, batch_rows, None),
                                      waiting_after=after)
        finally:
            (status, payload), seconds = waiting()
        resending = False
        if status == 200 and isinstance(payload, dict) and "cursor" in payload:
            new_cursor = result.cursor = int(payload["cursor"])
            state.acknowledge(new_cursor)
            result.batches += 1
            # a replayed answer is the hub's record of what the batch did when it was applied
            # (its first answer never reached us), so its counts are counted here, once
            result.replayed += 1 if payload.get("replayed") else 0
            for name in ("stored", "updated", "duplicates"):
                value = payload.get(name, 0)
                setattr(result, name, getattr(result, name) + (value if type(value) is int else 0))
            if new_cursor >= batch.end:
                result.pushed += batch.records
                sent_plan |= batch.plan
            # from now on every request says what is still waiting (the hub heard the same in
            # the batch, when it acknowledged exactly up to its end)
            hub.outbox = _outbox_header(epoch, after(new_cursor))
            told = hub.outbox if new_cursor == batch.end else told
            if new_cursor != batch.end:
                prepared = None
            cursor, pend, limit = new_cursor, None, _next_limit(limit, batch_rows, seconds)
            report("push", max(0, min(cursor, last) - first), last - first)
            continue
        prepared, pend = None, None
        error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
        code = error.get("code") if isinstance(error, dict) else None
        if status == 413 and batch.rows > 1:
            limit = max(1, min(limit, batch.rows) // 4)
            continue
        if status in (400, 403, 409) and code in RECORD_REFUSALS and error.get("field") != "van":
            named = error.get("records") if isinstance(error.get("records"), list) else []
            items = [dict(r, version=batch.versions[(r.get("model"), r.get("id"))]) for r in named
                     if isinstance(r, dict) and (r.get("model"), r.get("id")) in batch.versions
                     and (r["model"], r["id"], batch.versions[(r["model"], r["id"])]) not in parked]
            if items:
                _set_aside(items, result, parked, after)
                continue
            if batch.rows > 1:                  # narrow it down: the half that holds the fault
                limit = max(1, min(limit, batch.rows) // 2)
                continue
            why = "; ".join(f"{r.get('model')} {r.get('id')}: {r.get('message')}" for r in named[:3]
                            if isinstance(r, dict))
            message = f"{error.get('message', '')}" + (f" ({why})" if why else "")
            items = [{"model": model, "id": record_id, "version": version, "code": code, "message": message[:2000]}
                     for (model, record_id), version in batch.versions.items()]
            if items:                           # one change, refused: set it aside with the reason
                _set_aside(items, result, parked, after)
                continue
        raise _error_of(status, payload)
    raise SyncError("refused", "too many batches in one sync")


def _set_aside(items, result, parked, after) -> None:
    result.parked += state.park(items)
    parked |= {(r["model"], r["id"], r["version"]) for r in items}
    after.set_aside(items)


def _next_limit(limit: int, batch_rows: int, seconds: float | None) -> int:
    """Outbox rows in the next batch. On a fast link (the last batch acknowledged within GROW_BELOW
    seconds) batches double up to GROW_TO, so a big backlog costs fewer round trips and fewer hub
    commits; on a slow link they stay at `batch_rows`, so a dropped connection costs little. A
    caller asking for batches smaller than the default gets exactly that. `seconds` None: the
    size to prepare the next batch with while this one is in flight (grown only if already grown)."""
    if batch_rows < outbox.BATCH_ROWS:
        return batch_rows
    if seconds is None:
        return max(limit, batch_rows)
    if seconds < GROW_BELOW:
        return max(batch_rows, min(max(limit, batch_rows) * 2, GROW_TO))
    return batch_rows


def _in_background(work):
    """Run `work()` in a thread; -> a function that waits for it and returns (its outcome, seconds
    it took), or raises what it raised."""
    box = {}

    def run():
        started = time.monotonic()
        try:
            box["value"] = work()
        except BaseException as exc:          # handed to the waiting thread as it is
            box["error"] = exc
        box["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, name="vanapp-sync-post", daemon=True)
    thread.start()

    def wait():
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["value"], box["seconds"]
    return wait


def _post_batch(hub, batch, retries, result, resending):
    """POST one batch, sending it again (same key, so the hub applies it once) after a network
    failure up to `retries` times. `resending`: an earlier sync had sent it and broke off."""
    for attempt in range(retries + 1):
        if attempt:
            result.retried += batch.records
        elif resending:
            result.resent += batch.records
        try:
            return hub.json("POST", "/api/v1/sync/push", batch.body,
                            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        except SyncError:
            if attempt == retries:
                raise
            time.sleep(min(0.25 * 2 ** attempt, 2.0))


def _pull(hub, result, report, cursor, target, retries):
    report("pull", 0, target - cursor)
    start = cursor
    for _round in range(MAX_ROUNDS):
        status, document = hub.json("GET", f"/api/v1/sync/pull?cursor={cursor}", retries=retries)
        if status != 200 or not isinstance(document, dict):
            raise _error_of(status, document)
        try:
            with db.atomic():
                applied = incoming.apply_pull(document)
                Setting.put(state.PULL_CURSOR, str(int(document["cursor"])))
        except (WireError, KeyError, TypeError, ValueError) as exc:
            raise SyncError("refused", f"could not read what the hub sent: {exc}") from None
        result.pulled += applied["applied"]
        result.skipped += applied["skipped"]
        cursor = int(document["cursor"])
        report("pull", min(cursor, target) - start, target - start)
        if not document.get("more"):
            return
