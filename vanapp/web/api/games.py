"""API: games and the live run, for the crew console (session + CSRF) or a token.

GET  /api/v1/games                    loaded games (paginated)
GET  /api/v1/games/live               the live run as the crew sees it (answers, online phones)
POST /api/v1/games/runs               start a run {screening, game, phase?, position?}
POST /api/v1/games/live/<action>      next | close | reveal | finish
PUT  /api/v1/games/live/hands         {question, counts: {choice: n}}
POST /api/v1/games/live/judge         {correct: true|false}      (buzzer)
POST /api/v1/games/live/score         {team, delta: 1|-1}         (buzzer by show of hands)
GET  /api/v1/games/runs?screening=ID  runs (paginated);  GET /api/v1/games/runs/<id>  results
"""
import time

from flask import current_app, jsonify, request, url_for

from ... import games
from ...games.results import before_after, run_summary
from ...models import Game, GameRun
from ... import jsontext
from ...errors import AppError, get_or_404
from ..body import json_body
from . import bp
from .pagination import page


def _engine():
    return games.machine_of(current_app)


def _game_dict(g: Game) -> dict:
    return {"id": g.id, "kind": g.kind, "title": {"hi": g.title_hi, "en": g.title_en},
            "campaign": g.campaign, "file": g.file, "sha256": g.sha256, "version": g.version}


@bp.get("/games")
def games_list():
    return jsonify(page(Game.select().order_by(Game.id), _game_dict, "api.games_list"))


@bp.get("/games/live")
def games_live():
    response = jsonify(_engine().crew_state())
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Now"] = str(int(time.time() * 1000))
    return response


@bp.post("/games/runs")
def games_start():
    data = json_body()
    position = data.get("position")
    if position is not None:
        position = jsontext.integer(position)
    if data.get("position") is not None and (position is None or position < 0):
        raise AppError(400, "bad_request", "position is a programme index (0 or more).", field="position")
    for name in ("screening", "game"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise AppError(400, "bad_request", f"{name} is required.", field=name)
    phase = data.get("phase") or ""
    if not isinstance(phase, str):
        raise AppError(400, "bad_request", "phase must be before, after or empty.", field="phase")
    run_id = _engine().start(data["screening"], data["game"], phase=phase, position=position)
    response = jsonify(run=run_id, live=_engine().crew_state())
    response.status_code = 201
    response.headers["Location"] = url_for("api.games_run", run_id=run_id)
    return response


ACTIONS = {"next": "advance", "close": "close", "reveal": "reveal", "finish": "finish"}


@bp.post("/games/live/<any(next, close, reveal, finish, judge, score):action>")
def games_action(action):
    engine = _engine()
    if action == "judge":
        correct = json_body().get("correct")
        if not isinstance(correct, bool):
            raise AppError(400, "bad_request", "correct must be true or false.", field="correct")
        engine.judge(correct)
    elif action == "score":
        data = json_body()
        delta = data.get("delta")
        delta = jsontext.integer(delta) if type(delta) is float else delta
        if not isinstance(data.get("team"), str) or delta not in (1, -1) or isinstance(delta, bool):
            raise AppError(400, "bad_request", "Send {team, delta: 1 or -1}.", field="delta")
        engine.adjust_score(data["team"], delta)
    elif action in ACTIONS:
        getattr(engine, ACTIONS[action])()
    else:
        raise AppError(404, "not_found", f"No action {action!r}.")
    return jsonify(engine.crew_state())


@bp.put("/games/live/hands")
def games_hands():
    data = json_body()
    if not isinstance(data.get("question"), str) or not isinstance(data.get("counts"), dict):
        raise AppError(400, "bad_request", "Send {question, counts: {choice: number}}.", field="counts")
    _engine().set_hands(data["question"], data["counts"])
    return jsonify(_engine().crew_state())


@bp.get("/games/runs")
def games_runs():
    query = GameRun.select().order_by(GameRun.started_at.desc())
    if request.args.get("screening"):
        query = query.where(GameRun.screening == request.args["screening"])
    return jsonify(page(query, lambda r: r.to_wire(), "api.games_runs"))


@bp.get("/games/runs/<run_id>")
def games_run(run_id):
    run = get_or_404(GameRun.select().where(GameRun.id == run_id), "No such run.", field=None)
    out = run_summary(run)
    if run.phase in ("before", "after"):
        out["before_after"] = before_after(run.screening_id, run.game_id)
    return jsonify(out)
