"""The test PostgreSQL server works, and the schema migrates and round-trips on it."""
import datetime as dt

from vanapp import create_app
from vanapp.db import is_postgres, migrate
from vanapp.ids import UTC, new_id
from vanapp.models import Outbox, Setting, SyncModel, db


def test_migrations_apply_on_postgres_and_records_round_trip(tmp_path, pg_fresh_url):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "hub"), "MODE": "hub",
                      "DATABASE_URL": pg_fresh_url})
    assert is_postgres()
    applied = migrate()
    assert "0001_initial" in applied
    assert migrate() == []             # a second run applies nothing
    with app.app_context(), db.connection_context():
        tables = set(db.get_tables())
        for model in SyncModel.registry().values():
            assert model._meta.table_name in tables
        with db.atomic():
            Setting.put("k", "v")
            Setting.put("k", "w")               # upsert on PostgreSQL too
            Outbox.create(model="TallyEvent", record_id=new_id())
        assert Setting.get_value("k") == "w"
        assert Outbox.select().count() == 1
        # times keep microseconds and UTC on the way through PostgreSQL text columns
        when = dt.datetime(2026, 11, 23, 13, 2, 22, 850466, tzinfo=UTC)
        from tests.support.factories import make_screening
        s = make_screening(date="2026-11-23")
        from vanapp.models import TallyEvent
        with db.atomic():
            t = TallyEvent(screening=s, category="women", delta=1, at=when, van="van-03")
            t.save_change()
        assert TallyEvent.get_by_id(t.id).at == when


def test_fresh_databases_are_separate(pg_server):
    a = pg_server.create_database()
    b = pg_server.create_database()
    assert a != b
    import psycopg
    with psycopg.connect(a) as conn:
        conn.execute("create table t (x int)")
    with psycopg.connect(b) as conn:
        assert conn.execute("select count(*) from pg_tables where tablename = 't'").fetchone()[0] == 0
    for url in (a, b):
        pg_server.drop_database(url.rsplit("/", 1)[1])
