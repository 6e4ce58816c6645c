"""Counting screenings from their raw records: the definition of every number the hub reports.

`recount(ids)` reads the van-owned records and the QR summaries of the given screenings and
returns what each adds (`Counted`: the values of a `ScreeningFact` row and its detail rows).
facts_store.py keeps those rows up to date with it, as records arrive; `vanapp hub facts
--check` recounts every screening with it and compares. Pure functions over the models.
"""
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from peewee import fn

from ..ids import from_iso
from ..models import (Game, GameResult, GameRun, Headcount, Participant, Screening, ScreeningEvent,
                      SummaryReport, TallyEvent)

GENDER_AGE = ("men", "women", "boys", "girls")      # the tally's gender x age categories
OTHER = "other"                                      # any other category the crew counts
SYNCED, QR = "synced", "qr_summary"
# The van's screening events, replayed in time order over the plan's status (the same rules as
# hub/receive.py, which keeps Screening.status following the events).
LIFECYCLE = {"started": "in_progress", "finished": "done", "cancelled": "cancelled",
             "rescheduled": "planned"}
CHUNK = 500                                          # ids per IN (...): under SQLite's variable limit


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


@dataclass
class Counted:
    """What one screening's records and summaries add; field names are ScreeningFact's columns."""
    screening: str
    ev_status: str | None = None
    ev_reason: str = ""
    began: int = 0
    moved_date: str | None = None
    moved_start: str | None = None
    tapped: int = 0
    head_start: int | None = None
    head_end: int | None = None
    participants: int = 0
    has_pledge: int = 0
    pledges: int = 0
    received_at: dt.datetime | None = None
    qr_van: str | None = None
    qr_date: str = ""
    qr_village: str = ""
    qr_counts: int = 0
    q_participants: int = 0
    qr_pledges: int = 0
    q_pledges: int = 0
    qr_received_at: dt.datetime | None = None
    for_review: int = 0
    counts: Counter = field(default_factory=Counter)          # synced: category -> net count
    taps: Counter = field(default_factory=Counter)            # category -> +1 taps
    corrections: Counter = field(default_factory=Counter)     # category -> -1 taps
    qr_categories: dict = field(default_factory=dict)         # the summary's category -> n
    by_participant: Counter = field(default_factory=Counter)  # (gender, age_band) -> n
    quiz: dict = field(default_factory=dict)                  # (game, question) -> [answers, correct]
    polls: dict = field(default_factory=dict)                 # (game, question) -> {phase: Counter}

    def note_received(self, when) -> None:
        when = as_time(when)
        if when is not None and (self.received_at is None or when > self.received_at):
            self.received_at = when

    @property
    def empty(self) -> bool:
        """Nothing was received for this screening: it needs no row."""
        blank = Counted(self.screening)
        return self.row() == blank.row() and self.details() == blank.details()

    def buckets(self, counts) -> dict:
        """men / women / boys / girls / other / people of a category -> count mapping."""
        out = {name: counts.get(name, 0) for name in GENDER_AGE}
        out[OTHER] = sum(n for c, n in counts.items() if c not in GENDER_AGE)
        out["people"] = sum(counts.values())
        return out

    def row(self) -> dict:
        """The ScreeningFact columns."""
        synced, qr = self.buckets(self.counts), self.buckets(self.qr_categories)
        return {
            "screening": self.screening, "ev_status": self.ev_status, "ev_reason": self.ev_reason,
            "began": self.began, "moved_date": self.moved_date, "moved_start": self.moved_start,
            "tapped": self.tapped, **synced,
            "taps": sum(self.taps.values()), "corrections": sum(self.corrections.values()),
            "head_start": self.head_start, "head_end": self.head_end, "participants": self.participants,
            "has_pledge": self.has_pledge, "pledges": self.pledges, "received_at": self.received_at,
            "qr_van": self.qr_van, "qr_date": self.qr_date, "qr_village": self.qr_village,
            "qr_counts": self.qr_counts, **{f"q_{k}": v for k, v in qr.items()},
            "q_participants": self.q_participants, "qr_pledges": self.qr_pledges, "q_pledges": self.q_pledges,
            "qr_received_at": self.qr_received_at, "for_review": self.for_review}

    def details(self) -> dict[str, list[tuple]]:
        """The detail rows: table -> [(column values...)] in FactCategory/... column order."""
        categories = [(self.screening, SYNCED, c, self.counts.get(c, 0), self.taps.get(c, 0),
                       self.corrections.get(c, 0))
                      for c in sorted(set(self.counts) | set(self.taps) | set(self.corrections))]
        categories += [(self.screening, QR, c, n, 0, 0) for c, n in sorted(self.qr_categories.items())]
        polls = []
        for (game, question), phases in sorted(self.polls.items()):
            if "before" not in phases or "after" not in phases:
                continue                # a shift needs both: only those are kept
            rows = [(phase, c, n) for phase, choices in sorted(phases.items()) for c, n in sorted(choices.items())]
            polls += [(self.screening, game, question, phase, c, n, int(k == 0)) for k, (phase, c, n) in enumerate(rows)]
        return {
            "category": categories,
            "participant": [(self.screening, g, b, n) for (g, b), n in sorted(self.by_participant.items())],
            "quiz": [(self.screening, g, q, a, c) for (g, q), (a, c) in sorted(self.quiz.items())],
            "poll": polls,
        }


def recount(ids) -> dict[str, Counted]:
    """screening id -> what its records and summaries add, for every id that has any."""
    ids = sorted(set(ids))
    out: dict[str, Counted] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        found = {i: Counted(i) for i in chunk}
        _events(found, chunk)
        _tallies(found, chunk)
        _headcounts(found, chunk)
        _participants(found, chunk)
        _games(found, chunk)
        _summaries(found, chunk)
        out.update((i, c) for i, c in found.items() if not c.empty)
    return out


