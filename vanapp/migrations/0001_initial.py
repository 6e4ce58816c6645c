"""0001: the whole first schema — plan, media, proof of play, attendance, games, outbox.

Frozen copies of the models as they were; later changes go in later migrations."""
from peewee import *


def up(migrator, db):
    class Setting(Model):
        key = CharField(primary_key=True, max_length=64)
        value = TextField()
        class Meta:
            database = db
            table_name = 'setting'
    db.create_tables([Setting])

    class ApiToken(Model):
        id = CharField(primary_key=True, max_length=36)
        name = CharField(max_length=80)
        token_hash = CharField(unique=True, max_length=64)
        created_at = CharField(max_length=27)
        last_used_at = CharField(max_length=27, null=True)
        revoked = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'api_token'
    db.create_tables([ApiToken])

    class Outbox(Model):
        seq = AutoField()
        model = CharField(max_length=64)
        record_id = CharField(max_length=64)
        created_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'outbox'
    db.create_tables([Outbox])

    class Campaign(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        title_hi = CharField(max_length=200, default='')
        title_en = CharField(max_length=200, default='')
        class Meta:
            database = db
            table_name = 'campaign'
    db.create_tables([Campaign])

    class Village(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        name = CharField(max_length=120)
        name_en = CharField(max_length=120)
        block = CharField(max_length=120, default='')
        district = CharField(max_length=120, default='')
        class Meta:
            database = db
            table_name = 'village'
            indexes = ((('name_en', 'block', 'district'), True),)
    db.create_tables([Village])

    class Tour(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        title = CharField(max_length=200, default='')
        campaign = ForeignKeyField(Campaign, null=True, on_delete='RESTRICT')
        source_file = CharField(default='')
        source_sha256 = CharField(max_length=64, default='')
        class Meta:
            database = db
            table_name = 'tour'
    db.create_tables([Tour])

    class Screening(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        tour = ForeignKeyField(Tour, on_delete='CASCADE')
        key = CharField(max_length=200)
        village = ForeignKeyField(Village, on_delete='RESTRICT')
        date = CharField(max_length=10)
        start = CharField(max_length=5)
        starts_at = CharField(max_length=27, index=True)
        duration_min = IntegerField(default=120)
        programme = CharField(max_length=64, default='')
        notes = TextField(default='')
        status = CharField(max_length=16, default='planned')
        status_reason = TextField(default='')
        source_line = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'screening'
            indexes = ((('tour', 'key'), True),)
    db.create_tables([Screening])

    class ProgrammeItem(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        screening = ForeignKeyField(Screening, on_delete='CASCADE')
        position = IntegerField()
        kind = CharField(max_length=8)
        prefix = CharField(max_length=8)
        ref = CharField(max_length=64)
        phase = CharField(max_length=16, default='')
        class Meta:
            database = db
            table_name = 'programme_item'
            indexes = ((('screening', 'position'), True),)
    db.create_tables([ProgrammeItem])

    class ScreeningEvent(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        screening = ForeignKeyField(Screening, on_delete='CASCADE')
        kind = CharField(max_length=16)
        reason = TextField(default='')
        new_date = CharField(max_length=10, default='')
        new_start = CharField(max_length=5, default='')
        at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'screening_event'
    db.create_tables([ScreeningEvent])

    class MediaItem(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        file = CharField()
        title_hi = CharField(max_length=200, default='')
        title_en = CharField(max_length=200, default='')
        language = CharField(max_length=8, default='hi')
        kind = CharField(max_length=8)
        campaign = CharField(max_length=64, default='')
        in_catalog = BooleanField(default=True)
        class Meta:
            database = db
            table_name = 'media_item'
    db.create_tables([MediaItem])

    class MediaScan(Model):
        media = ForeignKeyField(MediaItem, primary_key=True, on_delete='CASCADE')
        status = CharField(max_length=16)
        size = IntegerField(null=True)
        sha256 = CharField(max_length=64, default='')
        duration_ms = IntegerField(null=True)
        playable = BooleanField(default=False)
        error = TextField(default='')
        scanned_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'media_scan'
    db.create_tables([MediaScan])

    class Game(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        kind = CharField(max_length=8)
        title_hi = CharField(max_length=200, default='')
        title_en = CharField(max_length=200, default='')
        campaign = CharField(max_length=64, default='')
        file = CharField(default='')
        sha256 = CharField(max_length=64, default='')
        content = TextField()
        class Meta:
            database = db
            table_name = 'game'
    db.create_tables([Game])

    class PlayLog(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        screening = ForeignKeyField(Screening, on_delete='CASCADE')
        position = IntegerField()
        media_id = CharField(max_length=64)
        started_at = CharField(max_length=27)
        ended_at = CharField(max_length=27, null=True)
        position_ms = IntegerField(default=0)
        duration_ms = IntegerField(null=True)
        outcome = CharField(max_length=12, default='playing')
        error = TextField(default='')
        class Meta:
            database = db
            table_name = 'play_log'
    db.create_tables([PlayLog])

    class TallyEvent(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        screening = ForeignKeyField(Screening, on_delete='CASCADE')
        category = CharField(max_length=32)
        delta = IntegerField()
        at = CharField(max_length=27)
        device = CharField(max_length=64, default='')
        class Meta:
            database = db
            table_name = 'tally_event'
            indexes = ((('screening', 'category'), False),)
    db.create_tables([TallyEvent])

    class Headcount(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        screening = ForeignKeyField(Screening, on_delete='CASCADE')
        kind = CharField(max_length=8)
        count = IntegerField()
        at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'headcount'
    db.create_tables([Headcount])

    class Participant(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        screening = ForeignKeyField(Screening, on_delete='CASCADE')
        name = CharField(max_length=120)
        gender = CharField(max_length=16)
        age_band = CharField(max_length=16)
        village = CharField(max_length=120, default='')
        phone = CharField(max_length=20, default='')
        consent_version = CharField(max_length=16)
        consent_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'participant'
    db.create_tables([Participant])

    class GameRun(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        screening = ForeignKeyField(Screening, on_delete='CASCADE')
        game_id = CharField(max_length=64)
        phase = CharField(max_length=16, default='')
        position = IntegerField(null=True)
        state = CharField(max_length=16, default='lobby')
        started_at = CharField(max_length=27)
        finished_at = CharField(max_length=27, null=True)
        scores = TextField(default=dict)
        class Meta:
            database = db
            table_name = 'game_run'
    db.create_tables([GameRun])

    class GameResult(Model):
        id = CharField(primary_key=True, max_length=64)
        van = CharField(index=True, max_length=64, default='')
        version = IntegerField(default=1)
        created_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        received_at = CharField(max_length=27, null=True)
        run = ForeignKeyField(GameRun, on_delete='CASCADE')
        question_id = CharField(max_length=64)
        counts = TextField(default=dict)
        answer = CharField(max_length=64, default='')
        closed_at = CharField(max_length=27, null=True)
        class Meta:
            database = db
            table_name = 'game_result'
            indexes = ((('run', 'question_id'), True),)
    db.create_tables([GameResult])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('game_result'))
    migrator.migrate(migrator.drop_table('game_run'))
    migrator.migrate(migrator.drop_table('participant'))
    migrator.migrate(migrator.drop_table('headcount'))
    migrator.migrate(migrator.drop_table('tally_event'))
    migrator.migrate(migrator.drop_table('play_log'))
    migrator.migrate(migrator.drop_table('game'))
    migrator.migrate(migrator.drop_table('media_scan'))
    migrator.migrate(migrator.drop_table('media_item'))
    migrator.migrate(migrator.drop_table('screening_event'))
    migrator.migrate(migrator.drop_table('programme_item'))
    migrator.migrate(migrator.drop_table('screening'))
    migrator.migrate(migrator.drop_table('tour'))
    migrator.migrate(migrator.drop_table('village'))
    migrator.migrate(migrator.drop_table('campaign'))
    migrator.migrate(migrator.drop_table('outbox'))
    migrator.migrate(migrator.drop_table('api_token'))
    migrator.migrate(migrator.drop_table('setting'))

