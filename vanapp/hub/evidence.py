"""The records behind one screening on the hub, one row each, with when it happened on the van
(event time) beside when the hub received it: the last step of tracing a total to what the
crew did. Pure functions over the models (no Flask)."""
import datetime as dt
from dataclasses import dataclass, field

from ..models import (GameResult, GameRun, Headcount, Participant, PlayLog, ScreeningEvent,
                      TallyEvent)
from .facts import as_time, count_total

KINDS = ("tap", "correction", "headcount", "participant", "play", "game_run", "game_result", "event")
LIMIT = 5000          # a night has a few hundred taps; past this the page says how many it left out


@dataclass
class Record:
    kind: str                      # one of KINDS
    id: str
    van: str
    version: int
    at: dt.datetime | None         # event time (on the van)
    received_at: dt.datetime | None
    what: str                      # the category, choice counts, media id... (data, not UI text)
    value: object = ""
    parts: dict = field(default_factory=dict)   # the same, unjoined, for a page to say in words

    @property
    def lag(self) -> dt.timedelta | None:
        if self.at is None or self.received_at is None:
            return None
        return self.received_at - self.at


def records(screening_id: str, kind: str = "", category: str = "") -> tuple[list[Record], int]:
    """(the screening's van-owned records, oldest event first, at most LIMIT; how many in all).
    `kind` keeps one of KINDS; `category` keeps the taps and corrections of one category."""
    rows: list[Record] = []
    want = (lambda k: not kind or kind == k)
    if want("tap") or want("correction"):
        query = TallyEvent.select().where(TallyEvent.screening == screening_id)
        if category:
            query = query.where(TallyEvent.category == category)
        for t in query:
            k = "tap" if t.delta > 0 else "correction"
            if want(k):
                rows.append(Record(k, t.id, t.van, t.version, t.at, t.received_at, t.category,
                                   f"{t.delta:+d}", {"category": t.category}))
    if category:
        return _sorted(rows)
    if want("headcount"):
        for h in Headcount.select().where(Headcount.screening == screening_id):
            rows.append(Record("headcount", h.id, h.van, h.version, h.at, h.received_at, h.kind, h.count,
                               {"headcount": h.kind}))
    if want("participant"):
        # the name and phone stay out of the trace: gender and age band are what the totals use
        for p in Participant.select().where(Participant.screening == screening_id):
            rows.append(Record("participant", p.id, p.van, p.version, p.consent_at, p.received_at,
                               f"{p.gender} {p.age_band}", 1, {"gender": p.gender, "age_band": p.age_band}))
    if want("play"):
        for p in PlayLog.select().where(PlayLog.screening == screening_id):
            reached = f"{p.position_ms / 1000:.0f}/{(p.duration_ms or 0) / 1000:.0f} s"
            rows.append(Record("play", p.id, p.van, p.version, p.started_at, p.received_at,
                               f"{p.position + 1}. {p.media_id}", f"{p.outcome} {reached}",
                               {"position": p.position + 1, "media": p.media_id, "outcome": p.outcome,
                                "position_ms": p.position_ms, "duration_ms": p.duration_ms}))
    runs = {r.id: r for r in GameRun.select().where(GameRun.screening == screening_id)}
    if want("game_run"):
        for r in runs.values():
            rows.append(Record("game_run", r.id, r.van, r.version, as_time(r.started_at), r.received_at,
                               f"{r.game_id}{' · ' + r.phase if r.phase else ''}", r.state,
                               {"game": r.game_id, "phase": r.phase, "game_state": r.state}))
    if want("game_result") and runs:
        for g in GameResult.select().where(GameResult.run.in_(list(runs))):
            run = runs[g.run_id]
            counts = ", ".join(f"{c} {count_total(v)}" for c, v in sorted((g.counts or {}).items()))
            rows.append(Record("game_result", g.id, g.van, g.version,
                               as_time(run.finished_at or run.started_at), g.received_at,
                               f"{run.game_id} · {g.question_id}", counts,
                               {"game": run.game_id, "question": g.question_id,
                                "counts": {c: count_total(v) for c, v in sorted((g.counts or {}).items())}}))
    if want("event"):
        for e in ScreeningEvent.select().where(ScreeningEvent.screening == screening_id):
            moved = f" → {e.new_date} {e.new_start or ''}".rstrip() if e.new_date else ""
            rows.append(Record("event", e.id, e.van, e.version, e.at, e.received_at, e.kind,
                               f"{e.reason or ''}{moved}".strip(),
                               {"event": e.kind, "reason": e.reason or "", "new_date": e.new_date or "",
                                "new_start": e.new_start or ""}))
    return _sorted(rows)


def _sorted(rows: list[Record]) -> tuple[list[Record], int]:
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    rows.sort(key=lambda r: (r.at or far, r.kind, r.id))
    return rows[:LIMIT], len(rows)
