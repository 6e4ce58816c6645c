"""0070: coordinators who log in to the hub's dashboard (frozen copy of models/hub_users.py)."""
from peewee import *


def up(migrator, db):
    class Coordinator(Model):
        id = CharField(primary_key=True, max_length=36)
        username = CharField(unique=True, max_length=64)
        password_hash = CharField(max_length=255)
        created_at = CharField(max_length=27)
        last_login_at = CharField(max_length=27, null=True)
        disabled = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'coordinator'
    with db.atomic():
        db.create_tables([Coordinator])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('coordinator'))
