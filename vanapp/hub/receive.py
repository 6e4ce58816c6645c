"""The hub receiving a van's batch (pushed over HTTP or carried in a bundle): check it whole,
apply it in one transaction, idempotently, and answer with the acknowledged cursor.

Rules (PROTOCOL.md): records are keyed by id with a version — an older or equal copy never
overwrites; the same id and version with other content is a conflict (409), never merged. A van
writes only records of its own van (403 otherwise, nothing stored). Plan records a van sends
along are inserted only if the hub lacks them. A repeated batch key gets the first answer again.
"""
import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import psycopg

from peewee import IntegrityError

from ..db import is_sqlite, write_transaction
from .. import jsontext
from ..errors import AppError
from ..ids import from_iso, to_iso, utcnow
from ..models import (GameRun, Screening, ScreeningFact, SummaryReport, SyncBatch, Van,
                      VanCursor, db)
from ..protocol import records
from ..protocol.wire import MAX_RECORDS, WireError, decode_models
from . import facts_store

KEY_MAX = 64


def _rules() -> dict:
    """model -> column -> (accepts(value), what it must be): what the van app itself would
    refuse is refused here too, so a forged batch cannot put a tap of +1000 or a negative
    headcount in a coordinator's report."""
    from ..attendance.participants import AGE_BANDS, GENDERS
    from ..attendance.tally import CATEGORY_NAME, HEADCOUNT_KINDS
    from ..media.catalog import LANGUAGE, SHA256, _file_problem
    from ..models import GAME_KINDS, MEDIA_KINDS, STATUSES
    from ..models.playback import OUTCOMES
    from ..tours.lifecycle import DATE, EVENT_KINDS, TIME
    from ..tours.spec import PREFIXES
    from ..games.machine import PHASES as RUN_PHASES, STATES as RUN_STATES

    def one_of(values):
        return (lambda v: v in values), "one of " + ", ".join(values)

    def day(v):
        try:
            return isinstance(v, str) and bool(DATE.match(v)) and 2000 <= dt.date.fromisoformat(v).year <= 2100
        except ValueError:
            return False
    # the plan a van brings along for a hub that lacks it: what the van's own importer and
    # media catalogue accept (a media file inside the media folder, never ../../etc/passwd)
    plan = {
        "MediaItem": {"file": ((lambda v: isinstance(v, str) and not _file_problem(v)),
                               "a file inside the media folder (relative, with /, no ..)"),
                      "kind": one_of(MEDIA_KINDS),
                      "language": ((lambda v: isinstance(v, str) and bool(LANGUAGE.match(v))), "a language code"),
                      "expected_sha256": ((lambda v: v == "" or (isinstance(v, str) and bool(SHA256.match(v)))),
                                          "a SHA-256 in hex"),
                      "expected_ms": ((lambda v: v is None or (type(v) is int and v >= 0)), "a length from 0")},
        "Game": {"kind": one_of(GAME_KINDS)},
        "Screening": {"status": one_of(STATUSES), "date": (day, "a date like 2026-12-03"),
                      "start": ((lambda v: isinstance(v, str) and bool(TIME.match(v))), "a time like 18:30"),
                      "duration_min": ((lambda v: type(v) is int and 0 < v <= 24 * 60), "minutes, 1 to 1440")},
        "ProgrammeItem": {"kind": one_of(("media", "game")), "prefix": one_of(PREFIXES),
                          "phase": one_of(("", "before", "after")),
                          "position": ((lambda v: type(v) is int and 0 <= v < 1000), "a position from 0")},
    }
    return plan | {
        "TallyEvent": {"delta": ((lambda v: type(v) is int and v in (1, -1)), "1 or -1"),
                       "category": ((lambda v: isinstance(v, str) and bool(CATEGORY_NAME.match(v))),
                                    "a category name (a-z, 0-9, - or _)")},
        "Headcount": {"kind": one_of(HEADCOUNT_KINDS),
                      "count": ((lambda v: type(v) is int and 0 <= v <= 1_000_000), "a count from 0")},
        "Participant": {"gender": one_of(GENDERS), "age_band": one_of(AGE_BANDS)},
        "ScreeningEvent": {"kind": one_of(EVENT_KINDS),
                           # a reschedule moves the hub's screening: a date and time it can read
                           "new_date": ((lambda v: v == "" or day(v)), "empty or a date like 2026-12-03"),
                           "new_start": ((lambda v: v == "" or (isinstance(v, str) and bool(TIME.match(v)))),
                                         "empty or a time like 18:30")},
        "GameRun": {"state": one_of(RUN_STATES), "phase": one_of(RUN_PHASES),
                    "position": ((lambda v: v is None or (type(v) is int and 0 <= v < 1000)), "a position from 0")},
        "PlayLog": {"outcome": one_of(OUTCOMES), "kind": one_of(("media", "game")),
                    "position_ms": ((lambda v: v is None or (type(v) is int and v >= 0)), "a position from 0")},
    }


