"""The hub's running numbers (hub side, never synced): per screening, what its van's records and
its night's QR summary add to the reach, beside a copy of its plan; per van, what the hub holds
from it. So a report is a sum over one table with one row per screening.

Two writers keep a row, each its own columns, each in the transaction of the change it follows:
what the van told (events, taps, summaries...) is recounted by vanapp/hub/facts_store.py when
records or a summary arrive; the plan's copy (`planned` and the `plan_*`, place and tour columns)
is kept by database triggers on screening, village and tour (migration 0100), whatever writes
the plan. Every value can be recounted from the records and the plan (`vanapp hub facts --check`).
"""
from peewee import CharField, CompositeKey, FloatField, IntegerField, TextField

from .base import BaseModel, UTCDateTimeField


class ScreeningFact(BaseModel):
    """One screening (planned, or known only from its QR summary) and what it adds.

    Flags are 0/1 integers so the same SQL sums them on SQLite and PostgreSQL. `q_*` columns
    are the QR summary of the screening's own van (`qr_van`): a stand-in that counts only where
    nothing of that kind was synced; summaries from other vans are `for_review` only."""
    screening = CharField(primary_key=True, max_length=64)
    # the plan, as the triggers copy it (planned = 0: the hub knows the night only from a summary)
    planned = IntegerField(default=0)
    plan_van = CharField(max_length=64, default="")
    plan_date = CharField(max_length=10, default="")
    plan_start = CharField(max_length=5, default="")
    plan_status = CharField(max_length=16, default="")
    plan_reason = TextField(default="")
    tour = CharField(max_length=64, default="", index=True)
    campaign = CharField(max_length=64, default="")
    village_id = CharField(max_length=64, default="", index=True)
    village = CharField(max_length=120, default="")
    village_en = CharField(max_length=120, default="")
    block = CharField(max_length=120, default="")
    district = CharField(max_length=120, default="")
    # the crew's lifecycle events, replayed in time order (None: no event yet, the plan stands)
    ev_status = CharField(max_length=16, null=True)
    ev_reason = TextField(default="")
    began = IntegerField(default=0)                 # a started or finished event
    moved_date = CharField(max_length=10, null=True)     # the last reschedule's date and start
    moved_start = CharField(max_length=5, null=True)
    # synced taps: net count per bucket, +1 taps and -1 corrections in all
    tapped = IntegerField(default=0)
    men = IntegerField(default=0)
    women = IntegerField(default=0)
    boys = IntegerField(default=0)
    girls = IntegerField(default=0)
    other = IntegerField(default=0)
    people = IntegerField(default=0)
    taps = IntegerField(default=0)
    corrections = IntegerField(default=0)
    head_start = IntegerField(null=True)            # the latest headcount of each kind
    head_end = IntegerField(null=True)
    participants = IntegerField(default=0)          # synced sign-ins
    has_pledge = IntegerField(default=0)            # a pledge game's result was synced
    pledges = IntegerField(default=0)
    received_at = UTCDateTimeField(null=True)       # the latest synced record's arrival
    # the night's QR summary from the screening's own van
    qr_van = CharField(max_length=64, null=True)
    qr_date = CharField(max_length=10, default="")
    qr_village = CharField(max_length=200, default="")
    qr_counts = IntegerField(default=0)             # the summary carried counts
    q_men = IntegerField(default=0)
    q_women = IntegerField(default=0)
    q_boys = IntegerField(default=0)
    q_girls = IntegerField(default=0)
    q_other = IntegerField(default=0)
    q_people = IntegerField(default=0)
    q_participants = IntegerField(default=0)
    qr_pledges = IntegerField(default=0)            # the summary carried pledges
    q_pledges = IntegerField(default=0)
    qr_received_at = UTCDateTimeField(null=True)
    for_review = IntegerField(default=0)            # summaries other vans sent for this screening


class FactCategory(BaseModel):
    """A screening's count per tally category: synced (with taps and corrections) or from its QR summary."""
    screening = CharField(max_length=64)
    source = CharField(max_length=12)               # synced | qr_summary
    category = TextField()                          # a QR summary may name any category
    count = IntegerField(default=0)
    taps = IntegerField(default=0)
    corrections = IntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("screening", "source", "category")


class FactParticipant(BaseModel):
    screening = CharField(max_length=64)
    gender = CharField(max_length=16)
    age_band = CharField(max_length=16)
    n = IntegerField(default=0)
    # what the dashboard filters on, copied from the screening's row (a trigger keeps it equal),
    # so the sums of these rows need no join
    held = IntegerField(default=0)
    eff_date = CharField(max_length=10, default="")
    eff_van = CharField(max_length=64, default="")
    district = CharField(max_length=120, default="")
    campaign = CharField(max_length=64, default="")

    class Meta:
        primary_key = CompositeKey("screening", "gender", "age_band")


class FactQuiz(BaseModel):
    """Answers and right answers to one quiz question at one screening."""
    screening = CharField(max_length=64)
    game = CharField(max_length=64)
    question = CharField(max_length=64)
    answers = IntegerField(default=0)
    correct = IntegerField(default=0)
    # what the dashboard filters on, copied from the screening's row (a trigger keeps it equal),
    # so the sums of these rows need no join
    held = IntegerField(default=0)
    eff_date = CharField(max_length=10, default="")
    eff_van = CharField(max_length=64, default="")
    district = CharField(max_length=120, default="")
    campaign = CharField(max_length=64, default="")

    class Meta:
        primary_key = CompositeKey("screening", "game", "question")


class FactPoll(BaseModel):
    """Answers per choice to a question a screening asked both before and after the film (only
    those show a shift); `lead` is 1 on one row of each screening's question, to count them."""
    screening = CharField(max_length=64)
    game = CharField(max_length=64)
    question = CharField(max_length=64)
    phase = CharField(max_length=16)
    choice = TextField()
    n = IntegerField(default=0)
    lead = IntegerField(default=0)
    # what the dashboard filters on, copied from the screening's row (a trigger keeps it equal),
    # so the sums of these rows need no join
    held = IntegerField(default=0)
    eff_date = CharField(max_length=10, default="")
    eff_van = CharField(max_length=64, default="")
    district = CharField(max_length=120, default="")
    campaign = CharField(max_length=64, default="")

    class Meta:
        primary_key = CompositeKey("screening", "game", "question", "phase", "choice")


class VanFact(BaseModel):
    """What the hub holds from one van: its records, when the last new one came, its batches."""
    van = CharField(primary_key=True, max_length=64)
    records = IntegerField(default=0)
    last_received = UTCDateTimeField(null=True)
    batches = IntegerField(default=0)
    bundles = IntegerField(default=0)


class RateLimit(BaseModel):
    """A fixed-window rate-limit counter, shared by every hub process on this database."""
    key = CharField(primary_key=True, max_length=255)
    count = IntegerField(default=0)
    expires_at = FloatField()                       # Unix time


PLAN_COLUMNS = ("planned", "plan_van", "plan_date", "plan_start", "plan_status", "plan_reason", "tour",
                "campaign", "village_id", "village", "village_en", "block", "district")
FACT_MODELS = [ScreeningFact, FactCategory, FactParticipant, FactQuiz, FactPoll, VanFact]
