"""Flask extensions shared by every blueprint: CSRF protection and rate limits."""
from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def address_key() -> str:
    """Every Flask-Limiter limit counts per client address: a cookie (or any header) is the
    client's to invent, so a guesser minting a fresh one per try would never meet a limit keyed
    on it. Pairing happens at the depot and crew logins on the laptop, so one address is one
    device there; the audience's phones have their own per-device budgets (web/audience.py).
    The data dir keeps two apps in one process (tests; van and hub side by side) apart."""
    return f"{current_app.config['DATA_DIR']}|{get_remote_address()}"


limiter = Limiter(key_func=address_key, default_limits=[])


def init_app(app):
    limiter.init_app(app)   # first, so refused (CSRF-less) attempts still count
    csrf.init_app(app)
