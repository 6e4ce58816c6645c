"""What happens on the laptop during a live game (local, never synced): the live run's
position, the phones that joined, their votes and their bell rings. The synced outcome of a
run is GameRun/GameResult; these rows let a restarted server carry on without losing a vote."""
from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField

from ..ids import new_id, utcnow
from .base import BaseModel, JSONTextField, UTCDateTimeField
from .games import GameRun


class GameLive(BaseModel):
    """Where the live run stands; one `active` row at most (one live game per van)."""
    run = ForeignKeyField(GameRun, primary_key=True, on_delete="CASCADE")
    active = BooleanField(default=True, index=True)
    state = CharField(max_length=24, default="lobby")
    question_index = IntegerField(default=-1)
    deadline = UTCDateTimeField(null=True)      # the open question's timer, UTC
    hands = JSONTextField(default=dict)         # question id -> {choice: count} typed by the crew
    judged = JSONTextField(default=dict)        # buzzer: question id -> [[team, correct], ...]
    updated_at = UTCDateTimeField(default=utcnow)

    @classmethod
    def current(cls):
        return cls.select().where(cls.active == True).order_by(cls.updated_at.desc()).first()  # noqa: E712


class GamePlayer(BaseModel):
    """A phone in a run: its device cookie, a rejoin token (hashed) and its team."""
    id = CharField(primary_key=True, max_length=36, default=new_id)
    run = ForeignKeyField(GameRun, on_delete="CASCADE", index=True)
    device = CharField(max_length=64)
    token_hash = CharField(max_length=64, index=True)
    team = CharField(max_length=64, default="")
    joined_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("run", "device"), True),)


class GameVote(BaseModel):
    """A phone's answer to one question; a later vote while the question is open replaces it."""
    id = AutoField()
    run = ForeignKeyField(GameRun, on_delete="CASCADE")
    question_id = CharField(max_length=64)
    player = ForeignKeyField(GamePlayer, on_delete="CASCADE")
    choice = CharField(max_length=64)
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("run", "question_id", "player"), True),)


class GameBuzz(BaseModel):
    """A bell ring in a buzzer question; `id` is the server's arrival order."""
    id = AutoField()
    run = ForeignKeyField(GameRun, on_delete="CASCADE")
    question_id = CharField(max_length=64)
    player = ForeignKeyField(GamePlayer, on_delete="CASCADE")
    team = CharField(max_length=64)
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("run", "question_id", "player"), True),)
