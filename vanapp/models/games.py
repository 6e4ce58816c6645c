"""Games played at a screening and their results (van-owned)."""
from peewee import CharField, ForeignKeyField, IntegerField

from .base import JSONTextField, SyncModel, UTCDateTimeField
from .tours import Screening


class GameRun(SyncModel):
    """One game played at one screening (a before/after poll is two runs)."""
    screening = ForeignKeyField(Screening, backref="game_runs", on_delete="CASCADE")
    game_id = CharField(max_length=64)
    phase = CharField(max_length=16, default="")
    position = IntegerField(null=True)      # programme index, when run from the programme
    state = CharField(max_length=16, default="lobby")
    started_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(null=True)
    scores = JSONTextField(default=dict)    # buzzer: team id -> points

    class Meta:
        sync_owner = "van"


class GameResult(SyncModel):
    """Counts for one question (or the pledge) of a run: {choice: {"phones": n, "hands": n}}."""
    run = ForeignKeyField(GameRun, backref="results", on_delete="CASCADE")
    question_id = CharField(max_length=64)
    counts = JSONTextField(default=dict)
    answer = CharField(max_length=64, default="")
    closed_at = UTCDateTimeField(null=True)

    class Meta:
        sync_owner = "van"
        indexes = ((("run", "question_id"), True),)
