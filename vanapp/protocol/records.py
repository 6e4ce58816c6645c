"""Reading and writing syncable records as plain columns, fast, on SQLite and PostgreSQL.

Sync moves tens of thousands of rows; building a peewee model object per row would cost more
than the network, so these helpers speak SQL on the model's own table and column names.
"""
import json
from functools import lru_cache

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, SqliteDatabase, TextField

from ..models import SyncModel, db
from ..models.base import JSONTextField, UTCDateTimeField
from .wire import TIME_RE

CHUNK = 500          # ids per IN (...) query: well under SQLite's variable limit
# References by id that are not foreign keys: a game run names its game, a play its media item
# (or game). The plan record travels along as a foreign key's would, so a hub that never loaded
# the games still knows a run's kind (quiz, pledge...) and counts its results.
SOFT_REFS = {"GameRun": {"game_id": ("Game",)}, "PlayLog": {"media_id": ("MediaItem", "Game")}}
MAX_TEXT = 100_000   # characters in one text field
INT_LIMIT = 2 ** 63


def _checker(field):
    """A function value -> error message or None, for one field."""
    nullable = field.null

    def wrap(check):
        def run(value):
            if value is None:
                return None if nullable else "is required (null given)"
            return check(value)
        return run

    if field.name == "version":
        return wrap(lambda v: None if type(v) is int and 1 <= v < INT_LIMIT else "must be a positive integer")
    if isinstance(field, UTCDateTimeField):
        return wrap(lambda v: None if type(v) is str and TIME_RE.match(v)
                    else "must be a UTC time like 2026-11-23T13:02:22.850466Z")
    if isinstance(field, JSONTextField):
        return wrap(lambda v: None if isinstance(v, (dict, list, str, int, float, bool))
                    else "must be JSON")
    if isinstance(field, BooleanField):
        return wrap(lambda v: None if type(v) is bool else "must be true or false")
    if isinstance(field, IntegerField) and not isinstance(field, ForeignKeyField):
        return wrap(lambda v: None if type(v) is int and -INT_LIMIT < v < INT_LIMIT else "must be an integer")
    # text never holds a NUL: PostgreSQL refuses one, and no van writes one
    if isinstance(field, (CharField, ForeignKeyField)):
        limit = getattr(field, "max_length", None) or 255
        if isinstance(field, ForeignKeyField):
            limit = getattr(field.rel_field, "max_length", None) or 64
        if field.primary_key:
            return lambda v: None if type(v) is str and 0 < len(v) <= limit and "\x00" not in v else \
                f"must be text of 1 to {limit} characters, without NUL"
        return wrap(lambda v: None if type(v) is str and len(v) <= limit and "\x00" not in v
                    else f"must be text of at most {limit} characters, without NUL")
    if isinstance(field, TextField):
        return wrap(lambda v: None if type(v) is str and len(v) <= MAX_TEXT and "\x00" not in v else
                    f"must be text of at most {MAX_TEXT} characters, without NUL")
    return wrap(lambda v: None)


_NONE = type(None)


@lru_cache(maxsize=None)
def _column_checker(field):
    """A function column values -> True when every value passes `_checker(field)` (same rules, at C
    speed, for a whole column at once), or None for fields checked value by value. False means
    "look closer": the caller then runs the value-by-value check to name the problems."""
    allowed = {_NONE} if field.null else set()
    if field.name == "version":
        return lambda col: set(map(type, col)) <= {int} and min(col) >= 1 and max(col) < INT_LIMIT
    if isinstance(field, UTCDateTimeField):
        def times(col):
            if not set(map(type, col)) <= {str} | allowed:
                return False
            return all(map(TIME_RE.match, [v for v in col if v is not None] if field.null else col))
        return times
    if isinstance(field, BooleanField):
        return lambda col: set(map(type, col)) <= {bool} | allowed
    if isinstance(field, IntegerField) and not isinstance(field, ForeignKeyField):
        def ints(col):
            if not set(map(type, col)) <= {int} | allowed:
                return False
            present = [v for v in col if v is not None] if field.null else col
            return not present or (min(present) > -INT_LIMIT and max(present) < INT_LIMIT)
        return ints
    if isinstance(field, (CharField, ForeignKeyField)):
        limit = getattr(field, "max_length", None) or 255
        if isinstance(field, ForeignKeyField):
            limit = getattr(field.rel_field, "max_length", None) or 64
        if field.primary_key:
            return lambda col: (set(map(type, col)) <= {str} and 0 < min(map(len, col))
                                and max(map(len, col)) <= limit and _no_nul(col))
        return lambda col: (set(map(type, col)) <= {str} | allowed
                            and max(map(len, filter(None, col)), default=0) <= limit and _no_nul(col))
    if isinstance(field, TextField) and not isinstance(field, JSONTextField):
        return lambda col: (set(map(type, col)) <= {str} | allowed
                            and max(map(len, filter(None, col)), default=0) <= MAX_TEXT and _no_nul(col))
    return None


