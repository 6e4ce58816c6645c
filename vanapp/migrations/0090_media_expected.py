"""0090: the catalogue may state what a file should be — its length and its sha256 — so that a
copy cut short or damaged on its way to the laptop is caught even on its first scan."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('media_item', 'expected_ms', IntegerField(null=True)),
        migrator.add_column('media_item', 'expected_sha256', CharField(max_length=64, default='')))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('media_item', 'expected_ms'),
                     migrator.drop_column('media_item', 'expected_sha256'))
