"""0050: live game play on the laptop (local, not synced): the live run's position, joined
phones, votes and bell rings.

Frozen copies of the models as they were; later changes go in later migrations."""
from peewee import *


def up(migrator, db):
    class GameRun(Model):          # exists since 0001; only referenced here
        id = CharField(primary_key=True, max_length=64)
        class Meta:
            database = db
            table_name = 'game_run'

    class GameLive(Model):
        run = ForeignKeyField(GameRun, primary_key=True, on_delete='CASCADE')
        active = BooleanField(default=True, index=True)
        state = CharField(max_length=24, default='lobby')
        question_index = IntegerField(default=-1)
        deadline = CharField(max_length=27, null=True)
        hands = TextField(default='{}')
        judged = TextField(default='{}')
        updated_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'game_live'

    class GamePlayer(Model):
        id = CharField(primary_key=True, max_length=36)
        run = ForeignKeyField(GameRun, on_delete='CASCADE', index=True)
        device = CharField(max_length=64)
        token_hash = CharField(max_length=64, index=True)
        team = CharField(max_length=64, default='')
        joined_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'game_player'
            indexes = ((('run', 'device'), True),)

    class GameVote(Model):
        id = AutoField()
        run = ForeignKeyField(GameRun, on_delete='CASCADE')
        question_id = CharField(max_length=64)
        player = ForeignKeyField(GamePlayer, on_delete='CASCADE')
        choice = CharField(max_length=64)
        at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'game_vote'
            indexes = ((('run', 'question_id', 'player'), True),)

    class GameBuzz(Model):
        id = AutoField()
        run = ForeignKeyField(GameRun, on_delete='CASCADE')
        question_id = CharField(max_length=64)
        player = ForeignKeyField(GamePlayer, on_delete='CASCADE')
        team = CharField(max_length=64)
        at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'game_buzz'
            indexes = ((('run', 'question_id', 'player'), True),)

    db.create_tables([GameLive, GamePlayer, GameVote, GameBuzz])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('game_buzz'))
    migrator.migrate(migrator.drop_table('game_vote'))
    migrator.migrate(migrator.drop_table('game_player'))
    migrator.migrate(migrator.drop_table('game_live'))
