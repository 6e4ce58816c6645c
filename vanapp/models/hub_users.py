"""The hub's coordinators: who may log in to the dashboard (hub-local, never synced)."""
from peewee import BooleanField, CharField

from ..ids import new_id, utcnow
from .base import BaseModel, UTCDateTimeField


class Coordinator(BaseModel):
    """A coordinator's login. Only a werkzeug password hash is stored, never the password."""
    id = CharField(primary_key=True, max_length=36, default=new_id)
    username = CharField(max_length=64, unique=True)
    password_hash = CharField(max_length=255)
    created_at = UTCDateTimeField(default=utcnow)
    last_login_at = UTCDateTimeField(null=True)
    disabled = BooleanField(default=False)

    @classmethod
    def by_username(cls, username: str):
        return cls.get_or_none(cls.username == username)
