"""Per-screening facts on the hub: what each screening (from any van) adds to the reach.

Pure functions over the models, no Flask. `screening_facts(filters)` reads the plan and the
records the vans synced (or the night's QR summary, where nothing was synced) and returns one
`Facts` per screening; every total in reports.py is a sum over these rows, which is what makes
each number on the dashboard traceable to its screenings.
"""
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from peewee import fn

from ..ids import from_iso

from ..models import (Game, GameResult, GameRun, Headcount, Participant, Screening,
                      ScreeningEvent, TallyEvent, Tour, Village)
from ..models.sync import SummaryReport
from . import qr_source

GENDER_AGE = ("men", "women", "boys", "girls")      # the tally's gender x age categories
OTHER = "other"                                      # any other category the crew counts
# The van's screening events, replayed in time order over the plan's status.
# The same rules as hub/receive.py, which keeps Screening.status following the events; replayed
# here too so the numbers hold whichever path (sync, bundle, a test) stored the events.
LIFECYCLE = {"started": "in_progress", "finished": "done", "cancelled": "cancelled",
             "rescheduled": "planned"}
SYNCED, QR = "synced", "qr_summary"


@dataclass
class Facts:
    """One screening as the hub knows it, and what it contributes to each total."""
    id: str
    date: str
    start: str
    van: str
    tour: str
    campaign: str
    village_id: str
    village: str
    village_en: str
    block: str
    district: str
    planned_status: str
    status: str = ""
    status_reason: str = ""
    held: bool = False
    source: str = ""                  # where its attendance comes from: synced | qr_summary | ""
    received_at: dt.datetime | None = None
    counts: Counter = field(default_factory=Counter)          # category -> net count
    taps: Counter = field(default_factory=Counter)            # category -> +1 taps
    corrections: Counter = field(default_factory=Counter)     # category -> -1 taps
    headcounts: dict = field(default_factory=dict)            # start|end -> latest count
    participants: Counter = field(default_factory=Counter)    # (gender, age_band) -> n
    qr_participants: int = 0
    pledges: int = 0
    pledge_source: str = ""
    quiz: dict = field(default_factory=dict)                  # (game, question) -> [answers, correct]
    polls: dict = field(default_factory=dict)                 # (game, question) -> {phase: Counter}
    events: list = field(default_factory=list)                # [(at, kind, reason)]
    qr: dict | None = None

    def bucket(self, name: str) -> int:
        """men / women / boys / girls, or `other` for every other category counted."""
        if name == OTHER:
            return sum(n for c, n in self.counts.items() if c not in GENDER_AGE)
        return self.counts.get(name, 0)

    @property
    def people(self) -> int:
        return sum(self.counts.values())

    @property
    def participant_total(self) -> int:
        return sum(self.participants.values()) or self.qr_participants

    def note_received(self, when) -> None:
        if when is not None and (self.received_at is None or when > self.received_at):
            self.received_at = when


def as_time(value):
    """An aggregate of a time column: peewee may hand it over converted or as the stored text."""
    return from_iso(value) if isinstance(value, str) else value


