"""Who came: append-only tally taps, headcounts and consenting participants."""
from peewee import CharField, ForeignKeyField, IntegerField

from .base import SyncModel, UTCDateTimeField
from .tours import Screening

DEFAULT_CATEGORIES = ("men", "women", "boys", "girls")


class TallyEvent(SyncModel):
    """One tap (+1 or -1). Counts are derived by summing; the id is the tap's own UUID."""
    screening = ForeignKeyField(Screening, backref="taps", on_delete="CASCADE")
    category = CharField(max_length=32)
    delta = IntegerField()
    at = UTCDateTimeField()                 # when the tap happened on the phone
    device = CharField(max_length=64, default="")

    class Meta:
        sync_owner = "van"
        indexes = ((("screening", "category"), False),)


class Headcount(SyncModel):
    screening = ForeignKeyField(Screening, backref="headcounts", on_delete="CASCADE")
    kind = CharField(max_length=8)          # start | end
    count = IntegerField()
    at = UTCDateTimeField()

    class Meta:
        sync_owner = "van"


class Participant(SyncModel):
    screening = ForeignKeyField(Screening, backref="participants", on_delete="CASCADE")
    name = CharField(max_length=120)
    gender = CharField(max_length=16)       # woman | man | other | unsaid
    age_band = CharField(max_length=16)     # under-18 | 18-30 | 31-45 | 46-60 | over-60
    village = CharField(max_length=120, default="")
    phone = CharField(max_length=20, default="")
    consent_version = CharField(max_length=16)
    consent_at = UTCDateTimeField()

    class Meta:
        sync_owner = "van"
