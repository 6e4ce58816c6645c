"""Crew login by PIN (rate-limited), the crew guard for console blueprints and the API guard
(bearer token, or the crew's session with its CSRF token)."""
from functools import wraps

from flask import (Blueprint, abort, g, redirect, render_template, request, session, url_for)
from flask_babel import gettext as _

from .. import security
from ..errors import AppError
from .extensions import csrf, limiter
from .i18n import _safe_next

bp = Blueprint("auth", __name__)


def is_crew() -> bool:
    return session.get("crew") is True


def crew_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_crew():
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def guard_crew_blueprint(blueprint):
    """Every page of `blueprint` needs the crew's login."""
    @blueprint.before_request
    def _guard():
        if not is_crew():
            if request.method == "GET":
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            abort(401)


def guard_api_blueprint(blueprint):
    """API: a bearer token, or the crew's browser session (then CSRF applies to writes)."""
    csrf.exempt(blueprint)

    @blueprint.before_request
    def _guard():
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":     # the scheme is case-insensitive (RFC 9110)
            token = security.verify_token(header[7:].strip())
            if token is None:
                raise AppError(401, "unauthorized", "Unknown or revoked token.")
            g.api_client = token.name
            return None
        if is_crew():
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                csrf.protect()
            g.api_client = "console"
            return None
        raise AppError(401, "unauthorized", "Log in or send 'Authorization: Bearer <token>'.")


def _address_key() -> str:
    """The client's address: the device cookie is the visitor's to invent, so a PIN guesser could
    mint a fresh one per try and never meet the per-device limit."""
    from flask import current_app
    from flask_limiter.util import get_remote_address
    return f"{current_app.config['DATA_DIR']}|addr|{get_remote_address()}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("30 per minute", methods=["POST"], key_func=_address_key)
def login():
    error = None
    if request.method == "POST":
        if not security.has_pin():
            error = _("No crew PIN is set yet. Run: vanapp init --pin 1234")
        elif security.check_pin(request.form.get("pin", "").strip()):
            session.clear()
            session["crew"] = True
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        else:
            error = _("That PIN is not right.")
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