def count_total(value) -> int:
    """Sum a GameResult count: {choice: {"phones": n, "hands": n}} or {choice: n}; bools are not counts."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return sum(count_total(v) for v in value.values())
    return 0


def _plan(filters):
    """Screenings matching every filter but the dates (a reschedule can move the date)."""
    query = (Screening.select(Screening, Village, Tour).join(Village)
             .switch(Screening).join(Tour).order_by(Screening.date, Screening.start, Screening.id))
    if filters.district:
        query = query.where(Village.district == filters.district)
    if filters.van:
        query = query.where(Screening.van == filters.van)
    if filters.campaign:
        query = query.where(Tour.campaign == filters.campaign)
    return query


def _ids(filters):
    """The same selection as a subquery of ids, so the record queries run in the database."""
    query = Screening.select(Screening.id).join(Village).switch(Screening).join(Tour)
    if filters.district:
        query = query.where(Village.district == filters.district)
    if filters.van:
        query = query.where(Screening.van == filters.van)
    if filters.campaign:
        query = query.where(Tour.campaign == filters.campaign)
    return query


def screening_facts(filters) -> list[Facts]:
    """One Facts per screening matching `filters` (reports.Filters), in date order."""
    facts: dict[str, Facts] = {}
    for s in _plan(filters):
        facts[s.id] = Facts(
            id=s.id, date=s.date, start=s.start, van=s.van, tour=s.tour_id,
            campaign=s.tour.campaign_id or "", village_id=s.village.id, village=s.village.name,
            village_en=s.village.name_en, block=s.village.block, district=s.village.district,
            planned_status=s.status, status=s.status, status_reason=s.status_reason)
    _unplanned_qr_nights(facts, filters)
    if not facts:
        return []
    ids = _ids(filters)
    _events(facts, ids)
    _tallies(facts, ids)
    _headcounts(facts, ids)
    _participants(facts, ids)
    _games(facts, ids)
    _qr_summaries(facts)
    for f in facts.values():
        _decide_held(f)
    rows = [f for f in facts.values() if filters.date_ok(f.date)]
    return sorted(rows, key=lambda f: (f.date, f.start, f.id))


def _unplanned_qr_nights(facts, filters) -> None:
    """Nights the hub knows only from their QR summary and has no plan for (the tour was imported
    on the van alone, and the van has not synced): counted as the summary tells them — date,
    village, van — with no block or district (so a district or campaign filter leaves them out)."""
    if filters.district or filters.campaign:
        return
    query = (SummaryReport.select().where(SummaryReport.screening.not_in(Screening.select(Screening.id)))
             .order_by(SummaryReport.updated_at, SummaryReport.id))
    if filters.van:
        query = query.where(SummaryReport.van == filters.van)
    for row in query:
        facts[row.screening] = Facts(
            id=row.screening, date=row.date, start="", van=row.van, tour="", campaign="",
            village_id=f"qr:{row.van}:{row.village}", village=row.village, village_en=row.village,
            block="", district="", planned_status="planned", status="planned")


def _events(facts, ids):
    query = (ScreeningEvent.select(ScreeningEvent.screening, ScreeningEvent.kind, ScreeningEvent.reason,
                                   ScreeningEvent.new_date, ScreeningEvent.new_start, ScreeningEvent.at,
                                   ScreeningEvent.received_at)
             .where(ScreeningEvent.screening.in_(ids)).order_by(ScreeningEvent.at, ScreeningEvent.id))
    for e in query:
        f = facts[e.screening_id]
        started = any(kind == "started" for _at, kind, _r in f.events)
        f.events.append((e.at, e.kind, e.reason))
        f.note_received(e.received_at)
        if e.kind == "reopened":
            f.status, f.status_reason = ("in_progress" if started else "planned"), e.reason
        elif e.kind in LIFECYCLE:
            f.status, f.status_reason = LIFECYCLE[e.kind], e.reason
            if e.kind == "rescheduled" and e.new_date:
                f.date, f.start = e.new_date, e.new_start or f.start


def _tallies(facts, ids):
    query = (TallyEvent.select(TallyEvent.screening, TallyEvent.category, TallyEvent.delta,
                               fn.COUNT(TallyEvent.id).alias("n"),
                               fn.MAX(TallyEvent.received_at).alias("last"))
             .where(TallyEvent.screening.in_(ids))
             .group_by(TallyEvent.screening, TallyEvent.category, TallyEvent.delta))
    for screening, category, delta, n, last in query.tuples():
        f = facts[screening]
        f.counts[category] += delta * n
        (f.taps if delta > 0 else f.corrections)[category] += n
        f.source = SYNCED
        f.note_received(as_time(last))


def _headcounts(facts, ids):
    query = (Headcount.select(Headcount.screening, Headcount.kind, Headcount.count, Headcount.received_at)
             .where(Headcount.screening.in_(ids)).order_by(Headcount.at, Headcount.id))
    for h in query:
        facts[h.screening_id].headcounts[h.kind] = h.count     # the latest one counts
        facts[h.screening_id].note_received(h.received_at)


def _participants(facts, ids):
    query = (Participant.select(Participant.screening, Participant.gender, Participant.age_band,
                                fn.COUNT(Participant.id).alias("n"),
                                fn.MAX(Participant.received_at).alias("last"))
             .where(Participant.screening.in_(ids))
             .group_by(Participant.screening, Participant.gender, Participant.age_band))
    for screening, gender, band, n, last in query.tuples():
        facts[screening].participants[(gender, band)] += n
        facts[screening].note_received(as_time(last))


def _games(facts, ids):
    games = {g.id: g for g in Game.select(Game.id, Game.kind, Game.content)}
    query = (GameResult.select(GameResult.question_id, GameResult.counts, GameResult.answer,
                               GameResult.received_at, GameRun.screening, GameRun.game_id,
                               GameRun.phase)
             .join(GameRun).where(GameRun.screening.in_(ids)))
    for r in query:
        f, run = facts[r.run.screening_id], r.run
        f.note_received(r.received_at)
        game = games.get(run.game_id)
        kind = game.kind if game else ""
        if kind == "pledge":
            f.pledges += count_total(r.counts)
            f.pledge_source = SYNCED
        elif kind == "quiz":
            answer = r.answer or _content_answer(game, r.question_id)
            tally = f.quiz.setdefault((run.game_id, r.question_id), [0, 0])
            tally[0] += count_total(r.counts)
            tally[1] += count_total((r.counts or {}).get(answer, 0)) if answer else 0
        if run.phase in ("before", "after"):
            shares = f.polls.setdefault((run.game_id, r.question_id), {})
            phase = shares.setdefault(run.phase, Counter())
            for choice, value in (r.counts or {}).items():
                phase[str(choice)] += count_total(value)


def _content_answer(game, question_id) -> str:
    for q in (game.content or {}).get("questions", []) if game else []:
        if q.get("id") == question_id:
            return str(q.get("answer") or "")
    return ""


def _qr_summaries(facts):
    """A night's QR summary stands in only where the van synced nothing of that kind."""
    for screening_id, summary in qr_source.summaries(list(facts)).items():
        f = facts.get(screening_id)
        if f is None:
            continue
        f.qr = summary
        if f.source != SYNCED and summary.get("counts"):
            f.counts = Counter({str(k): int(v) for k, v in summary["counts"].items()})
            f.source = QR
            f.note_received(summary.get("received_at"))
        if f.pledge_source != SYNCED and summary.get("pledges"):
            f.pledges = sum(int(n) for n in summary["pledges"].values())
            f.pledge_source = QR
        if not f.participants and summary.get("participants"):
            f.qr_participants = int(summary["participants"])


def _decide_held(f: Facts) -> None:
    """Held: not cancelled, and there is evidence it happened (the van started or finished it,
    marked it done, counted people, or sent its night's summary). A cancelled screening did not
    happen: nothing of it counts (the van refuses taps on cancelled screenings too)."""
    if f.status == "cancelled":
        f.held = False
        return
    f.held = (f.status in ("done", "in_progress")
              or any(kind in ("started", "finished") for _at, kind, _r in f.events)
              or f.source in (SYNCED, QR) or f.qr is not None)


def poll_shares(counter: Counter) -> dict[str, float]:
    total = sum(counter.values())
    return {c: (n / total if total else 0.0) for c, n in sorted(counter.items())}
