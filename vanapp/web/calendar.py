"""The crew's tour calendar download: GET /tour/<tour_id>.ics for a phone's calendar app."""
import re

from flask import Blueprint, Response, abort, current_app
from flask_babel import gettext

from ..tours import ics
from .auth import guard_crew_blueprint

bp = Blueprint("calendar", __name__)
guard_crew_blueprint(bp)


@bp.get("/tour/<tour_id>.ics")
def tour_ics(tour_id):
    data = ics.tour_ics(tour_id, current_app.config["TIMEZONE"], gettext)
    if data is None:
        abort(404)
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", tour_id) + ".ics"
    return Response(data, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
