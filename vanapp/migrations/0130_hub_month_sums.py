"""0130: the kept facts summed by month, district, campaign and van, and the villages each van
reached in a month (the hub's reports read these instead of one row per screening, so a report's
cost no longer grows with the history: 75,000 screenings are about 5,000 month rows,
bench/hub_scale.py).

Each month table follows its per-screening table by database triggers (every insert, update and
delete adds or takes back that row's share, in the same transaction), whatever writes the facts:
a batch, a bundle, a QR summary, the plan's triggers, a rebuild. A report sums the whole months
in its date range from here and the days at its edges from the per-screening rows
(hub/month_sums.py). Filled from the facts an existing hub already keeps; `vanapp hub facts
--check` compares them with a fresh sum.

The tables and triggers are hub/month_sums.py's (where the reports read them): a later change
to them drops and recreates them in its own migration, which this one's tables then precede."""
from peewee import PostgresqlDatabase


def up(migrator, db):
    from vanapp.hub import month_sums
    postgres = isinstance(db, PostgresqlDatabase)
    with db.atomic():
        db.create_tables(month_sums.models(db))
        for statement in month_sums.triggers(postgres):
            db.execute_sql(statement)
        month_sums.fill(db)          # from the facts already kept (nothing on a new or a van's database)


def down(migrator, db):
    from vanapp.hub import month_sums
    if isinstance(db, PostgresqlDatabase):
        for table, (base, *_rest) in month_sums.SUMS.items():
            db.execute_sql(f'DROP TRIGGER IF EXISTS {table}_sum ON "{base}"')
            db.execute_sql(f"DROP FUNCTION IF EXISTS vankit_{table}()")
    else:
        for table in month_sums.SUMS:
            for event in ("insert", "update", "delete"):
                db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_{event}")
    migrator.migrate(*[migrator.drop_table(t) for t in reversed(list(month_sums.SUMS))])
