"""What a night (and a tour) added up to: audience by category, headcounts, participants, what was
played (PlayLog) and the games' results (GameResult) — for the summary page, the QR and
`vanapp report`."""
from collections import Counter

from ..models import Game, GameResult, GameRun, Participant, PlayLog, Screening, Setting, TallyEvent, Village
from ..security import van_secret
from ..protocol import summary
from . import tally


def _total(value) -> int:
    """Sum every count in a GameResult's counts ({choice: {"phones": n, "hands": n}} or {choice: n})."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return sum(_total(v) for v in value.values())
    return 0


def plays(screening_id: str) -> list[dict]:
    rows = PlayLog.select().where(PlayLog.screening == screening_id).order_by(PlayLog.started_at)
    return [{"position": p.position, "media": p.media_id, "outcome": p.outcome,
             "position_ms": p.position_ms, "duration_ms": p.duration_ms,
             "started_at": p.to_wire()["started_at"]} for p in rows]


def games(screening_id: str) -> list[dict]:
    """Each game run with its results, choices totalled over phones and raised hands."""
    kinds = {g.id: (g.kind, g.title_hi, g.title_en) for g in Game.select(Game.id, Game.kind, Game.title_hi,
                                                                         Game.title_en)}
    runs = GameRun.select().where(GameRun.screening == screening_id).order_by(GameRun.started_at)
    out = []
    for run in runs:
        kind, title_hi, title_en = kinds.get(run.game_id, ("", run.game_id, run.game_id))
        results = [{"question": r.question_id, "answer": r.answer,
                    "choices": {str(c): _total(v) for c, v in (r.counts or {}).items()}, "raw": r.counts}
                   for r in GameResult.select().where(GameResult.run == run.id).order_by(GameResult.question_id)]
        out.append({"game": run.game_id, "kind": kind, "title_hi": title_hi, "title_en": title_en,
                    "phase": run.phase, "state": run.state, "results": results,
                    "total": sum(_total(r["raw"]) for r in results)})
    return out


def pledges(game_runs: list[dict]) -> dict[str, int]:
    out = Counter()
    for run in game_runs:
        if run["kind"] == "pledge":
            out[run["game"]] += run["total"]
    return dict(out)


def screening_report(screening_id: str) -> dict:
    """Everything known about one screening's audience and programme."""
    s = Screening.select(Screening, Village).join(Village).where(Screening.id == screening_id).first()
    if s is None:
        raise tally.NotFound("not_found", f"No screening {screening_id}.", field="screening")
    state = tally.state(s.id)
    runs = games(s.id)
    by = Counter()
    for gender, band in Participant.select(Participant.gender, Participant.age_band).where(
            Participant.screening == s.id).tuples():
        by[f"gender:{gender}"] += 1
        by[f"age:{band}"] += 1
    return {
        "screening": s.id, "date": s.date, "start": s.start, "status": s.status,
        "village": s.village.name_en, "village_hi": s.village.name, "tour": s.tour_id, "van": s.van,
        "counts": state["counts"], "total": state["total"],
        "headcounts": {k: (v["count"] if v else None) for k, v in state["headcounts"].items()},
        "participants": state["participants"], "participants_by": dict(sorted(by.items())),
        "plays": plays(s.id), "games": runs, "pledges": pledges(runs),
    }


def all_report(screening_id: str | None = None) -> dict:
    """Per screening (those with anything recorded, or the one asked for) and totals over them."""
    if screening_id:
        screenings = [screening_report(screening_id)]
    else:
        ids = set(TallyEvent.select(TallyEvent.screening).distinct().tuples())
        ids |= set(Participant.select(Participant.screening).distinct().tuples())
        ids |= set(PlayLog.select(PlayLog.screening).distinct().tuples())
        order = {sid: (d, st) for sid, d, st in Screening.select(Screening.id, Screening.date, Screening.start)
                 .where(Screening.id.in_([i[0] for i in ids])).tuples()} if ids else {}
        screenings = [screening_report(sid) for sid in sorted(order, key=order.get)]
    totals = Counter()
    for r in screenings:
        totals.update(r["counts"])
    pledged = Counter()
    for r in screenings:
        pledged.update(r["pledges"])
    return {
        "screenings": screenings,
        "totals": {"screenings": len(screenings), "villages": len({r["village"] for r in screenings}),
                   "counts": dict(totals), "audience": sum(totals.values()),
                   "participants": sum(r["participants"] for r in screenings),
                   "plays": sum(len(r["plays"]) for r in screenings),
                   "plays_completed": sum(1 for r in screenings for p in r["plays"] if p["outcome"] == "completed"),
                   "pledges": sum(pledged.values())},
    }


def night(report: dict) -> dict:
    """The part of a screening report that travels in the summary QR."""
    return {k: report[k] for k in ("screening", "date", "village", "counts", "headcounts",
                                   "participants", "plays", "pledges")}


def summary_qr_text(report: dict) -> str:
    """The signed QR text for a screening report, with this van's id and hub URL (if paired)."""
    # not paired yet: the tour's van id, under which the hub will know this van once paired
    return summary.encode_summary(night(report), summary.summary_key(van_secret()),
                                  Setting.van_id() or report.get("van") or "",
                                  Setting.get_value("hub_url", "") or None)

