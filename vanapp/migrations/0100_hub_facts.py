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


# What a screening adds, decided by the database from the row's own columns each time the row
# changes (stored generated columns: PostgreSQL 12+, SQLite 3.31+), so a report only sums them.
# The rules are hub/recount.py's: the crew's events decide the status over the plan's; a night
# is held unless cancelled when it was started or finished, counted, or summarised by its own van;
# its people are the synced taps, or that summary's counts where no tap was synced.
_STATUS = "COALESCE(ev_status, CASE WHEN planned = 1 THEN plan_status ELSE 'planned' END)"
_QR_OK = "(qr_van IS NOT NULL AND (planned = 0 OR plan_van = '' OR plan_van = qr_van))"
_QR_COUNTS = f"(qr_counts = 1 AND tapped = 0 AND {_QR_OK})"
_QR_PLEDGES = f"(has_pledge = 0 AND qr_pledges = 1 AND {_QR_OK})"
DERIVED = {
    "eff_date": ("CharField", 10, "CASE WHEN planned = 1 THEN COALESCE(moved_date, plan_date) ELSE qr_date END"),
    "eff_start": ("CharField", 5, "CASE WHEN planned = 1 THEN COALESCE(moved_start, plan_start) ELSE '' END"),
    "eff_van": ("CharField", 64, "CASE WHEN planned = 1 THEN plan_van ELSE qr_van END"),
    "eff_village_id": ("TextField", None,
                       "CASE WHEN planned = 1 THEN village_id ELSE 'qr:' || qr_van || ':' || qr_village END"),
    "eff_village": ("CharField", 200, "CASE WHEN planned = 1 THEN village ELSE qr_village END"),
    "eff_village_en": ("CharField", 200, "CASE WHEN planned = 1 THEN village_en ELSE qr_village END"),
    "eff_status": ("CharField", 16, _STATUS),
    "eff_reason": ("TextField", None,
                   "CASE WHEN ev_status IS NOT NULL THEN ev_reason WHEN planned = 1 THEN plan_reason ELSE '' END"),
    "held": ("IntegerField", None,
             f"CASE WHEN {_STATUS} <> 'cancelled' AND ({_STATUS} IN ('done', 'in_progress') OR began = 1 "
             f"OR tapped = 1 OR {_QR_OK}) THEN 1 ELSE 0 END"),
    "source": ("CharField", 12,
               f"CASE WHEN tapped = 1 THEN 'synced' WHEN {_QR_COUNTS} THEN 'qr_summary' ELSE '' END"),
    **{f"e_{b}": ("IntegerField", None, f"CASE WHEN tapped = 1 THEN {b} WHEN {_QR_COUNTS} THEN q_{b} ELSE 0 END")
       for b in ("men", "women", "boys", "girls", "other", "people")},
    "participant_total": ("IntegerField", None,
                          f"CASE WHEN participants > 0 THEN participants WHEN {_QR_OK} THEN q_participants "
                          "ELSE 0 END"),
    "qr_participants": ("IntegerField", None,
                        f"CASE WHEN participants = 0 AND {_QR_OK} THEN q_participants ELSE 0 END"),
    "e_pledges": ("IntegerField", None,
                  f"CASE WHEN has_pledge = 1 THEN pledges WHEN {_QR_PLEDGES} THEN q_pledges ELSE 0 END"),
    "pledge_source": ("CharField", 12,
                      f"CASE WHEN has_pledge = 1 THEN 'synced' WHEN {_QR_PLEDGES} THEN 'qr_summary' ELSE '' END"),
    "e_received_at": ("CharField", 27,
                      f"CASE WHEN {_QR_COUNTS} AND qr_received_at IS NOT NULL AND (received_at IS NULL "
                      "OR qr_received_at > received_at) THEN qr_received_at ELSE received_at END"),
}


