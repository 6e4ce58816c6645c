"""Database side of the live run: save its position, write its per-question results (synced
GameResult rows) and rebuild it from the database after a restart. Callers hold the engine's
lock and open the transaction."""
import datetime as dt
from contextlib import contextmanager

from ..ids import UTC, utcnow
from ..models import GameBuzz, GameLive, GamePlayer, GameResult, GameRun, GameVote, db
from .content import get_game
from .live import LiveRun, Player
from .results import before_after, run_summary


@contextmanager
def connected():
    """Use this thread's open connection (a request's) or open one for the unit of work."""
    if db.is_closed():
        with db.connection_context():
            yield
    else:
        yield


def deadline_from_ms(ms: int | None):
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, UTC)


def save_live(live: LiveRun) -> None:
    fields = {"active": True, "state": live.state, "question_index": live.qi,
              "deadline": deadline_from_ms(live.deadline_ms), "hands": live.hands,
              "judged": live.judged, "updated_at": utcnow()}
    (GameLive.insert(run=live.run_id, **fields)
     .on_conflict(conflict_target=[GameLive.run],
                  update={getattr(GameLive, k): v for k, v in fields.items()}).execute())


def result_counts(live: LiveRun, qid: str) -> dict:
    if live.kind != "buzzer":
        return live.merged_counts(qid)
    queue = live.team_queue(qid)
    rings = {}
    for _seq, team, _player in live.rings.get(qid, []):
        rings[team] = rings.get(team, 0) + 1
    won = {team for team, ok in live.judged.get(qid, []) if ok}
    return {team: {"rings": rings.get(team, 0), "order": queue.index(team) + 1 if team in queue else 0,
                   "points": 1 if team in won else 0} for team in live.team_ids()}


def write_result(live: LiveRun, qid: str) -> GameResult:
    """Create or update the synced result of one question (only when it changed)."""
    question = next(q for q in live.questions if q["id"] == qid)
    counts = result_counts(live, qid)
    row = GameResult.get_or_none((GameResult.run == live.run_id) & (GameResult.question_id == qid))
    if row is None:
        row = GameResult(run=live.run_id, question_id=qid, van=GameRun.get_by_id(live.run_id).van)
        row.counts, row.answer, row.closed_at = counts, question.get("answer") or "", utcnow()
        return row.save_change(force_insert=True)
    if row.counts != counts:
        row.counts = counts
        row.save_change()
    return row


def restore_live() -> LiveRun | None:
    """The active run as it was committed: position, phones, votes, rings, hands, scores."""
    row = GameLive.current()
    if row is None:
        return None
    run = GameRun.get_or_none(GameRun.id == row.run_id)
    game = get_game(run.game_id) if run else None
    if game is None:
        GameLive.update(active=False).where(GameLive.run == row.run_id).execute()
        return None
    deadline = row.deadline
    live = LiveRun(run.id, run.screening_id, game, run.phase, run.position, row.state, row.question_index,
                   int(deadline.timestamp() * 1000) if deadline else None)
    live.hands, live.judged, live.scores = row.hands or {}, row.judged or {}, dict(run.scores or {})
    for p in GamePlayer.select().where(GamePlayer.run == run.id):
        player = Player(p.id, p.device, p.team)
        live.players[p.device], live.by_id[p.id] = player, player
    for v in GameVote.select().where(GameVote.run == run.id).order_by(GameVote.id):
        live.votes.setdefault(v.question_id, {})[v.player_id] = v.choice
        counts = live.counts.setdefault(v.question_id, {})
        counts[v.choice] = counts.get(v.choice, 0) + 1
    for b in GameBuzz.select().where(GameBuzz.run == run.id).order_by(GameBuzz.id):
        live.rings.setdefault(b.question_id, []).append((b.id, b.team, b.player_id))
    if live.state == "finished":
        live.summary = run_summary(run, game)
        if live.phase == "after":
            live.summary["before_after"] = before_after(run.screening_id, game["id"])
    return live
