"""0030: a play-log row says whether it was a media item or a game handed to the game screens.

Frozen copies of the models as they were; later changes go in later migrations."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('play_log', 'kind', CharField(max_length=8, default='media')))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('play_log', 'kind'))