_RULES = None


def _break_rules(name: str, columns: list[str], rows: list) -> list[dict]:
    global _RULES
    if _RULES is None:
        _RULES = _rules()
    rules = _RULES.get(name)
    if not rules:
        return []
    id_at, out = columns.index("id"), []
    for column, (accepts, what) in rules.items():
        if column not in columns:
            continue
        at = columns.index(column)
        for row in rows:
            if not accepts(row[at]):
                out.append({"model": name, "id": row[id_at], "code": "invalid",
                            "message": f"{column}: {str(row[at])[:40]!r} is not {what}"})
    return out


class BatchRefused(AppError):
    """The batch was refused whole; nothing was stored. `records` lists the records at fault
    ({"model", "id", "code", "message"}) so an honest van can park them and send the rest."""

    def __init__(self, status: int, code: str, message: str, records_at_fault=None, field=None):
        extra = {"records": records_at_fault} if records_at_fault else {}
        super().__init__(status, code, message, field, **extra)
        self.records = records_at_fault or []


def _header(document: dict, van_id: str) -> dict:
    def need(name, kind, check=lambda v: True):
        value = document.get(name)
        if kind is int:
            value = jsontext.integer(value)
        if type(value) is not kind or not check(value):
            raise BatchRefused(400, "malformed", f"header field {name!r} is missing or invalid", field=name)
        return value
    if document.get("kind", "push") != "push":
        raise BatchRefused(400, "malformed", "header field 'kind' must be 'push'", field="kind")
    key = need("key", str, lambda v: 8 <= len(v) <= KEY_MAX)
    epoch = need("epoch", str, lambda v: 1 <= len(v) <= 64)
    start = need("from", int, lambda v: v >= 0)
    end = need("to", int, lambda v: v >= start)
    claimed = need("van", str)
    if claimed != van_id:
        raise BatchRefused(403, "foreign_van", f"this batch is from {claimed!r}; you are {van_id!r}", field="van")
    waiting = document.get("waiting")
    if waiting is not None:
        waiting = need("waiting", int, lambda v: 0 <= v < 10 ** 9)
    return {"key": key, "epoch": epoch, "from": start, "to": end, "waiting": waiting}


def _decode(document: dict, van_id: str):
    """-> [(Table, columns, rows)] in dependency order, every value checked; or BatchRefused."""
    try:
        entries = decode_models(document.get("models"), MAX_RECORDS)
    except WireError as exc:
        raise BatchRefused(exc.status, "malformed" if exc.status == 400 else "too_large",
                           exc.message, field=exc.where) from None
    by_name, bad, foreign = {}, [], []
    for name, columns, rows in entries:
        table = records.table(name)
        if table is None:
            raise BatchRefused(400, "malformed", f"unknown model {name!r}", field=f"models.{name}")
        unknown = [c for c in columns if c not in table.field_by_name]
        missing = ({"id", "version", "van"} | table.required()) - set(columns)
        if unknown or missing:
            raise BatchRefused(400, "malformed", f"{name}: unknown columns {unknown}, missing columns "
                               f"{sorted(missing)}", field=f"models.{name}")
        columns, rows = _with_defaults(table, columns, rows)
        for record_id, problem in table.check(columns, rows).items():
            bad.append({"model": name, "id": record_id, "code": "invalid", "message": problem})
        if not bad and table.owner == "van":      # the plan's rules: on what the hub would insert
            bad += _break_rules(name, columns, rows)
        ids = [row[0] for row in rows] if columns[0] == "id" else [row[columns.index("id")] for row in rows]
        if len(set(ids)) != len(ids):
            raise BatchRefused(400, "malformed", f"{name}: the same id appears twice in one batch",
                               field=f"models.{name}")
        if table.owner == "van":
            van_at = columns.index("van")
            foreign += [{"model": name, "id": row[columns.index("id")], "code": "foreign_van",
                         "message": f"record belongs to van {row[van_at]!r}"}
                        for row in rows if row[van_at] != van_id]
        by_name[name] = (table, columns, rows)
    if foreign:
        raise BatchRefused(403, "foreign_van", f"{len(foreign)} record(s) claim another van; a van may "
                           "write only its own records", foreign[:50])
    if bad:
        raise BatchRefused(400, "invalid_records", f"{len(bad)} record(s) are invalid", bad[:500])
    return [by_name[t.name] for t in records.ordered_tables() if t.name in by_name]


