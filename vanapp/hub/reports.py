"""The hub's reach totals, the trace of each total to its screenings, and per-van sync status.

Pure functions taking `Filters` (no Flask): the dashboard, `vanapp hub report` and the CSV
exports call the same ones, so they always agree. Every total is a sum over `facts.Facts`
rows; `trace(filters, metric)` returns exactly the rows (and each row's share) behind a total.
"""
import datetime as dt
from collections import Counter

from peewee import fn

from ..ids import to_iso, utcnow
from ..models import (Campaign, FactPoll, FactQuiz, Screening, ScreeningFact, SummaryReport,
                      Tour, Van, VanCursor, VanFact, Village)
from . import factsql, month_sums
from .facts import GENDER_AGE, OTHER, QR, SYNCED, Facts, as_time, poll_shares  # noqa: F401 (re-exported)
from .filters import Filters, FilterError  # noqa: F401 (re-exported: callers say reports.Filters)

PEOPLE_METRICS = ("people",) + GENDER_AGE + (OTHER,)
SIMPLE_METRICS = ("screenings", "held", "cancelled", "villages", "qr_summary", "participants",
                  "pledges") + PEOPLE_METRICS


def _num(value) -> int:
    return int(value or 0)


def _totals(filters: Filters) -> tuple[tuple, list, list, tuple]:
    """(the totals, [(district, held, villages, people)], [(van, ...)], (villages, districts)):
    sums over the month rows (and the screenings at the date range's edges, month_sums.fact_rows),
    and the distinct villages reached from the month rows of villages."""
    sql, params = month_sums.fact_rows(filters)
    names = list(month_sums.SUMS["month_fact"][3])
    totals = factsql.execute(f"SELECT {', '.join(f'SUM({n})' for n in names)} FROM ({sql}) AS r", params).fetchone()
    found = factsql.execute(f"SELECT 'g', district, van, SUM(held), SUM(people) FROM ({sql}) AS r "
                            "GROUP BY district, van HAVING SUM(held) > 0", params).fetchall()
    found += _villages(filters)
    by = {"district": {}, "van": {}}
    villages = {"district": {}, "van": {}}
    reached = 0
    for kind, district, van, n, people in found:
        if kind == "g":
            for name, key in (("district", district), ("van", van)):
                count, total = by[name].get(key, (0, 0))
                by[name][key] = (count + _num(n), total + _num(people))
        elif kind == "d":
            villages["district"][district] = _num(n)
        elif kind == "v":
            villages["van"][van] = _num(n)
        else:
            reached = _num(n)
    groups = {name: sorted((key, held_n, villages[name].get(key, 0), people)
                           for key, (held_n, people) in by[name].items()) for name in by}
    districts = sum(1 for d in villages["district"] if d)
    return totals, groups["district"], groups["van"], (reached, districts)


def _villages(filters: Filters) -> list[tuple]:
    """('d', district, '', villages, 0), ('v', '', van, villages, 0) and ('t', '', '', villages, 0):
    the distinct villages the held screenings reached, counted over the month rows of villages
    (month_sums.village_rows: one per village, van and month, not one per screening)."""
    rows, params = month_sums.village_rows(filters)
    return factsql.execute(f"""
        SELECT 'd', district, '', COUNT(*), 0 FROM (SELECT DISTINCT district, village_id FROM ({rows}) AS r) AS x
         GROUP BY district
        UNION ALL
        SELECT 'v', '', van, COUNT(*), 0 FROM (SELECT DISTINCT van, village_id FROM ({rows}) AS r) AS x GROUP BY van
        UNION ALL
        SELECT 't', '', '', COUNT(*), 0 FROM (SELECT DISTINCT village_id FROM ({rows}) AS r) AS x""",
        params * 3).fetchall()


