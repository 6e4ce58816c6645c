"""Crew pages to run a screening: the chooser (which show tonight), the run page (Start, the
programme on screen, its game's controls in place, proof of play, resume after a power cut),
the phone remote and the projector page that follows the show. They read the show and command
it through the JSON API (/api/v1/player, /api/v1/games/live, /api/v1/screenings/<id>/...),
polling twice a second."""
from flask import Blueprint, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from peewee import fn

from ..games import joinurl
from ..models import PlayLog, ProgrammeItem, Screening
from ..player.outcome import problem_code
from ..qr import qr_svg
from ..tours import identity, queries
from .auth import guard_crew_blueprint

bp = Blueprint("run", __name__, url_prefix="/run")
guard_crew_blueprint(bp)


def _snapshot():
    player = current_app.extensions.get("player")
    return player.snapshot() if player is not None else None


def _resume(screening, snapshot):
    show = current_app.extensions.get("show")
    if screening is None or show is None or snapshot is None:
        return None
    return show.resume_point(screening.id, snapshot)


def _run_page(screening):
    items = list(queries.programme(screening.id)) if screening else []
    plays = list(PlayLog.for_screening(screening.id)) if screening else []
    snapshot = _snapshot()
    tz = current_app.config["TIMEZONE"]
    return render_template("run/console.html", screening=screening, items=items,
                           titles=ProgrammeItem.titles(), plays=plays, snapshot=snapshot,
                           resume=_resume(screening, snapshot), problem_code=problem_code,
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
    return render_template("run/remote.html", titles=ProgrammeItem.titles())


# The campaign's words for the audience, on the projector in both languages at once.
CAMPAIGN = _l("Bell Bajao — Ring the Bell")
CLOSING_MESSAGE = _l("When you hear violence in a home, do not stay silent: ring the bell.")
HELPLINE = _l("Women's helpline 181 · Police 112")
THANKS = _l("Thank you, {village}!")
PLEDGED = _l("people took the pledge tonight")


def _both(text) -> dict:
    out = {}
    for code in ("hi", "en"):
        with force_locale(code):
            out[code] = str(text)
    return out


@bp.get("/projector")
def projector():
    """The audience's screen: it follows the show (see templates/run/projector.html)."""
    url = joinurl.join_url_for(current_app.config, request.host, request.scheme)
    closing = {"campaign": _both(CAMPAIGN), "message": _both(CLOSING_MESSAGE), "helpline": _both(HELPLINE),
               "words": {"thanks": _both(THANKS), "pledged": _both(PLEDGED)}}
    return render_template("run/projector.html", join_url=url, short=joinurl.short_address(url),
                           qr=Markup(qr_svg(url, box_size=10, border=2)), closing=closing)