def _with_defaults(table, columns: list[str], rows: list) -> tuple[list[str], list]:
    """A column the batch leaves out that has a default (an older van's batch, or a terse one)
    gets that default, as the van's own database would have given it: the database is never
    asked to insert a row without a value its schema requires."""
    absent = [f for f in table.fields if f.name not in columns and f.default is not None]
    if not absent or not rows:
        return columns, rows
    def value(field):                       # in wire form, as a van would have sent it
        default = field.default() if callable(field.default) else field.default
        return to_iso(default) if isinstance(default, dt.datetime) else default
    extra = tuple(value(f) for f in absent)
    return columns + [f.name for f in absent], [tuple(row) + extra for row in rows]


def _begin():
    """One transaction per batch, holding the write lock from its start (SQLite) so two copies
    of the same batch arriving together are applied once."""
    return write_transaction()


def _lock_van(van_id: str):
    if not is_sqlite():
        db.execute_sql(f'SELECT "id" FROM "van" WHERE "id" = {db.param} FOR UPDATE', [van_id])


def apply_batch(van_id: str, document: dict, source: str = "push", timezone: str = "Asia/Kolkata") -> dict:
    """Apply one batch for the authenticated `van_id`; return the ack (also stored under its key).
    Raises BatchRefused (nothing stored) when any part of it is refused."""
    if not isinstance(document, dict):
        raise BatchRefused(400, "malformed", "the batch must be a JSON object")
    header = _header(document, van_id)
    decoded = _decode(document, van_id)
    now = to_iso(utcnow())
    try:
        with _begin():
            _lock_van(van_id)
            done = SyncBatch.get_or_none((SyncBatch.van == van_id) & (SyncBatch.key == header["key"]))
            if done is not None:
                if (done.epoch, done.cursor_from, done.cursor_to) != (header["epoch"], header["from"], header["to"]):
                    # an honest van resends a batch under its key for the same outbox range only
                    raise BatchRefused(409, "key_reused", f"batch key {header['key']} was used for another "
                                       f"range ({done.cursor_from}, {done.cursor_to}]", field="key")
                return dict(done.ack, replayed=True)
            counts, written = _store(van_id, decoded, now)
            cursor = _advance_cursor(van_id, header)
            # the numbers follow the records in the same transaction: both are committed or neither
            counted = facts_store.refresh(_touched_screenings(written))
            _follow_screening_events(decoded, timezone, counted)
            facts_store.note_batch(van_id, counts["stored"], source, now)
            changed = counts["stored"] + counts["updated"]
            # a USB bundle brings records, but the van did not reach the hub: no sync, no contact
            contact = {"last_sync_at": now, "last_seen_at": now} if source == "push" else {}
            if source == "push" and header["waiting"] is not None and cursor == header["to"]:
                # what the van will still hold once it has this ack: its own count (PROTOCOL.md)
                contact.update(reported_waiting=header["waiting"], reported_epoch=header["epoch"],
                               reported_at=now)
            Van.update(last_push_at=now, records_received=Van.records_received + changed,
                       **contact).where(Van.id == van_id).execute()
            ack = {"key": header["key"], "epoch": header["epoch"], "from": header["from"],
                   "to": header["to"], "cursor": cursor, "received_at": now, **counts}
            SyncBatch.create(van=van_id, key=header["key"], epoch=header["epoch"], cursor_from=header["from"],
                             cursor_to=header["to"], records=counts["records"], source=source,
                             received_at=now, ack=ack)
    except _INTEGRITY as exc:
        # every constraint we know of is checked above; this is the database's last word (the
        # bulk inserts use the driver's cursor, so its own IntegrityError arrives unwrapped)
        raise BatchRefused(409, "conflict", f"the batch breaks a database constraint: {exc}") from None
    return ack


# the bulk inserts use the driver's cursor, so its own IntegrityError arrives unwrapped
_INTEGRITY = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)