def report(filters: Filters, vans: bool = True) -> dict:
    """Every reach total under `filters`, JSON-ready (the same as `vanapp hub report --json`):
    sums in SQL over the month rows (month_sums.py), a few statements, whatever the size of the
    history; the distinct villages from the screenings themselves."""
    totals, by_district, by_van, (villages, districts) = _totals(filters)
    (total, held, cancelled, not_held, held_qr, men, women, boys, girls, other, people,
     people_qr, participants, participants_qr, pledges, pledges_qr) = totals
    people_out = {"men": _num(men), "women": _num(women), "boys": _num(boys), "girls": _num(girls),
                  "other": _num(other), "total": _num(people)}
    people_out["male"] = people_out["men"] + people_out["boys"]
    people_out["female"] = people_out["women"] + people_out["girls"]
    people_out["adults"] = people_out["men"] + people_out["women"]
    people_out["under_18"] = people_out["boys"] + people_out["girls"]
    people_out["from_qr_summary"] = _num(people_qr)
    details = _details(filters)
    by_band, by_gender = Counter(), Counter()
    for gender, band, n in details["participant"]:
        by_band[band] += _num(n)
        by_gender[gender] += _num(n)
    out = {
        "filters": filters.as_args(),
        "screenings": {"total": _num(total), "held": _num(held), "cancelled": _num(cancelled),
                       "not_held": _num(not_held), "held_from_qr_summary": _num(held_qr)},
        "villages_reached": _num(villages),
        "districts_reached": _num(districts),       # a QR-only night with no plan has no district
        "people": people_out,
        "participants": {"total": _num(participants), "from_qr_summary": _num(participants_qr),
                         "by_age_band": dict(sorted(by_band.items())),
                         "by_gender": dict(sorted(by_gender.items()))},
        "pledges": {"total": _num(pledges), "from_qr_summary": _num(pledges_qr)},
        "quiz": quiz_results(details["quiz"]),
        "polls": poll_shifts(details["poll"], details["poll_screenings"]),
        "by_district": [{"name": n, "held": h, "villages": v, "people": p} for n, h, v, p in by_district],
        "by_van": [{"name": n, "held": h, "villages": v, "people": p} for n, h, v, p in by_van],
    }
    if vans:
        out["vans"] = van_status(filters.van or None)
    return out


def _details(filters: Filters) -> dict[str, list]:
    """The held screenings' sign-ins, quiz and poll tallies, summed in one statement over the
    month rows (and the detail rows at the date range's edges, month_sums.detail_rows)."""
    sql, params = month_sums.detail_rows(filters)
    out = {"participant": [], "quiz": [], "poll": [], "poll_screenings": []}
    for kind, a, b, c, d, rows, n1, n2 in factsql.execute(sql, params).fetchall():
        if kind == "participant":
            out[kind].append((a, b, n1))
        elif kind == "quiz":
            out[kind].append((a, b, n1, n2, rows))
        else:
            out["poll"].append((a, b, c, d, n1))
            if n2:
                out["poll_screenings"].append((a, b, n2))
    return out


def quiz_results(found) -> list[dict]:
    """Per quiz question: answers, correct answers and the correct share, over held screenings."""
    return [{"game": g, "question": q, "answers": _num(a), "correct": _num(c), "screenings": _num(n),
             "correct_share": round(_num(c) / _num(a), 4) if a else 0.0}
            for g, q, a, c, n in sorted(found, key=lambda r: (r[0], r[1]))]


def poll_shifts(found, screening_counts) -> list[dict]:
    """Before/after polls: the same game asked before and after the film at the same screening;
    only screenings where both were asked count. Shift = after share - before share."""
    phases: dict[tuple, dict[str, Counter]] = {}
    for game, question, phase, choice, n in found:
        phases.setdefault((game, question), {}).setdefault(phase, Counter())[choice] += _num(n)
    screenings = Counter()
    for g, q, n in screening_counts:
        screenings[(g, q)] += _num(n)
    out = []
    for key in sorted(phases):
        before, after = phases[key].get("before", Counter()), phases[key].get("after", Counter())
        b, a = poll_shares(before), poll_shares(after)
        choices = sorted(set(b) | set(a))
        out.append({"game": key[0], "question": key[1], "screenings": screenings.get(key, 0),
                    "before": {"answers": sum(before.values()),
                               "shares": {c: round(b.get(c, 0.0), 4) for c in choices}},
                    "after": {"answers": sum(after.values()),
                              "shares": {c: round(a.get(c, 0.0), 4) for c in choices}},
                    "shift": {c: round(a.get(c, 0.0) - b.get(c, 0.0), 4) for c in choices}})
    return out


# --- trace -----------------------------------------------------------------------------------

def parse_metric(metric: str) -> tuple[str, str, str]:
    """'people' -> ('people', '', ''); 'quiz:GAME:Q' / 'poll:GAME:Q' -> (kind, game, question)."""
    if metric in SIMPLE_METRICS:
        return metric, "", ""
    kind, _, rest = metric.partition(":")
    game, _, question = rest.partition(":")
    if kind in ("quiz", "poll") and game and question:
        return kind, game, question
    raise FilterError("metric", f"metric: unknown {metric[:60]!r}")


