"""The kept facts as SQL: one row per screening under the dashboard's filters — the plan as it
is now, joined with what its van told (models/hub_facts.py) — for reports.py and exports.py to
sum, page through and stream. The choices made here (held, source, which count stands) are the
rules of recount.py's module docstring written as SQL; tests hold the two to the same numbers.
"""
from collections import Counter
from contextlib import contextmanager

from peewee import SqliteDatabase

from ..ids import from_iso
from ..models import FactCategory, FactPoll, FactQuiz, ScreeningFact, SummaryReport, db
from .facts import GENDER_AGE, OTHER, Facts

# One row per screening, from one table: the plan's copy and what the van told (a night known
# only from its QR summary has no plan: its date, village and van are the summary's).
_INNER = """
SELECT screening AS id,
  CASE WHEN planned = 1 THEN COALESCE(moved_date, plan_date) ELSE qr_date END AS date,
  CASE WHEN planned = 1 THEN COALESCE(moved_start, plan_start) ELSE '' END AS start,
  CASE WHEN planned = 1 THEN plan_van ELSE qr_van END AS van,
  tour, campaign,
  CASE WHEN planned = 1 THEN village_id ELSE 'qr:' || qr_van || ':' || qr_village END AS village_id,
  CASE WHEN planned = 1 THEN village ELSE qr_village END AS village,
  CASE WHEN planned = 1 THEN village_en ELSE qr_village END AS village_en,
  block, district,
  COALESCE(ev_status, CASE WHEN planned = 1 THEN plan_status ELSE 'planned' END) AS status,
  CASE WHEN ev_status IS NOT NULL THEN ev_reason WHEN planned = 1 THEN plan_reason ELSE '' END AS status_reason,
  CASE WHEN qr_van IS NOT NULL AND (planned = 0 OR plan_van = '' OR plan_van = qr_van) THEN 1 ELSE 0 END AS qr_ok,
  {facts}
FROM {fact} f
WHERE (planned = 1 OR qr_van IS NOT NULL) {where}"""
_FACT_COLUMNS = ("began", "tapped", "men", "women", "boys", "girls", "other", "people", "taps", "corrections",
                 "head_start", "head_end", "participants", "has_pledge", "pledges", "received_at",
                 "qr_counts", "q_men", "q_women", "q_boys", "q_girls", "q_other", "q_people", "q_participants",
                 "qr_pledges", "q_pledges", "qr_received_at", "for_review")
_QR_COUNTS = "f_qr_counts = 1 AND qr_ok = 1 AND f_tapped = 0"
_OUTER = f"""
SELECT id, date, start, van, tour, campaign, village_id, village, village_en, block, district, status,
  status_reason,
  CASE WHEN status <> 'cancelled' AND (status IN ('done', 'in_progress') OR f_began = 1
       OR f_tapped = 1 OR qr_ok = 1) THEN 1 ELSE 0 END AS held,
  CASE WHEN f_tapped = 1 THEN 'synced' WHEN {_QR_COUNTS} THEN 'qr_summary' ELSE '' END AS source,
  {", ".join(f"CASE WHEN f_tapped = 1 THEN f_{b} WHEN {_QR_COUNTS} THEN f_q_{b} ELSE 0 END AS {b}"
             for b in GENDER_AGE + (OTHER, "people"))},
  CASE WHEN f_participants > 0 THEN f_participants WHEN qr_ok = 1 THEN f_q_participants ELSE 0 END
    AS participant_total,
  CASE WHEN f_participants = 0 AND qr_ok = 1 THEN f_q_participants ELSE 0 END AS qr_participants,
  CASE WHEN f_has_pledge = 1 THEN f_pledges WHEN f_qr_pledges = 1 AND qr_ok = 1 THEN f_q_pledges ELSE 0 END
    AS pledges,
  CASE WHEN f_has_pledge = 1 THEN 'synced' WHEN f_qr_pledges = 1 AND qr_ok = 1 THEN 'qr_summary' ELSE '' END
    AS pledge_source,
  CASE WHEN {_QR_COUNTS} AND f_qr_received_at IS NOT NULL
            AND (f_received_at IS NULL OR f_qr_received_at > f_received_at)
       THEN f_qr_received_at ELSE f_received_at END AS received_at,
  f_taps AS taps, f_corrections AS corrections, f_head_start AS head_start, f_head_end AS head_end,
  f_for_review AS for_review
FROM ({{inner}}) AS inner_rows"""
COLUMNS = ("id", "date", "start", "van", "tour", "campaign", "village_id", "village", "village_en", "block",
           "district", "status", "status_reason", "held", "source") + GENDER_AGE + (OTHER, "people") + (
    "participant_total", "qr_participants", "pledges", "pledge_source", "received_at", "taps", "corrections",
    "head_start", "head_end", "for_review")
ORDER = "ORDER BY date, start, id"


