"""Crew pages for games: the control page (start the programme's game, drive it, type
show-of-hands counts), the projector screen of the live game, and a run's results."""
from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import lazy_gettext as _l

from ..errors import get_or_404
from ..games import joinurl
from .. import games as game_area
from ..games.machine import GameError
from ..games.results import run_summary, screening_results
from ..models import Game, GameRun, ProgrammeItem, Screening
from ..tours import queries
from .auth import guard_crew_blueprint

bp = Blueprint("games", __name__, url_prefix="/games")
guard_crew_blueprint(bp)


def _player_item() -> tuple[str | None, dict | None]:
    """(screening id, current programme item) from the player, if it runs and says so.

    The player is another part; we only read its snapshot, tolerating its absence.
    """
    player = current_app.extensions.get("player")
    snapshot = None
    for name in ("snapshot", "state", "status"):
        getter = getattr(player, name, None)
        if callable(getter):
            try:
                snapshot = getter()
            except Exception:   # the player's trouble must not break the games page
                snapshot = None
            break
    if not isinstance(snapshot, dict):
        return None, None
    screening = snapshot.get("screening")
    if isinstance(screening, dict):
        screening = screening.get("id")
    item = snapshot.get("item") or snapshot.get("current")
    return (screening if isinstance(screening, str) else None), (item if isinstance(item, dict) else None)


# Refusals the crew may meet, in their language (the engine speaks English codes).
MESSAGES = {
    "no_such_game": _l("That game is not loaded. Run: vanapp games load"),
    "no_such_screening": _l("That screening does not exist."),
    "bad_phase": _l("The phase must be before, after or empty."),
    "wrong_state": _l("Not possible at this step of the game."),
    "no_game": _l("No game is running."),
}


def message_for(exc: GameError) -> str:
    return str(MESSAGES.get(exc.code, exc.message))


@bp.get("/")
def index():
    engine = game_area.machine_of(current_app)
    engine.ensure_loaded()
    player_screening, player_item = _player_item()
    screening = None
    if player_screening:
        screening = queries.screenings().where(Screening.id == player_screening).first()
    if screening is None:
        screening = queries.next_screening(current_app.config["TIMEZONE"])
    game_items = [i for i in queries.programme(screening.id) if i.kind == "game"] if screening else []
    current = None
    if player_item and player_item.get("kind") == "game":
        current = (player_item.get("ref"), player_item.get("phase") or "", player_item.get("position"))
    runs = {}
    if screening:
        for run in GameRun.select().where(GameRun.screening == screening.id).order_by(GameRun.started_at):
            runs[(run.game_id, run.phase)] = run
    return render_template("games/index.html", screening=screening, game_items=game_items,
                           current=current, runs=runs, titles=ProgrammeItem.titles(),
                           games=list(Game.select().order_by(Game.kind, Game.id)),
                           live=engine.live, join=joinurl.join_url_for(current_app.config, request.host,
                                                                       request.scheme))


@bp.post("/start")
def start():
    form = request.form
    position = form.get("position", "")
    try:
        game_area.machine_of(current_app).start(form.get("screening", ""), form.get("game", ""),
                                      phase=form.get("phase", ""),
                                      position=int(position) if position.isdigit() else None)
    except GameError as exc:
        flash(message_for(exc), "error")
    return redirect(url_for("games.index"))


@bp.get("/projector")
def projector():
    """The projector: one page follows the show, the live game included (the run area's)."""
    from .run import projector as show_projector
    return show_projector()


@bp.get("/runs/<run_id>")
def run_results(run_id):
    run = get_or_404(GameRun.select().where(GameRun.id == run_id), "No such run.", field=None)
    screening = queries.screenings().where(Screening.id == run.screening_id).first()
    results = screening_results(run.screening_id)
    pair = next((c for c in results["before_after"] if run.id in (c["before_run"], c["after_run"])), None)
    return render_template("games/run.html", run=run, screening=screening, summary=run_summary(run),
                           before_after=pair)


@bp.get("/screenings/<screening_id>")
def screening(screening_id):
    s = queries.screening(screening_id)
    return render_template("games/screening.html", screening=s, results=screening_results(s.id))