def _events(found, ids):
    query = (ScreeningEvent.select(ScreeningEvent.screening, ScreeningEvent.kind, ScreeningEvent.reason,
                                   ScreeningEvent.new_date, ScreeningEvent.new_start, ScreeningEvent.received_at)
             .where(ScreeningEvent.screening.in_(ids))
             .order_by(ScreeningEvent.at, ScreeningEvent.id).tuples())
    started = set()
    for screening, kind, reason, new_date, new_start, received in query:
        c = found[screening]
        c.note_received(received)
        if kind == "reopened":
            c.ev_status, c.ev_reason = ("in_progress" if screening in started else "planned"), reason
        elif kind in LIFECYCLE:
            c.ev_status, c.ev_reason = LIFECYCLE[kind], reason
            if kind == "rescheduled" and new_date:
                c.moved_date, c.moved_start = new_date, new_start or c.moved_start
        if kind == "started":
            started.add(screening)
        if kind in ("started", "finished"):
            c.began = 1


def _tallies(found, ids):
    query = (TallyEvent.select(TallyEvent.screening, TallyEvent.category, TallyEvent.delta,
                               fn.COUNT(TallyEvent.id), fn.MAX(TallyEvent.received_at))
             .where(TallyEvent.screening.in_(ids))
             .group_by(TallyEvent.screening, TallyEvent.category, TallyEvent.delta).tuples())
    for screening, category, delta, n, last in query:
        c = found[screening]
        c.counts[category] += delta * n
        (c.taps if delta > 0 else c.corrections)[category] += n
        c.tapped = 1
        c.note_received(last)


def _headcounts(found, ids):
    query = (Headcount.select(Headcount.screening, Headcount.kind, Headcount.count, Headcount.received_at)
             .where(Headcount.screening.in_(ids)).order_by(Headcount.at, Headcount.id).tuples())
    for screening, kind, count, received in query:
        c = found[screening]
        if kind in ("start", "end"):
            setattr(c, f"head_{kind}", count)      # the latest one counts
        c.note_received(received)


def _participants(found, ids):
    query = (Participant.select(Participant.screening, Participant.gender, Participant.age_band,
                                fn.COUNT(Participant.id), fn.MAX(Participant.received_at))
             .where(Participant.screening.in_(ids))
             .group_by(Participant.screening, Participant.gender, Participant.age_band).tuples())
    for screening, gender, band, n, last in query:
        c = found[screening]
        c.by_participant[(gender, band)] += n
        c.participants += n
        c.note_received(last)


def _games(found, ids):
    query = (GameResult.select(GameRun.screening, GameRun.game_id, GameRun.phase, GameResult.question_id,
                               GameResult.counts, GameResult.answer, GameResult.received_at)
             .join(GameRun).where(GameRun.screening.in_(ids)).tuples())
    rows = list(query)
    wanted = {r[1] for r in rows}
    games = {g.id: g for g in Game.select(Game.id, Game.kind, Game.content).where(Game.id.in_(list(wanted)))} \
        if wanted else {}
    for screening, game_id, phase, question, counts, answer, received in rows:
        c = found[screening]
        c.note_received(received)
        counts = GameResult.counts.python_value(counts) if isinstance(counts, str) else counts
        game = games.get(game_id)
        kind = game.kind if game else ""
        if kind == "pledge":
            c.pledges += count_total(counts)
            c.has_pledge = 1
        elif kind == "quiz":
            answer = answer or content_answer(game, question)
            tally = c.quiz.setdefault((game_id, question), [0, 0])
            tally[0] += count_total(counts)
            tally[1] += count_total((counts or {}).get(answer, 0)) if answer else 0
        if phase in ("before", "after"):
            shares = c.polls.setdefault((game_id, question), {})
            choices = shares.setdefault(phase, Counter())
            for choice, value in (counts or {}).items():
                choices[str(choice)] += count_total(value)


def content_answer(game, question_id) -> str:
    """The right answer to a question, from the game's content (when the result does not say)."""
    for q in (game.content or {}).get("questions", []) if game else []:
        if q.get("id") == question_id:
            return str(q.get("answer") or "")
    return ""


def _summaries(found, ids):
    """A night belongs to its van: the summary counted is the one from the van the screening is
    planned for (from the first van to send one when the plan names no van, or the hub has no
    plan). Summaries other vans sent about it are kept for review and never counted."""
    planned = dict(Screening.select(Screening.id, Screening.van).where(Screening.id.in_(ids)).tuples())
    query = (SummaryReport.select().where(SummaryReport.screening.in_(ids))
             .order_by(SummaryReport.received_at, SummaryReport.id))
    chosen = {}
    for row in query:
        owner = planned.get(row.screening) or ""
        c = found[row.screening]
        if row.screening not in chosen and (not owner or row.van == owner):
            chosen[row.screening] = row
        else:
            c.for_review += 1
    for screening, row in chosen.items():
        c = found[screening]
        counts = {str(k): int(v) for k, v in (row.counts or {}).items()}
        c.qr_van, c.qr_date, c.qr_village = row.van, row.date or "", row.village or ""
        c.qr_counts = int(bool(counts))
        c.qr_categories = counts
        c.q_participants = int(row.participants or 0)
        c.qr_pledges = int(bool(row.pledges))
        c.q_pledges = sum(int(n) for n in (row.pledges or {}).values())
        c.qr_received_at = as_time(row.updated_at or row.received_at)
