"""Logins kept on the server: open one, check one on each request, end one or all of a kind.

Expiry is decided here, on the server's clock, never by the browser's: a crew phone whose clock
is months off keeps (or loses) its login exactly as a phone with the right time would. The
cookie only carries a random secret; ending a login deletes its row, so the cookie is worth
nothing from that moment, wherever copies of it are. Plain functions, no Flask."""
import datetime as dt
import hashlib
import secrets

from peewee import OperationalError

from .ids import utcnow
from .models import LoginSession, db

KINDS = ("crew", "coordinator")
IDLE = dt.timedelta(hours=12)        # unused this long: ended (a show night is a few hours)
# At most this long after the PIN or password was typed: the cookie's old lifetime, now kept by
# the server. Not shorter: the projector's window stays logged in for a whole tour, and a login
# that ends mid-show costs the crew more than it protects.
LIFETIME = dt.timedelta(days=14)
SEEN_EVERY = dt.timedelta(minutes=1)  # `seen_at` is written at most once a minute, not per tap


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def expired(row: LoginSession, now: dt.datetime) -> bool:
    # A laptop clock set back makes these ages negative: the login stays, never a lock-out.
    return now - row.created_at > LIFETIME or now - row.seen_at > IDLE


def open_login(kind: str, subject: str = "", address: str = "", now: dt.datetime | None = None) -> str:
    """A new login of `kind` (for `subject`, a coordinator's id); returns the cookie's secret."""
    if kind not in KINDS:
        raise ValueError(f"unknown login kind {kind!r}")
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    with db.atomic():
        LoginSession.create(id=_digest(secret), kind=kind, subject=subject or "",
                            address=(address or "")[:64], created_at=now, seen_at=now)
        _prune(now)
    return secret


def _prune(now: dt.datetime) -> None:
    """Forget logins that can no longer be used (kept small: a handful of rows a day)."""
    oldest_alive = now - LIFETIME
    idle_since = now - IDLE
    (LoginSession.delete()
     .where((LoginSession.created_at < oldest_alive) | (LoginSession.seen_at < idle_since))
     .execute())


def check(secret: str | None, kind: str, subject: str = "", now: dt.datetime | None = None):
    """The live login for this cookie secret, or None (unknown, ended, expired, or of another
    kind or subject)."""
    if not secret or not isinstance(secret, str) or len(secret) > 200:
        return None
    now = now or utcnow()
    row = LoginSession.get_or_none(LoginSession.id == _digest(secret))
    if row is None or row.kind != kind or row.subject != (subject or ""):
        return None
    if expired(row, now):
        try:
            with db.atomic():
                LoginSession.delete().where(LoginSession.id == row.id).execute()
        except OperationalError:
            pass    # ended all the same: an expired row is never honoured, and is pruned later
        return None
    if now - row.seen_at >= SEEN_EVERY:
        try:
            with db.atomic():
                LoginSession.update(seen_at=now).where(LoginSession.id == row.id).execute()
        except OperationalError:
            pass    # a full disk or a busy database: the login still holds, the stamp waits a minute
    return row


def end(secret: str | None) -> bool:
    """End the login this cookie secret belongs to (logout)."""
    if not secret or not isinstance(secret, str):
        return False
    with db.atomic():
        return LoginSession.delete().where(LoginSession.id == _digest(secret)).execute() > 0


def end_all(kind: str, subject: str | None = None) -> int:
    """End every login of `kind` (of `subject` only, if given): a PIN change ends every crew
    login, a password reset or a disabled coordinator every login of that coordinator.
    Call it inside the transaction that makes the change, so both happen or neither."""
    query = LoginSession.delete().where(LoginSession.kind == kind)
    if subject is not None:
        query = query.where(LoginSession.subject == subject)
    with db.atomic():
        return query.execute()


def live(kind: str | None = None, now: dt.datetime | None = None) -> list[LoginSession]:
    """The logins that still work, newest first."""
    now = now or utcnow()
    query = LoginSession.select().order_by(LoginSession.seen_at.desc())
    if kind:
        query = query.where(LoginSession.kind == kind)
    return [row for row in query if not expired(row, now)]
