"""The show: one state for the night across the programme (the player) and the games (the game
state machine). It starts a programme's game item as a game run and moves the programme on when
the crew ends that game; it ends a screening's game when the screening finishes or is
cancelled, and keeps the closing screen for the projector; it says where a show cut by a power
failure can resume. Every page and the API read the night from `state()`.

`init_app(app)` wires it: the player gets it as its game hooks (`enter`, `leave`), and the game
state machine tells it when the crew ended a run (`game_ended`).
"""
import datetime as dt
import logging

from .games import machine_of
from .games.machine import GameError
from .ids import utcnow
from .models import Game, GameRun, ProgrammeItem, Screening, Village
from .player import PlayError, get_player

log = logging.getLogger(__name__)

ACTIVE = ("opening", "playing", "paused", "game")


class Show:
    def __init__(self, app):
        self.app = app
        self.closing = None     # the screening just finished: the projector's closing screen

    def _engine(self):
        return machine_of(self.app)

    def _player(self):
        return get_player(self.app)

    # -- the player's game hooks (called on the player's thread) ------------------------------
    def enter(self, screening_id: str, item) -> str:
        """The programme reached game item `item`: its run (new, or the live one on a resume)."""
        self.closing = None
        return self._engine().enter(screening_id, item.ref, phase=item.phase or "", position=item.position)

    def leave(self, run_id: str) -> bool:
        """The programme leaves the game: end its run; True if the game was played."""
        return self._engine().leave(run_id)

    # -- the game state machine's listener (called on the thread that ended the game) ---------
    def game_ended(self, run_id: str):
        player = self.app.extensions.get("player")
        if player is None:
            return
        try:
            player.game_over(run_id)
        except PlayError as exc:    # the game is over; the crew can still press Next
            log.warning("show: the programme did not move on after game run %s: %s", run_id, exc.message)

    # -- the screening's end ------------------------------------------------------------------
    def end(self, screening_id: str, closing: bool) -> dict:
        """The screening finishes (`closing`: the projector says goodbye) or is cancelled: stop
        its programme if it is on screen and end its live game. Returns the player's state."""
        player = self._player()
        snap = player.snapshot()
        if snap.get("screening") == screening_id and snap.get("state") in ACTIVE:
            try:
                snap = player.stop()
            except PlayError as exc:
                snap = {"error": {"code": exc.code, "message": exc.message}}
        engine = self._engine()
        live = engine.live
        if live is not None and live.screening_id == screening_id and live.state != "finished":
            try:
                engine.leave(live.run_id)
            except GameError as exc:
                log.warning("show: ending the game of %s: %s", screening_id, exc.message)
        self.closing = screening_id if closing else None
        return snap

    # -- resume after a power cut -------------------------------------------------------------
    def resume_point(self, screening_id: str, snap: dict | None = None) -> dict | None:
        """Where the show of `screening_id`, cut by a power failure, can go on: {index, ms, kind,
        ref}; None when nothing is to resume (the caller's DB connection)."""
        snap = snap if snap is not None else self._player().snapshot()
        cut = snap.get("interrupted")
        if not cut or cut.get("screening") != screening_id:
            return None
        if snap.get("screening") == screening_id and snap.get("state") in ACTIVE:
            return None
        screening = Screening.get_or_none(Screening.id == screening_id)
        if screening is None or screening.status in ("done", "cancelled"):
            return None
        items = list(ProgrammeItem.select().where(ProgrammeItem.screening == screening_id)
                     .order_by(ProgrammeItem.position))
        index, ms = int(cut.get("index") or 0), int(cut.get("ms") or 0)
        if 0 <= index < len(items) and items[index].kind == "game":
            ms = 0
            run = GameRun.get_or_none(GameRun.id == cut.get("run")) if cut.get("run") else None
            if run is not None and run.state in ("finished", "skipped"):
                index += 1          # the game was over before the cut: go on after it
        if not 0 <= index < len(items):
            return None
        item = items[index]
        return {"screening": screening_id, "index": index, "ms": ms, "kind": item.kind,
                "ref": item.ref, "count": len(items)}

    def resume(self, screening_id: str) -> dict:
        point = self.resume_point(screening_id)
        if point is None:
            raise PlayError(409, "nothing_to_resume", "This screening has no interrupted show to resume.",
                            field="screening")
        return self._player().play(screening_id, point["index"], point["ms"])

    # -- what every screen shows --------------------------------------------------------------
    def state(self) -> dict:
        """The player's snapshot, plus the live game (`game`), the screening's status, the
        resume offer and, after Finish, the closing screen (the caller's DB connection)."""
        snap = dict(self._player().snapshot())
        live = self._engine().live
        snap["game"] = None
        if live is not None:
            snap["game"] = {"run": live.run_id, "id": live.game["id"], "kind": live.kind,
                            "title": live.game["title"], "state": live.state, "phase": live.phase,
                            "screening": live.screening_id, "position": live.position,
                            "question": live.qi + 1 if live.qi >= 0 else None,
                            "count": len(live.questions), "joined": len(live.players),
                            "in_programme": bool(snap.get("run")) and snap.get("run") == live.run_id,
                            "stale": live.state == "finished" and _finished_long_ago(live.run_id)}
        screening = snap.get("screening")
        snap["screening_status"] = None
        if screening:
            row = Screening.get_or_none(Screening.id == screening)
            snap["screening_status"] = row.status if row else None
        snap["resume"] = self.resume_point(snap["interrupted"]["screening"], snap) \
            if snap.get("interrupted") else None
        if snap["resume"] and not snap.get("village"):
            # after a restart the projector still names the village whose show was cut
            cut = (Screening.select(Screening, Village).join(Village)
                   .where(Screening.id == snap["resume"]["screening"]).first())
            snap["village"] = {"name": cut.village.name, "name_en": cut.village.name_en} if cut else None
        on_screen = snap.get("state") in ACTIVE or (live is not None and live.state != "finished")
        # the goodbye of the screening just finished, until another show is on the player
        closing = self.closing if snap.get("screening") in (None, self.closing) else None
        snap["closing"] = None if on_screen or not closing else closing_screen(closing)
        return snap