def _derived(kind, max_length, expression):
    field = {"CharField": CharField, "TextField": TextField, "IntegerField": IntegerField}[kind]
    kwargs = {"max_length": max_length} if max_length else {}
    return field(null=True, constraints=[SQL(f"GENERATED ALWAYS AS ({expression}) STORED")], **kwargs)


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
            indexes = ((('tour',), False), (('village_id',), False), (('eff_van',), False),
                       (('eff_date',), False))

    for name, (kind, max_length, expression) in DERIVED.items():
        ScreeningFact._meta.add_field(name, _derived(kind, max_length, expression))

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
        held = _int()
        eff_date = _text(10)
        eff_van = _text(64)
        district = _text(120)
        campaign = _text(64)
        class Meta:
            database = db
            table_name = 'fact_participant'
            primary_key = CompositeKey('screening', 'gender', 'age_band')
            indexes = ((('eff_van',), False), (('eff_date',), False))

    class FactQuiz(Model):
        screening = CharField(max_length=64)
        game = CharField(max_length=64)
        question = CharField(max_length=64)
        answers = IntegerField(default=0)
        correct = IntegerField(default=0)
        held = _int()
        eff_date = _text(10)
        eff_van = _text(64)
        district = _text(120)
        campaign = _text(64)
        class Meta:
            database = db
            table_name = 'fact_quiz'
            primary_key = CompositeKey('screening', 'game', 'question')
            indexes = ((('eff_van',), False), (('eff_date',), False))

    class FactPoll(Model):
        screening = CharField(max_length=64)
        game = CharField(max_length=64)
        question = CharField(max_length=64)
        phase = CharField(max_length=16)
        choice = TextField()
        n = IntegerField(default=0)
        lead = IntegerField(default=0)
        held = _int()
        eff_date = _text(10)
        eff_van = _text(64)
        district = _text(120)
        campaign = _text(64)
        class Meta:
            database = db
            table_name = 'fact_poll'
            primary_key = CompositeKey('screening', 'game', 'question', 'phase', 'choice')
            indexes = ((('eff_van',), False), (('eff_date',), False))

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
        # the Vans page: nights known only from a summary, summaries kept for review, the
        # districts of the filter form, a screening's summaries from every van
        db.execute_sql('CREATE INDEX IF NOT EXISTS "screening_fact_qr_only" ON "screening_fact" ("qr_van") '
                       "WHERE qr_van IS NOT NULL AND tapped = 0")
        db.execute_sql('CREATE INDEX IF NOT EXISTS "screening_fact_for_review" ON "screening_fact" ("screening") '
                       "WHERE for_review > 0")
        db.execute_sql('CREATE INDEX IF NOT EXISTS "village_district" ON "village" ("district")')
        db.execute_sql('CREATE INDEX IF NOT EXISTS "summary_report_screening" ON "summary_report" ("screening")')
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
# The sums of sign-ins, quiz and poll answers read without a join: each detail row carries what
# the dashboard filters on, and follows its screening's row when that changes.
_FILTERS = ("held", "eff_date", "eff_van", "district", "campaign")
_FOLLOW = [f"UPDATE {table} SET " + ", ".join(f"{c} = COALESCE(NEW.{c}, {0 if c == 'held' else repr('')})"
                                             for c in _FILTERS) + " WHERE screening = NEW.screening"
           for table in ("fact_participant", "fact_quiz", "fact_poll")]
_CHANGED_PG = (f"({', '.join('NEW.' + c for c in _FILTERS)}) IS DISTINCT FROM "
               f"({', '.join('OLD.' + c for c in _FILTERS)})")
_CHANGED_SQLITE = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _FILTERS)
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
    "CREATE OR REPLACE FUNCTION vankit_fact_details() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF {_CHANGED_PG} THEN " + "; ".join(_FOLLOW) + "; END IF; RETURN NULL; END $$",
    "CREATE TRIGGER screening_fact_details AFTER UPDATE ON screening_fact FOR EACH ROW "
    "EXECUTE FUNCTION vankit_fact_details()",
]
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER screening_fact_plan_insert AFTER INSERT ON screening BEGIN {_UPSERT}; END",
    f"CREATE TRIGGER screening_fact_plan_update AFTER UPDATE ON screening BEGIN {_UPSERT}; END",
    "CREATE TRIGGER screening_fact_plan_delete AFTER DELETE ON screening BEGIN " + "; ".join(_FORGET) + "; END",
    f"CREATE TRIGGER village_fact_plan AFTER UPDATE ON village BEGIN {_VILLAGE}; END",
    f"CREATE TRIGGER tour_fact_plan AFTER UPDATE ON tour BEGIN {_TOUR}; END",
    f"CREATE TRIGGER screening_fact_details AFTER UPDATE ON screening_fact WHEN {_CHANGED_SQLITE} BEGIN "
    + "; ".join(_FOLLOW) + "; END",
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
    for index in ("screening_fact_qr_only", "screening_fact_for_review", "village_district",
                  "summary_report_screening"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
    if isinstance(db, PostgresqlDatabase):
        for table, trigger in (("screening", "screening_fact_plan"), ("village", "village_fact_plan"),
                               ("tour", "tour_fact_plan"), ("screening_fact", "screening_fact_details")):
            db.execute_sql(f'DROP TRIGGER IF EXISTS {trigger} ON "{table}"')
        for function in ("vankit_fact_screening", "vankit_fact_village", "vankit_fact_tour", "vankit_fact_details"):
            db.execute_sql(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for trigger in ("screening_fact_plan_insert", "screening_fact_plan_update", "screening_fact_plan_delete",
                        "village_fact_plan", "tour_fact_plan", "screening_fact_details"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute_sql('DROP INDEX IF EXISTS "game_run_game_id"')
    migrator.migrate(*[migrator.drop_table(t) for t in
                       ('rate_limit', 'van_fact', 'fact_poll', 'fact_quiz', 'fact_participant',
                        'fact_category', 'screening_fact')])
