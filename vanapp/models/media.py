"""The media catalogue (hub-owned content) and this van's scan of its files (local)."""
from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from .base import BaseModel, JSONTextField, SyncModel, UTCDateTimeField

MEDIA_KINDS = ("psa", "film", "song", "sound")
GAME_KINDS = ("quiz", "poll", "pledge", "buzzer")


class MediaItem(SyncModel):
    id = CharField(primary_key=True, max_length=64)
    file = CharField(max_length=255)        # relative to VANAPP_MEDIA_DIR
    title_hi = CharField(max_length=200, default="")
    title_en = CharField(max_length=200, default="")
    language = CharField(max_length=8, default="hi")
    kind = CharField(max_length=8)
    campaign = CharField(max_length=64, default="")
    in_catalog = BooleanField(default=True)
    # what the catalogue says the file should be (optional): its length and its checksum
    expected_ms = IntegerField(null=True)
    expected_sha256 = CharField(max_length=64, default="")

    class Meta:
        sync_owner = "hub"


class MediaScan(BaseModel):
    """The last scan of a catalogued file on this laptop."""
    media = ForeignKeyField(MediaItem, primary_key=True, backref="scans", on_delete="CASCADE")
    status = CharField(max_length=16)       # ok | missing | unreadable | unplayable | changed | damaged
    size = IntegerField(null=True)
    sha256 = CharField(max_length=64, default="")
    duration_ms = IntegerField(null=True)
    playable = BooleanField(default=False)
    error = TextField(default="")
    scanned_at = UTCDateTimeField()


class Game(SyncModel):
    """A game defined as content (media/games/*.yaml), validated and stored whole."""
    id = CharField(primary_key=True, max_length=64)
    kind = CharField(max_length=8)
    title_hi = CharField(max_length=200, default="")
    title_en = CharField(max_length=200, default="")
    campaign = CharField(max_length=64, default="")
    file = CharField(max_length=255, default="")
    sha256 = CharField(max_length=64, default="")
    content = JSONTextField()

    class Meta:
        sync_owner = "hub"
