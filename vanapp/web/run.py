"""Crew pages to run a screening: the chooser (which show tonight), the run page (Start, the
programme on screen, controls, proof of play), the phone remote and the projector page. They
read and command the player through the JSON API (/api/v1/player, /api/v1/screenings/<id>/...),
polling twice a second."""
from flask import Blueprint, current_app, render_template, url_for
from peewee import fn
from werkzeug.routing import BuildError

from ..models import PlayLog, ProgrammeItem, Screening
from ..tours import identity, queries
from .auth import guard_crew_blueprint

bp = Blueprint("run", __name__, url_prefix="/run")
guard_crew_blueprint(bp)


def _snapshot():
    player = current_app.extensions.get("player")
    return player.snapshot() if player is not None else None


def _run_page(screening):
    items = list(queries.programme(screening.id)) if screening else []
    plays = list(PlayLog.for_screening(screening.id)) if screening else []
    tz = current_app.config["TIMEZONE"]
    return render_template("run/console.html", screening=screening, items=items,
                           titles=ProgrammeItem.titles(), plays=plays, snapshot=_snapshot(),
                           timezone=tz, today=queries.local_now(tz).date().isoformat())


@bp.get("/")
def console():
    """The screening the player is on, else the one in progress; else the chooser: tonight's
    screenings first, then earlier ones not held yet, then the coming ones (this van's)."""
    snap = _snapshot()
    screening = None
    if snap and snap.get("screening") and snap.get("state") not in ("finished", "stopped", "idle"):
        screening = queries.screenings().where(Screening.id == snap["screening"]).first()
    van = identity.this_van().van
    if screening is None:
        screening = queries.screenings(van=van).where(Screening.status == "in_progress").first()
    if screening is not None:
        return _run_page(screening)
    choices = queries.run_choices(current_app.config["TIMEZONE"], van)
    counts = _programme_sizes([s.id for group in ("tonight", "earlier", "coming") for s in choices[group]])
    return render_template("run/choose.html", sizes=counts, **choices)


def _programme_sizes(ids) -> dict:
    """Screening id -> number of programme items, in one query."""
    if not ids:
        return {}
    rows = (ProgrammeItem.select(ProgrammeItem.screening, fn.COUNT(ProgrammeItem.id).alias("n"))
            .where(ProgrammeItem.screening.in_(ids)).group_by(ProgrammeItem.screening))
    return {r.screening_id: r.n for r in rows}


@bp.get("/<screening_id>")
def screening(screening_id):
    return _run_page(queries.screening(screening_id))


@bp.get("/remote")
def remote():
    return render_template("run/remote.html")


def _game_screen_url() -> str:
    """The games area's projector screen, when it exists (the hand-over for game items)."""
    if "games.projector" not in current_app.view_functions:
        return ""
    try:
        return url_for("games.projector")
    except BuildError:
        return ""


@bp.get("/projector")
def projector():
    return render_template("run/projector.html", game_url=_game_screen_url())