def _store(van_id: str, decoded, now: str) -> tuple[dict, list]:
    """Store what is new or newer; -> (the ack's counts, [(table, columns, rows written)])."""
    counts = {"records": 0, "stored": 0, "updated": 0, "duplicates": 0, "older": 0, "plan_inserted": 0}
    refused, conflicts = [], []
    available = {}                 # model name -> ids that will exist after this batch
    parents = _Parents()
    foreign_plan = {}              # model name -> {id: van} of plan records of another van in the batch
    plans = []
    for table, columns, rows in decoded:
        id_at = columns.index("id")
        version_at = columns.index("version")
        ids = [row[id_at] for row in rows]
        counts["records"] += len(rows)
        stored = table.versions(ids)
        clashes = table.clashes(columns, [r for r in rows if r[id_at] not in stored])
        missing = _missing_parents(table, columns, rows, available, parents)
        if table.owner == "hub":
            # the plan: insert what the hub lacks, never overwrite what it has
            fresh = [r for r in rows if r[id_at] not in stored and r[id_at] not in clashes
                     and r[id_at] not in missing]
            if "van" in columns:
                # a van may bring its own plan to a hub that lacks it, never another van's: such a
                # plan record is not stored, and the van's records about it are refused by name
                # (foreign_van, below), so the van sets those aside and the rest goes in
                van_at = columns.index("van")
                elsewhere = {r[id_at]: r[van_at] for r in fresh if r[van_at] not in ("", van_id)}
                if elsewhere:
                    foreign_plan[table.name] = elsewhere
                    fresh = [r for r in fresh if r[id_at] not in elsewhere]
            refused += [{"model": table.name, "id": i, "code": "missing_parent", "message": m}
                        for i, m in missing.items()]
            refused += _break_rules(table.name, columns, fresh)
            available[table.name] = set(stored) | {r[id_at] for r in fresh}
            plans.append((table, columns, fresh))
            continue
        foreign = _foreign_parents(table, columns, rows, van_id, parents, foreign_plan)
        if foreign:
            raise BatchRefused(403, "foreign_van", f"{len(foreign)} record(s) belong to another van's "
                               "screening; a van may write only about its own",
                               [{"model": table.name, "id": i, "code": "foreign_van", "message": m}
                                for i, m in list(foreign.items())[:500]])
        for record_id, message in missing.items():
            refused.append({"model": table.name, "id": record_id, "code": "missing_parent", "message": message})
        for record_id, message in clashes.items():
            conflicts.append({"model": table.name, "id": record_id, "code": "conflict", "message": message})
        new, newer, same = [], [], []
        for row in rows:
            record_id = row[id_at]
            if record_id in missing or record_id in clashes:
                continue
            held = stored.get(record_id)
            if held is None:
                new.append(row)
            elif held[1] != van_id:
                raise BatchRefused(403, "foreign_van", f"{table.name} {record_id} belongs to another van",
                                   [{"model": table.name, "id": record_id, "code": "foreign_van",
                                     "message": "the hub holds this record for another van"}])
            elif row[version_at] > held[0]:
                newer.append(row)
            elif row[version_at] == held[0]:
                same.append(row)
            else:
                counts["older"] += 1
        for row in _differing(table, columns, same):
            conflicts.append({"model": table.name, "id": row[id_at], "code": "conflict",
                              "message": f"the hub holds version {row[version_at]} with other content"})
        counts["duplicates"] += len(same)
        available[table.name] = set(stored) | {r[id_at] for r in new}
        plans.append((table, columns, (new, newer)))
    if conflicts:
        raise BatchRefused(409, "conflict", f"{len(conflicts)} record(s) conflict with what the hub holds",
                           conflicts[:500] + refused[:500])
    if refused:
        raise BatchRefused(400, "invalid_records", f"{len(refused)} record(s) are invalid or refer to records "
                           "the hub does not have", refused[:500])
    written = []
    for table, columns, work in plans:
        if table.owner == "hub":
            table.insert(columns, work, {"received_at": now}, if_absent=True)
            counts["plan_inserted"] += len(work)
            written.append((table, columns, work))
        else:
            new, newer = work
            table.insert(columns, new, {"received_at": now})
            table.update(columns, newer)
            counts["stored"] += len(new)
            counts["updated"] += len(newer)
            written.append((table, columns, new + newer))
    return counts, written


