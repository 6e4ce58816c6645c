"""The van's side of sync state: pairing settings, the outbox epoch and cursors, the batch in
flight, parked records, the one-sync-at-a-time lock and the honest status shown to the crew."""
import bisect
import json
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path

from ..ids import new_id, utcnow
from ..models import Outbox, Setting, SyncParked, SyncRun, db
from ..protocol import records

HUB_URL = "hub_url"
VAN_ID = "van_id"
SECRET = "van_secret"           # read by vanapp.security.van_secret()
EPOCH = "sync_epoch"            # this installation's outbox identity (a wiped laptop gets a new one)
PUSH_CURSOR = "sync_push_cursor"
PULL_CURSOR = "sync_pull_cursor"
PENDING = "sync_pending"        # the batch in flight: {"key", "epoch", "from", "to"}
PAIRING = "sync_pairing"        # a pairing under way: {"hub", "code", "secret"} until the hub answers
SET_ASIDE_TOLD = "sync_set_aside_told"   # which list of records set aside the hub was last given
LOCK_FILE = "sync.lock"


class Busy(RuntimeError):
    """Another sync is running on this van."""


def credentials() -> tuple[str, str, str] | None:
    """(hub url, van id, secret hex) once paired, else None."""
    url, van, secret = (Setting.get_value(k) for k in (HUB_URL, VAN_ID, SECRET))
    if url and van and secret and Setting.get_value("sync_paired") == "1":
        return url, van, secret
    return None


def save_pairing(hub_url: str, van_id: str, secret_hex: str) -> None:
    with db.atomic():
        Setting.put(HUB_URL, hub_url.rstrip("/"))
        Setting.put(VAN_ID, van_id)
        Setting.put(SECRET, secret_hex)
        Setting.put("sync_paired", "1")
        Setting.put(PULL_CURSOR, "0")       # a new pairing pulls the plan again (idempotent)
        Setting.delete().where(Setting.key.in_([PENDING, PAIRING])).execute()


def pairing_secret(hub_url: str, code: str) -> str:
    """The secret (hex) this van proposes when pairing with `code`: the one kept from an earlier
    try with the same hub and code (its answer may have been lost), or a new one, kept first."""
    normal = "".join(code.split()).replace("-", "").upper()
    raw = Setting.get_value(PAIRING)
    if raw:
        try:
            kept = json.loads(raw)
            if kept.get("hub") == hub_url and kept.get("code") == normal:
                return kept["secret"]
        except (ValueError, KeyError, AttributeError):
            pass
    # A van pairing for the first time proposes the secret it already signs its summary QRs with,
    # so the hub can verify the nights shown before pairing; a van paired before (re-paired after
    # a rotation or a revocation) proposes a new one, as rotating a key means.
    existing = Setting.get_value(SECRET) or ""
    never_paired = Setting.get_value("sync_paired") != "1"
    secret = existing if never_paired and len(existing) == 64 else secrets.token_hex(32)
    with db.atomic():
        Setting.put(PAIRING, json.dumps({"hub": hub_url, "code": normal, "secret": secret}))
    return secret


def epoch() -> str:
    value = Setting.get_value(EPOCH)
    if not value:
        value = new_id()
        with db.atomic():
            Setting.put(EPOCH, value)
    return value


def new_epoch() -> str:
    """The outbox was reset (restored or recreated database): start counting afresh."""
    value = new_id()
    with db.atomic():
        Setting.put(EPOCH, value)
        Setting.put(PUSH_CURSOR, "0")
        Setting.delete().where(Setting.key == PENDING).execute()
    return value


def get_int(key: str) -> int:
    return int(Setting.get_value(key, "0") or 0)


def pending() -> dict | None:
    raw = Setting.get_value(PENDING)
    return json.loads(raw) if raw else None


def set_pending(batch: dict | None) -> None:
    with db.atomic():
        if batch is None:
            Setting.delete().where(Setting.key == PENDING).execute()
        else:
            Setting.put(PENDING, json.dumps(batch))


def acknowledge(cursor: int) -> None:
    """The hub holds everything up to `cursor`: checkpoint it and forget the batch in flight."""
    with db.atomic():
        Setting.put(PUSH_CURSOR, str(cursor))
        Setting.delete().where(Setting.key == PENDING).execute()


def max_seq() -> int:
    value = db.execute_sql('SELECT MAX("seq") FROM "outbox"').fetchone()[0]
    return int(value or 0)


def parked_keys() -> set[tuple[str, str, int]]:
    """(model, id, version) of every record set aside, discarded ones too: none of them is sent."""
    return set(SyncParked.select(SyncParked.model, SyncParked.record_id, SyncParked.version).tuples())


def parked_count() -> int:
    """Records set aside and not discarded (what the crew and the hub are shown)."""
    return SyncParked.active().count()


