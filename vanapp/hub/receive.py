"""The hub receiving a van's batch (pushed over HTTP or carried in a bundle): check it whole,
apply it in one transaction, idempotently, and answer with the acknowledged cursor.

Rules (PROTOCOL.md): records are keyed by id with a version — an older or equal copy never
overwrites; the same id and version with other content is a conflict (409), never merged. A van
writes only records of its own van (403 otherwise, nothing stored). Plan records a van sends
along are inserted only if the hub lacks them. A repeated batch key gets the first answer again.
"""
import datetime as dt
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from ..db import is_sqlite, write_transaction
from ..errors import AppError
from ..ids import from_iso, to_iso, utcnow
from ..models import Screening, ScreeningEvent, SummaryReport, SyncBatch, TallyEvent, Van, VanCursor, db
from ..protocol import records
from ..protocol.wire import MAX_RECORDS, WireError, decode_models

KEY_MAX = 64


def _rules() -> dict:
    """model -> column -> (accepts(value), what it must be): what the van app itself would
    refuse is refused here too, so a forged batch cannot put a tap of +1000 or a negative
    headcount in a coordinator's report."""
    from ..attendance.participants import AGE_BANDS, GENDERS
    from ..attendance.tally import CATEGORY_NAME, HEADCOUNT_KINDS
    from ..models.playback import OUTCOMES
    from ..tours.lifecycle import EVENT_KINDS

    def one_of(values):
        return (lambda v: v in values), "one of " + ", ".join(values)
    return {
        "TallyEvent": {"delta": ((lambda v: type(v) is int and v in (1, -1)), "1 or -1"),
                       "category": ((lambda v: isinstance(v, str) and bool(CATEGORY_NAME.match(v))),
                                    "a category name (a-z, 0-9, - or _)")},
        "Headcount": {"kind": one_of(HEADCOUNT_KINDS),
                      "count": ((lambda v: type(v) is int and 0 <= v <= 1_000_000), "a count from 0")},
        "Participant": {"gender": one_of(GENDERS), "age_band": one_of(AGE_BANDS)},
        "PlayLog": {"outcome": one_of(OUTCOMES),
                    "position_ms": ((lambda v: v is None or (type(v) is int and v >= 0)), "a position from 0")},
        "ScreeningEvent": {"kind": one_of(EVENT_KINDS)},
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
        if type(value) is not kind or not check(value):
            raise BatchRefused(400, "malformed", f"header field {name!r} is missing or invalid", field=name)
        return value
    key = need("key", str, lambda v: 8 <= len(v) <= KEY_MAX)
    epoch = need("epoch", str, lambda v: 1 <= len(v) <= 64)
    start = need("from", int, lambda v: v >= 0)
    end = need("to", int, lambda v: v >= start)
    claimed = document.get("van")
    if claimed is not None and claimed != van_id:
        raise BatchRefused(403, "foreign_van", f"this batch is from {claimed!r}; you are {van_id!r}", field="van")
    return {"key": key, "epoch": epoch, "from": start, "to": end}


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
        for record_id, problem in table.check(columns, rows).items():
            bad.append({"model": name, "id": record_id, "code": "invalid", "message": problem})
        if not bad:
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
            counts = _store(van_id, decoded, now)
            cursor = _advance_cursor(van_id, header)
            _follow_screening_events(decoded, timezone)
            changed = counts["stored"] + counts["updated"]
            # a USB bundle brings records, but the van did not reach the hub: no sync, no contact
            contact = {"last_sync_at": now, "last_seen_at": now} if source == "push" else {}
            Van.update(last_push_at=now, records_received=Van.records_received + changed,
                       **contact).where(Van.id == van_id).execute()
            ack = {"key": header["key"], "epoch": header["epoch"], "from": header["from"],
                   "to": header["to"], "cursor": cursor, "received_at": now, **counts}
            SyncBatch.create(van=van_id, key=header["key"], epoch=header["epoch"], cursor_from=header["from"],
                             cursor_to=header["to"], records=counts["records"], source=source,
                             received_at=now, ack=ack)
    except IntegrityError as exc:
        # every constraint we know of is checked above; this is the database's last word
        raise BatchRefused(409, "conflict", f"the batch breaks a database constraint: {exc}") from None
    return ack


def _store(van_id: str, decoded, now: str) -> dict:
    counts = {"records": 0, "stored": 0, "updated": 0, "duplicates": 0, "older": 0, "plan_inserted": 0}
    refused, conflicts = [], []
    available = {}                 # model name -> ids that will exist after this batch
    plans = []
    for table, columns, rows in decoded:
        id_at = columns.index("id")
        version_at = columns.index("version")
        ids = [row[id_at] for row in rows]
        counts["records"] += len(rows)
        stored = table.versions(ids)
        clashes = table.clashes(columns, [r for r in rows if r[id_at] not in stored])
        missing = _missing_parents(table, columns, rows, available)
        if table.owner == "hub":
            # the plan: insert what the hub lacks, never overwrite what it has
            fresh = [r for r in rows if r[id_at] not in stored and r[id_at] not in clashes
                     and r[id_at] not in missing]
            if "van" in columns:
                # a van may bring its own plan to a hub that lacks it, never another van's
                van_at = columns.index("van")
                foreign = [r[id_at] for r in fresh if r[van_at] not in ("", van_id)]
                if foreign:
                    raise BatchRefused(403, "foreign_van", f"{table.name} {foreign[0]} is planned for "
                                       "another van", [{"model": table.name, "id": i, "code": "foreign_van",
                                                        "message": "planned for another van"} for i in foreign[:500]])
            refused += [{"model": table.name, "id": i, "code": "missing_parent", "message": m}
                        for i, m in missing.items()]
            available[table.name] = set(stored) | {r[id_at] for r in fresh}
            plans.append((table, columns, fresh))
            continue
        foreign = _foreign_parents(table, columns, rows, van_id)
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
        raise BatchRefused(400, "invalid_records", f"{len(refused)} record(s) refer to records the hub "
                           "does not have", refused[:500])
    for table, columns, work in plans:
        if table.owner == "hub":
            table.insert(columns, work, {"received_at": now}, if_absent=True)
            counts["plan_inserted"] += len(work)
        else:
            new, newer = work
            table.insert(columns, new, {"received_at": now})
            table.update(columns, newer)
            counts["stored"] += len(new)
            counts["updated"] += len(newer)
    return counts


def _missing_parents(table, columns, rows, available) -> dict[str, str]:
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
        known = wanted if parent_table is None else here | parent_table.existing_ids(wanted - here)
        for row in rows:
            if row[at] is not None and row[at] not in known:
                out.setdefault(row[id_at], f"{name}: {parent.__name__} {row[at]} is not on the hub")
    return out


def _foreign_parents(table, columns, rows, van_id: str) -> dict[str, str]:
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
        owners = {pid: held[1] for pid, held in records.table(parent).versions(wanted).items()}
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


STATUS_AFTER = {"started": "in_progress", "finished": "done", "cancelled": "cancelled",
                "rescheduled": "planned"}


def _follow_screening_events(decoded, timezone: str) -> None:
    """The hub's screening status follows the van's events (latest by event time wins)."""
    touched = set()
    for table, columns, rows in decoded:
        if table.name == "ScreeningEvent":
            at = columns.index("screening")
            touched |= {row[at] for row in rows}
    for screening_id in touched:
        events = list(ScreeningEvent.select().where(ScreeningEvent.screening == screening_id)
                      .order_by(ScreeningEvent.at, ScreeningEvent.id))
        status, reason, date, start, started = "planned", "", None, None, False
        for event in events:
            if event.kind == "reopened":
                status, reason = ("in_progress" if started else "planned"), event.reason
            elif event.kind in STATUS_AFTER:
                status, reason = STATUS_AFTER[event.kind], event.reason
                started = started or event.kind == "started"
                if event.kind == "rescheduled" and event.new_date:
                    date, start = event.new_date, event.new_start or None
        update = {"status": status, "status_reason": reason}
        if date:
            current = Screening.get_or_none(Screening.id == screening_id)
            if current is not None:
                start = start or current.start
                local = dt.datetime.fromisoformat(f"{date}T{start}").replace(tzinfo=ZoneInfo(timezone))
                update.update(date=date, start=start, starts_at=local)
        Screening.update(**update).where(Screening.id == screening_id).execute()


# --- summaries from QR codes --------------------------------------------------------------------

def store_summary(night: dict) -> tuple[SummaryReport, bool]:
    """Keep a verified summary (from `decode_summary`); a later scan of the same screening
    replaces the earlier one. Returns (row, created)."""
    now = utcnow()
    fields = dict(date=night.get("date", ""), village=night.get("village", "")[:200],
                  counts=night.get("counts", {}), total=int(night.get("total", 0)),
                  headcounts=night.get("headcounts", {}), participants=int(night.get("participants", 0)),
                  plays=night.get("plays", []), pledges=night.get("pledges", {}), updated_at=now)
    with db.atomic():
        row = SummaryReport.get_or_none((SummaryReport.van == night["van"]) &
                                        (SummaryReport.screening == night["screening"]))
        if row is None:
            return SummaryReport.create(van=night["van"], screening=night["screening"],
                                        received_at=now, **fields), True
        SummaryReport.update(**fields).where(SummaryReport.id == row.id).execute()
        return SummaryReport.get_by_id(row.id), False


def summaries_in_use():
    """The QR summaries the dashboard should count: those of screenings with no synced tally
    events. Once a screening's taps arrive by sync they are the truth and the summary is only
    a record of what the QR said (never add both)."""
    synced = TallyEvent.select(TallyEvent.screening).distinct()
    return SummaryReport.select().where(SummaryReport.screening.not_in(synced))


def parse_time(text: str):
    return from_iso(text)
