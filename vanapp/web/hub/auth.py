"""The coordinators' login page (rate-limited), logout, and the guard that keeps every dashboard
page behind a login; the accounts themselves are vanapp/hub/accounts.py."""
import logging
from functools import wraps

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from ...hub.accounts import authenticate
from ...models import Coordinator
from .. import sessions
from ..extensions import limit_scope, limiter
from ..i18n import _safe_next

log = logging.getLogger(__name__)
bp = Blueprint("hubauth", __name__)


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
    forge cookies at will, not its address. Counted in the hub's database, so every hub process
    behind a load balancer sees the same count."""
    return f"{limit_scope()}|login|{get_remote_address()}"


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
    sessions.finish()                   # server-side: every copy of the cookie stops working
    return redirect(url_for("hubauth.login"))


@bp.app_context_processor
def _coordinator():
    """Every hub page's header names who is logged in."""
    try:
        return {"coordinator": current_coordinator()}
    except Exception:  # noqa: BLE001 - the database is down: the error page still renders
        log.exception("cannot read the coordinator for %s", request.path)
        return {"coordinator": None}
