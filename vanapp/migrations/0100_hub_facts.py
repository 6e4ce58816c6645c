"""0100: the hub's running numbers — one row per screening of what its van's records and QR
summary add beside a copy of its plan (kept by triggers), their detail rows, per-van totals, and
rate-limit counters shared by every hub process — filled from the plan and the records already
stored, so an existing hub reports the same numbers after the upgrade without reading its whole
history on each request.

Frozen copies of models/hub_facts.py. The fill recounts with vanapp.hub.facts_store.rebuild,
the same rules `vanapp hub facts --rebuild` applies (a later change to these tables rebuilds them
in its own migration)."""
from peewee import *


def _int(default=0):
    return IntegerField(default=default, constraints=[SQL(f"DEFAULT {default}")])


def _text(max_length=None, default=""):
    field = CharField if max_length else TextField
    kwargs = {"max_length": max_length} if max_length else {}
    return field(default=default, constraints=[SQL(f"DEFAULT '{default}'")], **kwargs)


def up(migrator, db):
    # SQL defaults on every column: the plan's triggers and the recount each write only their own
    class ScreeningFact(Model):
        screening = CharField(primary_key=True, max_length=64)
        planned = _int()
        plan_van = _text(64)
        plan_date = _text(10)
        plan_start = _text(5)
        plan_status = _text(16)
        plan_reason = _text()
        tour = _text(64)
        campaign = _text(64)
        village_id = _text(64)
        village = _text(120)
        village_en = _text(120)
        block = _text(120)
        district = _text(120)
        ev_status = CharField(max_length=16, null=True)
        ev_reason = _text()
        began = _int()
        moved_date = CharField(max_length=10, null=True)
        moved_start = CharField(max_length=5, null=True)
        tapped = _int()
        men = _int()
        women = _int()
        boys = _int()
        girls = _int()
        other = _int()
        people = _int()
        taps = _int()
        corrections = _int()
        head_start = IntegerField(null=True)
        head_end = IntegerField(null=True)
        participants = _int()
        has_pledge = _int()
        pledges = _int()
        received_at = CharField(max_length=27, null=True)
        qr_van = CharField(max_length=64, null=True)
        qr_date = _text(10)
        qr_village = _text(200)
        qr_counts = _int()
        q_men = _int()
        q_women = _int()
        q_boys = _int()
        q_girls = _int()
        q_other = _int()
        q_people = _int()
        q_participants = _int()
        qr_pledges = _int()
        q_pledges = _int()
        qr_received_at = CharField(max_length=27, null=True)
        for_review = _int()
        class Meta:
            database = db
            table_name = 'screening_fact'
            indexes = ((('tour',), False), (('village_id',), False))

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
        lead = IntegerField(default=0)
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
        for statement in (POSTGRES_TRIGGERS if isinstance(db, PostgresqlDatabase) else SQLITE_TRIGGERS):
            db.execute_sql(statement)
        _fill(db)


# The plan's copy in screening_fact follows the plan, whatever writes it (a tour import, a van's
# batch, the lifecycle of a screening): these columns, from screening, village and tour.
_PLAN = ("planned, plan_van, plan_date, plan_start, plan_status, plan_reason, tour, campaign, "
         "village_id, village, village_en, block, district")
_COPY = ("1, NEW.van, NEW.date, NEW.start, NEW.status, NEW.status_reason, NEW.tour_id, COALESCE(t.campaign_id, ''), "
         "NEW.village_id, v.name, v.name_en, v.block, v.district")
_SET = ", ".join(f"{c} = excluded.{c}" for c in _PLAN.split(", "))
_UPSERT = (f'INSERT INTO screening_fact (screening, {_PLAN}) SELECT NEW.id, {_COPY} FROM village v, tour t '
           f"WHERE v.id = NEW.village_id AND t.id = NEW.tour_id ON CONFLICT (screening) DO UPDATE SET {_SET}")
