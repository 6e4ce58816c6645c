"""The player and the screening lifecycle over JSON: /api/v1/player[...] commands and state,
/api/v1/screenings/<id>/plays (proof of play) and .../start|finish|cancel|reschedule."""
from flask import current_app, jsonify

from ...errors import AppError
from ...models import PlayLog
from ...player import PlayError, get_player
from ...tours import lifecycle, queries
from ..body import json_body
from . import bp
from .pagination import page

ON_SCREEN = ("opening", "playing", "paused", "game")


def _player():
    return get_player(current_app._get_current_object())


def _whole(body: dict, name: str, default=None):
    value = body.get(name, default)
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise AppError(400, "bad_request", f"{name} must be a whole number.", field=name)
    return value


def _command(fn, *args):
    return jsonify(fn(*args))


@bp.get("/player")
def player_state():
    return jsonify(_player().snapshot())


@bp.post("/player/play")
def player_play():
    body = json_body(required=False)
    screening_id = body.get("screening")
    if not isinstance(screening_id, str) or not screening_id:
        raise AppError(400, "bad_request", "screening (a screening id) is required.", field="screening")
    from_index = _whole(body, "from", 0)
    screening = queries.screening(screening_id, field="screening")
    if screening.status == "cancelled":
        raise AppError(409, "bad_status", "This screening is cancelled: reschedule it to play it.",
                       field="screening")
    return _command(_player().play, screening_id, from_index)


@bp.post("/player/<any(pause, resume, next, previous, stop):action>")
def player_action(action):
    return _command(getattr(_player(), action))


@bp.post("/player/seek")
def player_seek():
    return _command(_player().seek, _whole(json_body(required=False), "ms"))


@bp.post("/player/volume")
def player_volume():
    return _command(_player().set_volume, _whole(json_body(required=False), "level"))


@bp.get("/screenings/<screening_id>/plays")
def screening_plays(screening_id):
    queries.screening(screening_id)
    return jsonify(page(PlayLog.for_screening(screening_id), PlayLog.to_wire,
                        "api.screening_plays", screening_id=screening_id))


def _lifecycle_answer(screening_id, event, status=200, **extra):
    out = {"screening": queries.screening_dict(queries.screening(screening_id)),
           "event": event.to_wire()}
    out.update(extra)
    return jsonify(out), status


def _stop_if_on_screen(screening_id):
    """Finishing or cancelling a screening stops its programme if it is still on screen."""
    player = current_app.extensions.get("player")
    if player is None:
        return None
    snap = player.snapshot()
    if snap.get("screening") == screening_id and snap.get("state") in ON_SCREEN:
        try:
            return player.stop()
        except PlayError as exc:
            return {"error": {"code": exc.code, "message": exc.message}}
    return snap


@bp.post("/screenings/<screening_id>/start")
def screening_start(screening_id):
    """Start the screening and, unless {"play": false}, its programme from the first item.

    The start is committed even if the player cannot play (libVLC missing): the crew can still
    count and run games; the answer then carries the player's error.
    """
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
    event = lifecycle.finish(screening_id)
    return _lifecycle_answer(screening_id, event, player=_stop_if_on_screen(screening_id))


@bp.post("/screenings/<screening_id>/cancel")
def screening_cancel(screening_id):
    body = json_body(required=False)
    reason, text = body.get("reason"), body.get("text", "")
    if not isinstance(reason, str) or not reason.strip():
        raise AppError(400, "bad_request", "reason is required: rain, generator, no_audience or other.",
                       field="reason")
    if not isinstance(text, str):
        raise AppError(400, "bad_request", "text must be a string.", field="text")
    event = lifecycle.cancel(screening_id, reason, text)
    return _lifecycle_answer(screening_id, event, player=_stop_if_on_screen(screening_id))


@bp.post("/screenings/<screening_id>/reschedule")
def screening_reschedule(screening_id):
    body = json_body(required=False)
    for name in ("date", "start"):
        if not isinstance(body.get(name), str) or not body.get(name):
            raise AppError(400, "bad_request", f"{name} is required.", field=name)
    event = lifecycle.reschedule(screening_id, body["date"], body["start"], current_app.config["TIMEZONE"])
    return _lifecycle_answer(screening_id, event)