def _postgres() -> bool:
    return not isinstance(db.obj, SqliteDatabase)


def _no_nul(column) -> bool:
    """No NUL in a column of texts (and None), at C speed."""
    return "\x00" not in "".join(filter(None, column))


class Table:
    """A syncable model's wire columns (field names) and their SQL columns."""

    def __init__(self, model):
        self.model = model
        self.name = model.__name__
        self.table = model._meta.table_name
        self.owner = model._meta.sync_owner
        self.fields = [f for f in model._meta.sorted_fields if f.name != "received_at"]
        self.columns = [f.name for f in self.fields]
        self.sql_columns = [f.column_name for f in self.fields]
        self.time_columns = {f.name for f in self.fields if isinstance(f, UTCDateTimeField)}
        self.json_columns = {f.name for f in self.fields if isinstance(f, JSONTextField)}
        self.bool_columns = {f.name for f in self.fields if isinstance(f, BooleanField)}
        self.foreign_keys = {f.name: f.rel_model for f in self.fields if isinstance(f, ForeignKeyField)}
        self.field_by_name = {f.name: f for f in self.fields}
        # non-primary unique indexes, as lists of field names (natural keys: village, screening...)
        self.unique = []
        for fields, unique in model._meta.indexes:
            if unique:
                self.unique.append([model._meta.fields[n].name if n in model._meta.fields else n
                                    for n in fields])
        for f in self.fields:
            if f.unique and not f.primary_key:
                self.unique.append([f.name])

    def required(self) -> set[str]:
        """Columns a batch must carry: not null and without a default."""
        return {f.name for f in self.fields if not f.null and f.default is None}

    def check(self, columns: list[str], rows: list[tuple]) -> dict[str, str]:
        """id -> "field: problem" for rows whose values do not fit the model."""
        errors = {}
        id_at = columns.index("id")
        by_column = list(zip(*rows)) if rows else []
        for position, name in enumerate(columns):
            fast = _column_checker(self.field_by_name[name])
            if fast is not None and by_column and fast(by_column[position]):
                continue                    # the whole column fits: no need to look value by value
            check = _checker(self.field_by_name[name])
            for row in rows:
                problem = check(row[position])
                if problem:
                    record_id = row[id_at] if type(row[id_at]) is str else repr(row[id_at])
                    errors.setdefault(record_id, f"{name}: {problem}")
        return errors

    def sql_column(self, name: str) -> str:
        return self.field_by_name[name].column_name

    # --- reading --------------------------------------------------------------------------------

    def read(self, ids: list[str]) -> list[list]:
        """Column value lists (wire form) for the records `ids` that exist, in the order given."""
        found = {}
        cols = ", ".join(f'"{c}"' for c in self.sql_columns)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ", ".join([db.param] * len(chunk))
            cursor = db.execute_sql(f'SELECT {cols} FROM "{self.table}" WHERE "id" IN ({marks})', chunk)
            for row in cursor.fetchall():
                found[row[0]] = row
        rows = [found[i] for i in ids if i in found]
        values = [list(col) for col in zip(*rows)] if rows else [[] for _ in self.columns]
        for position, name in enumerate(self.columns):
            if name in self.bool_columns:
                values[position] = [None if v is None else bool(v) for v in values[position]]
            elif name in self.json_columns:
                values[position] = [None if v is None else json.loads(v) for v in values[position]]
        return values

    def versions(self, ids) -> dict[str, tuple[int, str]]:
        """id -> (version, van) of those of `ids` already stored."""
        out = {}
        ids = list(ids)
        if ids and _postgres():
            # one statement for a whole batch: each round trip costs more than the look-up
            cursor = db.execute_sql(f'SELECT "id", "version", "van" FROM "{self.table}" WHERE "id" = ANY(%s)', [ids])
            return {record_id: (version, van) for record_id, version, van in cursor.fetchall()}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ", ".join([db.param] * len(chunk))
            cursor = db.execute_sql(f'SELECT "id", "version", "van" FROM "{self.table}" WHERE "id" IN ({marks})',
                                    chunk)
            for record_id, version, van in cursor.fetchall():
                out[record_id] = (version, van)
        return out

    def existing_ids(self, ids) -> set[str]:
        return set(self.versions(ids))

    # --- writing --------------------------------------------------------------------------------

    def to_db(self, columns: list[str], rows: list[tuple]) -> list[tuple]:
        """Wire rows -> SQL parameters (JSON as canonical text, booleans as the database likes)."""
        converters = []
        for name in columns:
            field = self.field_by_name[name]
            if name in self.json_columns or name in self.bool_columns:
                converters.append(field.db_value)
            else:
                converters.append(None)
        if not any(converters):
            return rows
        return [tuple(v if conv is None or v is None else conv(v) for conv, v in zip(converters, row))
                for row in rows]

    def insert(self, columns: list[str], rows: list[tuple], extra: dict | None = None,
               if_absent: bool = False) -> None:
        """Insert wire rows in one executemany, or one COPY on PostgreSQL (plus constant `extra` columns)."""
        if not rows:
            return
        extra = extra or {}
        names = [self.sql_column(c) for c in columns] + list(extra)
        params = self.to_db(columns, rows)
        if extra:
            tail = tuple(extra.values())
            params = [row + tail for row in params]
        quoted = ", ".join(chr(34) + n + chr(34) for n in names)
        if _postgres() and not if_absent:
            # COPY: several times the rows per second of an INSERT per row, in the same transaction
            with db.cursor().copy(f'COPY "{self.table}" ({quoted}) FROM STDIN') as copy:
                for row in params:
                    copy.write_row(row)
            return
        marks = ", ".join([db.param] * len(names))
        sql = f'INSERT INTO "{self.table}" ({quoted}) VALUES ({marks})'
        if if_absent:
            sql += " ON CONFLICT DO NOTHING"
        cursor = db.cursor()
        cursor.executemany(sql, params)

    def update(self, columns: list[str], rows: list[tuple], keep: tuple = ()) -> None:
        """Overwrite stored records with wire rows (by id), leaving the `keep` columns alone."""
        if not rows:
            return
        params = self.to_db(columns, rows)
        positions = [i for i, c in enumerate(columns) if c != "id" and c not in keep]
        sets = ", ".join(f'"{self.sql_column(columns[i])}" = {db.param}' for i in positions)
        id_at = columns.index("id")
        sql = f'UPDATE "{self.table}" SET {sets} WHERE "id" = {db.param}'
        db.cursor().executemany(sql, [tuple(row[i] for i in positions) + (row[id_at],) for row in params])

    def clashes(self, columns: list[str], rows: list[tuple]) -> dict[str, str]:
        """id -> message for rows whose natural key (a unique index) is held by another record,
        stored or earlier in `rows`."""
        out = {}
        if not rows or not self.unique:
            return out
        id_at = columns.index("id")
        for key in self.unique:
            if not all(k in columns for k in key):
                continue
            at = [columns.index(k) for k in key]
            seen = {}
            for row in rows:
                value = tuple(row[i] for i in at)
                if value in seen and seen[value] != row[id_at]:
                    out[row[id_at]] = f"{'+'.join(key)} {value!r} repeats record {seen[value]} in this batch"
                seen.setdefault(value, row[id_at])
            wanted = list(seen.items())
            sql_cols = [self.sql_column(k) for k in key]
            for start in range(0, len(wanted), CHUNK // max(1, len(key))):
                chunk = wanted[start:start + CHUNK // max(1, len(key))]
                cond = " OR ".join("(" + " AND ".join(f'"{c}" = {db.param}' for c in sql_cols) + ")"
                                   for _ in chunk)
                params = [v for value, _ in chunk for v in value]
                cursor = db.execute_sql(f'SELECT "id", {", ".join(chr(34) + c + chr(34) for c in sql_cols)} '
                                        f'FROM "{self.table}" WHERE {cond}', params)
                for stored_id, *stored_value in cursor.fetchall():
                    incoming = seen.get(tuple(stored_value))
                    if incoming is not None and incoming != stored_id:
                        out[incoming] = (f"{'+'.join(key)} {tuple(stored_value)!r} is already held by "
                                         f"record {stored_id}")
        return out


@lru_cache(maxsize=None)
def _table(model) -> Table:
    return Table(model)


def table(name_or_model) -> Table | None:
    model = name_or_model
    if isinstance(name_or_model, str):
        model = SyncModel.registry().get(name_or_model)
        if model is None:
            return None
    return _table(model)


def ordered_tables(owner: str | None = None) -> list[Table]:
    """Every syncable table, parents before children (so inserts satisfy foreign keys)."""
    models = SyncModel.registry()
    done, order = set(), []

    def visit(model, path=()):
        if model in done or model in path:
            return
        for field in model._meta.fields.values():
            if isinstance(field, ForeignKeyField) and field.rel_model is not model \
                    and field.rel_model.__name__ in models:
                visit(field.rel_model, path + (model,))
        done.add(model)
        order.append(model)

    for name in sorted(models):
        visit(models[name])
    return [table(m) for m in order if owner is None or m._meta.sync_owner == owner]

