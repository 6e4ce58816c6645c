"""The kept facts as SQL: one row per screening under the dashboard's filters, from the one table
that holds the plan's copy and what the van told (models/hub_facts.py), for reports.py and
exports.py to sum, page through and stream. Which night is held and which count stands is
decided by the database itself (generated columns of migration 0100) with recount.py's rules;
tests hold the two to the same numbers.
"""
from collections import Counter
from contextlib import contextmanager

from peewee import SqliteDatabase

from ..ids import from_iso
from ..models import FactCategory, FactPoll, FactQuiz, ScreeningFact, SummaryReport, db
from .facts import GENDER_AGE, OTHER, Facts
from .filters import Filters

# One row per screening, from one table: the plan's copy, what the van told, and what the
# database derived from both (generated columns, see migration 0100: held, source, the counts
# that stand). A night known only from its QR summary has the summary's date, village and van.
_SELECT = """
SELECT screening AS id, eff_date AS date, eff_start AS start, eff_van AS van, tour, campaign,
  eff_village_id AS village_id, eff_village AS village, eff_village_en AS village_en, block, district,
  eff_status AS status, eff_reason AS status_reason, held, source, e_men AS men, e_women AS women,
  e_boys AS boys, e_girls AS girls, e_other AS other, e_people AS people, participant_total,
  qr_participants, e_pledges AS pledges, pledge_source, e_received_at AS received_at, taps, corrections,
  head_start, head_end, for_review
FROM {fact}
WHERE 1 = 1 {where}"""
COLUMNS = ("id", "date", "start", "van", "tour", "campaign", "village_id", "village", "village_en", "block",
           "district", "status", "status_reason", "held", "source") + GENDER_AGE + (OTHER, "people") + (
    "participant_total", "qr_participants", "pledges", "pledge_source", "received_at", "taps", "corrections",
    "head_start", "head_end", "for_review")
ORDER = "ORDER BY date, start, id"


def rows(filters, where: str = "", params=()) -> tuple[str, list]:
    """(SQL, parameters) of one row per screening under `filters` (filters.Filters), named as
    COLUMNS, further narrowed by `where` (SQL over those columns, with `?` for each of `params`)."""
    condition, values = fact_where(filters)
    sql = _SELECT.format(fact=f'"{ScreeningFact._meta.table_name}"', where=f"AND {condition}")
    if where:
        # one level up, so the condition may name the columns as COLUMNS names them
        sql = f"SELECT * FROM ({sql}) AS screening_rows WHERE {where}"
        values += list(params)
    return sql, values


def fact_where(filters) -> tuple[str, list]:
    """(condition, parameters) on screening_fact's own columns selecting the screenings under
    `filters`: planned ones, and the nights known only from a summary."""
    conditions, values = ["(planned = 1 OR qr_van IS NOT NULL)"], []
    # a night known only from its QR summary has no district or campaign
    for column, value in (("district", filters.district), ("campaign", filters.campaign)):
        if value:
            conditions.append(f"planned = 1 AND {column} = ?")
            values.append(value)
    for condition, value in (("eff_van = ?", filters.van), ("eff_date >= ?", filters.date_from),
                             ("eff_date <= ?", filters.date_to)):
        if value:
            conditions.append(condition)
            values.append(value)
    return " AND ".join(conditions), values


def detail_where(filters) -> tuple[str, list]:
    """(condition, parameters) selecting the detail rows (sign-ins, quiz, poll) of the held
    screenings under `filters`, from the filters each detail row carries."""
    conditions, values = ["held = 1"], []
    for condition, value in (("district = ?", filters.district), ("campaign = ?", filters.campaign),
                             ("eff_van = ?", filters.van), ("eff_date >= ?", filters.date_from),
                             ("eff_date <= ?", filters.date_to)):
        if value:
            conditions.append(condition)
            values.append(value)
    return " AND ".join(conditions), values


def postgres() -> bool:
    return not isinstance(db.obj, SqliteDatabase)


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
