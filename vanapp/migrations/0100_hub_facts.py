"""0100: the hub's running numbers — one row per screening of what its van's records and QR
summary add (and their detail rows), per-van totals, and rate-limit counters shared by every
hub process — filled from the records already stored, so an existing hub reports the same
numbers after the upgrade without reading its whole history on each request.

Frozen copies of models/hub_facts.py. The fill recounts with vanapp.hub.facts_store.rebuild,
the same rules `vanapp hub facts --rebuild` applies (a later change to these tables rebuilds them
in its own migration)."""
from peewee import *


def up(migrator, db):
    class ScreeningFact(Model):
        screening = CharField(primary_key=True, max_length=64)
        ev_status = CharField(max_length=16, null=True)
        ev_reason = TextField(default='')
        began = IntegerField(default=0)
        moved_date = CharField(max_length=10, null=True)
        moved_start = CharField(max_length=5, null=True)
        tapped = IntegerField(default=0)
        men = IntegerField(default=0)
        women = IntegerField(default=0)
        boys = IntegerField(default=0)
        girls = IntegerField(default=0)
        other = IntegerField(default=0)
        people = IntegerField(default=0)
        taps = IntegerField(default=0)
        corrections = IntegerField(default=0)
        head_start = IntegerField(null=True)
        head_end = IntegerField(null=True)
        participants = IntegerField(default=0)
        has_pledge = IntegerField(default=0)
        pledges = IntegerField(default=0)
        received_at = CharField(max_length=27, null=True)
        qr_van = CharField(max_length=64, null=True)
        qr_date = CharField(max_length=10, default='')
        qr_village = CharField(max_length=200, default='')
        qr_counts = IntegerField(default=0)
        q_men = IntegerField(default=0)
        q_women = IntegerField(default=0)
        q_boys = IntegerField(default=0)
        q_girls = IntegerField(default=0)
        q_other = IntegerField(default=0)
        q_people = IntegerField(default=0)
        q_participants = IntegerField(default=0)
        qr_pledges = IntegerField(default=0)
        q_pledges = IntegerField(default=0)
        qr_received_at = CharField(max_length=27, null=True)
        for_review = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'screening_fact'

    class FactCategory(Model):
        screening = CharField(max_length=64)
        source = CharField(max_length=12)
        category = TextField()
        count = IntegerField(default=0)
        taps = IntegerField(default=0)
        corrections = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'fact_category'
            primary_key = CompositeKey('screening', 'source', 'category')

    class FactParticipant(Model):
        screening = CharField(max_length=64)
        gender = CharField(max_length=16)
        age_band = CharField(max_length=16)
        n = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'fact_participant'
            primary_key = CompositeKey('screening', 'gender', 'age_band')

    class FactQuiz(Model):
        screening = CharField(max_length=64)
        game = CharField(max_length=64)
        question = CharField(max_length=64)
        answers = IntegerField(default=0)
        correct = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'fact_quiz'
            primary_key = CompositeKey('screening', 'game', 'question')

    class FactPoll(Model):
        screening = CharField(max_length=64)
        game = CharField(max_length=64)
        question = CharField(max_length=64)
        phase = CharField(max_length=16)
        choice = TextField()
        n = IntegerField(default=0)
        paired = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'fact_poll'
            primary_key = CompositeKey('screening', 'game', 'question', 'phase', 'choice')

    class VanFact(Model):
        van = CharField(primary_key=True, max_length=64)
        records = IntegerField(default=0)
        last_received = CharField(max_length=27, null=True)
        batches = IntegerField(default=0)
        bundles = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'van_fact'

    class RateLimit(Model):
        key = CharField(primary_key=True, max_length=255)
        count = IntegerField(default=0)
        expires_at = FloatField()
        class Meta:
            database = db
            table_name = 'rate_limit'

    with db.atomic():
        db.create_tables([ScreeningFact, FactCategory, FactParticipant, FactQuiz, FactPoll, VanFact, RateLimit])
        # a game that arrives after its runs: find the screenings whose quiz or pledge it decides
        db.execute_sql('CREATE INDEX IF NOT EXISTS "game_run_game_id" ON "game_run" ("game_id")')
        _fill(db)


def _fill(database):
    """Recount what the hub already holds (nothing to do on a new or a van's empty database)."""
    held = database.execute_sql('SELECT 1 FROM "screening" LIMIT 1').fetchone() or \
        database.execute_sql('SELECT 1 FROM "summary_report" LIMIT 1').fetchone() or \
        database.execute_sql('SELECT 1 FROM "sync_batch" LIMIT 1').fetchone()
    if not held:
        return
    from vanapp.models import db as proxy
    from vanapp.hub import facts_store
    previous = proxy.obj
    proxy.initialize(database)          # the models read the database being migrated
    try:
        facts_store.rebuild()
    finally:
        proxy.initialize(previous)


def down(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS "game_run_game_id"')
    migrator.migrate(*[migrator.drop_table(t) for t in
                       ('rate_limit', 'van_fact', 'fact_poll', 'fact_quiz', 'fact_participant',
                        'fact_category', 'screening_fact')])
