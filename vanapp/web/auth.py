"""Crew login by PIN (rate-limited, with growing waits after wrong tries), the crew guard for
console blueprints and the API guard (bearer token, or the crew's session with its CSRF token)."""
from functools import wraps

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import localtime, security
from ..errors import AppError
from . import sessions
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
        if request.endpoint == "api.openapi":    # the API's description is public, as in the repository
            return None
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
    error, status, headers = None, 200, {}
    if request.method == "POST":
        if not security.has_pin():
            error, status = _("No crew PIN is set yet. Run: vanapp init --pin 1234"), 401
        else:
            attempt = security.try_pin(request.form.get("pin", "").strip(), request.remote_addr or "")
            if attempt.ok:
                sessions.begin("crew")
                target = _safe_next(request.args.get("next"))
                if attempt.before and target != url_for("console.today"):
                    flash(failures_sentence(attempt.before), "warn")     # Today says it anyway
                return redirect(target)
            if attempt.too_soon:
                error, status = _("Too many wrong PINs. Wait %(wait)s, then try again.",
                                  wait=_duration(attempt.wait)), 429
            elif attempt.wait:
                error, status = _("That PIN is not right. Wait %(wait)s before the next try.",
                                  wait=_duration(attempt.wait)), 401
            else:
                error, status = _("That PIN is not right."), 401
            if attempt.wait:
                headers["Retry-After"] = str(attempt.wait)
    return render_template("auth/login.html", error=error), status, headers


def _duration(seconds: int) -> str:
    if seconds < 90:
        return ngettext("%(num)s second", "%(num)s seconds", seconds)
    minutes = -(-seconds // 60)
    return ngettext("%(num)s minute", "%(num)s minutes", minutes)


def _local(iso: str | None) -> str:
    return localtime.text(iso, current_app.config["TIMEZONE"]) or ""


def failures_sentence(failures: dict) -> str:
    """Wrong PIN tries in the crew's words: how many, the last when and from which address."""
    return ngettext("%(num)s wrong PIN try since the last login, at %(last)s from %(address)s.",
                    "%(num)s wrong PIN tries since the last login, the last at %(last)s from %(address)s.",
                    int(failures["count"]), last=_local(failures.get("last_at")),
                    address=failures.get("last_from") or "?")


def login_notices() -> list[str]:
    """What the console says about PIN guessing: wrong tries since the last login, and those
    that came before the last login (shown until the next one)."""
    out = []
    now = security.pin_failures()
    if now:
        out.append(failures_sentence(now))
    last = security.last_login()
    if last and last.get("failures_before"):
        before = last["failures_before"]
        out.append(ngettext(
            "Before the last login (%(at)s from %(from_)s) there was %(num)s wrong PIN try, at %(last)s from %(address)s.",
            "Before the last login (%(at)s from %(from_)s) there were %(num)s wrong PIN tries, the last at %(last)s from %(address)s.",
            int(before["count"]), at=_local(last.get("at")), from_=last.get("from") or "?",
            last=_local(before.get("last_at")), address=before.get("last_from") or "?"))
    return out


@bp.post("/logout")
def logout():
    sessions.finish()
    return redirect(url_for("auth.login"))
