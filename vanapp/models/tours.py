"""The plan: campaigns, villages, tours, screenings and their programmes (hub-owned),
and what the crew did to a screening (van-owned events)."""
from peewee import CharField, ForeignKeyField, IntegerField, TextField

from .base import SyncModel, UTCDateTimeField
from .media import Game, MediaItem

STATUSES = ("planned", "in_progress", "done", "cancelled")
CANCEL_REASONS = ("rain", "generator", "no_audience", "other")


class Campaign(SyncModel):
    id = CharField(primary_key=True, max_length=64)
    title_hi = CharField(max_length=200, default="")
    title_en = CharField(max_length=200, default="")

    class Meta:
        sync_owner = "hub"


class Village(SyncModel):
    name = CharField(max_length=120)       # as the village writes it (Devanagari)
    name_en = CharField(max_length=120)
    block = CharField(max_length=120, default="")
    district = CharField(max_length=120, default="")

    class Meta:
        sync_owner = "hub"
        indexes = ((("name_en", "block", "district"), True),)


class Tour(SyncModel):
    id = CharField(primary_key=True, max_length=64)
    title = CharField(max_length=200, default="")
    campaign = ForeignKeyField(Campaign, null=True, on_delete="RESTRICT")
    source_file = CharField(max_length=255, default="")
    source_sha256 = CharField(max_length=64, default="")

    class Meta:
        sync_owner = "hub"


class Screening(SyncModel):
    """One stop of a tour. `date`/`start` are local (VANAPP_TIMEZONE); `starts_at` is UTC."""
    tour = ForeignKeyField(Tour, backref="screenings", on_delete="CASCADE")
    key = CharField(max_length=200)         # natural key within the tour file
    village = ForeignKeyField(Village, backref="screenings", on_delete="RESTRICT")
    date = CharField(max_length=10)         # YYYY-MM-DD, local
    start = CharField(max_length=5)         # HH:MM, local
    starts_at = UTCDateTimeField(index=True)
    duration_min = IntegerField(default=120)
    programme = CharField(max_length=64, default="")
    notes = TextField(default="")
    status = CharField(max_length=16, default="planned")
    status_reason = TextField(default="")
    source_line = IntegerField(default=0)

    class Meta:
        sync_owner = "hub"
        indexes = ((("tour", "key"), True),)


class ProgrammeItem(SyncModel):
    """An ordered item of a screening's programme: a media item or a game."""
    screening = ForeignKeyField(Screening, backref="items", on_delete="CASCADE")
    position = IntegerField()
    kind = CharField(max_length=8)          # media | game
    prefix = CharField(max_length=8)        # psa | film | song | sound | media | game
    ref = CharField(max_length=64)          # MediaItem.id or Game.id
    phase = CharField(max_length=16, default="")   # before | after | ""

    class Meta:
        sync_owner = "hub"
        indexes = ((("screening", "position"), True),)

    @classmethod
    def titles(cls) -> dict[str, tuple[str, str]]:
        """ref -> (Hindi, English) title of every media item and game a programme line can name."""
        titles = {m.id: (m.title_hi, m.title_en) for m in MediaItem.select(MediaItem.id, MediaItem.title_hi,
                                                                           MediaItem.title_en)}
        titles.update({g.id: (g.title_hi, g.title_en) for g in Game.select(Game.id, Game.title_hi, Game.title_en)})
        return titles

    @property
    def label(self):
        return f"{self.prefix}:{self.ref}" + (f"@{self.phase}" if self.phase else "")


class ScreeningEvent(SyncModel):
    """What the crew did: started, finished, cancelled (with reason), rescheduled."""
    screening = ForeignKeyField(Screening, backref="events", on_delete="CASCADE")
    kind = CharField(max_length=16)         # started | finished | cancelled | rescheduled | reopened
    reason = TextField(default="")
    new_date = CharField(max_length=10, default="")
    new_start = CharField(max_length=5, default="")
    at = UTCDateTimeField()

    class Meta:
        sync_owner = "van"
