"""The game state machine: one live run per van, driven by the crew, answered by phones.

The run is held in memory so that hundreds of phones can poll it without touching the
database; every change that matters (a vote, a ring, a hand count, a state change) is committed
to the database *before* it is acknowledged or shown, so a restarted server picks the run up
where it was (`restore`). All changes go through one lock: that lock is also what decides which
bell rang first. Polls take no lock: they read the last published version (immutable bytes).

Joins and votes come in bursts (a few hundred phones within seconds of a question opening), so
they are group-committed: each request validates and queues its row under the lock, then the
first waiting request writes every queued row in one transaction (one disk sync for the lot),
applies them to memory, publishes once and wakes the others. A phone still hears "received"
only after its row is committed. Closing a question first commits what is queued.
"""
import hashlib
import json
import logging
import secrets
import threading
import time

from ..errors import AppError
from ..ids import new_id, utcnow
from ..models import GameBuzz, GameLive, GamePlayer, GameResult, GameRun, GameVote, Screening, Setting, db
from .content import get_game
from .live import PLEDGE_QUESTION, LiveRun, Player
from .store import connected, restore_live, save_live, write_result
from .results import before_after, run_summary

log = logging.getLogger(__name__)
STATES = ("lobby", "question_open", "question_closed", "revealed", "finished")
PHASES = ("", "before", "after")
MAX_HANDS = 100_000
ONLINE_SECONDS = 10


class GameError(AppError):
    """A refused game action (the crew's or a phone's)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now_ms() -> int:
    return int(time.time() * 1000)


class Published:
    """One version of the public state, serialized once and shared by every poll."""
    __slots__ = ("version", "phase_version", "full", "delta")

    def __init__(self, version, phase_version, full, delta):
        self.version, self.phase_version, self.full, self.delta = version, phase_version, full, delta


class _Queued:
    """A join or vote waiting for the group commit: its row's write, its effect on memory."""
    __slots__ = ("write", "apply", "done", "error")

    def __init__(self, write, apply):
        self.write, self.apply, self.done, self.error = write, apply, False, None