def park(items: list[dict]) -> int:
    """Keep refused records aside with the hub's reason: {"model", "id", "version", "code", "message"}."""
    if not items:
        return 0
    with db.atomic():
        for item in items:
            SyncParked.insert(model=item["model"], record_id=item["id"], version=item["version"],
                              code=item.get("code", "refused")[:32],
                              reason=item.get("message", "")[:2000]).on_conflict_ignore().execute()
    return len(items)


def retry_parked(ids=None) -> int:
    """Put parked records back in the queue (after the coordinator fixed the cause on the hub);
    only the SyncParked rows with these `ids` when given (discarded ones too), else every record
    set aside and not discarded."""
    with db.atomic():
        query = SyncParked.active() if ids is None else SyncParked.select()
        if ids is not None:
            query = query.where(SyncParked.id.in_(list(ids)))
        rows = list(query)
        for row in rows:
            Outbox.create(model=row.model, record_id=row.record_id)
        SyncParked.delete().where(SyncParked.id.in_([row.id for row in rows])).execute()
    return len(rows)


def discard_parked(ids=None) -> int:
    """The crew gives up on records set aside (all, or the SyncParked rows `ids`): they stay on
    the laptop and in its reports, but are no longer shown as set aside and are never sent
    (a newer version of one, should it change, travels as usual)."""
    with db.atomic():
        query = SyncParked.update(discarded_at=utcnow()).where(SyncParked.discarded_at.is_null())
        if ids is not None:
            query = query.where(SyncParked.id.in_(list(ids)))
        return query.execute()


def waiting_seqs(cursor: int | None = None) -> dict[str, dict[str, int]]:
    """model -> {record id: outbox seq of its last change} for each record that will travel at
    the next sync: van-owned, changed after the checkpoint, not set aside in its current version."""
    cursor = get_int(PUSH_CURSOR) if cursor is None else cursor
    p, out = db.param, {}
    for table in records.ordered_tables("van"):
        rows = db.execute_sql(
            f'SELECT w."record_id", w."last" FROM (SELECT "record_id", MAX("seq") AS "last" FROM "outbox" '
            f'WHERE "seq" > {p} AND "model" = {p} GROUP BY "record_id") w '
            f'JOIN "{table.table}" r ON r."id" = w."record_id" '
            f'WHERE NOT EXISTS (SELECT 1 FROM "sync_parked" k WHERE k."model" = {p} '
            f'AND k."record_id" = w."record_id" AND k."version" = r."version")',
            [cursor, table.name, table.name]).fetchall()
        if rows:
            out[table.name] = dict(rows)
    return out


def waiting(cursor: int | None = None) -> dict[str, int]:
    """model -> records waiting to be sent: the one count of what is waiting, shown on the Sync
    page, printed by `vanapp sync`, and told to the hub (which shows it on its Vans page)."""
    return {model: len(seqs) for model, seqs in waiting_seqs(cursor).items()}


def waiting_total() -> int:
    return sum(waiting().values())


class WaitingAfter:
    """How many records will still wait once the hub holds everything up to an outbox seq, from
    one reading of the outbox at the start of a push; records set aside since are taken off."""

    def __init__(self, cursor: int):
        self._last = {(model, record_id): seq for model, seqs in waiting_seqs(cursor).items()
                      for record_id, seq in seqs.items()}
        self._sorted = sorted(self._last.values())

    def __call__(self, seq: int) -> int:
        return len(self._sorted) - bisect.bisect_right(self._sorted, seq)

    def set_aside(self, items) -> None:
        """Records ({"model", "id"}) set aside: no longer waiting."""
        gone = [self._last.pop((item["model"], item["id"]), None) for item in items]
        if any(seq is not None for seq in gone):
            self._sorted = sorted(self._last.values())


def status() -> dict:
    """What the console and `vanapp sync --status` say: plain facts, nothing guessed."""
    creds = credentials()
    last_ok, last = SyncRun.last_success(), SyncRun.last()
    parked = list(SyncParked.active().order_by(SyncParked.parked_at.desc()).limit(200))
    return {
        "paired": creds is not None,
        "hub_url": creds[0] if creds else Setting.get_value(HUB_URL),
        "van_id": Setting.get_value(VAN_ID, ""),
        "last_success": last_ok.finished_at if last_ok else None,
        "last_run": last,
        "last_error": last.error if last and not last.ok else "",
        "waiting": waiting(),
        "parked": parked,
        "parked_count": parked_count(),
    }


@contextmanager
def sync_lock(data_dir: str, wait: float = 0.0):
    """One sync at a time on this van: an OS file lock, released by the kernel when the process
    dies (kill -9, power cut), so a crash never leaves the van locked out of syncing.
    `wait`: seconds to wait for a running sync (e.g. the console's automatic one) to finish."""
    path = Path(data_dir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                if os.name == "nt":
                    import msvcrt
                    handle.seek(0)
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise Busy("a sync is already running on this van") from None
                time.sleep(0.2)
        yield
    finally:
        handle.close()          # closing releases the lock on both systems


def new_batch_key() -> str:
    return secrets.token_hex(16)
