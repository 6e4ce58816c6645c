"""Audience pages under /a/: no login, and they reach nothing but the live game's public state.

A phone is known by its `vk_device` cookie (random, HttpOnly) and, should it lose the cookie,
by the rejoin token it keeps in localStorage. Every POST carries the page's CSRF token and is
rate-limited per device. The poll (`/a/api/state?v=N`) reads only memory: 204 when nothing
changed since version N, else a small delta or the full state.
"""
import re
import secrets
import time

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..games.engine import GameError, engine_for
from .errors import ApiError
from .extensions import limiter

bp = Blueprint("audience", __name__, url_prefix="/a")

DEVICE_COOKIE = "vk_device"
DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COOKIE_AGE = 3 * 24 * 3600      # a night's show and the next; not a tracking cookie


def _engine():
    return engine_for(current_app)


def _device() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if DEVICE_RE.match(value) else None


def _set_device(response, device):
    response.set_cookie(DEVICE_COOKIE, device, max_age=COOKIE_AGE, httponly=True, samesite="Lax",
                        path="/")
    return response


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "Send a JSON object.")
    return data


def _ident(data, name, required=True):
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not ID_RE.match(value):
        raise ApiError(400, "bad_request", f"{name} is missing or malformed.", field=name)
    return value


def _refuse(exc: GameError):
    raise ApiError(exc.status, exc.code, exc.message, field=exc.field)


@bp.get("/")
def play():
    """The phone page (Hindi by default; the language switch is /lang/en)."""
    device = _device()
    response = Response(render_template("audience/play.html"))
    response.headers["Cache-Control"] = "no-store"
    return response if device else _set_device(response, secrets.token_urlsafe(18))


@bp.get("/api/state")
@limiter.limit("300 per minute")
def state():
    """The live game for a phone or the projector that has seen version `v`."""
    raw = request.args.get("v", "")
    since = int(raw) if raw.isdigit() and len(raw) < 20 else None
    body = _engine().poll(since, _device())
    if body is None:
        response = Response(status=204)
    else:
        response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Now"] = str(int(time.time() * 1000))   # phones correct the timer by it
    return response


@bp.get("/api/me")
@limiter.limit("60 per minute")
def me():
    device = _device()
    return jsonify(me=_engine().me(device) if device else None)


@bp.post("/api/join")
@limiter.limit("20 per minute")
def join():
    data = _body()
    team = _ident(data, "team", required=False)
    token = data.get("token")
    if token is not None and (not isinstance(token, str) or not DEVICE_RE.match(token)):
        raise ApiError(400, "bad_request", "token is malformed.", field="token")
    device = _device() or secrets.token_urlsafe(18)
    engine = _engine()
    try:
        player, new_token = engine.join(device, team=team, token=token)
    except GameError as exc:
        _refuse(exc)
    # A rejoin by token answers as the phone that first joined: give it its cookie back.
    response = jsonify(me=engine.me(player.device), token=new_token)
    return _set_device(response, player.device)


@bp.post("/api/vote")
@limiter.limit("60 per minute")
def vote():
    data = _body()
    device = _device()
    if device is None:
        raise ApiError(403, "not_joined", "Join the game first.")
    try:
        choice = _engine().vote(device, _ident(data, "run"), _ident(data, "question"), _ident(data, "choice"))
    except GameError as exc:
        _refuse(exc)
    return jsonify(ok=True, question=data["question"], choice=choice)


@bp.post("/api/buzz")
@limiter.limit("60 per minute")
def buzz():
    data = _body()
    device = _device()
    if device is None:
        raise ApiError(403, "not_joined", "Join the game first.")
    try:
        outcome = _engine().buzz(device, _ident(data, "run"), _ident(data, "question"))
    except GameError as exc:
        _refuse(exc)
    return jsonify(ok=True, question=data["question"], **outcome)