# A screening taken out of the plan: its records went with it (ON DELETE CASCADE); a QR summary
# of it is all that can still count.
_FORGET = [
    "UPDATE screening_fact SET planned = 0, plan_van = '', plan_date = '', plan_start = '', plan_status = '', "
    "plan_reason = '', tour = '', campaign = '', village_id = '', village = '', village_en = '', block = '', "
    "district = '', ev_status = NULL, ev_reason = '', began = 0, moved_date = NULL, moved_start = NULL, "
    "tapped = 0, men = 0, women = 0, boys = 0, girls = 0, other = 0, people = 0, taps = 0, corrections = 0, "
    "head_start = NULL, head_end = NULL, participants = 0, has_pledge = 0, pledges = 0, received_at = NULL "
    "WHERE screening = OLD.id",
    "DELETE FROM fact_category WHERE screening = OLD.id AND source = 'synced'",
    "DELETE FROM fact_participant WHERE screening = OLD.id",
    "DELETE FROM fact_quiz WHERE screening = OLD.id",
    "DELETE FROM fact_poll WHERE screening = OLD.id",
    "DELETE FROM screening_fact WHERE screening = OLD.id AND qr_van IS NULL AND for_review = 0",
]
_VILLAGE = ("UPDATE screening_fact SET village = NEW.name, village_en = NEW.name_en, block = NEW.block, "
            "district = NEW.district WHERE village_id = NEW.id")
_TOUR = "UPDATE screening_fact SET campaign = COALESCE(NEW.campaign_id, '') WHERE tour = NEW.id"

POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION vankit_fact_screening() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN " + "; ".join(_FORGET) + "; RETURN NULL; END IF; "
    + _UPSERT + "; RETURN NULL; END $$",
    "CREATE TRIGGER screening_fact_plan AFTER INSERT OR UPDATE OR DELETE ON screening "
    "FOR EACH ROW EXECUTE FUNCTION vankit_fact_screening()",
    "CREATE OR REPLACE FUNCTION vankit_fact_village() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    + _VILLAGE + "; RETURN NULL; END $$",
    "CREATE TRIGGER village_fact_plan AFTER UPDATE ON village FOR EACH ROW EXECUTE FUNCTION vankit_fact_village()",
    "CREATE OR REPLACE FUNCTION vankit_fact_tour() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    + _TOUR + "; RETURN NULL; END $$",
    "CREATE TRIGGER tour_fact_plan AFTER UPDATE ON tour FOR EACH ROW EXECUTE FUNCTION vankit_fact_tour()",
]
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER screening_fact_plan_insert AFTER INSERT ON screening BEGIN {_UPSERT}; END",
    f"CREATE TRIGGER screening_fact_plan_update AFTER UPDATE ON screening BEGIN {_UPSERT}; END",
    "CREATE TRIGGER screening_fact_plan_delete AFTER DELETE ON screening BEGIN " + "; ".join(_FORGET) + "; END",
    f"CREATE TRIGGER village_fact_plan AFTER UPDATE ON village BEGIN {_VILLAGE}; END",
    f"CREATE TRIGGER tour_fact_plan AFTER UPDATE ON tour BEGIN {_TOUR}; END",
]


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
    if isinstance(db, PostgresqlDatabase):
        for table, trigger in (("screening", "screening_fact_plan"), ("village", "village_fact_plan"),
                               ("tour", "tour_fact_plan")):
            db.execute_sql(f'DROP TRIGGER IF EXISTS {trigger} ON "{table}"')
        for function in ("vankit_fact_screening", "vankit_fact_village", "vankit_fact_tour"):
            db.execute_sql(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for trigger in ("screening_fact_plan_insert", "screening_fact_plan_update", "screening_fact_plan_delete",
                        "village_fact_plan", "tour_fact_plan"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute_sql('DROP INDEX IF EXISTS "game_run_game_id"')
    migrator.migrate(*[migrator.drop_table(t) for t in
                       ('rate_limit', 'van_fact', 'fact_poll', 'fact_quiz', 'fact_participant',
                        'fact_category', 'screening_fact')])