class GameMachine:
    """The live run's states (lobby → question open → closed → revealed → finished) and every
    change to it; one per app, kept in app.extensions["games"] (games.init_app)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._commit_lock = threading.Lock()     # one group commit at a time
        self._queued: list[_Queued] = []
        self._queued_joins: dict[str, tuple[_Queued, Player]] = {}   # device -> its queued join
        self._cond = threading.Condition(self._lock)
        self.live: LiveRun | None = None
        self._loaded = False
        self._timer: threading.Thread | None = None
        self._database = None                  # the database this engine's app is bound to
        # Versions start at the clock so a phone polling across a server restart sees a change.
        self._version = _now_ms()
        self._pub: Published | None = None
        self.seen: dict[str, float] = {}       # device -> monotonic time of its last poll
        self._on_ended = []                    # callables(run_id): the crew ended a run
        with self._lock:
            self._publish(phase=True)

    # -- loading and publishing -------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """The live run has been read back from the database (polls may then skip Flask)."""
        return self._loaded

    def ensure_loaded(self):
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            with connected():
                self.live = restore_live()
            self._database = db.obj
            self._loaded = True
            self._publish(phase=True)
            self._start_timer()

    def _publish(self, phase: bool):
        self._version += 1
        v = self._version
        live = self.live
        if live is None:
            full = {"v": v, "state": "idle"}
            delta = full
        else:
            full = dict(live.public(), v=v)
            delta = {"v": v, "delta": True, "state": live.state, "tally": live.tally()}
        phase_v = v if phase or self._pub is None else self._pub.phase_version
        dumps = lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode()  # noqa: E731
        self._pub = Published(v, phase_v, dumps(full), dumps(delta))
        self._cond.notify_all()

    def poll(self, since: int | None, device: str | None = None) -> bytes | None:
        """The state for a client that has seen version `since`: None (no change), a tally
        delta (only counts moved since) or the full state. No lock, no database."""
        if not self._loaded:
            self.ensure_loaded()
        live = self.live
        if device and live is not None and device in live.players:    # joined phones only: a
            self.seen[device] = time.monotonic()                      # made-up cookie adds nothing
        pub = self._pub
        if since == pub.version:
            return None
        if since is not None and pub.phase_version <= since < pub.version:
            return pub.delta
        return pub.full

    @property
    def version(self) -> int:
        return self._pub.version

    # -- the timer --------------------------------------------------------------------------
    def _start_timer(self):
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Thread(target=self._timer_loop, name="game-timer", daemon=True)
            self._timer.start()

    def shutdown(self):
        """Stop the timer thread (the app is going away)."""
        with self._lock:
            self._database = False             # never the bound database: the loop returns
            self._cond.notify_all()

    def _timer_loop(self):
        with self._lock:
            while True:
                if db.obj is not self._database:
                    # the models now point at another app's database (a second app in this
                    # process, as in tests): this engine's app is gone, and so is its timer
                    return
                live = self.live
                if live and live.state == "question_open" and live.deadline_ms:
                    wait = (live.deadline_ms - _now_ms()) / 1000
                    if wait <= 0:
                        try:
                            self._close()
                        except Exception:   # a failed close must not kill the timer
                            log.exception("game timer could not close the question")
                            self._cond.wait(1)
                        continue
                    self._cond.wait(min(wait, 30))
                else:
                    self._cond.wait(30)

    # -- group commit -----------------------------------------------------------------------
    def _queue(self, write, apply) -> _Queued:
        """Holding the lock: queue a row for the next group commit."""
        item = _Queued(write, apply)
        self._queued.append(item)
        return item

    def _wait_committed(self, item: _Queued):
        """Not holding the lock: return once `item` is committed (by this thread or another)."""
        with self._commit_lock:
            if not item.done:
                with self._lock:
                    self._flush()
        if item.error is not None:
            raise item.error

    def _flush(self):
        """Holding the lock: write every queued row in one transaction, then apply them."""
        batch, self._queued = self._queued, []
        if not batch:
            return
        try:
            with connected(), db.atomic():
                for item in batch:
                    item.write()
        except Exception:
            log.exception("could not commit %d queued answers", len(batch))
            self._queued_joins.clear()
            for item in batch:
                item.error, item.done = GameError(503, "not_saved", "Not saved: try again."), True
            return
        for item in batch:
            item.apply()
            item.done = True
        self._publish(phase=False)

    # -- helpers ----------------------------------------------------------------------------
    def _require(self, *states, run_id: str | None = None) -> LiveRun:
        live = self.live
        if live is None or (run_id is not None and run_id != live.run_id):
            raise GameError(409, "no_game", "No game is running (or it has changed): reload.")
        if states and live.state not in states:
            raise GameError(409, "wrong_state", f"Not possible while the game is {live.state}.")
        return live

    def _save_live(self):
        with connected(), db.atomic():
            save_live(self.live)

    # -- crew: starting and driving a run --------------------------------------------------
    def start(self, screening_id: str, game_id: str, phase: str = "", position: int | None = None) -> str:
        """A new run of `game_id` at a screening, in the lobby; a live run still going is finished."""
        if phase not in PHASES:
            raise GameError(400, "bad_phase", "phase must be before, after or empty.", "phase")
        with self._lock:
            self.ensure_loaded()
            self._flush()           # queued joins and answers belong to the run they came for
            with connected():
                game = get_game(game_id)
                if game is None:
                    raise GameError(404, "no_such_game", f"No game {game_id!r}: run `vanapp games load`.", "game")
                if Screening.get_or_none(Screening.id == screening_id) is None:
                    raise GameError(404, "no_such_screening", "No such screening.", "screening")
                if self.live is not None and self.live.state != "finished":
                    # another game replaces the live one: played, it ends with its results;
                    # still in its lobby, it is skipped (no results, nothing to count)
                    self._finish() if self.live.qi >= 0 else self._skip()
                with db.atomic():
                    GameLive.update(active=False).where(GameLive.active == True).execute()  # noqa: E712
                    run = GameRun(screening=screening_id, game_id=game_id, phase=phase, position=position,
                                  state="lobby", started_at=utcnow(), scores={},
                                  van=Setting.van_id())
                    run.save_change(force_insert=True)
                    self.live = LiveRun(run.id, screening_id, game, phase, position)
                    save_live(self.live)
            self._publish(phase=True)
            return run.id

    def advance(self):
        """Next: lobby or a finished question → the next question (or the end)."""
        with self._lock:
            self.ensure_loaded()
            live = self._require("lobby", "question_closed", "revealed")
            nxt = live.qi + 1
            if nxt >= len(live.questions):
                self._finish()
                ended = live.run_id
            else:
                self._open(live, nxt)
                ended = None
        if ended:
            self._tell_ended(ended)

    def _open(self, live: LiveRun, nxt: int):
        """Holding the lock: open question `nxt`."""
        question = live.questions[nxt]
        timer = live.timer_for(question) if live.kind != "pledge" else None
        before = (live.state, live.qi, live.deadline_ms)
        live.state, live.qi = "question_open", nxt
        live.deadline_ms = _now_ms() + timer * 1000 if timer else None
        try:
            self._save_live()
        except Exception:
            live.state, live.qi, live.deadline_ms = before
            raise
        self._publish(phase=True)

    def close(self):
        with self._lock:
            self.ensure_loaded()
            self._require("question_open")
            self._close()

    def _close(self):
        self._flush()           # answers that arrived before the close are counted in it
        live = self.live
        qid = live.question["id"]
        before = (live.state, live.deadline_ms)
        try:
            with connected(), db.atomic():
                live.state, live.deadline_ms = "question_closed", None
                save_live(live)
                write_result(live, qid)
        except Exception:
            live.state, live.deadline_ms = before      # nothing committed: still open
            raise
        self._publish(phase=True)

    def reveal(self):
        with self._lock:
            self.ensure_loaded()
            live = self._require("question_open", "question_closed")
            if live.kind == "pledge":
                raise GameError(409, "wrong_state", "A pledge has nothing to reveal: press Next to finish.")
            if live.state == "question_open":
                self._close()
            live.state = "revealed"
            try:
                self._save_live()
            except Exception:
                live.state = "question_closed"
                raise
            self._publish(phase=True)

    def finish(self):
        """The crew ends the game (the programme, if it is on this game, moves on)."""
        with self._lock:
            self.ensure_loaded()
            live = self._require("lobby", "question_open", "question_closed", "revealed")
            self._finish()
        self._tell_ended(live.run_id)

    # -- the programme: the games it starts and leaves ---------------------------------------
    def on_ended(self, listener):
        """Call `listener(run_id)` whenever the crew ends a run (its last Next, or Finish), after
        the engine's lock is released: the listener may wait on another thread (the player)."""
        self._on_ended.append(listener)

    def _tell_ended(self, run_id: str):
        for listener in list(self._on_ended):
            try:
                listener(run_id)
            except Exception:   # the game is over whatever a listener makes of it
                log.exception("game %s ended: a listener failed", run_id)

    def enter(self, screening_id: str, game_id: str, phase: str = "", position: int | None = None) -> str:
        """The programme reached a game item: its run, in the lobby. The live run is kept when
        it is this very item's (the show resumed after a restart), else a new run starts."""
        with self._lock:
            self.ensure_loaded()
            live = self.live
            if (live is not None and live.state != "finished" and live.screening_id == screening_id
                    and live.game["id"] == game_id and (live.phase or "") == (phase or "")
                    and live.position == position):
                return live.run_id
            return self.start(screening_id, game_id, phase=phase, position=position)

    def leave(self, run_id: str) -> bool:
        """The programme leaves a game item: end its run if it still runs, and say whether the
        game was played (a question, or the pledge, was opened). A run left in its lobby is
        marked skipped: it has no results, and phones go back to waiting."""
        with self._lock:
            self.ensure_loaded()
            live = self.live
            if live is not None and live.run_id == run_id:
                if live.state == "finished":
                    return live.qi >= 0
                if live.qi < 0:
                    self._skip()
                    return False
                self._finish()
                return True
            with connected():
                run = GameRun.get_or_none(GameRun.id == run_id)
                return run is not None and run.state == "finished" and \
                    GameResult.select().where(GameResult.run == run_id).exists()

    def _skip(self):
        self._flush()
        live = self.live
        with connected(), db.atomic():
            run = GameRun.get_by_id(live.run_id)
            run.state, run.finished_at = "skipped", utcnow()
            run.save_change()
            GameLive.update(active=False).where(GameLive.run == live.run_id).execute()
        self.live = None
        self._publish(phase=True)

    def _finish(self):
        self._flush()
        live = self.live
        if live.state == "question_open":
            self._close()
        with connected():
            with db.atomic():
                for question in live.questions[:live.qi + 1]:
                    write_result(live, question["id"])
                run = GameRun.get_by_id(live.run_id)
                run.state, run.finished_at, run.scores = "finished", utcnow(), dict(live.scores)
                run.save_change()
                live.state, live.deadline_ms = "finished", None
                save_live(live)
            summary = run_summary(run, live.game)
            if live.phase == "after":
                summary["before_after"] = before_after(live.screening_id, live.game["id"])
        live.summary = summary
        self._publish(phase=True)

    def set_hands(self, question_id: str, counts: dict):
        """Show-of-hands counts typed by the crew for one question (replacing earlier ones)."""
        with self._lock:
            self.ensure_loaded()
            live = self._require("question_open", "question_closed", "revealed", "finished")
            opened = {q["id"]: q for q in live.questions[:live.qi + 1]}
            if question_id not in opened or live.kind == "buzzer":
                raise GameError(400, "bad_question", "Hands can be counted only for a question that was asked.",
                                "question")
            clean = {}
            for choice in live.choice_ids(opened[question_id]):
                value = counts.get(choice, 0)
                if isinstance(value, str) and value.strip().isdigit():
                    value = int(value.strip())
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_HANDS:
                    raise GameError(400, "bad_count", f"Counts are whole numbers 0..{MAX_HANDS}.", f"hands.{choice}")
                clean[choice] = value
            unknown = set(counts) - set(clean)
            if unknown:
                raise GameError(400, "bad_choice", f"No such choice: {', '.join(sorted(map(str, unknown)))}.", "hands")
            previous = live.hands.get(question_id)
            live.hands[question_id] = clean
            try:
                with connected(), db.atomic():
                    save_live(live)
                    if live.state != "question_open" or live.question["id"] != question_id:
                        write_result(live, question_id)
                    if live.state == "finished":
                        live.summary = dict(run_summary(GameRun.get_by_id(live.run_id), live.game),
                                            before_after=(live.summary or {}).get("before_after"))
            except Exception:
                live.hands[question_id] = previous
                raise
            self._publish(phase=live.state == "finished")

    def judge(self, correct: bool):
        """Buzzer: the team whose turn it is answered right (a point, question closes) or wrong
        (the turn passes to the next team that rang)."""
        with self._lock:
            self.ensure_loaded()
            live = self._require("question_open", "question_closed")
            if live.kind != "buzzer":
                raise GameError(409, "not_buzzer", "Only a buzzer game has turns.")
            qid = live.question["id"]
            team = live.turn(qid)
            if team is None:
                raise GameError(409, "no_turn", "No team has rung (or the point is already given).")
            live.judged.setdefault(qid, []).append([team, bool(correct)])
            if correct:
                live.scores[team] = live.scores.get(team, 0) + 1
            self._write_scores()
            if correct and live.state == "question_open":
                self._close()
            else:
                self._publish(phase=False)

    def adjust_score(self, team: str, delta: int):
        """Buzzer played by show of hands: the crew gives or takes a point by hand."""
        with self._lock:
            self.ensure_loaded()
            live = self._require("lobby", "question_open", "question_closed", "revealed")
            if live.kind != "buzzer" or team not in live.team_ids():
                raise GameError(400, "bad_team", "No such team in this game.", "team")
            if delta not in (-1, 1):
                raise GameError(400, "bad_delta", "A score changes by +1 or -1.", "delta")
            live.scores[team] = max(0, live.scores.get(team, 0) + delta)
            self._write_scores()
            self._publish(phase=False)

    def _write_scores(self):
        live = self.live
        with connected(), db.atomic():
            save_live(live)
            run = GameRun.get_by_id(live.run_id)
            run.scores = dict(live.scores)
            run.save_change()
            if live.question and live.state != "question_open":
                write_result(live, live.question["id"])

    # -- phones -----------------------------------------------------------------------------
    def join(self, device: str, team: str | None = None, token: str | None = None):
        """Join the live run as this device (or, with a rejoin token, as the phone that got it).
        Returns (player, new token or None); the token is shown to the phone once."""
        with self._lock:
            self.ensure_loaded()
            live = self._require("lobby", "question_open", "question_closed", "revealed")
            player = live.players.get(device)
            if player is None and token:
                with connected():
                    row = GamePlayer.get_or_none((GamePlayer.run == live.run_id) &
                                                 (GamePlayer.token_hash == _hash(token)))
                if row is not None:
                    player = live.by_id[row.id]
            if team is not None and team != "" and (live.kind != "buzzer" or team not in live.team_ids()):
                raise GameError(400, "bad_team", "No such team.", "team")
            new_token = queued = None
            if player is None and device in self._queued_joins:
                queued, player = self._queued_joins[device]      # the same phone, twice at once
            elif player is None:
                new_token = secrets.token_urlsafe(24)
                player = Player(new_id(), device, team or "")
                row = dict(id=player.id, run=live.run_id, device=device, token_hash=_hash(new_token),
                           team=player.team, joined_at=utcnow())

                def apply(player=player):
                    live.players[device], live.by_id[player.id] = player, player
                    self._queued_joins.pop(device, None)
                queued = self._queue(lambda: GamePlayer.insert(**row).execute(), apply)
                self._queued_joins[device] = (queued, player)
            elif team and team != player.team and (not player.team or live.state == "lobby"):
                with connected(), db.atomic():
                    GamePlayer.update(team=team).where(GamePlayer.id == player.id).execute()
                player.team = team
        if queued is not None:
            self._wait_committed(queued)
        return player, new_token

    def vote(self, device: str, run_id: str, question_id: str, choice: str) -> str:
        """Record this phone's answer; a later answer replaces it while the question is open."""
        self.ensure_loaded()
        with self._lock:
            live = self._require(run_id=run_id)
            player = live.players.get(device)
            if player is None:
                raise GameError(403, "not_joined", "Join the game first.")
            question = live.question
            if live.state != "question_open" or question is None or question["id"] != question_id:
                raise GameError(409, "closed", "This question is closed.", "question")
            if live.kind == "buzzer":
                raise GameError(400, "ring", "In this game you ring the bell.")
            if choice not in live.choice_ids(question):
                raise GameError(400, "bad_choice", "No such choice.", "choice")
            if live.votes.get(question_id, {}).get(player.id) == choice and not self._queued:
                return choice
            at, run, pid = utcnow(), live.run_id, player.id

            def write():
                (GameVote.insert(run=run, question_id=question_id, player=pid, choice=choice, at=at)
                 .on_conflict(conflict_target=[GameVote.run, GameVote.question_id, GameVote.player],
                              update={GameVote.choice: choice, GameVote.at: at}).execute())

            def apply():
                votes = live.votes.setdefault(question_id, {})
                previous = votes.get(pid)
                if previous == choice:
                    return
                counts = live.counts.setdefault(question_id, {})
                if previous is not None:
                    counts[previous] -= 1
                counts[choice] = counts.get(choice, 0) + 1
                votes[pid] = choice
            queued = self._queue(write, apply)
        self._wait_committed(queued)
        return choice

    def buzz(self, device: str, run_id: str, question_id: str) -> dict:
        """Ring this phone's team bell; the lock's order is the arrival order."""
        self.ensure_loaded()
        with self._lock:
            live = self._require(run_id=run_id)
            player = live.players.get(device)
            if player is None:
                raise GameError(403, "not_joined", "Join the game first.")
            if live.kind != "buzzer":
                raise GameError(400, "not_buzzer", "This game has no bell.")
            if not player.team:
                raise GameError(400, "no_team", "Choose a team first.", "team")
            question = live.question
            if live.state != "question_open" or question is None or question["id"] != question_id:
                raise GameError(409, "closed", "This question is closed.", "question")
            rings = live.rings.setdefault(question_id, [])
            if not any(p == player.id for _s, _t, p in rings):
                with connected(), db.atomic():
                    row = GameBuzz.create(run=live.run_id, question_id=question_id, player=player.id,
                                          team=player.team, at=utcnow())
                rings.append((row.id, player.team, player.id))
                self._publish(phase=False)
            queue = live.team_queue(question_id)
            return {"team": player.team, "rank": queue.index(player.team) + 1, "first": queue[0] == player.team}

    def me(self, device: str) -> dict | None:
        live = self.live
        return live.me(device) if live else None

    # -- crew: what the console shows ------------------------------------------------------
    def crew_state(self) -> dict:
        self.ensure_loaded()
        with self._lock:
            live = self.live
            if live is None:
                return {"v": self.version, "state": "idle"}
            now = time.monotonic()
            online = sum(1 for d in live.players if now - self.seen.get(d, -1e9) < ONLINE_SECONDS)
            teams = {}
            for player in live.players.values():
                teams[player.team] = teams.get(player.team, 0) + 1
            out = dict(live.public(), v=self.version, online=online, team_players=teams,
                       screening=live.screening_id, position=live.position,
                       hands={q: h for q, h in live.hands.items()},
                       questions=[{"id": q["id"], "text": q["text"], "answer": q.get("answer"),
                                   "choices": q["choices"]} for q in live.questions])
            if out["q"] is not None:
                question = live.question
                out["q"]["answer"] = question.get("answer")
                out["q"]["explanation"] = question.get("explanation")
            return out


__all__ = ["GameMachine", "GameError", "STATES", "PLEDGE_QUESTION"]
