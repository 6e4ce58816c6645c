"""0080: what a van says of its own outbox when it talks to the hub (X-Van-Outbox), so the
dashboard can tell a coordinator what has not arrived yet and what the van set aside.

Frozen column types (UTCDateTimeField is stored as 27-character text)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('van', 'reported_epoch', CharField(max_length=64, null=True)),
        migrator.add_column('van', 'reported_seq', IntegerField(null=True)),
        migrator.add_column('van', 'reported_parked', IntegerField(null=True)),
        migrator.add_column('van', 'reported_at', CharField(max_length=27, null=True)))


def down(migrator, db):
    migrator.migrate(*(migrator.drop_column('van', name) for name in
                       ('reported_epoch', 'reported_seq', 'reported_parked', 'reported_at')))