def _touched_screenings(written) -> set[str]:
    """The screenings whose numbers the written rows may change: those the records are about
    (a game result through its run), new plan screenings (a QR summary may have come first) and
    the screenings whose runs a newly arrived game decides (a quiz's answer, a pledge)."""
    touched, runs, games = set(), {}, set()
    for table, columns, rows in written:
        if not rows or table.name == "PlayLog":         # what played adds to no total
            continue
        id_at = columns.index("id")
        if table.name == "Screening":
            touched.update(row[id_at] for row in rows)
        elif table.name == "Game":
            games.update(row[id_at] for row in rows)
        elif table.owner == "van" and "screening" in columns:
            at = columns.index("screening")
            touched.update(row[at] for row in rows)
            if table.name == "GameRun":
                runs.update((row[id_at], row[at]) for row in rows)
        elif table.name == "GameResult":
            at = columns.index("run")
            runs.update({row[at]: None for row in rows if row[at] not in runs})
    unknown = [run for run, screening in runs.items() if screening is None]
    for start in range(0, len(unknown), records.CHUNK):
        chunk = unknown[start:start + records.CHUNK]
        touched.update(s for (s,) in GameRun.select(GameRun.screening).where(GameRun.id.in_(chunk)).tuples())
    touched.update(s for s in runs.values() if s)
    if games:
        touched.update(s for (s,) in GameRun.select(GameRun.screening).distinct()
                       .where(GameRun.game_id.in_(sorted(games))).tuples())
    return touched


class _Parents:
    """The stored parents a batch's records point at, each looked up once per batch (the checks
    run before anything is written, so what is read stays true until then)."""

    def __init__(self):
        self.held: dict[str, dict[str, tuple]] = {}
        self.asked: dict[str, set] = {}

    def versions(self, parent, ids) -> dict[str, tuple]:
        name = parent.__name__
        held, asked = self.held.setdefault(name, {}), self.asked.setdefault(name, set())
        missing = set(ids) - asked
        if missing:
            held.update(records.table(parent).versions(missing))
            asked |= missing
        return {i: held[i] for i in ids if i in held}


def _missing_parents(table, columns, rows, available, parents: _Parents) -> dict[str, str]:
    """id -> message for rows whose foreign keys point at nothing (not stored, not in the batch)."""
    out = {}
    id_at = columns.index("id")
    for name, parent in table.foreign_keys.items():
        if name not in columns:
            continue
        at = columns.index(name)
        wanted = {row[at] for row in rows if row[at] is not None}
        here = available.get(parent.__name__, set())
        parent_table = records.table(parent) if parent.__name__ in records.SyncModel.registry() else None
        known = wanted if parent_table is None else here | set(parents.versions(parent, wanted - here))
        for row in rows:
            if row[at] is not None and row[at] not in known:
                out.setdefault(row[id_at], f"{name}: {parent.__name__} {row[at]} is not on the hub")
    return out


def _foreign_parents(table, columns, rows, van_id: str, parents: _Parents,
                     in_batch: dict | None = None) -> dict[str, str]:
    """id -> message for rows that point at a record of another van: a tap, play, event or result
    of a screening planned for another van (or of another van's game run). What happened at
    another van's screening is that van's to tell; the coordinator re-plans a screening another
    van covered. Parents the hub does not hold yet are `_missing_parents`' concern."""
    out = {}
    id_at = columns.index("id")
    for name, parent in table.foreign_keys.items():
        if name not in columns or parent.__name__ not in records.SyncModel.registry():
            continue
        at = columns.index(name)
        wanted = {row[at] for row in rows if row[at] is not None}
        owners = {pid: held[1] for pid, held in parents.versions(parent, wanted).items()}
        for pid, owner in (in_batch or {}).get(parent.__name__, {}).items():
            owners.setdefault(pid, owner)
        for row in rows:
            owner = owners.get(row[at])
            if owner not in (None, "", van_id):
                out.setdefault(row[id_at], f"{name}: {parent.__name__} {row[at]} belongs to van {owner!r}")
    return out


def _differing(table, columns, rows):
    """Rows whose stored copy (same id, same version) has other content."""
    if not rows:
        return []
    id_at = columns.index("id")
    stored = dict(zip([r[id_at] for r in rows], rows))
    held = table.read(list(stored))
    by_id = {}
    for values in zip(*held):
        by_id[values[0]] = dict(zip(table.columns, values))
    out = []
    for record_id, row in stored.items():
        copy = by_id.get(record_id)
        if copy is None:
            continue
        if any(copy.get(c) != v and not (c in table.bool_columns and bool(copy.get(c)) == bool(v))
               for c, v in zip(columns, row)):
            out.append(row)
    return out


