"""Proof of play: one record per programme item played."""
from peewee import CharField, ForeignKeyField, IntegerField, TextField

from .base import SyncModel, UTCDateTimeField
from .tours import Screening

OUTCOMES = ("playing", "completed", "skipped", "error", "stopped")


class PlayLog(SyncModel):
    screening = ForeignKeyField(Screening, backref="plays", on_delete="CASCADE")
    position = IntegerField()               # index in the programme
    kind = CharField(max_length=8, default="media")   # media | game (migration 0030)
    media_id = CharField(max_length=64)     # MediaItem.id, or Game.id when kind is game
    started_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)
    position_ms = IntegerField(default=0)   # how far it got
    duration_ms = IntegerField(null=True)   # scanned or reported length
    outcome = CharField(max_length=12, default="playing")
    error = TextField(default="")

    class Meta:
        sync_owner = "van"

    @classmethod
    def for_screening(cls, screening_id):
        return cls.select().where(cls.screening == screening_id).order_by(cls.started_at, cls.id)
