"""Coordinator accounts of the hub: create one, set a password, disable, check a login (werkzeug
password hashes). The login page and the guard of the dashboard are web/hub/auth.py."""
import functools
import re

from werkzeug.security import check_password_hash, generate_password_hash

from .. import logins
from ..ids import utcnow
from ..models import Coordinator, db

MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[\w.@-]{2,64}$")


# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
@functools.cache
def _dummy_hash() -> str:
    # made on the first login with an unknown name, not at import: scrypt takes 0.13 s, which
    # every hub command and every app start paid before
    return generate_password_hash("not a password: keeps login timing even")


class CoordinatorError(ValueError):
    """A refused account change; the message says what to fix."""


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise CoordinatorError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise CoordinatorError("the password is longer than 256 characters")


def create_coordinator(username: str, password: str) -> Coordinator:
    """A new coordinator login; refuses a taken or malformed name and a short password."""
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise CoordinatorError(f"name {username[:70]!r}: use 2 to 64 letters, digits, '.', '_', '-' or '@'")
    _check_password(password)
    with db.atomic():
        if Coordinator.by_username(username) is not None:
            raise CoordinatorError(f"coordinator {username!r} exists already "
                                   "(use `vanapp hub add-coordinator NAME --reset` to set a new password)")
        return Coordinator.create(username=username, password_hash=generate_password_hash(password))


def set_password(username: str, password: str) -> Coordinator:
    """A new password; every login of that coordinator ends with the old one."""
    _check_password(password)
    with db.atomic():
        user = Coordinator.by_username(username)
        if user is None:
            raise CoordinatorError(f"no coordinator {username!r}")
        user.password_hash = generate_password_hash(password)
        user.disabled = False
        user.save()
        logins.end_all("coordinator", user.id)
    return user


def disable(username: str) -> int:
    """Revoke a coordinator: no more logins, and every one open now ends. Returns how many."""
    with db.atomic():
        user = Coordinator.by_username((username or "").strip())
        if user is None:
            raise CoordinatorError(f"no coordinator {username!r}")
        Coordinator.update(disabled=True).where(Coordinator.id == user.id).execute()
        return logins.end_all("coordinator", user.id)


def authenticate(username: str, password: str) -> Coordinator | None:
    user = Coordinator.by_username((username or "").strip()) if username else None
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if user is None or not ok or user.disabled:
        return None
    with db.atomic():
        Coordinator.update(last_login_at=utcnow()).where(Coordinator.id == user.id).execute()
    return user
