"""Crew PIN (with growing waits after wrong tries), API tokens and the van's signing secret:
plain functions, no Flask."""
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from peewee import OperationalError

from werkzeug.security import check_password_hash, generate_password_hash

from . import logins
from .db import write_transaction
from .ids import from_iso, to_iso, utcnow
from .models import ApiToken, Setting, db

PIN_KEY = "crew_pin_hash"
VAN_SECRET_KEY = "van_secret"
LAST_USED_EVERY = dt.timedelta(minutes=1)
FAILURES_KEY = "crew_pin_failures"      # wrong tries since the last crew login (JSON)
LAST_LOGIN_KEY = "crew_last_login"      # the last crew login and the wrong tries before it (JSON)
# A 4-digit PIN has 10,000 values. Three wrong tries are free (a thumb slips); after that each
# wrong try doubles the wait before the next one, up to 15 minutes: finding the PIN then takes
# weeks instead of the hours it took at the 30 tries a minute the rate limit allowed.
FREE_TRIES = 3
MAX_WAIT = 15 * 60


class PinError(ValueError):
    pass


def set_pin(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise PinError("the crew PIN must be 4 to 12 digits")
    with db.atomic():
        Setting.put(PIN_KEY, generate_password_hash(pin))
        # whoever knew the old PIN is out at once, on every phone and the laptop; guesses at the
        # old PIN say nothing about the new one, so its tries start afresh
        logins.end_all("crew")
        Setting.delete().where(Setting.key == FAILURES_KEY).execute()


def has_pin() -> bool:
    return Setting.get_value(PIN_KEY) is not None


def check_pin(pin: str) -> bool:
    stored = Setting.get_value(PIN_KEY)
    return bool(stored and pin and check_password_hash(stored, pin))


def wait_after(failures: int) -> int:
    """Seconds before another PIN try is taken, after `failures` wrong tries in a row."""
    return 0 if failures < FREE_TRIES else min(2 ** (failures - FREE_TRIES), MAX_WAIT)


@dataclass
class PinAttempt:
    ok: bool                 # the PIN was right: log in
    wait: int = 0            # seconds before the next try is taken
    too_soon: bool = False   # not checked at all: the wait after earlier wrong tries is not over
    before: dict | None = None   # on success: the wrong tries since the previous login, if any


def _read(key: str) -> dict | None:
    value = Setting.get_value(key)
    try:
        data = json.loads(value) if value else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _put(key: str, data: dict) -> None:
    Setting.put(key, json.dumps(data, sort_keys=True))


def _write_transaction():
    # Read-then-write under the write lock from the first statement, so guesses sent in parallel
    # are counted one after another and cannot all slip in before the first is recorded.
    return write_transaction(Setting.select().where(Setting.key == FAILURES_KEY))


def _seconds_left(state: dict, now: dt.datetime) -> int:
    if not state.get("next_at"):
        return 0
    return max(0, int((from_iso(state["next_at"]) - now).total_seconds() + 0.999))


def try_pin(pin: str, address: str = "", now: dt.datetime | None = None) -> PinAttempt:
    """Check a crew PIN typed at the login page, honouring the wait after wrong tries.

    The try is recorded as wrong before the PIN is checked (and forgiven if it was right), so
    a crowd of guesses sent at once meets the wait as surely as guesses sent one by one."""
    now = now or utcnow()
    address = (address or "")[:64]
    with _write_transaction():
        state = _read(FAILURES_KEY) or {}
        count = int(state.get("count", 0))
        left = _seconds_left(state, now)
        if left > MAX_WAIT:
            # the laptop's clock went back: the wait is counted again from now, never for days
            left = wait_after(count)
            state["next_at"] = to_iso(now + dt.timedelta(seconds=left))
            _put(FAILURES_KEY, state)
        if left > 0:
            return PinAttempt(ok=False, wait=left, too_soon=True)
        before = {k: state.get(k) for k in ("count", "first_at", "last_at", "last_from")} if count else None
        count += 1
        state.update(count=count, last_at=to_iso(now), last_from=address,
                     next_at=to_iso(now + dt.timedelta(seconds=wait_after(count))))
        state.setdefault("first_at", to_iso(now))
        _put(FAILURES_KEY, state)
    if check_pin(pin):
        with _write_transaction():
            state = _read(FAILURES_KEY) or {}
            if int(state.get("count", 0)) > count:   # wrong tries came in meanwhile: count them too
                before = {"count": int(state["count"]) - 1, "first_at": state.get("first_at"),
                          "last_at": state.get("last_at"), "last_from": state.get("last_from", "")}
            Setting.delete().where(Setting.key == FAILURES_KEY).execute()
            _put(LAST_LOGIN_KEY, {"at": to_iso(now), "from": address, "failures_before": before})
        return PinAttempt(ok=True, before=before)
    return PinAttempt(ok=False, wait=wait_after(count))


def pin_failures() -> dict | None:
    """The wrong PIN tries since the last crew login: count, first_at, last_at, last_from."""
    state = _read(FAILURES_KEY)
    if not state or int(state.get("count", 0)) <= 0:
        return None
    return {k: state.get(k) for k in ("count", "first_at", "last_at", "last_from")}


def last_login() -> dict | None:
    """The last crew login: at, from, and the wrong tries before it (failures_before, or None)."""
    return _read(LAST_LOGIN_KEY)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str) -> str:
    """A new bearer token; only its hash is kept, so it is shown once."""
    token = "vk_" + secrets.token_urlsafe(32)
    with db.atomic():
        ApiToken.create(name=name, token_hash=_digest(token))
    return token


def revoke_tokens(name: str) -> int:
    """Revoke the live tokens called `name`; returns how many. Checked on every request, so a
    revoked token stops working at once."""
    with db.atomic():
        return (ApiToken.update(revoked=True)
                .where((ApiToken.name == name) & (ApiToken.revoked == False)).execute())  # noqa: E712


def verify_token(token: str) -> ApiToken | None:
    if not token:
        return None
    row = ApiToken.get_or_none((ApiToken.token_hash == _digest(token)) & (ApiToken.revoked == False))  # noqa: E712
    now = utcnow()
    # Stamped at most once a minute: a write (and its fsync, and the write lock) on every request
    # made a script's tally tap two commits instead of one.
    if row is not None and (row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY):
        try:
            ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
        except OperationalError:
            pass    # a full disk: the token still works (its write would be refused anyway)
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