def _advance_cursor(van_id: str, header: dict) -> int:
    """The cursor moves to `to` only when the batch starts at or before it: the hub then holds
    every record up to `to`. A batch after a gap is stored but leaves the cursor where it was,
    and the van is told, so it sends the gap again."""
    row = VanCursor.get_or_none((VanCursor.van == van_id) & (VanCursor.epoch == header["epoch"]))
    cursor = row.cursor if row else 0
    if header["from"] <= cursor < header["to"]:
        cursor = header["to"]
        if row is None:
            VanCursor.create(van=van_id, epoch=header["epoch"], cursor=cursor)
        else:
            VanCursor.update(cursor=cursor, updated_at=utcnow()).where(VanCursor.id == row.id).execute()
    return cursor


def cursor_for(van_id: str, epoch: str) -> int:
    row = VanCursor.get_or_none((VanCursor.van == van_id) & (VanCursor.epoch == epoch))
    return row.cursor if row else 0


def _follow_screening_events(decoded, timezone: str, counted: dict) -> None:
    """The hub's screening status follows the van's events (latest by event time wins), as the
    recount of this batch's screenings replayed them."""
    touched = set()
    for table, columns, rows in decoded:
        if table.name == "ScreeningEvent":
            at = columns.index("screening")
            touched |= {row[at] for row in rows}
    moved = [i for i in touched if i in counted and counted[i].moved_date]
    starts = dict(Screening.select(Screening.id, Screening.start).where(Screening.id.in_(moved)).tuples()) \
        if moved else {}
    for screening_id in sorted(touched):
        c = counted.get(screening_id)
        if c is None or c.ev_status is None:
            continue
        update = {"status": c.ev_status, "status_reason": c.ev_reason}
        if c.moved_date and screening_id in starts:
            start = c.moved_start or starts[screening_id]
            local = dt.datetime.fromisoformat(f"{c.moved_date}T{start}").replace(tzinfo=ZoneInfo(timezone))
            update.update(date=c.moved_date, start=start, starts_at=local)
        Screening.update(**update).where(Screening.id == screening_id).execute()


# --- summaries from QR codes --------------------------------------------------------------------

def store_summary(night: dict) -> tuple[SummaryReport, bool]:
    """Keep a verified summary (from `decode_summary`); a later scan of the same screening from
    the same van replaces the earlier one. Returns (row, created). A summary about a screening
    planned for another van is kept too, for the coordinators to review, but never counted
    (`counted(row)` says which)."""
    now = utcnow()
    fields = dict(date=night.get("date", ""), village=night.get("village", "")[:200],
                  counts=night.get("counts", {}), total=int(night.get("total", 0)),
                  headcounts=night.get("headcounts", {}), participants=int(night.get("participants", 0)),
                  plays=night.get("plays", []), pledges=night.get("pledges", {}), updated_at=now)
    with _begin():
        row = SummaryReport.get_or_none((SummaryReport.van == night["van"]) &
                                        (SummaryReport.screening == night["screening"]))
        if row is None:
            row, created = SummaryReport.create(van=night["van"], screening=night["screening"],
                                                received_at=now, **fields), True
        else:
            SummaryReport.update(**fields).where(SummaryReport.id == row.id).execute()
            row, created = SummaryReport.get_by_id(row.id), False
        facts_store.refresh([row.screening])
    return row, created


def counted(summary: SummaryReport) -> bool:
    """Whether this summary is the one its screening's numbers may come from (its own van's);
    False for a summary another van sent, kept for review."""
    fact = ScreeningFact.get_or_none(ScreeningFact.screening == summary.screening)
    return fact is not None and fact.qr_van == summary.van


def summaries_in_use():
    """The QR summaries the dashboard counts: each screening's own van's, where no tally
    events were synced. Once a screening's taps arrive by sync they are the truth and the
    summary is only a record of what the QR said (never add both)."""
    return (SummaryReport.select().join(ScreeningFact, on=(
        (ScreeningFact.screening == SummaryReport.screening) & (ScreeningFact.qr_van == SummaryReport.van)))
        .where(ScreeningFact.tapped == 0))


def parse_time(text: str):
    return from_iso(text)
