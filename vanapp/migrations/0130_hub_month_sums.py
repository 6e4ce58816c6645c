"""0130: the kept facts summed by month, district, campaign and van (the hub's reports read these
instead of one row per screening, so a report's cost no longer grows with the history: 75,000
screenings are about 5,000 such rows, bench/hub_scale.py).

Each month table follows its per-screening table by database triggers (every insert, update and
delete adds or takes back that row's share, in the same transaction), whatever writes the facts:
a batch, a bundle, a QR summary, the plan's triggers, a rebuild. A report sums the whole months
in its date range from here and the days at its edges from the per-screening rows
(hub/month_sums.py). Filled from the facts an existing hub already keeps; `vanapp hub facts
--check` compares them with a fresh sum.

The tables and triggers are hub/month_sums.py's (where the reports read them): a later change
to them drops and recreates them in its own migration, which this one's tables then precede."""
from peewee import PostgresqlDatabase


# The villages reached are distinct counts, which no month row can hold: read from two narrow
# indexes of the held screenings (in the order a distinct count reads them) instead of the rows.
_VILLAGE_INDEXES = {"screening_fact_district_villages": "district", "screening_fact_van_villages": "eff_van"}
_FILTERED = "eff_date, campaign, planned, qr_van"        # what the filters read beside them


def up(migrator, db):
    from vanapp.hub import month_sums
    postgres = isinstance(db, PostgresqlDatabase)
    with db.atomic():
        db.create_tables(month_sums.models(db))
        for statement in month_sums.triggers(postgres):
            db.execute_sql(statement)
        for name, first in _VILLAGE_INDEXES.items():
            columns = (f"{first}, eff_village_id) INCLUDE ({_FILTERED}" if postgres
                       else f"{first}, eff_village_id, {_FILTERED}")
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "screening_fact" ({columns}) WHERE held = 1')
        month_sums.fill(db)          # from the facts already kept (nothing on a new or a van's database)


def down(migrator, db):
    from vanapp.hub import month_sums
    for name in _VILLAGE_INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    if isinstance(db, PostgresqlDatabase):
        for table, (base, *_rest) in month_sums.SUMS.items():
            db.execute_sql(f'DROP TRIGGER IF EXISTS {table}_sum ON "{base}"')
            db.execute_sql(f"DROP FUNCTION IF EXISTS vankit_{table}()")
    else:
        for table in month_sums.SUMS:
            for event in ("insert", "update", "delete"):
                db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_{event}")
    migrator.migrate(*[migrator.drop_table(t) for t in reversed(list(month_sums.SUMS))])
