"""0120: records set aside by sync, on both sides. The van's parked records can be discarded by
the crew (kept, never sent again: `discarded_at`); the hub keeps the list of what each van has
set aside, as the van last reported it (table `van_set_aside`), and the number of records the
van said were waiting (`van.reported_waiting`, the same count as its Sync page).

Frozen column types (UTCDateTimeField is stored as 27-character text)."""
from peewee import *


def up(migrator, db):
    class VanSetAside(Model):
        id = AutoField()
        van = CharField(max_length=64, index=True)
        model = CharField(max_length=64)
        record_id = CharField(max_length=64)
        version = IntegerField()
        code = CharField(max_length=32)
        reason = TextField()
        parked_at = CharField(max_length=27, null=True)
        reported_at = CharField(max_length=27)

        class Meta:
            database = db
            table_name = 'van_set_aside'

    with db.atomic():
        migrator.migrate(
            migrator.add_column('sync_parked', 'discarded_at', CharField(max_length=27, null=True)),
            migrator.add_column('van', 'reported_waiting', IntegerField(null=True)))
        db.create_tables([VanSetAside])


def down(migrator, db):
    with db.atomic():
        db.execute_sql('DROP TABLE "van_set_aside"')
        migrator.migrate(migrator.drop_column('sync_parked', 'discarded_at'),
                         migrator.drop_column('van', 'reported_waiting'))
