"""The hub's reach totals, the trace of each total to its screenings, and per-van sync status.

Pure functions taking `Filters` (no Flask): the dashboard, `vanapp hub report` and the CSV
exports call the same ones, so they always agree. Every total is a sum over `facts.Facts`
rows; `trace(filters, metric)` returns exactly the rows (and each row's share) behind a total.
"""
import datetime as dt
import re
from collections import Counter
from dataclasses import asdict, dataclass

from peewee import fn

from ..ids import to_iso, utcnow
from ..models import Campaign, Screening, SyncModel, TallyEvent, Tour, Village
from ..models.sync import SummaryReport, SyncBatch, Van, VanCursor
from . import facts as facts_module
from .facts import GENDER_AGE, OTHER, QR, SYNCED, Facts, as_time, poll_shares  # noqa: F401 (re-exported)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PEOPLE_METRICS = ("people",) + GENDER_AGE + (OTHER,)
SIMPLE_METRICS = ("screenings", "held", "cancelled", "villages", "qr_summary", "participants",
                  "pledges") + PEOPLE_METRICS


class FilterError(ValueError):
    """A filter value that cannot be used; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    date_from: str = ""
    date_to: str = ""
    district: str = ""
    van: str = ""
    campaign: str = ""

    @classmethod
    def parse(cls, mapping) -> "Filters":
        """From query-string-like input ('from', 'to', 'district', 'van', 'campaign')."""
        get = (lambda k: (mapping.get(k) or "").strip())
        values = {"date_from": get("from"), "date_to": get("to"), "district": get("district"),
                  "van": get("van"), "campaign": get("campaign")}
        for name, key in (("date_from", "from"), ("date_to", "to")):
            value = values[name]
            if value:
                try:
                    if not _DATE.match(value):
                        raise ValueError
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise FilterError(key, f"{key}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None
        if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
            raise FilterError("to", "to: the end date is before the start date")
        return cls(**values)

    def date_ok(self, date: str) -> bool:
        return (not self.date_from or date >= self.date_from) and (not self.date_to or date <= self.date_to)

    def as_args(self) -> dict:
        """The filters as query-string arguments (only those set)."""
        names = {"date_from": "from", "date_to": "to"}
        return {names.get(k, k): v for k, v in asdict(self).items() if v}


def screening_facts(filters: Filters) -> list[Facts]:
    return facts_module.screening_facts(filters)


# --- totals ----------------------------------------------------------------------------------

def report(filters: Filters, rows: list[Facts] | None = None, vans: bool = True) -> dict:
    """Every reach total under `filters`, JSON-ready (the same as `vanapp hub report --json`)."""
    rows = screening_facts(filters) if rows is None else rows
    held = [f for f in rows if f.held]
    people = {name: sum(f.bucket(name) for f in held) for name in GENDER_AGE + (OTHER,)}
    people["total"] = sum(f.people for f in held)
    people["male"] = people["men"] + people["boys"]
    people["female"] = people["women"] + people["girls"]
    people["adults"] = people["men"] + people["women"]
    people["under_18"] = people["boys"] + people["girls"]
    people["from_qr_summary"] = sum(f.people for f in held if f.source == QR)
    by_band, by_gender = Counter(), Counter()
    for f in held:
        for (gender, band), n in f.participants.items():
            by_band[band] += n
            by_gender[gender] += n
    out = {
        "filters": filters.as_args(),
        "screenings": {
            "total": len(rows), "held": len(held),
            "cancelled": sum(1 for f in rows if f.status == "cancelled"),
            "not_held": sum(1 for f in rows if not f.held and f.status != "cancelled"),
            "held_from_qr_summary": sum(1 for f in held if f.source == QR),
        },
        "villages_reached": len({f.village_id for f in held}),
        "districts_reached": len({f.district for f in held if f.district}),   # "": a QR-only night with no plan
        "people": people,
        "participants": {"total": sum(f.participant_total for f in held),
                         "from_qr_summary": sum(f.qr_participants for f in held if not f.participants),
                         "by_age_band": dict(sorted(by_band.items())),
                         "by_gender": dict(sorted(by_gender.items()))},
        "pledges": {"total": sum(f.pledges for f in held),
                    "from_qr_summary": sum(f.pledges for f in held if f.pledge_source == QR)},
        "quiz": quiz_results(held),
        "polls": poll_shifts(held),
        "by_district": _by(held, lambda f: f.district),
        "by_van": _by(held, lambda f: f.van),
    }
    if vans:
        out["vans"] = van_status(filters.van or None)
    return out


def _by(held, key) -> list[dict]:
    groups: dict[str, list[Facts]] = {}
    for f in held:
        groups.setdefault(key(f), []).append(f)
    return [{"name": name, "held": len(fs), "villages": len({f.village_id for f in fs}),
             "people": sum(f.people for f in fs)} for name, fs in sorted(groups.items())]


def quiz_results(held: list[Facts]) -> list[dict]:
    """Per quiz question: answers, correct answers and the correct share, over held screenings."""
    totals: dict[tuple, list] = {}
    for f in held:
        for key, (answers, correct) in f.quiz.items():
            t = totals.setdefault(key, [0, 0, 0])
            t[0] += answers
            t[1] += correct
            t[2] += 1
    return [{"game": g, "question": q, "answers": a, "correct": c, "screenings": n,
             "correct_share": round(c / a, 4) if a else 0.0}
            for (g, q), (a, c, n) in sorted(totals.items())]


def poll_shifts(held: list[Facts]) -> list[dict]:
    """Before/after polls: the same game asked before and after the film at the same screening;
    only screenings where both were asked count. Shift = after share - before share."""
    before: dict[tuple, Counter] = {}
    after: dict[tuple, Counter] = {}
    screenings: Counter = Counter()
    for f in held:
        for key, phases in f.polls.items():
            if "before" in phases and "after" in phases:
                before.setdefault(key, Counter()).update(phases["before"])
                after.setdefault(key, Counter()).update(phases["after"])
                screenings[key] += 1
    out = []
    for key in sorted(before):
        b, a = poll_shares(before[key]), poll_shares(after[key])
        choices = sorted(set(b) | set(a))
        out.append({"game": key[0], "question": key[1], "screenings": screenings[key],
                    "before": {"answers": sum(before[key].values()),
                               "shares": {c: round(b.get(c, 0.0), 4) for c in choices}},
                    "after": {"answers": sum(after[key].values()),
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


def trace(filters: Filters, metric: str, rows: list[Facts] | None = None) -> list[tuple[Facts, object]]:
    """The screenings behind one total, each with what it contributes; the contributions add up
    to the total on the dashboard (villages: the distinct villages of these rows)."""
    kind, game, question = parse_metric(metric)
    rows = screening_facts(filters) if rows is None else rows
    if kind == "screenings":
        return [(f, 1) for f in rows]
    if kind == "cancelled":
        return [(f, 1) for f in rows if f.status == "cancelled"]
    held = [f for f in rows if f.held]
    if kind in ("held", "villages"):
        return [(f, 1) for f in held]
    if kind == "qr_summary":
        return [(f, f.people) for f in held if f.source == QR]
    if kind == "people":
        return [(f, f.people) for f in held]
    if kind in GENDER_AGE + (OTHER,):
        return [(f, f.bucket(kind)) for f in held]
    if kind == "participants":
        return [(f, f.participant_total) for f in held if f.participant_total]
    if kind == "pledges":
        return [(f, f.pledges) for f in held if f.pledges]
    if kind == "quiz":
        return [(f, tuple(f.quiz[(game, question)])) for f in held if (game, question) in f.quiz]
    phases = [(f, f.polls.get((game, question), {})) for f in held]
    return [(f, {p: dict(c) for p, c in ph.items()}) for f, ph in phases if "before" in ph and "after" in ph]


# --- vans and filter choices -----------------------------------------------------------------

def van_status(only: str | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Per van, what the hub knows of its sync: the last sync and the last request it made, the
    records it holds from it and when the last one came, how many batches and bundles it sent,
    its pairing state (paired, a code waiting or expired, revoked) and the nights known only
    from a QR summary — records the van holds but has not synced yet — and `on_van`, what the
    van said of its outbox the last time it talked to the hub (see `_on_van`)."""
    now = now or utcnow()
    held: Counter = Counter()
    last: dict[str, dt.datetime] = {}
    for model in SyncModel.registry().values():
        if getattr(model._meta, "sync_owner", None) != "van":
            continue
        query = (model.select(model.van, fn.COUNT(model.id), fn.MAX(model.received_at))
                 .where(model.van != "").group_by(model.van))
        for van, n, when in query.tuples():
            held[van] += n
            when = as_time(when)
            if when is not None and (van not in last or when > last[van]):
                last[van] = when
    batches: dict[str, Counter] = {}
    for van, source, n in (SyncBatch.select(SyncBatch.van, SyncBatch.source, fn.COUNT(SyncBatch.id))
                           .group_by(SyncBatch.van, SyncBatch.source).tuples()):
        batches.setdefault(van, Counter())[source] += n
    waiting = _qr_only_nights()
    vans: dict[str, dict] = {}
    names = set(held) | set(waiting) | {v for (v,) in Screening.select(Screening.van)
                                        .where(Screening.van != "").distinct().tuples()}
    for van in names:
        vans[van] = {"van": van, "name": van, "paired": False, "revoked": False, "last_sync": None,
                     "last_seen": None, "state": "unknown"}
    for row in Van.select():
        vans[row.id] = {"van": row.id, "name": row.name or row.id, "paired": row.paired_at is not None,
                        "revoked": bool(row.revoked), "last_sync": row.last_sync_at,
                        "last_seen": row.last_seen_at, "state": _pairing_state(row, now)}
        if row.pair_code_hash and row.pair_expires_at:
            vans[row.id]["code_expires"] = row.pair_expires_at
        vans[row.id]["on_van"] = _on_van(row)
    out = []
    for van in sorted(vans):
        if only and van != only:
            continue
        entry = vans[van]
        entry.update(records=held.get(van, 0), last_received=last.get(van),
                     batches=batches.get(van, Counter()).get("push", 0),
                     bundles=batches.get(van, Counter()).get("bundle", 0),
                     qr_only_nights=waiting.get(van, 0))
        entry.setdefault("on_van", None)
        for key in ("last_sync", "last_received", "last_seen", "code_expires"):
            if isinstance(entry.get(key), dt.datetime):
                entry[key] = to_iso(entry[key])
        out.append(entry)
    return out


