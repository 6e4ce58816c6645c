"""Logins kept on the server (crew PIN and hub coordinators), so that one can be ended at once."""
from peewee import CharField

from ..ids import utcnow
from .base import BaseModel, UTCDateTimeField


class LoginSession(BaseModel):
    """One browser's login. The cookie carries a random secret; only its SHA-256 is kept here,
    so a copy of the database does not log anyone in."""
    id = CharField(primary_key=True, max_length=64)
    kind = CharField(max_length=16)                  # crew | coordinator
    subject = CharField(max_length=64, default="")   # the coordinator's id; "" for the crew
    address = CharField(max_length=64, default="")   # where the login came from, for the record
    created_at = UTCDateTimeField(default=utcnow)
    seen_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "subject"), False),)
