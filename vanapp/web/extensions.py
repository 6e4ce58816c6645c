"""Flask extensions shared by every blueprint: CSRF protection and rate limits."""
from flask import current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def limit_scope() -> str:
    """What keeps one app's counters from another's. A van counts in memory: its data dir keeps
    two apps in one process (tests; van and hub side by side) apart. A hub counts in its own
    database, which every process of that hub shares whatever its data dir (limits_store.py)."""
    return "hub" if current_app.config.get("MODE") == "hub" else current_app.config["DATA_DIR"]


def _limit_key():
    # Audience phones share the laptop's hotspot but each has a device cookie.
    who = request.cookies.get("vk_device") or session.get("device") or get_remote_address()
    return f"{limit_scope()}|{who}"


limiter = Limiter(key_func=_limit_key, default_limits=[])


def init_app(app):
    from . import limits_store  # noqa: F401 - registers the "vankit://" storage before the limiter reads it
    limiter.init_app(app)   # first, so refused (CSRF-less) attempts still count
    csrf.init_app(app)