def _on_van(van: Van) -> dict | None:
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
        row = VanCursor.get_or_none((VanCursor.van == van.id) & (VanCursor.epoch == van.reported_epoch))
        not_received = max(0, van.reported_seq - (row.cursor if row else 0))
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
    """van -> screenings whose QR summary arrived but none of whose taps did (not synced yet)."""
    synced = TallyEvent.select(TallyEvent.screening).distinct()
    query = (SummaryReport.select(SummaryReport.van, fn.COUNT(fn.DISTINCT(SummaryReport.screening)))
             .where(SummaryReport.screening.not_in(synced)).group_by(SummaryReport.van))
    return Counter(dict(query.tuples()))


def choices() -> dict:
    """Values the filter form offers: districts, vans, campaigns (with titles)."""
    districts = [d for (d,) in Village.select(Village.district).where(Village.district != "")
                 .distinct().order_by(Village.district).tuples()]
    vans = [v for (v,) in Screening.select(Screening.van).where(Screening.van != "")
            .distinct().order_by(Screening.van).tuples()]
    used = {c for (c,) in Tour.select(Tour.campaign).where(Tour.campaign.is_null(False)).distinct().tuples()}
    campaigns = [(c.id, c.title_hi, c.title_en) for c in Campaign.select().order_by(Campaign.id)
                 if c.id in used or not used]
    return {"districts": districts, "vans": vans, "campaigns": campaigns}
