"""What the processes of one hub share through its database instead of their memory: the key that
signs coordinators' sessions and forms, so a login made through one `vanapp hub serve` holds on
every other one behind the same load balancer (web/sessions.py reads it; rate limits:
web/limits_store.py; pairing codes and van keys were always in the database)."""
import secrets
from pathlib import Path

from ..models import Setting, db

SESSION_KEY = "hub_session_key"


def session_key(data_dir: str | None = None) -> str:
    """The hub's session key, made once for all its processes. A hub that kept one in its data
    dir (before it ran as several processes) keeps that one, so nobody is logged out."""
    value = Setting.get_value(SESSION_KEY)
    if value is None:
        old = Path(data_dir) / "secret_key" if data_dir else None
        first = old.read_text().strip() if old is not None and old.is_file() else secrets.token_hex(32)
        with db.atomic():
            # two processes starting together: the first insert wins and both read it back
            Setting.insert(key=SESSION_KEY, value=first).on_conflict_ignore().execute()
        value = Setting.get_value(SESSION_KEY)
    return value
