"""The database: the deferred handle every model uses (`db`), opening SQLite (WAL, foreign keys,
synchronous=FULL) or PostgreSQL from a URL, a connection per request, the numbered migrations,
and the two tools of hot writes: the write transaction and statements built once."""
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import AutoField, DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse.migrations import Runner

# Bound to the configured database by create_app (`bind`): models are defined before any app exists.
db = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # FULL: a commit is on disk before it returns, so an acknowledged tap survives a power cut.
    "synchronous": 2,
    "busy_timeout": 10000,
    "cache_size": -16000,
}


# A hub's SQLite connections (one per server thread, kept) read its history in single passes over
# the kept facts, which the OS's file cache serves as well; at 16 MB each, 16 threads held 256 MB
# of page cache and the hub's memory grew with its history (bench/hub_scale.py). SQLite's default.
HUB_SQLITE_CACHE_KIB = 2000


def open_database(url: str, data_dir: str, hub: bool = False):
    """A peewee database for `url` (empty: SQLite in the data dir); not yet connected."""
    pragmas = dict(SQLITE_PRAGMAS, cache_size=-HUB_SQLITE_CACHE_KIB) if hub else SQLITE_PRAGMAS
    if not url:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(str(Path(data_dir) / "vanapp.db"), pragmas=pragmas,
                              check_same_thread=False, timeout=10)
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)[1:] if parsed.netloc == "" else unquote(parsed.netloc + parsed.path)
        return SqliteDatabase(path, pragmas=pragmas, check_same_thread=False, timeout=10)
    if parsed.scheme in ("postgres", "postgresql"):
        return PostgresqlDatabase(
            parsed.path.lstrip("/"), user=unquote(parsed.username or "") or None,
            password=unquote(parsed.password or "") or None, host=parsed.hostname or None,
            port=parsed.port or 5432, prefer_psycopg3=True)
    raise ValueError(f"VANAPP_DATABASE_URL: unsupported scheme {parsed.scheme!r} "
                     "(use sqlite:///path or postgresql://user@host:port/db)")


def bind(url: str, data_dir: str, hub: bool = False):
    """Point the shared database handle at the configured database."""
    database = open_database(url, data_dir, hub=hub)
    db.initialize(database)
    return database


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def sqlite_file() -> Path | None:
    """The SQLite database file in use, or None (PostgreSQL)."""
    if isinstance(db.obj, SqliteDatabase) and db.obj.database not in (None, "", ":memory:"):
        return Path(db.obj.database)
    return None


def file_problems(path, thorough: bool = False) -> list[str]:
    """What SQLite finds wrong with the database file at `path` ([] when it is sound).

    `thorough`: `integrity_check` (also cross-checks every index: 2 s for 200,000 taps) rather
    than `quick_check` (0.4 s), which still finds the damaged pages a power cut or a failing disk
    leave behind. Opened read-only, so a damaged file is not made worse."""
    import sqlite3
    path = Path(path)
    if not path.exists():
        return [f"{path} does not exist"]
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = [str(r[0]) for r in con.execute(
                "PRAGMA integrity_check" if thorough else "PRAGMA quick_check").fetchall()]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:       # "file is not a database", "disk image is malformed"
        return [str(exc)]
    return [] if rows == ["ok"] else rows[:20]


def integrity_problems() -> list[str]:
    """The start-up check of the database in use ([] if sound, new, or not SQLite)."""
    path = sqlite_file()
    return file_problems(path) if path is not None and path.exists() else []


def migrate() -> list[str]:
    """Apply pending migrations, each in its own transaction; return their names."""
    with db.connection_context():
        return Runner(db.obj, directory=str(MIGRATIONS_DIR)).up()


def pending_migrations() -> list[str]:
    with db.connection_context():
        return [m.name for m in Runner(db.obj, directory=str(MIGRATIONS_DIR)).status()
                if m.path and not m.applied]


def init_app(app):
    """Open a connection per request and close it after, as flaskr does (SQLite: kept per thread)."""

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if db.is_closed():
            return
        if is_sqlite():
            # SQLite: each server thread keeps its connection for the next request. Opening one
            # (file + PRAGMAs) and closing it (the last one out checkpoints the WAL) took more than
            # half of a tally tap's time. Commits are still FULL-synchronous; nothing is left open.
            connection = db.connection()
            if connection.in_transaction:
                connection.rollback()
            return
        db.close()


# --- the write transaction --------------------------------------------------------------------

# Writers of one process wait for each other here rather than in SQLite's busy handler, which
# sleeps 1, 2, 5 … 100 ms between tries: with 20 phones tapping at once that sleep, not the
# commit, was the slowest taps' time. Other processes (the CLI) still meet the busy timeout.
_WRITE_LOCK = threading.RLock()


class write_transaction:
    """One short transaction that holds the write lock from its first statement, for writes that
    read first (a sum, a duplicate check, a status) and must not be raced by another writer.

    SQLite: BEGIN IMMEDIATE (a deferred transaction that turns writer after another connection
    committed fails at once with "database is locked"). PostgreSQL: the rows of `lock` (peewee
    queries, e.g. the screening being counted) are locked FOR UPDATE for the same effect."""

    def __init__(self, *lock):
        self.lock = lock
        self.sqlite = is_sqlite()
        self.txn = db.atomic(lock_type="IMMEDIATE") if self.sqlite else db.atomic()

    def __enter__(self):
        if not self.sqlite:
            txn = self.txn.__enter__()
            for query in self.lock:
                list(query.for_update())
            return txn
        _WRITE_LOCK.acquire()
        try:
            return self.txn.__enter__()
        except BaseException:
            _WRITE_LOCK.release()
            raise

    def __exit__(self, *exc):
        try:
            return self.txn.__exit__(*exc)
        finally:
            if self.sqlite:
                _WRITE_LOCK.release()


# --- statements built once ----------------------------------------------------------------------

_STATEMENTS: dict = {}


def statement(name: str, build) -> str:
    """The text of a hot statement, made once per kind of database and then reused with fresh
    parameters. `build()` gives a peewee query (its parameters in the order they are bound) or text."""
    key = (name, type(db.obj))
    text = _STATEMENTS.get(key)
    if text is None:
        built = build()
        text = _STATEMENTS[key] = built if isinstance(built, str) else built.sql()[0]
    return text


def _insert_sql(model) -> str:
    fields = [f for f in model._meta.sorted_fields if not isinstance(f, AutoField)]
    open_q, close_q = db.obj.quote
    quoted = lambda name: f"{open_q}{name}{close_q}"  # noqa: E731
    return (f"INSERT INTO {quoted(model._meta.table_name)} ({', '.join(quoted(f.column_name) for f in fields)}) "
            f"VALUES ({', '.join([db.obj.param] * len(fields))})")


def insert_row(model, /, **values) -> None:
    """INSERT one row of `model`: every column the model has, its defaults where not given, with a
    statement built once (building a peewee insert was half a tally tap's Python time)."""
    params = []
    for f in model._meta.sorted_fields:
        if isinstance(f, AutoField):
            continue
        value = values[f.name] if f.name in values else (f.default() if callable(f.default) else f.default)
        params.append(f.db_value(value))
    db.execute_sql(statement(f"insert:{model.__name__}", lambda: _insert_sql(model)), params)
