"""0110: logins kept on the server, so logout, a PIN change, a password reset or a revoke end
them at once (frozen copy of models/sessions.py; UTCDateTimeField is 27-character text).
Existing cookie logins carry no session id, so they end with this upgrade: nothing else to carry."""
from peewee import *


def up(migrator, db):
    class LoginSession(Model):
        id = CharField(primary_key=True, max_length=64)
        kind = CharField(max_length=16)
        subject = CharField(max_length=64, default="")
        address = CharField(max_length=64, default="")
        created_at = CharField(max_length=27)
        seen_at = CharField(max_length=27)

        class Meta:
            database = db
            table_name = 'login_session'
            indexes = ((('kind', 'subject'), False),)
    with db.atomic():
        db.create_tables([LoginSession])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('login_session'))
