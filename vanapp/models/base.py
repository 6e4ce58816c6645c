"""Custom fields and the syncable-record base every part builds on (the database is `vanapp.db.db`)."""
import datetime as dt
import json

from peewee import (AutoField, CharField, IntegerField, Model, TextField)

from ..db import db
from ..ids import from_iso, new_id, to_iso, utcnow


class UTCDateTimeField(CharField):
    """A UTC instant stored as fixed-width ISO 8601 text (sorts as it should, same on every database)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 27)
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = from_iso(value)
        return to_iso(value)

    def python_value(self, value):
        return None if value is None else from_iso(value)


class JSONTextField(TextField):
    """JSON kept as canonical text (sorted keys), so equal content is equal text on every database."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False,
                                                     separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SyncModel(BaseModel):
    """A record that syncs: UUIDv7 (or stable) id, owning van, version, event and change times.

    `sync_owner` says who may write it: "van" (what happened: taps, plays, results) or
    "hub" (the plan: tours, screenings, content). Every local change goes through
    `save_change`, which bumps the version and appends to the outbox in the caller's
    transaction, so a record is never changed without being queued for sync.
    """

    id = CharField(primary_key=True, max_length=64, default=new_id)
    van = CharField(max_length=64, default="", index=True)
    version = IntegerField(default=1)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    received_at = UTCDateTimeField(null=True)  # set by the hub when it stores the record

    class Meta:
        sync_owner = None

    @classmethod
    def registry(cls) -> dict[str, type["SyncModel"]]:
        """Model name -> class for every record that travels between van and hub."""
        found, stack = {}, list(cls.__subclasses__())
        while stack:
            model = stack.pop()
            stack.extend(model.__subclasses__())
            if getattr(model._meta, "sync_owner", None):
                found[model.__name__] = model
        return found

    def save_change(self, force_insert=False):
        """Save this record as a local change: new version, new updated_at, one outbox row."""
        if not force_insert and self._pk is not None and self.__class__.select().where(
                self.__class__._meta.primary_key == self._pk).exists():
            self.version = (self.version or 0) + 1
            self.updated_at = utcnow()
            self.save()
        else:
            self.save(force_insert=True)
        Outbox.create(model=self.__class__.__name__, record_id=self.id)
        return self

    def to_wire(self) -> dict:
        """The record as it travels: plain JSON types, foreign keys as ids."""
        out = {}
        for name, field in self._meta.fields.items():
            if name == "received_at":
                continue
            value = getattr(self, getattr(field, "object_id_name", name))
            if isinstance(value, dt.datetime):
                value = to_iso(value)
            out[name] = value
        return out


class Outbox(BaseModel):
    """Every local change to a syncable record, in commit order: the sync cursor walks this."""

    seq = AutoField()
    model = CharField(max_length=64)
    record_id = CharField(max_length=64)
    created_at = UTCDateTimeField(default=utcnow)

    @classmethod
    def since(cls, cursor: int, limit: int):
        return cls.select().where(cls.seq > cursor).order_by(cls.seq).limit(limit)