def _metric_sql(kind: str, game: str, question: str) -> tuple[str, list, str]:
    """(where, params, value column) of the screenings behind one total."""
    if kind == "screenings":
        return "", [], "1"
    if kind == "cancelled":
        return "status = 'cancelled'", [], "1"
    if kind in ("held", "villages"):
        return "held = 1", [], "1"
    if kind == "qr_summary":
        return "held = 1 AND source = 'qr_summary'", [], "people"
    if kind in PEOPLE_METRICS:
        return "held = 1", [], kind
    if kind == "participants":
        return "held = 1 AND participant_total <> 0", [], "participant_total"
    if kind == "pledges":
        return "held = 1 AND pledges <> 0", [], "pledges"
    if kind == "quiz":
        return (f'held = 1 AND id IN (SELECT screening FROM "{FactQuiz._meta.table_name}" '
                "WHERE game = ? AND question = ?)"), [game, question], "1"
    return (f'held = 1 AND id IN (SELECT screening FROM "{FactPoll._meta.table_name}" '
            "WHERE game = ? AND question = ? AND lead = 1)"), [game, question], "1"


def trace_summary(filters: Filters, metric: str) -> tuple[int, object]:
    """(how many screenings are behind a total, the total they add up to: villages count
    distinct villages, a quiz question is (right answers, answers))."""
    kind, game, question = parse_metric(metric)
    where, params, value = _metric_sql(kind, game, question)
    sql, all_params = factsql.rows(filters, where, params)
    count, total, villages = factsql.execute(
        f"SELECT COUNT(*), SUM({value}), COUNT(DISTINCT village_id) FROM ({sql}) AS r", all_params).fetchone()
    if kind == "villages":
        return _num(count), _num(villages)
    if kind == "quiz":
        where, values = factsql.detail_where(filters)
        answers, correct = factsql.execute(
            f'SELECT SUM(answers), SUM(correct) FROM "{FactQuiz._meta.table_name}" '
            f"WHERE {where} AND game = ? AND question = ?", values + [game, question]).fetchone()
        return _num(count), (_num(correct), _num(answers))
    return _num(count), _num(total)


def trace(filters: Filters, metric: str, limit: int | None = None, offset: int = 0) -> list[tuple[Facts, object]]:
    """The screenings behind one total (in date order, a page of them when `limit` is given), each
    with what it contributes; all the contributions add up to the total on the dashboard."""
    kind, game, question = parse_metric(metric)
    where, params, value = _metric_sql(kind, game, question)
    sql, all_params = factsql.rows(filters, where, params)
    sql += " " + factsql.ORDER
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        all_params += [limit, offset]
    facts = [factsql.as_facts(row) for row in factsql.execute(sql, all_params).fetchall()]
    if kind == "quiz" or kind == "poll":
        factsql.load_details(facts, quiz_polls=True)
        if kind == "quiz":
            return [(f, tuple(f.quiz[(game, question)])) for f in facts]
        return [(f, {p: dict(c) for p, c in f.polls[(game, question)].items()}) for f in facts]
    if value == "1":
        return [(f, 1) for f in facts]
    if value in PEOPLE_METRICS and value != "people":
        return [(f, f.bucket(value)) for f in facts]
    return [(f, getattr(f, value)) for f in facts]


# --- vans and filter choices -----------------------------------------------------------------

