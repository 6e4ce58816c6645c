"""The kept facts as SQL: one row per screening under the dashboard's filters — the plan as it
is now, joined with what its van told (models/hub_facts.py) — for reports.py and exports.py to
sum, page through and stream. The choices made here (held, source, which count stands) are the
rules of recount.py's module docstring written as SQL; tests hold the two to the same numbers.
"""
from collections import Counter
from contextlib import contextmanager

from peewee import SqliteDatabase

from ..ids import from_iso
from ..models import (FactCategory, FactPoll, FactQuiz, Screening, ScreeningFact, SummaryReport, Tour,
                      Village, db)
from .facts import GENDER_AGE, OTHER, Facts

# The plan's screenings with their facts, and the nights known only from a QR summary.
_PLANNED = """
SELECT s.id AS id, COALESCE(f.moved_date, s.date) AS date, COALESCE(f.moved_start, s.start) AS start,
  s.van AS van, s.tour_id AS tour, COALESCE(t.campaign_id, '') AS campaign, s.village_id AS village_id,
  v.name AS village, v.name_en AS village_en, v.block AS block, v.district AS district,
  COALESCE(f.ev_status, s.status) AS status,
  CASE WHEN f.ev_status IS NULL THEN s.status_reason ELSE f.ev_reason END AS status_reason,
  CASE WHEN f.qr_van IS NOT NULL AND (s.van = '' OR s.van = f.qr_van) THEN 1 ELSE 0 END AS qr_ok,
  {facts}
FROM {screening} s JOIN {village} v ON v.id = s.village_id JOIN {tour} t ON t.id = s.tour_id
LEFT JOIN {fact} f ON f.screening = s.id
WHERE 1 = 1 {where}"""
_UNPLANNED = """
SELECT f.screening AS id, f.qr_date AS date, '' AS start, f.qr_van AS van, '' AS tour, '' AS campaign,
  'qr:' || f.qr_van || ':' || f.qr_village AS village_id, f.qr_village AS village, f.qr_village AS village_en,
  '' AS block, '' AS district, COALESCE(f.ev_status, 'planned') AS status,
  CASE WHEN f.ev_status IS NULL THEN '' ELSE f.ev_reason END AS status_reason, 1 AS qr_ok,
  {facts}
FROM {fact} f
WHERE f.qr_van IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {screening} s WHERE s.id = f.screening) {where}"""
_FACT_COLUMNS = ("began", "tapped", "men", "women", "boys", "girls", "other", "people", "taps", "corrections",
                 "head_start", "head_end", "participants", "has_pledge", "pledges", "received_at",
                 "qr_counts", "q_men", "q_women", "q_boys", "q_girls", "q_other", "q_people", "q_participants",
                 "qr_pledges", "q_pledges", "qr_received_at", "for_review")
_QR_COUNTS = "f_qr_counts = 1 AND qr_ok = 1 AND COALESCE(f_tapped, 0) = 0"
_OUTER = f"""
SELECT id, date, start, van, tour, campaign, village_id, village, village_en, block, district, status,
  status_reason,
  CASE WHEN status <> 'cancelled' AND (status IN ('done', 'in_progress') OR COALESCE(f_began, 0) = 1
       OR COALESCE(f_tapped, 0) = 1 OR qr_ok = 1) THEN 1 ELSE 0 END AS held,
  CASE WHEN f_tapped = 1 THEN 'synced' WHEN {_QR_COUNTS} THEN 'qr_summary' ELSE '' END AS source,
  {", ".join(f"CASE WHEN f_tapped = 1 THEN f_{b} WHEN {_QR_COUNTS} THEN f_q_{b} ELSE 0 END AS {b}"
             for b in GENDER_AGE + (OTHER, "people"))},
  CASE WHEN f_participants > 0 THEN f_participants WHEN qr_ok = 1 THEN f_q_participants ELSE 0 END
    AS participant_total,
  CASE WHEN COALESCE(f_participants, 0) = 0 AND qr_ok = 1 THEN f_q_participants ELSE 0 END AS qr_participants,
  CASE WHEN f_has_pledge = 1 THEN f_pledges WHEN f_qr_pledges = 1 AND qr_ok = 1 THEN f_q_pledges ELSE 0 END
    AS pledges,
  CASE WHEN f_has_pledge = 1 THEN 'synced' WHEN f_qr_pledges = 1 AND qr_ok = 1 THEN 'qr_summary' ELSE '' END
    AS pledge_source,
  CASE WHEN {_QR_COUNTS} AND f_qr_received_at IS NOT NULL
            AND (f_received_at IS NULL OR f_qr_received_at > f_received_at)
       THEN f_qr_received_at ELSE f_received_at END AS received_at,
  COALESCE(f_taps, 0) AS taps, COALESCE(f_corrections, 0) AS corrections, f_head_start AS head_start,
  f_head_end AS head_end, COALESCE(f_for_review, 0) AS for_review
FROM ({{inner}}) AS inner_rows"""
COLUMNS = ("id", "date", "start", "van", "tour", "campaign", "village_id", "village", "village_en", "block",
           "district", "status", "status_reason", "held", "source") + GENDER_AGE + (OTHER, "people") + (
    "participant_total", "qr_participants", "pledges", "pledge_source", "received_at", "taps", "corrections",
    "head_start", "head_end", "for_review")
ORDER = "ORDER BY date, start, id"


def _names() -> dict:
    return {"screening": f'"{Screening._meta.table_name}"', "village": f'"{Village._meta.table_name}"',
            "tour": f'"{Tour._meta.table_name}"', "fact": f'"{ScreeningFact._meta.table_name}"'}


def rows(filters, where: str = "", params=()) -> tuple[str, list]:
    """(SQL, parameters) of one row per screening under `filters` (reports.Filters), named as
    COLUMNS, further narrowed by `where` (SQL over those columns, with `?` for each of `params`)."""
    facts = ", ".join(f"f.{c} AS f_{c}" for c in _FACT_COLUMNS)
    planned_where, planned_params = [], []
    for column, value in (("v.district", filters.district), ("s.van", filters.van),
                          ("t.campaign_id", filters.campaign)):
        if value:
            planned_where.append(f"AND {column} = ?")
            planned_params.append(value)
    inner = _PLANNED.format(facts=facts, where=" ".join(planned_where), **_names())
    inner_params = list(planned_params)
    # a night the hub knows only from its QR summary has no district or campaign
    if not (filters.district or filters.campaign):
        unplanned_where = "AND f.qr_van = ?" if filters.van else ""
        inner += " UNION ALL " + _UNPLANNED.format(facts=facts, where=unplanned_where, **_names())
        inner_params += [filters.van] if filters.van else []
    outer_where = []
    outer_params = []
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