RESULTS_SHOWN = dt.timedelta(minutes=15)


def _finished_long_ago(run_id: str) -> bool:
    """A finished game's results stay on the projector while nothing else is on; not those of a
    game that ended long ago (last night's, found live again after a restart)."""
    run = GameRun.get_or_none(GameRun.id == run_id)
    return run is None or run.finished_at is None or utcnow() - run.finished_at > RESULTS_SHOWN


def closing_screen(screening_id: str) -> dict | None:
    """What the audience sees after Finish: the village, the pledges made tonight and the
    pledge's words (the campaign's message and helpline are the page's own words)."""
    screening = (Screening.select(Screening, Village).join(Village)
                 .where(Screening.id == screening_id).first())
    if screening is None:
        return None
    from .games.results import run_summary
    pledges, words = 0, None
    runs = list(GameRun.select().where((GameRun.screening == screening_id) & (GameRun.state != "skipped")))
    games = {g.id: g for g in Game.select().where(Game.id.in_({r.game_id for r in runs}))} if runs else {}
    for run in runs:
        game = games.get(run.game_id)
        if game is None or game.kind != "pledge":
            continue
        pledges += run_summary(run, game.content).get("pledges", 0)
        words = game.content.get("pledge")
    return {"screening": screening_id, "village": {"name": screening.village.name,
                                                   "name_en": screening.village.name_en},
            "pledges": pledges, "pledge": words}


def init_app(app):
    """The van's show, in app.extensions["show"] (after the game state machine's init_app; before
    the player is made, which takes the show as its game hooks)."""
    show = app.extensions["show"] = Show(app)
    machine_of(app).on_ended(show.game_ended)
    return show
