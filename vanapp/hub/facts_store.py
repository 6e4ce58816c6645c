"""Keeping the hub's facts (models/hub_facts.py) equal to a recount of its records.

`refresh(ids)` recounts the screenings a batch or a summary touched and rewrites their rows, in
the caller's transaction; `note_batch` keeps the per-van numbers. `rebuild()` recounts every
screening (migration 0100, `vanapp hub facts --rebuild`) and `check()` recounts without writing
and lists every difference (`vanapp hub facts --check`). Pure functions over the models.
"""
import datetime as dt
from dataclasses import dataclass

from peewee import SqliteDatabase

from ..ids import to_iso
from ..models import (FactCategory, FactParticipant, FactPoll, FactQuiz, Screening, ScreeningFact,
                      SummaryReport, SyncBatch, SyncModel, VanFact, db)
from ..models.hub_facts import PLAN_COLUMNS
from . import month_sums
from .recount import CHUNK, Counted, recount

DETAILS = {"category": FactCategory, "participant": FactParticipant, "quiz": FactQuiz, "poll": FactPoll}
_LOCK_SPACE = 0x56414E          # advisory-lock namespace of the facts ("VAN")


def _sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def _columns(model) -> list[str]:
    return [f.column_name for f in model._meta.sorted_fields]


def _plain(value):
    return to_iso(value) if isinstance(value, dt.datetime) else value


def _insert(model, rows: list[tuple]) -> None:
    if not rows:
        return
    names = _columns(model)
    marks = ", ".join([db.param] * len(names))
    sql = (f'INSERT INTO "{model._meta.table_name}" ({", ".join(chr(34) + n + chr(34) for n in names)}) '
           f"VALUES ({marks})")
    db.cursor().executemany(sql, [tuple(_plain(v) for v in row) for row in rows])


def _delete(model, column: str, ids: list[str]) -> None:
    marks = ", ".join([db.param] * len(ids))
    db.execute_sql(f'DELETE FROM "{model._meta.table_name}" WHERE "{column}" IN ({marks})', ids)


def lock(ids: list[str]) -> None:
    """Hold these screenings' facts until the transaction ends (PostgreSQL: several hub processes
    may store a batch and a summary of the same screening at once; each recount then sees the
    other's committed records). SQLite has one writer at a time: nothing to do."""
    if _sqlite() or not ids:
        return
    db.execute_sql("SELECT pg_advisory_xact_lock(%s, k) FROM (SELECT DISTINCT hashtext(x) AS k "
                   "FROM unnest(%s::text[]) AS x ORDER BY k) AS keys", [_LOCK_SPACE, list(ids)])


