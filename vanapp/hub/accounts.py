"""Coordinator logins for the hub: accounts (werkzeug password hashes), the rate-limited login
page, logout, and the guard that keeps every dashboard page behind a login."""
import re
from functools import wraps

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from .. import logins
from ..ids import utcnow
from ..models import Coordinator, db
from ..web import sessions
from ..web.extensions import limiter
from ..web.i18n import _safe_next

bp = Blueprint("hubauth", __name__)

MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[\w.@-]{2,64}$")
# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password: keeps login timing even")


class CoordinatorError(ValueError):
    """A refused account change; the message says what to fix."""


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise CoordinatorError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise CoordinatorError("the password is longer than 256 characters")


def create_coordinator(username: str, password: str) -> Coordinator:
    """A new coordinator login; refuses a taken or malformed name and a short password."""
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise CoordinatorError(f"name {username[:70]!r}: use 2 to 64 letters, digits, '.', '_', '-' or '@'")
    _check_password(password)
    with db.atomic():
        if Coordinator.by_username(username) is not None:
            raise CoordinatorError(f"coordinator {username!r} exists already "
                                   "(use `vanapp hub add-coordinator NAME --reset` to set a new password)")
        return Coordinator.create(username=username, password_hash=generate_password_hash(password))


def set_password(username: str, password: str) -> Coordinator:
    """A new password; every login of that coordinator ends with the old one."""
    _check_password(password)
    with db.atomic():
        user = Coordinator.by_username(username)
        if user is None:
            raise CoordinatorError(f"no coordinator {username!r}")
        user.password_hash = generate_password_hash(password)
        user.disabled = False
        user.save()
        logins.end_all("coordinator", user.id)
    return user


def disable(username: str) -> int:
    """Revoke a coordinator: no more logins, and every one open now ends. Returns how many."""
    with db.atomic():
        user = Coordinator.by_username((username or "").strip())
        if user is None:
            raise CoordinatorError(f"no coordinator {username!r}")
        Coordinator.update(disabled=True).where(Coordinator.id == user.id).execute()
        return logins.end_all("coordinator", user.id)


def authenticate(username: str, password: str) -> Coordinator | None:
    user = Coordinator.by_username((username or "").strip()) if username else None
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    if user is None or not ok or user.disabled:
        return None
    with db.atomic():
        Coordinator.update(last_login_at=utcnow()).where(Coordinator.id == user.id).execute()
    return user


def current_coordinator() -> Coordinator | None:
    """The logged-in coordinator, re-read each request so a disabled account is out at once."""
    # Kept on the request, not on `g`: an app context (and its `g`) can outlive one request.
    if not hasattr(request, "_vk_coordinator"):
        uid = session.get("coordinator")
        user = Coordinator.get_or_none(Coordinator.id == uid) if uid else None
        request._vk_coordinator = user if user is not None and not user.disabled else None
    return request._vk_coordinator


def _refuse():
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("hubauth.login", next=request.full_path.rstrip("?")))
    abort(401)


def guard_hub_blueprint(blueprint):
    """Every page of `blueprint` needs a coordinator's login."""
    @blueprint.before_request
    def _guard():
        if current_coordinator() is None:
            return _refuse()


def coordinator_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_coordinator() is None:
            return _refuse()
        return view(*args, **kwargs)
    return wrapped


def _login_key() -> str:
    """Login attempts are counted per client address, never per cookie: a guesser can drop or
    forge cookies at will, not its address. The data dir keeps hubs in one process apart."""
    return f"{current_app.config['DATA_DIR']}|login|{get_remote_address()}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], key_func=_login_key)
def login():
    error = None
    if request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is not None:
            sessions.begin("coordinator", user.id)   # a fresh session: no fixation across the login
            return redirect(_safe_next(request.args.get("next")))
        error = _("That name or password is not right.")
    elif Coordinator.select().count() == 0:
        error = _("No coordinator yet. Run: vanapp hub add-coordinator NAME")
    return render_template("hub/login.html", error=error), (401 if request.method == "POST" else 200)


@bp.post("/logout")
def logout():
    sessions.finish()
    return redirect(url_for("hubauth.login"))