def rows(filters, where: str = "", params=()) -> tuple[str, list]:
    """(SQL, parameters) of one row per screening under `filters` (reports.Filters), named as
    COLUMNS, further narrowed by `where` (SQL over those columns, with `?` for each of `params`)."""
    facts = ", ".join(f"f.{c} AS f_{c}" for c in _FACT_COLUMNS)
    inner_where, inner_params = [], []
    # a night known only from its QR summary has no district or campaign
    for column, value in (("district", filters.district), ("campaign", filters.campaign)):
        if value:
            inner_where.append(f"AND planned = 1 AND {column} = ?")
            inner_params.append(value)
    if filters.van:
        inner_where.append("AND ((planned = 1 AND plan_van = ?) OR (planned = 0 AND qr_van = ?))")
        inner_params += [filters.van, filters.van]
    inner = _INNER.format(facts=facts, where=" ".join(inner_where),
                          fact=f'"{ScreeningFact._meta.table_name}"')
    outer_where, outer_params = [], []
    if filters.date_from:
        outer_where.append("AND date >= ?")
        outer_params.append(filters.date_from)
    if filters.date_to:
        outer_where.append("AND date <= ?")
        outer_params.append(filters.date_to)
    if where:
        outer_where.append(f"AND ({where})")
        outer_params += list(params)
    # one level up, so the conditions may name the computed columns (held, source...)
    sql = f"SELECT * FROM ({_OUTER.format(inner=inner)}) AS screening_rows WHERE 1 = 1 {' '.join(outer_where)}"
    return sql, inner_params + outer_params


def postgres() -> bool:
    return not isinstance(db.obj, SqliteDatabase)


def cte_materialized() -> bool:
    """Whether `WITH x AS MATERIALIZED` is understood (PostgreSQL 12+, SQLite 3.35+)."""
    import sqlite3
    return postgres() or sqlite3.sqlite_version_info >= (3, 35)


def execute(sql: str, params=()):
    """Run SQL written with `?` placeholders on either database."""
    if db.param != "?":
        sql = sql.replace("?", db.param)
    return db.execute_sql(sql, list(params))


def as_facts(values) -> Facts:
    """A row of COLUMNS -> Facts."""
    r = dict(zip(COLUMNS, values))
    received = r["received_at"]
    return Facts(
        id=r["id"], date=r["date"], start=r["start"], van=r["van"], tour=r["tour"], campaign=r["campaign"],
        village_id=r["village_id"], village=r["village"], village_en=r["village_en"], block=r["block"],
        district=r["district"], status=r["status"], status_reason=r["status_reason"] or "",
        held=bool(r["held"]), source=r["source"], received_at=from_iso(received) if received else None,
        buckets={b: r[b] for b in GENDER_AGE + (OTHER,)}, people=r["people"],
        participant_total=r["participant_total"], qr_participants=r["qr_participants"], pledges=r["pledges"],
        pledge_source=r["pledge_source"], taps_total=r["taps"], corrections_total=r["corrections"],
        for_review=r["for_review"],
        headcounts={k: v for k, v in (("start", r["head_start"]), ("end", r["head_end"])) if v is not None})


@contextmanager
def streamed(sql: str, params=(), size: int = 2000):
    """Iterate the rows of a query without holding them all: PostgreSQL through a server-side
    cursor (in a read transaction), SQLite through its own lazy cursor."""
    if db.param != "?":
        sql = sql.replace("?", db.param)
    if isinstance(db.obj, SqliteDatabase):
        cursor = db.execute_sql(sql, list(params))
        try:
            yield iter(cursor)
        finally:
            cursor.close()
        return
    with db.atomic():
        cursor = db.connection().cursor(name="vankit_stream")
        cursor.itersize = size
        try:
            cursor.execute(sql, list(params))
            yield iter(cursor)
        finally:
            cursor.close()


def load_details(facts: list[Facts], quiz_polls: bool = False) -> None:
    """Fill each Facts' per-category counts (of the source that stands), and on request its quiz
    and poll tallies, from the detail rows: a few queries for up to a few hundred screenings."""
    by_id = {f.id: f for f in facts}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for screening, source, category, count, taps, corrections in execute(
                f'SELECT screening, source, category, count, taps, corrections FROM '
                f'"{FactCategory._meta.table_name}" WHERE screening IN ({marks})', chunk).fetchall():
            f = by_id[screening]
            if source == f.source:
                f.counts[category] = count
                if source == "synced":
                    f.taps[category], f.corrections[category] = taps, corrections
        if not quiz_polls:
            continue
        for screening, game, question, answers, correct in execute(
                f'SELECT screening, game, question, answers, correct FROM "{FactQuiz._meta.table_name}" '
                f"WHERE screening IN ({marks})", chunk).fetchall():
            by_id[screening].quiz[(game, question)] = [answers, correct]
        for screening, game, question, phase, choice, n in execute(
                f'SELECT screening, game, question, phase, choice, n FROM "{FactPoll._meta.table_name}" '
                f"WHERE screening IN ({marks})", chunk).fetchall():
            by_id[screening].polls.setdefault((game, question), {}).setdefault(phase, Counter())[choice] = n


def one(screening_id: str) -> Facts | None:
    """One screening, with its details, the summary it counts (`qr`) and those kept for review."""
    from .reports import Filters
    sql, params = rows(Filters(), "id = ?", [screening_id])
    found = execute(sql, params).fetchone()
    if found is None:
        return None
    f = as_facts(found)
    load_details([f], quiz_polls=True)
    fact = ScreeningFact.get_or_none(ScreeningFact.screening == screening_id)
    in_use = fact.qr_van if fact is not None else None
    for s in (SummaryReport.select().where(SummaryReport.screening == screening_id)
              .order_by(SummaryReport.received_at, SummaryReport.id)):
        entry = {"van": s.van, "counts": s.counts or {}, "pledges": s.pledges or {}, "total": s.total,
                 "participants": s.participants or 0, "received_at": s.updated_at or s.received_at}
        if s.van == in_use and f.van in ("", s.van):
            f.qr = entry
        else:
            f.review.append(entry)
    return f
