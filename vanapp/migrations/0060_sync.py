"""0060: sync bookkeeping — the hub's vans, cursors, applied batches and QR summaries; the van's
parked records and sync attempts (frozen copy of models/sync.py)."""
from peewee import *


def up(migrator, db):
    class Van(Model):
        id = CharField(primary_key=True, max_length=64)
        name = CharField(max_length=120, default='')
        created_at = CharField(max_length=27)
        secret_hash = CharField(max_length=64, null=True)
        summary_key = CharField(max_length=64, null=True)
        bundle_key = CharField(max_length=64, null=True)
        pair_code_hash = CharField(max_length=64, null=True)
        pair_expires_at = CharField(max_length=27, null=True)
        paired_at = CharField(max_length=27, null=True)
        revoked = BooleanField(default=False)
        revoked_at = CharField(max_length=27, null=True)
        last_seen_at = CharField(max_length=27, null=True)
        last_sync_at = CharField(max_length=27, null=True)
        last_push_at = CharField(max_length=27, null=True)
        records_received = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'van'

    class VanCursor(Model):
        id = AutoField()
        van = CharField(max_length=64)
        epoch = CharField(max_length=64)
        cursor = IntegerField(default=0)
        updated_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'van_cursor'
            indexes = ((('van', 'epoch'), True),)

    class SyncBatch(Model):
        id = AutoField()
        van = CharField(max_length=64)
        key = CharField(max_length=64)
        epoch = CharField(max_length=64, default='')
        cursor_from = IntegerField(default=0)
        cursor_to = IntegerField(default=0)
        records = IntegerField(default=0)
        source = CharField(max_length=8, default='push')
        received_at = CharField(max_length=27)
        ack = TextField()
        class Meta:
            database = db
            table_name = 'sync_batch'
            indexes = ((('van', 'key'), True),)

    class SummaryReport(Model):
        id = CharField(primary_key=True, max_length=36)
        van = CharField(max_length=64)
        screening = CharField(max_length=64)
        date = CharField(max_length=10, default='')
        village = CharField(max_length=200, default='')
        counts = TextField()
        total = IntegerField(default=0)
        headcounts = TextField()
        participants = IntegerField(default=0)
        plays = TextField()
        pledges = TextField()
        source = CharField(max_length=8, default='qr')
        received_at = CharField(max_length=27)
        updated_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'summary_report'
            indexes = ((('van', 'screening'), True),)

    class SyncParked(Model):
        id = AutoField()
        model = CharField(max_length=64)
        record_id = CharField(max_length=64)
        version = IntegerField()
        code = CharField(max_length=32)
        reason = TextField()
        parked_at = CharField(max_length=27)
        class Meta:
            database = db
            table_name = 'sync_parked'
            indexes = ((('model', 'record_id', 'version'), True),)

    class SyncRun(Model):
        id = AutoField()
        trigger = CharField(max_length=8, default='cli')
        started_at = CharField(max_length=27)
        finished_at = CharField(max_length=27, null=True)
        ok = BooleanField(default=False)
        pushed = IntegerField(default=0)
        pulled = IntegerField(default=0)
        parked = IntegerField(default=0)
        bytes_sent = IntegerField(default=0)
        bytes_received = IntegerField(default=0)
        error_code = CharField(max_length=32, default='')
        error = TextField(default='')
        detail = TextField(default='')
        class Meta:
            database = db
            table_name = 'sync_run'

    with db.atomic():
        db.create_tables([Van, VanCursor, SyncBatch, SummaryReport, SyncParked, SyncRun])


def down(migrator, db):
    migrator.migrate(*[migrator.drop_table(t) for t in
                       ('sync_run', 'sync_parked', 'summary_report', 'sync_batch', 'van_cursor', 'van')])
