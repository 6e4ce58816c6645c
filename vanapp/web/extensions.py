"""Flask extensions shared by every blueprint: CSRF protection and rate limits."""
from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def limit_scope() -> str:
    """What keeps one app's counters from another's. A van counts in memory: its data dir keeps
    two apps in one process (tests; van and hub side by side) apart. A hub counts in its own
    database, which every process of that hub shares whatever its data dir (limits_store.py)."""
    return "hub" if current_app.config.get("MODE") == "hub" else current_app.config["DATA_DIR"]


def address_key() -> str:
    """Every Flask-Limiter limit counts per client address: a cookie (or any header) is the
    client's to invent, so a guesser minting a fresh one per try would never meet a limit keyed
    on it. Pairing happens at the depot and crew logins on the laptop, so one address is one
    device there; the audience's phones have their own per-device budgets (web/audience.py).
    limit_scope() keeps two apps in one process apart and every process of one hub together."""
    return f"{limit_scope()}|{get_remote_address()}"


limiter = Limiter(key_func=address_key, default_limits=[])


def init_app(app):
    from . import limits_store  # noqa: F401 - registers the "vankit://" storage before the limiter reads it
    limiter.init_app(app)   # first, so refused (CSRF-less) attempts still count
    csrf.init_app(app)
