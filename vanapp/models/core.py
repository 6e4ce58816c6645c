"""Local settings and API tokens: the van's own state, never synced."""
from peewee import BooleanField, CharField, TextField

from ..ids import new_id, utcnow
from .base import BaseModel, UTCDateTimeField


class Setting(BaseModel):
    key = CharField(primary_key=True, max_length=64)
    value = TextField()

    @classmethod
    def get_value(cls, key, default=None):
        row = cls.get_or_none(cls.key == key)
        return default if row is None else row.value

    @classmethod
    def van_id(cls) -> str:
        """This laptop's van id: "" until `vanapp init --van` or the first pairing sets it."""
        return cls.get_value("van_id", "") or ""

    @classmethod
    def put(cls, key, value):
        cls.insert(key=key, value=value).on_conflict(
            conflict_target=[cls.key], update={cls.value: value}).execute()


class ApiToken(BaseModel):
    """A bearer token for scripts; only its SHA-256 is stored."""
    id = CharField(primary_key=True, max_length=36, default=new_id)
    name = CharField(max_length=80)
    token_hash = CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)
    revoked = BooleanField(default=False)
