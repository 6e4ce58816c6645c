"""GET /api/v1/screenings and /api/v1/screenings/<id>: the plan, for scripts and pages; POST
.../held marks an earlier screening held."""
import re

from flask import jsonify, request

from ...models import Screening
from ...tours import lifecycle, queries
from ...errors import AppError
from . import bp
from .pagination import page

DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@bp.get("/screenings")
def list_screenings():
    query = queries.screenings(request.args.get("tour"))
    for arg, op in (("from", "ge"), ("to", "le"), ("date", "eq")):
        value = request.args.get(arg)
        if value is None:
            continue
        if not DATE.match(value):
            raise AppError(400, "bad_request", f"{arg} must be a date like 2026-12-03.", field=arg)
        query = query.where({"ge": Screening.date >= value, "le": Screening.date <= value,
                             "eq": Screening.date == value}[op])
    status = request.args.get("status")
    if status:
        query = query.where(Screening.status == status)
    return jsonify(page(query, queries.screening_dict, "api.list_screenings"))


@bp.get("/screenings/<screening_id>")
def get_screening(screening_id):
    return jsonify(queries.screening_dict(queries.screening(screening_id), with_programme=True))


@bp.post("/screenings/<screening_id>/held")
def screening_held(screening_id):
    """Mark an earlier screening held: it took place, but was not run (or not finished) here."""
    queries.screening(screening_id)
    event = lifecycle.mark_held(screening_id)
    return jsonify({"screening": queries.screening_dict(queries.screening(screening_id)),
                    "event": event.to_wire()})
