"""Crew PIN, API tokens and the van's signing secret: plain functions, no Flask."""
import datetime as dt
import hashlib
import hmac
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from . import logins
from .ids import utcnow
from .models import ApiToken, Setting, db

PIN_KEY = "crew_pin_hash"
VAN_SECRET_KEY = "van_secret"
LAST_USED_EVERY = dt.timedelta(minutes=1)


class PinError(ValueError):
    pass


def set_pin(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise PinError("the crew PIN must be 4 to 12 digits")
    with db.atomic():
        Setting.put(PIN_KEY, generate_password_hash(pin))
        # whoever knew the old PIN is out at once, on every phone and the laptop
        logins.end_all("crew")


def has_pin() -> bool:
    return Setting.get_value(PIN_KEY) is not None


def check_pin(pin: str) -> bool:
    stored = Setting.get_value(PIN_KEY)
    return bool(stored and pin and check_password_hash(stored, pin))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str) -> str:
    """A new bearer token; only its hash is kept, so it is shown once."""
    token = "vk_" + secrets.token_urlsafe(32)
    with db.atomic():
        ApiToken.create(name=name, token_hash=_digest(token))
    return token


def verify_token(token: str) -> ApiToken | None:
    if not token:
        return None
    row = ApiToken.get_or_none((ApiToken.token_hash == _digest(token)) & (ApiToken.revoked == False))  # noqa: E712
    now = utcnow()
    # Stamped at most once a minute: a write (and its fsync, and the write lock) on every request
    # made a script's tally tap two commits instead of one.
    if row is not None and (row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY):
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row


def van_secret() -> bytes:
    """The van's own secret for signing summaries and bundles; made on first use."""
    value = Setting.get_value(VAN_SECRET_KEY)
    if value is None:
        with db.atomic():
            value = Setting.get_value(VAN_SECRET_KEY)
            if value is None:
                value = secrets.token_hex(32)
                Setting.put(VAN_SECRET_KEY, value)
    return bytes.fromhex(value)


def sign(payload: bytes, key: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()
