"""The player and the screening lifecycle over JSON: /api/v1/player[...] commands and the show's
state (the player's snapshot with the live game, the resume offer and the closing screen),
/api/v1/screenings/<id>/plays (proof of play) and .../start|finish|cancel|reschedule|resume."""
from flask import current_app, jsonify, url_for

from ... import jsontext
from ...errors import AppError
from ...models import PlayLog
from ...player import PlayError, get_player
from ...player.outcome import problem_code
from ...tours import lifecycle, queries
from ..body import json_body
from . import bp
from .pagination import page


def _player():
    return get_player(current_app._get_current_object())


def _show():
    return current_app.extensions["show"]


def _whole(body: dict, name: str, default=None):
    value = jsontext.integer(body.get(name, default))       # 7 or 7.0, never true
    if value is None:
        raise AppError(400, "bad_request", f"{name} must be a whole number.", field=name)
    return value


def _command(fn, *args):
    """Do a player command; answer the show's state after it."""
    fn(*args)
    return jsonify(_show().state())


@bp.get("/player")
def player_state():
    """The show now: what plays (`item`, with its `kind`; for a game, `run`), the live `game`,
    the screening's status, `resume` after a power cut and, after Finish, `closing`."""
    response = jsonify(_show().state())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/player/play")
def player_play():
    body = json_body(required=False)
    screening_id = body.get("screening")
    if not isinstance(screening_id, str) or not screening_id:
        raise AppError(400, "bad_request", "screening (a screening id) is required.", field="screening")
    screening = queries.screening(screening_id, field="screening")
    from_index = _whole(body, "from", 0)
    if from_index < 0:
        raise AppError(400, "bad_request", "from must be a programme index, 0 or more.", field="from")
    at_ms = _whole(body, "ms", 0)
    if screening.status == "cancelled":
        raise AppError(409, "bad_status", "This screening is cancelled: reschedule it to play it.",
                       field="screening")
    return _command(_player().play, screening_id, from_index, at_ms)


@bp.post("/player/<any(pause, resume, next, previous, stop):action>")
def player_action(action):
    return _command(getattr(_player(), action))


@bp.post("/player/seek")
def player_seek():
    return _command(_player().seek, _whole(json_body(required=False), "ms"))


@bp.post("/player/volume")
def player_volume():
    return _command(_player().set_volume, _whole(json_body(required=False), "level"))


def _play_wire(row: PlayLog) -> dict:
    """A play-log row, with its problem as a code that pages say in their own language."""
    return dict(row.to_wire(), problem=problem_code(row.error))


@bp.get("/screenings/<screening_id>/plays")
def screening_plays(screening_id):
    queries.screening(screening_id)
    return jsonify(page(PlayLog.for_screening(screening_id), _play_wire,
                        "api.screening_plays", screening_id=screening_id))


def _lifecycle_answer(screening_id, event, status=200, **extra):
    out = {"screening": queries.screening_dict(queries.screening(screening_id)),
           "event": event.to_wire()}
    out.update(extra)
    return jsonify(out), status


def _end_show(screening_id, closing):
    """Finishing or cancelling a screening stops its programme if it is still on screen and ends
    its live game; after Finish the projector shows the closing screen."""
    return _show().end(screening_id, closing=closing)


@bp.post("/screenings/<screening_id>/start")
def screening_start(screening_id):
    """Start the screening and, unless {"play": false}, its programme from the first item.

    The start is committed even if the player cannot play (libVLC missing): the crew can still
    count and run games; the answer then carries the player's error.
    """
    queries.screening(screening_id)           # no such screening: 404 before anything else
    body = json_body(required=False)
    play = body.get("play", True)
    if not isinstance(play, bool):
        raise AppError(400, "bad_request", "play must be true or false.", field="play")
    event = lifecycle.start(screening_id)
    extra = {}
    on_screen = _player().snapshot() if play else {}
    if play and on_screen.get("screening") == screening_id and on_screen.get("state") in (
            "opening", "playing", "paused", "game"):
        extra["player"] = on_screen             # already playing it: starting does not start it over
    elif play:
        try:
            extra["player"] = _player().play(screening_id, 0)
        except PlayError as exc:
            extra["player"] = {"error": {"code": exc.code, "message": exc.message}}
    return _lifecycle_answer(screening_id, event, 200, **extra)


@bp.post("/screenings/<screening_id>/finish")
def screening_finish(screening_id):
    queries.screening(screening_id)
    event = lifecycle.finish(screening_id)
    return _lifecycle_answer(screening_id, event, player=_end_show(screening_id, closing=True),
                             summary=url_for("attendance.summary_page", screening_id=screening_id))


@bp.post("/screenings/<screening_id>/resume")
def screening_resume(screening_id):
    """Go on with a show cut by a power failure, from the item and position it had reached."""
    json_body(required=False)       # no fields; a body that is not JSON is refused like anywhere
    queries.screening(screening_id)
    return _command(_show().resume, screening_id)


@bp.post("/screenings/<screening_id>/cancel")
def screening_cancel(screening_id):
    queries.screening(screening_id)
    body = json_body(required=False)
    reason, text = body.get("reason"), body.get("text", "")
    if not isinstance(reason, str) or not reason.strip():
        raise AppError(400, "bad_request", "reason is required: rain, generator, no_audience or other.",
                       field="reason")
    if not isinstance(text, str):
        raise AppError(400, "bad_request", "text must be a string.", field="text")
    event = lifecycle.cancel(screening_id, reason, text)
    return _lifecycle_answer(screening_id, event, player=_end_show(screening_id, closing=False))


@bp.post("/screenings/<screening_id>/reschedule")
def screening_reschedule(screening_id):
    queries.screening(screening_id)
    body = json_body(required=False)
    for name in ("date", "start"):
        if not isinstance(body.get(name), str) or not body.get(name):
            raise AppError(400, "bad_request", f"{name} is required.", field=name)
    event = lifecycle.reschedule(screening_id, body["date"], body["start"], current_app.config["TIMEZONE"])
    return _lifecycle_answer(screening_id, event)
