"""Sync bookkeeping. Hub side: paired vans, their acknowledged cursors, applied batches and the
summaries scanned from QR codes. Van side: parked records and the log of sync attempts.
None of these tables travel; the records they describe do."""
from peewee import AutoField, BooleanField, CharField, IntegerField, TextField

from ..ids import new_id, utcnow
from .base import BaseModel, JSONTextField, UTCDateTimeField


# --- hub side ------------------------------------------------------------------------------------

class Van(BaseModel):
    """A van the hub knows. Only hashes and derived keys are stored, never the van's secret:
    `secret_hash` = sha256(secret) authenticates requests; `summary_key` and `bundle_key`
    (HMAC-SHA256(secret, label)) verify the night's summary QR and USB bundles."""
    id = CharField(primary_key=True, max_length=64)          # slug, e.g. van-03
    name = CharField(max_length=120, default="")
    created_at = UTCDateTimeField(default=utcnow)
    secret_hash = CharField(max_length=64, null=True)
    summary_key = CharField(max_length=64, null=True)        # hex
    bundle_key = CharField(max_length=64, null=True)         # hex
    pair_code_hash = CharField(max_length=64, null=True)     # one-time, cleared when used
    pair_expires_at = UTCDateTimeField(null=True)
    paired_at = UTCDateTimeField(null=True)
    revoked = BooleanField(default=False)
    revoked_at = UTCDateTimeField(null=True)
    last_seen_at = UTCDateTimeField(null=True)               # any authenticated request
    last_sync_at = UTCDateTimeField(null=True)               # last push or pull answered
    last_push_at = UTCDateTimeField(null=True)               # last batch applied
    records_received = IntegerField(default=0)               # records stored or updated, all time
    # what the van last said of its outbox (header X-Van-Outbox, see sync/PROTOCOL.md): its
    # installation, the highest outbox seq it had, how many records it holds back (parked), when
    reported_epoch = CharField(max_length=64, null=True)
    reported_seq = IntegerField(null=True)
    reported_parked = IntegerField(null=True)
    reported_waiting = IntegerField(null=True)              # records waiting, as its Sync page counts them
    reported_at = UTCDateTimeField(null=True)

    @classmethod
    def active(cls):
        return cls.select().where(cls.revoked == False).order_by(cls.id)  # noqa: E712


class VanCursor(BaseModel):
    """The highest outbox seq of one van installation (`epoch`) that the hub holds everything up to."""
    id = AutoField()
    van = CharField(max_length=64)
    epoch = CharField(max_length=64)
    cursor = IntegerField(default=0)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("van", "epoch"), True),)


class SyncBatch(BaseModel):
    """A batch the hub applied, by its idempotency key: a repeat is answered with `ack`, stored once."""
    id = AutoField()
    van = CharField(max_length=64)
    key = CharField(max_length=64)
    epoch = CharField(max_length=64, default="")
    cursor_from = IntegerField(default=0)
    cursor_to = IntegerField(default=0)
    records = IntegerField(default=0)
    source = CharField(max_length=8, default="push")         # push | bundle
    received_at = UTCDateTimeField(default=utcnow)
    ack = JSONTextField()

    class Meta:
        indexes = ((("van", "key"), True),)


class SummaryReport(BaseModel):
    """A night's summary read from a van's signed QR code (hub side).

    Counts here are a stand-in: for a screening whose tally events have arrived by sync,
    the synced records are the truth and this row must not be added to them
    (`vanapp.hub.receive.summaries_in_use()` gives only the rows still needed)."""
    id = CharField(primary_key=True, max_length=36, default=new_id)
    van = CharField(max_length=64)
    screening = CharField(max_length=64)                     # id; the hub may not know it yet
    date = CharField(max_length=10, default="")
    village = CharField(max_length=200, default="")
    counts = JSONTextField(default=dict)                     # category -> n
    total = IntegerField(default=0)
    headcounts = JSONTextField(default=dict)                 # {"start": n|null, "end": n|null}
    participants = IntegerField(default=0)
    plays = JSONTextField(default=list)
    pledges = JSONTextField(default=dict)                    # game id -> n
    source = CharField(max_length=8, default="qr")
    received_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("van", "screening"), True),)


class VanSetAside(BaseModel):
    """A record a van holds back (parked: the hub refused it, or the van would not send it), as the
    van last reported its list (PUT /api/v1/sync/parked): the coordinator sees what and why."""
    id = AutoField()
    van = CharField(max_length=64, index=True)
    model = CharField(max_length=64)
    record_id = CharField(max_length=64)
    version = IntegerField()
    code = CharField(max_length=32)
    reason = TextField()
    parked_at = UTCDateTimeField(null=True)
    reported_at = UTCDateTimeField(default=utcnow)

    @classmethod
    def of(cls, van_id: str):
        return cls.select().where(cls.van == van_id).order_by(cls.parked_at.desc(), cls.id)


# --- van side ------------------------------------------------------------------------------------

class SyncParked(BaseModel):
    """A record set aside by sync — the hub refused it, or the van would not send it — kept here
    with the reason, shown to the crew, and left out of later batches (a newer version of it is
    tried again). The crew may queue it again or discard it (`discarded_at`: kept, never sent)."""
    id = AutoField()
    model = CharField(max_length=64)
    record_id = CharField(max_length=64)
    version = IntegerField()
    code = CharField(max_length=32)
    reason = TextField()
    parked_at = UTCDateTimeField(default=utcnow)
    discarded_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("model", "record_id", "version"), True),)

    @classmethod
    def active(cls):
        """Set aside and not discarded: what the crew (and the hub) are shown."""
        return cls.select().where(cls.discarded_at.is_null())


class SyncRun(BaseModel):
    """One sync attempt on the van, for the honest status line: when, what moved, what failed."""
    id = AutoField()
    trigger = CharField(max_length=8, default="cli")         # cli | web | auto | bundle
    started_at = UTCDateTimeField(default=utcnow)
    finished_at = UTCDateTimeField(null=True)
    ok = BooleanField(default=False)
    pushed = IntegerField(default=0)
    pulled = IntegerField(default=0)
    parked = IntegerField(default=0)
    bytes_sent = IntegerField(default=0)
    bytes_received = IntegerField(default=0)
    error_code = CharField(max_length=32, default="")        # offline, unauthorized, ... (translated on screen)
    error = TextField(default="")                            # plain words for the crew
    detail = TextField(default="")                           # the technical reason, for the log

    @classmethod
    def last_success(cls):
        return cls.select().where(cls.ok == True).order_by(cls.id.desc()).first()  # noqa: E712

    @classmethod
    def last(cls):
        return cls.select().where(cls.finished_at.is_null(False)).order_by(cls.id.desc()).first()
