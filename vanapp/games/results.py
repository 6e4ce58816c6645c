"""Results of game runs as people read them: per question the counts by choice and source
(phones, hands), percentages, the share right for a quiz, team scores, pledges — and for a
poll played before and after a film, how the split moved.

GameResult.counts shapes (one row per question per run):
  quiz, poll: {choice: {"phones": n, "hands": n}}
  pledge:     {"pledge": {"phones": n, "hands": n}}   (question id "pledge")
  buzzer:     {team: {"rings": n, "order": k (1 = rang first, 0 = never), "points": n}}
"""
from ..models import Game, GameResult, GameRun
from .live import questions_of


def _pct(part: int, whole: int) -> int:
    return (200 * part + whole) // (2 * whole) if whole else 0    # half up: 12.5 -> 13


def question_summary(question: dict, kind: str, result: GameResult | None) -> dict:
    counts = result.counts if result else {}
    out = {"id": question["id"], "text": question["text"], "answer": question.get("answer"),
           "closed": bool(result and result.closed_at)}
    if kind == "buzzer":
        out["teams"] = counts
        return out
    choices = []
    total = sum(int(c.get("phones", 0)) + int(c.get("hands", 0)) for c in counts.values())
    for choice in question["choices"]:
        c = counts.get(choice["id"], {})
        n = int(c.get("phones", 0)) + int(c.get("hands", 0))
        choices.append({"id": choice["id"], "text": choice["text"], "phones": int(c.get("phones", 0)),
                        "hands": int(c.get("hands", 0)), "total": n, "pct": _pct(n, total)})
    out.update(choices=choices, total=total)
    if kind == "quiz" and question.get("answer"):
        right = next((c["total"] for c in choices if c["id"] == question["answer"]), 0)
        out["right_pct"] = _pct(right, total)
    return out


def run_summary(run: GameRun, game: dict | None = None) -> dict:
    """One run's results, whatever its kind, from its GameResult rows."""
    if game is None:
        row = Game.get_or_none(Game.id == run.game_id)
        game = row.content if row else None
    results = {r.question_id: r for r in GameResult.select().where(GameResult.run == run.id)}
    out = {"run": run.id, "game": run.game_id, "phase": run.phase, "state": run.state,
           "kind": game["kind"] if game else "", "title": game["title"] if game else
           {"hi": run.game_id, "en": run.game_id},
           "started_at": run.to_wire()["started_at"], "finished_at": run.to_wire()["finished_at"],
           "questions": [], "scores": run.scores or {}}
    if not game:
        return out
    for question in questions_of(game):
        if question["id"] in results or game["kind"] == "pledge":
            out["questions"].append(question_summary(question, game["kind"], results.get(question["id"])))
    if game["kind"] == "buzzer":
        out["teams"] = [{"id": t["id"], "name": t["name"], "colour": t.get("colour"),
                         "points": (run.scores or {}).get(t["id"], 0)} for t in game.get("teams") or []]
    if game["kind"] == "pledge":
        q = out["questions"][0]
        out["pledges"] = q["total"]
        out["target"] = game.get("target")
    if game["kind"] == "quiz":
        answered = [q for q in out["questions"] if q["total"]]
        out["right_pct"] = round(sum(q["right_pct"] for q in answered) / len(answered)) if answered else 0
    return out


def before_after(screening_id: str, game_id: str) -> dict | None:
    """How the split moved between the latest `before` and `after` runs of a poll at a screening."""
    runs = {}
    for run in (GameRun.select().where((GameRun.screening == screening_id) & (GameRun.game_id == game_id)
                                       & (GameRun.phase.in_(["before", "after"])))
                .order_by(GameRun.started_at)):
        runs[run.phase] = run       # the latest of each phase wins
    if set(runs) != {"before", "after"}:
        return None
    row = Game.get_or_none(Game.id == game_id)
    game = row.content if row else None
    before, after = run_summary(runs["before"], game), run_summary(runs["after"], game)
    moved = []
    after_q = {q["id"]: q for q in after["questions"]}
    for qb in before["questions"]:
        qa = after_q.get(qb["id"])
        if qa is None or "choices" not in qb:
            continue
        pa = {c["id"]: c for c in qa["choices"]}
        moved.append({"id": qb["id"], "text": qb["text"],
                      "before_total": qb["total"], "after_total": qa["total"],
                      "choices": [{"id": c["id"], "text": c["text"], "before": c["pct"],
                                   "after": pa[c["id"]]["pct"], "change": pa[c["id"]]["pct"] - c["pct"]}
                                  for c in qb["choices"] if c["id"] in pa]})
    return {"game": game_id, "title": before["title"], "before_run": runs["before"].id,
            "after_run": runs["after"].id, "questions": moved}


def screening_results(screening_id: str) -> dict:
    """Every run at a screening, oldest first, plus before/after comparisons of its polls."""
    runs = list(GameRun.select().where(GameRun.screening == screening_id).order_by(GameRun.started_at))
    games = {g.id: g.content for g in Game.select().where(Game.id.in_({r.game_id for r in runs}))}
    summaries = [run_summary(r, games.get(r.game_id)) for r in runs]
    paired = sorted({r.game_id for r in runs if r.phase == "before"} &
                    {r.game_id for r in runs if r.phase == "after"})
    return {"runs": summaries,
            "before_after": [c for c in (before_after(screening_id, g) for g in paired) if c]}