def van_status(only: str | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Per van, what the hub knows of its sync: the last sync and the last request it made, the
    records it holds from it and when the last one came, how many batches and bundles it sent,
    its pairing state (paired, a code waiting or expired, revoked), the nights known only from
    a QR summary — records the van holds but has not synced yet — the summaries it sent about
    other vans' screenings (kept for review, not counted) and `on_van`, what the van said of its
    outbox the last time it talked to the hub (see `_on_van`). Read from the kept per-van
    numbers: a few small queries, whatever the size of the history."""
    now = now or utcnow()
    kept = {row.van: row for row in VanFact.select()}
    waiting = _qr_only_nights()
    review = _for_review()
    vans: dict[str, dict] = {}
    names = {v for v, row in kept.items() if row.records} | set(waiting) | set(review) | set(distinct(Screening, "van"))
    for van in names:
        vans[van] = {"van": van, "name": van, "paired": False, "revoked": False, "last_sync": None,
                     "last_seen": None, "state": "unknown"}
    cursors = {(c.van, c.epoch): c.cursor for c in VanCursor.select(VanCursor.van, VanCursor.epoch, VanCursor.cursor)}
    for row in Van.select():
        vans[row.id] = {"van": row.id, "name": row.name or row.id, "paired": row.paired_at is not None,
                        "revoked": bool(row.revoked), "last_sync": row.last_sync_at,
                        "last_seen": row.last_seen_at, "state": _pairing_state(row, now)}
        if row.pair_code_hash and row.pair_expires_at:
            vans[row.id]["code_expires"] = row.pair_expires_at
        vans[row.id]["on_van"] = _on_van(row, cursors)
    out = []
    for van in sorted(vans):
        if only and van != only:
            continue
        entry = vans[van]
        fact = kept.get(van)
        entry.update(records=fact.records if fact else 0, last_received=fact.last_received if fact else None,
                     batches=fact.batches if fact else 0, bundles=fact.bundles if fact else 0,
                     qr_only_nights=waiting.get(van, 0), summaries_for_review=review.get(van, 0))
        entry.setdefault("on_van", None)
        for key in ("last_sync", "last_received", "last_seen", "code_expires"):
            if isinstance(entry.get(key), dt.datetime):
                entry[key] = to_iso(entry[key])
        out.append(entry)
    return out


def _on_van(van: Van, cursors: dict) -> dict | None:
    """What the van said of its outbox when it last talked to the hub (X-Van-Outbox): changes the
    hub has not received yet (the van's highest outbox seq then, minus what the hub has
    acknowledged since) and records the van holds back because the hub refused them (parked).
    None when the van never said."""
    if van.reported_seq is None or van.reported_at is None:
        return None
    if van.reported_waiting is not None:
        # the van's own count of records waiting (its Sync page's), as of its last contact
        not_received = van.reported_waiting
    else:                       # a van that says only its outbox seq: changes, not records
        not_received = max(0, van.reported_seq - cursors.get((van.id, van.reported_epoch), 0))
    return {"not_received": not_received, "parked": van.reported_parked or 0,
            "reported_at": to_iso(van.reported_at)}


def _pairing_state(van: Van, now: dt.datetime) -> str:
    """revoked | code_waiting | code_expired | paired | unpaired."""
    if van.revoked:
        return "revoked"
    if van.pair_code_hash:
        return "code_waiting" if van.pair_expires_at and van.pair_expires_at > now else "code_expired"
    return "paired" if van.secret_hash or van.paired_at else "unpaired"


def _qr_only_nights() -> Counter:
    """van -> screenings whose QR summary (from their own van) arrived but none of whose taps did
    (a partial index of migration 0100 holds just those)."""
    query = (ScreeningFact.select(ScreeningFact.qr_van, fn.COUNT(ScreeningFact.screening))
             .where(ScreeningFact.qr_van.is_null(False) & (ScreeningFact.tapped == 0))
             .group_by(ScreeningFact.qr_van))
    return Counter(dict(query.tuples()))


def _for_review() -> Counter:
    """van -> summaries it sent about a screening planned for another van: kept, never counted
    (found from the few screenings that have one: a partial index of migration 0100)."""
    query = (SummaryReport.select(SummaryReport.van, fn.COUNT(SummaryReport.id))
             .join(ScreeningFact, on=(ScreeningFact.screening == SummaryReport.screening))
             .where((ScreeningFact.for_review > 0) &
                    (ScreeningFact.qr_van.is_null(True) | (ScreeningFact.qr_van != SummaryReport.van)))
             .group_by(SummaryReport.van))
    return Counter(dict(query.tuples()))


def distinct(model, column: str) -> list[str]:
    """The distinct non-empty values of an indexed column, in order, one index probe each (a
    loose index scan): a hundred vans among 75,000 screenings without reading them all."""
    table = model._meta.table_name
    return [v for (v,) in factsql.execute(
        f'WITH RECURSIVE found(value) AS (SELECT MIN("{column}") FROM "{table}" WHERE "{column}" > ? '
        f'UNION ALL SELECT (SELECT MIN("{column}") FROM "{table}" WHERE "{column}" > found.value) FROM found '
        "WHERE found.value IS NOT NULL) SELECT value FROM found WHERE value IS NOT NULL", [""]).fetchall()]


def choices() -> dict:
    """Values the filter form offers: districts, vans, campaigns (with titles)."""
    districts = distinct(Village, "district")
    vans = distinct(Screening, "van")
    used = {c for (c,) in Tour.select(Tour.campaign).where(Tour.campaign.is_null(False)).distinct().tuples()}
    campaigns = [(c.id, c.title_hi, c.title_en) for c in Campaign.select().order_by(Campaign.id)
                 if c.id in used or not used]
    return {"districts": districts, "vans": vans, "campaigns": campaigns}
