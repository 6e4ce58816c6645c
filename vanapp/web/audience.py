"""Audience pages under /a/: no login, and they reach nothing but the live game's public state.

A phone is known by its `vk_device` cookie (random, HttpOnly) and, should it lose the cookie,
by the rejoin token it keeps in localStorage. Every POST carries the page's CSRF token and is
rate-limited per device. The poll (`/a/api/state?v=N`) reads only memory: 204 when nothing
changed since version N, else a small delta or the full state.

The poll is the one hot URL (every phone, every 500-600 ms: ~550 requests a second for 300 phones),
so it is answered by a small WSGI layer in front of Flask (`FastPoll`): no session to decode,
no locale, no database. Everything else — and the poll too, should the engine not be loaded
yet — goes through Flask as usual.

Rate limits here are this module's own per-device counters (`WindowLimit`), not Flask-Limiter:
its memory storage starts a timer thread on a hit every few milliseconds, which under a crowd
of phones is a thread start per request. The key is the device cookie, so a hundred phones
behind one hotspot or NAT address are a hundred budgets; only a request without a cookie falls
back to its address.
"""
import json
import re
import secrets
import threading
import time
from functools import wraps

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..errors import AppError
from .. import games
from .body import json_body
from .extensions import limiter
from . import sessions

bp = Blueprint("audience", __name__, url_prefix="/a")

DEVICE_COOKIE = "vk_device"
DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COOKIE_AGE = 3 * 24 * 3600      # a night's show and the next; not a tracking cookie


# Requests per device (or per address, without a device cookie) in a minute. A phone polls about
# 110 times a minute; a person taps far fewer times than these.
LIMITS = {"state": 300, "me": 60, "join": 20, "vote": 60, "buzz": 60}
WINDOW = 60
COOKIE_RE = re.compile(r"(?:^|;)\s*" + DEVICE_COOKIE + r"=([A-Za-z0-9_-]{22,64})\s*(?:;|$)")


def _engine():
    return games.machine_of(current_app)


class WindowLimit:
    """At most `limit` hits per key in each `window`-second window (a fixed window, as
    Flask-Limiter's default), in memory, for one process."""

    def __init__(self, limit: int, window: int):
        self.limit, self.window = limit, window
        self._counts: dict[str, int] = {}
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._started >= self.window:
                self._counts.clear()           # a new window: also forgets phones that left
                self._started = now
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
            return count <= self.limit

    def retry_after(self) -> int:
        return max(1, int(self.window - (time.monotonic() - self._started)) + 1)


def init_app(app):
    """The per-device budgets of this app, in app.extensions["audience_limits"] (the fast poll
    and the views count against the same ones)."""
    app.extensions["audience_limits"] = {name: WindowLimit(n, WINDOW) for name, n in LIMITS.items()}


def _limits(app) -> dict[str, "WindowLimit"]:
    return app.extensions["audience_limits"]


def _too_many(limit: "WindowLimit") -> AppError:
    return AppError(429, "too_many_requests", f"At most {limit.limit} a minute: wait a little.",
                    retry_after=limit.retry_after())


def per_device(name):
    """Refuse (429) a device past its budget for this endpoint."""
    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            limit = _limits(current_app)[name]
            if not limit.hit(_device() or "addr:" + (request.remote_addr or "")):
                raise _too_many(limit)
            return view(*args, **kwargs)
        return limited
    return decorate


def _no_store_headers(extra=()):
    return [("Cache-Control", "no-store"), ("X-Now", str(int(time.time() * 1000))), *extra]


POLL_PATH = "/a/api/state"


class FastPoll:
    """GET /a/api/state answered before Flask: the same answers and headers as `state()`.
    create_app puts it in front of the app's wsgi_app."""

    def __init__(self, app, wsgi_app, path: str = POLL_PATH):
        self.app, self.wsgi_app, self.path = app, wsgi_app, path
        self.limit = _limits(app)["state"]

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        engine = self.app.extensions.get("games")
        if engine is None or not engine.loaded:
            return self.wsgi_app(environ, start_response)      # first poll: Flask loads the engine
        match = COOKIE_RE.search(environ.get("HTTP_COOKIE", ""))
        device = match.group(1) if match else None
        if not self.limit.hit(device or "addr:" + environ.get("REMOTE_ADDR", "")):
            body = json.dumps(_too_many(self.limit).body()).encode()
            start_response("429 TOO MANY REQUESTS", _no_store_headers([
                ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                ("Retry-After", str(self.limit.retry_after()))]))
            return [body]
        raw = ""
        for part in environ.get("QUERY_STRING", "").split("&"):
            if part.startswith("v="):
                raw = part[2:]
        since = int(raw) if raw.isdigit() and len(raw) < 20 else None
        body = engine.poll(since, device)
        if body is None:
            start_response("204 NO CONTENT", _no_store_headers())
            return []
        start_response("200 OK", _no_store_headers([("Content-Type", "application/json"),
                                                    ("Content-Length", str(len(body)))]))
        return [body]


limiter.exempt(bp)              # see the module's docstring: limited by `per_device` instead


def _device() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if DEVICE_RE.match(value) else None


def _set_device(response, device):
    # Max-Age, no Expires: a phone's clock may be months off (web/sessions.py)
    sessions.set_cookie(response, DEVICE_COOKIE, device, max_age=COOKIE_AGE, httponly=True,
                        samesite="Lax", path="/")
    return response


def _ident(data, name, required=True):
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not ID_RE.match(value):
        raise AppError(400, "bad_request", f"{name} is missing or malformed.", field=name)
    return value


@bp.get("/")
def play():
    """The phone page (Hindi by default; the language switch is /lang/en)."""
    device = _device()
    response = Response(render_template("audience/play.html"))
    response.headers["Cache-Control"] = "no-store"
    return response if device else _set_device(response, secrets.token_urlsafe(18))


@bp.get("/api/state")
@per_device("state")
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
@per_device("me")
def me():
    device = _device()
    return jsonify(me=_engine().me(device) if device else None)


@bp.post("/api/join")
@per_device("join")
def join():
    data = json_body()
    team = _ident(data, "team", required=False)
    token = data.get("token")
    if token is not None and (not isinstance(token, str) or not DEVICE_RE.match(token)):
        raise AppError(400, "bad_request", "token is malformed.", field="token")
    device = _device() or secrets.token_urlsafe(18)
    engine = _engine()
    player, new_token = engine.join(device, team=team, token=token)
    # A rejoin by token answers as the phone that first joined: give it its cookie back.
    response = jsonify(me=engine.me(player.device), token=new_token)
    return _set_device(response, player.device)


@bp.post("/api/vote")
@per_device("vote")
def vote():
    data = json_body()
    device = _device()
    if device is None:
        raise AppError(403, "not_joined", "Join the game first.")
    choice = _engine().vote(device, _ident(data, "run"), _ident(data, "question"), _ident(data, "choice"))
    return jsonify(ok=True, question=data["question"], choice=choice)


@bp.post("/api/buzz")
@per_device("buzz")
def buzz():
    data = json_body()
    device = _device()
    if device is None:
        raise AppError(403, "not_joined", "Join the game first.")
    outcome = _engine().buzz(device, _ident(data, "run"), _ident(data, "question"))
    return jsonify(ok=True, question=data["question"], **outcome)
