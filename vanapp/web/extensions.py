"""Flask extensions shared by every blueprint: CSRF protection and rate limits."""
from flask import current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def _limit_key():
    # Audience phones share the laptop's hotspot but each has a device cookie. The data dir
    # keeps two apps in one process (tests; van and hub side by side) from sharing counters.
    who = request.cookies.get("vk_device") or session.get("device") or get_remote_address()
    return f"{current_app.config['DATA_DIR']}|{who}"


limiter = Limiter(key_func=_limit_key, default_limits=[])


def init_app(app):
    limiter.init_app(app)   # first, so refused (CSRF-less) attempts still count
    csrf.init_app(app)
