"""Where rate-limit counters live (`RATELIMIT_STORAGE_URI = "vankit://"`): a van is one process
and counts in its memory; a hub may run as several processes, or machines, behind a load
balancer, so it counts in its database (the `rate_limit` table) and a guesser who alternates
between processes is still stopped at the limit. One storage serves both, chosen per request by
the app's mode, because Flask-Limiter keeps one storage per process for every app in it.
"""
import random
import time

from flask import current_app, has_app_context
from limits.storage import MemoryStorage, Storage
from peewee import DatabaseError

from ..models import RateLimit, db

SWEEP_EVERY = 200           # about one write in this many also deletes counters long expired


class VanKitStorage(Storage):
    STORAGE_SCHEME = ["vankit"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.memory = MemoryStorage()
        self.database = DatabaseCounters()

    def _pick(self):
        hub = has_app_context() and current_app.config.get("MODE") == "hub"
        return self.database if hub else self.memory

    @property
    def base_exceptions(self):
        return (DatabaseError, ValueError)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._pick().incr(key, expiry, amount=amount)

    def get(self, key: str) -> int:
        return self._pick().get(key)

    def get_expiry(self, key: str) -> float:
        return self._pick().get_expiry(key)

    def check(self) -> bool:
        return self._pick().check()

    def reset(self):
        return self._pick().reset()

    def clear(self, key: str) -> None:
        return self._pick().clear(key)


class _Connected:
    """Use the request's connection; open one (and close it after) outside a request."""

    def __enter__(self):
        self.opened = db.is_closed()
        if self.opened:
            db.connect()

    def __exit__(self, *exc):
        if self.opened:
            db.close()


class DatabaseCounters:
    """Fixed-window counters in the `rate_limit` table: one statement per hit, atomic on SQLite
    and PostgreSQL alike, so processes sharing the database share the counts."""

    def _sql(self, sql: str, params, fetch: bool = True):
        if db.param != "?":
            sql = sql.replace("?", db.param)
        with _Connected():
            cursor = db.execute_sql(sql, params)
            return cursor.fetchall() if fetch else None

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        table = RateLimit._meta.table_name
        rows = self._sql(
            f'INSERT INTO "{table}" ("key", "count", expires_at) VALUES (?, ?, ?) '
            f'ON CONFLICT ("key") DO UPDATE SET '
            f'"count" = CASE WHEN "{table}".expires_at <= ? THEN excluded."count" '
            f'ELSE "{table}"."count" + excluded."count" END, '
            f'expires_at = CASE WHEN "{table}".expires_at <= ? THEN excluded.expires_at '
            f'ELSE "{table}".expires_at END RETURNING "count"',
            [key, amount, now + expiry, now, now])
        if random.randrange(SWEEP_EVERY) == 0:
            self._sql(f'DELETE FROM "{table}" WHERE expires_at < ?', [now - 3600], fetch=False)
        return int(rows[0][0])

    def get(self, key: str) -> int:
        rows = self._sql(f'SELECT "count" FROM "{RateLimit._meta.table_name}" WHERE "key" = ? AND expires_at > ?',
                         [key, time.time()])
        return int(rows[0][0]) if rows else 0

    def get_expiry(self, key: str) -> float:
        rows = self._sql(f'SELECT expires_at FROM "{RateLimit._meta.table_name}" WHERE "key" = ?', [key])
        return float(rows[0][0]) if rows and rows[0][0] > time.time() else time.time()

    def check(self) -> bool:
        try:
            self._sql("SELECT 1", [])
            return True
        except DatabaseError:
            return False

    def reset(self):
        with _Connected():
            return RateLimit.delete().execute()

    def clear(self, key: str) -> None:
        with _Connected():
            RateLimit.delete().where(RateLimit.key == key).execute()