def refresh(ids) -> dict:
    """Recount the screenings `ids` and rewrite their facts; -> what was counted (by id). Call
    inside the transaction that stored their records, so both are committed together."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    lock(ids)
    counted = recount(ids)
    _write(ids, counted)
    return counted


RECORD_COLUMNS = tuple(Counted("").row())           # what the recount writes (the plan's copy is the triggers')


def _write(ids: list[str], counted: dict) -> None:
    """Rewrite what the records say of `ids` (never the plan's copy): a row per planned screening
    always, a row per other screening only while a summary names it."""
    table = ScreeningFact._meta.table_name
    names = ", ".join(f'"{c}"' for c in RECORD_COLUMNS)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in RECORD_COLUMNS[1:])
    marks = ", ".join([db.param] * len(RECORD_COLUMNS))
    rows = [tuple(_plain(v) for v in (counted.get(i) or Counted(i)).row().values()) for i in ids]
    db.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks}) '
                            f'ON CONFLICT ("screening") DO UPDATE SET {updates}', rows)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for model in DETAILS.values():
            _delete(model, "screening", chunk)
        marks = ", ".join([db.param] * len(chunk))
        db.execute_sql(f'DELETE FROM "{table}" WHERE "screening" IN ({marks}) AND planned = 0 '
                       "AND qr_van IS NULL AND for_review = 0", chunk)
    filters = _filter_values([i for i in ids if i in counted])
    for name, model in DETAILS.items():
        extra = (lambda i: filters.get(i, FILTER_DEFAULTS)) if name in FILTERED else (lambda i: ())
        _insert(model, [row + tuple(extra(c.screening)) for c in counted.values() for row in c.details()[name]])


FILTERED = ("participant", "quiz", "poll")        # detail tables that carry their screening's filters
FILTER_COLUMNS = ("held", "eff_date", "eff_van", "district", "campaign")
FILTER_DEFAULTS = (0, "", "", "", "")


def _filter_values(ids: list[str]) -> dict[str, tuple]:
    """screening -> what the dashboard filters on, as its row says now (the database derived it)."""
    out = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        marks = ", ".join([db.param] * len(chunk))
        cursor = db.execute_sql(f'SELECT screening, {", ".join(FILTER_COLUMNS)} FROM '
                                f'"{ScreeningFact._meta.table_name}" WHERE screening IN ({marks})', chunk)
        for screening, *values in cursor.fetchall():
            out[screening] = tuple(d if v is None else v for v, d in zip(values, FILTER_DEFAULTS))
    return out


def sync_plan() -> None:
    """Copy the plan into every screening's row, as the triggers of migration 0100 do one change
    at a time (a rebuild, and the migration's fill, do it for all)."""
    table = ScreeningFact._meta.table_name
    plan = ", ".join(PLAN_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in PLAN_COLUMNS)
    db.execute_sql(
        f'INSERT INTO "{table}" (screening, {plan}) SELECT s.id, 1, s.van, s.date, s.start, s.status, '
        "s.status_reason, s.tour_id, COALESCE(t.campaign_id, ''), s.village_id, v.name, v.name_en, v.block, "
        f'v.district FROM "{Screening._meta.table_name}" s JOIN village v ON v.id = s.village_id '
        f"JOIN tour t ON t.id = s.tour_id WHERE 1 = 1 ON CONFLICT (screening) DO UPDATE SET {updates}")
    db.execute_sql(f'UPDATE "{table}" SET planned = 0 WHERE planned = 1 AND NOT EXISTS '
                   f'(SELECT 1 FROM "{Screening._meta.table_name}" s WHERE s.id = "{table}".screening)')


def note_batch(van_id: str, stored: int, source: str, now) -> None:
    """A batch of `van_id` was applied, storing `stored` new records at `now`."""
    now = to_iso(now) if isinstance(now, dt.datetime) else now
    table = VanFact._meta.table_name
    p = db.param
    db.execute_sql(
        f'INSERT INTO "{table}" (van, records, last_received, batches, bundles) VALUES ({p}, {p}, {p}, {p}, {p}) '
        f'ON CONFLICT (van) DO UPDATE SET records = "{table}".records + excluded.records, '
        f'last_received = CASE WHEN excluded.last_received IS NOT NULL AND ("{table}".last_received IS NULL '
        f'OR excluded.last_received > "{table}".last_received) THEN excluded.last_received '
        f'ELSE "{table}".last_received END, '
        f'batches = "{table}".batches + excluded.batches, bundles = "{table}".bundles + excluded.bundles',
        [van_id, stored, now if stored else None, int(source != "bundle"), int(source == "bundle")])


# --- recount everything ------------------------------------------------------------------------

def all_ids() -> list[str]:
    """Every screening the hub knows: planned, or named by a QR summary."""
    planned = {i for (i,) in Screening.select(Screening.id).tuples()}
    summarised = {i for (i,) in SummaryReport.select(SummaryReport.screening).distinct().tuples()}
    return sorted(planned | summarised)


def _write_transaction():
    return db.atomic("IMMEDIATE") if _sqlite() else db.atomic()


def rebuild(progress=None) -> dict:
    """Recount every screening and every van from the records, a chunk of screenings per
    transaction (batches arriving meanwhile wait only for their own screenings' chunk)."""
    # Inside a caller's transaction (migration 0100's fill) the chunks are savepoints and their
    # locks would pile up until it ends: hold the whole table once instead (writers wait, readers not).
    whole = db.in_transaction()
    if whole and not _sqlite():
        db.execute_sql(f'LOCK TABLE "{ScreeningFact._meta.table_name}" IN EXCLUSIVE MODE')
    with _write_transaction():
        sync_plan()
    ids = all_ids()
    rows = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        with _write_transaction():
            if not whole:
                lock(chunk)
            counted = recount(chunk)
            _write(chunk, counted)
        rows += len(counted)
        if not _sqlite() and start // CHUNK % 20 == 1:
            # tables filled from empty in one transaction (migration 0100) have no statistics
            # yet: without them each chunk's DELETE would scan the whole table
            for model in (ScreeningFact, *DETAILS.values()):
                db.execute_sql(f'ANALYZE "{model._meta.table_name}"')
        if progress:
            progress(min(start + CHUNK, len(ids)), len(ids))
    with _write_transaction():
        known = set(ids)
        stale = [i for (i,) in ScreeningFact.select(ScreeningFact.screening).tuples() if i not in known]
        for start in range(0, len(stale), CHUNK):
            _delete(ScreeningFact, "screening", stale[start:start + CHUNK])
            for model in DETAILS.values():
                _delete(model, "screening", stale[start:start + CHUNK])
    with _write_transaction():
        if not _sqlite():
            db.execute_sql(f'LOCK TABLE "{VanFact._meta.table_name}" IN EXCLUSIVE MODE')
        VanFact.delete().execute()
        _insert(VanFact, [tuple(v[n] for n in _columns(VanFact)) for v in recount_vans().values()])
    with _write_transaction():
        month_sums.fill()           # the triggers kept them through the recount; rewritten all the same
    return {"screenings": len(ids), "rows": rows, "removed": len(stale)}


def recount_vans() -> dict[str, dict]:
    """van -> VanFact values, counted from the van-owned records and the applied batches."""
    out: dict[str, dict] = {}

    def entry(van):
        return out.setdefault(van, {"van": van, "records": 0, "last_received": None, "batches": 0, "bundles": 0})
    for model in SyncModel.registry().values():
        if getattr(model._meta, "sync_owner", None) != "van":
            continue
        table = model._meta.table_name
        cursor = db.execute_sql(f'SELECT van, COUNT(*), MAX(received_at) FROM "{table}" '
                                f"WHERE van <> '' GROUP BY van")
        for van, n, last in cursor.fetchall():
            e = entry(van)
            e["records"] += n
            if last is not None and (e["last_received"] is None or last > e["last_received"]):
                e["last_received"] = last
    cursor = db.execute_sql(f'SELECT van, source, COUNT(*) FROM "{SyncBatch._meta.table_name}" GROUP BY van, source')
    for van, source, n in cursor.fetchall():
        entry(van)["bundles" if source == "bundle" else "batches"] += n
    return out


# --- compare -------------------------------------------------------------------------------------

@dataclass
class Difference:
    what: str            # "screening" | "van" | "month"
    key: str             # screening id or van id
    field: str
    stored: object
    recounted: object

    def __str__(self):
        return f"{self.what} {self.key}: {self.field} is {self.stored!r}, a recount gives {self.recounted!r}"


def _stored_rows(chunk: list[str]) -> tuple[dict, dict]:
    names = RECORD_COLUMNS + ("planned",)
    marks = ", ".join([db.param] * len(chunk))
    rows = {}
    cursor = db.execute_sql(f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} FROM '
                            f'"{ScreeningFact._meta.table_name}" WHERE screening IN ({marks})', chunk)
    for values in cursor.fetchall():
        rows[values[0]] = dict(zip(names, values))
    details = {}
    for name, model in DETAILS.items():
        cols = [c for c in _columns(model) if c not in FILTER_COLUMNS]
        cursor = db.execute_sql(f'SELECT {", ".join(chr(34) + n + chr(34) for n in cols)} FROM '
                                f'"{model._meta.table_name}" WHERE screening IN ({marks})', chunk)
        for values in cursor.fetchall():
            details.setdefault(values[0], {}).setdefault(name, []).append(tuple(values))
    return rows, details


def check(progress=None, limit: int = 1000) -> list[Difference]:
    """Recount every screening and van and compare with the stored facts, and the plan's copy
    with the plan; [] when they agree. Reads in chunks (memory stays flat); stops listing after
    `limit` differences."""
    out: list[Difference] = _plan_differences(limit) + _filter_differences(limit)
    ids = all_ids()
    planned = {i for (i,) in Screening.select(Screening.id).tuples()}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        counted = recount(chunk)
        rows, details = _stored_rows(chunk)
        for i in chunk:
            want = counted.get(i) or (Counted(i) if i in planned else None)
            have = rows.get(i)
            if want is None and have is None:
                continue
            if have is None or want is None:
                out.append(Difference("screening", i, "row", "present" if have else "missing",
                                      "present" if want else "missing"))
                continue
            for n, value in want.row().items():
                if have[n] != _plain(value):
                    out.append(Difference("screening", i, n, have[n], _plain(value)))
            want_details = want.details()
            for name in DETAILS:
                stored = sorted(details.get(i, {}).get(name, []))
                wanted = sorted(want_details[name])
                if stored != wanted:
                    out.append(Difference("screening", i, name, stored, wanted))
        if progress:
            progress(min(start + CHUNK, len(ids)), len(ids))
        if len(out) >= limit:
            return out[:limit]
    stray = ScreeningFact.select(ScreeningFact.screening).where(
        ScreeningFact.screening.not_in(Screening.select(Screening.id)) &
        ScreeningFact.screening.not_in(SummaryReport.select(SummaryReport.screening))).tuples()
    out += [Difference("screening", i, "row", "present", "missing") for (i,) in stray]
    stored_vans = {v["van"]: v for v in VanFact.select().dicts()}
    for van, want in recount_vans().items():
        have = stored_vans.pop(van, None)
        for n in ("records", "last_received", "batches", "bundles"):
            value = _plain(have[n]) if have else None
            if value != want[n] and not (have is None and not want[n]):
                out.append(Difference("van", van, n, value, want[n]))
    for van, have in stored_vans.items():
        if have["records"] or have["batches"] or have["bundles"]:
            out.append(Difference("van", van, "row", "present", "missing"))
    out += [Difference("month", key, name, stored, summed) for key, name, stored, summed in month_sums.check(limit)]
    return out[:limit]


def _filter_differences(limit: int) -> list[Difference]:
    """Detail rows whose copy of their screening's filters is not what its row says."""
    out = []
    table = ScreeningFact._meta.table_name
    for name in FILTERED:
        detail = DETAILS[name]._meta.table_name
        differs = " OR ".join(f"d.{c} <> COALESCE(f.{c}, {0 if c == 'held' else repr('')})" for c in FILTER_COLUMNS)
        found = db.execute_sql(f'SELECT DISTINCT d.screening FROM "{detail}" d JOIN "{table}" f '
                               f"ON f.screening = d.screening WHERE {differs} LIMIT {int(limit)}").fetchall()
        out += [Difference("screening", i, f"{name} filters", "the detail rows' copy", "the screening's row")
                for (i,) in found]
    return out


def _plan_differences(limit: int) -> list[Difference]:
    """Rows whose copy of the plan is not the plan (the triggers keep it; nothing else may)."""
    table = ScreeningFact._meta.table_name
    plan = ["1", "s.van", "s.date", "s.start", "s.status", "s.status_reason", "s.tour_id",
            "COALESCE(t.campaign_id, '')", "s.village_id", "v.name", "v.name_en", "v.block", "v.district"]
    differs = " OR ".join(f"f.{c} <> {p}" for c, p in zip(PLAN_COLUMNS, plan))
    found = db.execute_sql(
        f'SELECT s.id FROM "{Screening._meta.table_name}" s JOIN village v ON v.id = s.village_id '
        f'JOIN tour t ON t.id = s.tour_id LEFT JOIN "{table}" f ON f.screening = s.id '
        f"WHERE f.screening IS NULL OR {differs} "
        f'UNION ALL SELECT f.screening FROM "{table}" f WHERE f.planned = 1 AND NOT EXISTS '
        f'(SELECT 1 FROM "{Screening._meta.table_name}" s WHERE s.id = f.screening) LIMIT {int(limit)}').fetchall()
    return [Difference("screening", i, "plan", "the row's copy of the plan", "the plan") for (i,) in found]
