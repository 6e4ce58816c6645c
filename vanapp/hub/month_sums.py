"""The kept facts summed by month, district, campaign and van: what a report reads instead of one
row per screening, so its cost does not grow with the history (75,000 screenings over two years
of 100 vans are about 5,000 month rows; bench/hub_scale.py).

Four month tables of sums, one per table of per-screening facts (screening_fact and the
sign-in, quiz and poll rows), and one of the villages each van reached in a month (the
villages reached are distinct counts, which no sum can hold), each kept by database triggers
(migration 0130): every insert, update and delete of a per-screening row adds or takes back
that row's share in the same transaction, whatever writes it. A report under date filters
sums the whole months inside the range from here and the days at its edges from the
per-screening rows (`split`), so every total is still exactly a sum over its screenings
(`reports.trace` lists them). `check` compares the month rows
with a fresh sum of the per-screening rows; `fill` rewrites them from those.
"""
import datetime as dt

from peewee import BigIntegerField, CharField, CompositeKey, IntegerField, Model, SQL, TextField

from ..models import db
from . import factsql
from .filters import Filters

# table -> (the per-screening table it sums, {column: (field, expression of a row r)} for the key,
#           the condition a row counts under, {column: expression} of what it adds)
_KEY = {"month": ("CharField", 7, "substr({r}.eff_date, 1, 7)"),
        "district": ("CharField", 120, "{r}.district"),
        "campaign": ("CharField", 64, "{r}.campaign"),
        "van": ("CharField", 64, "{r}.eff_van")}
_HELD = "CASE WHEN {r}.held = 1 AND {r}.source = 'qr_summary' THEN {v} ELSE 0 END"
SUMS = {
    "month_fact": ("screening_fact", {**_KEY, "planned": ("IntegerField", None, "{r}.planned")},
                   "({r}.planned = 1 OR {r}.qr_van IS NOT NULL)", {
                       "n_rows": "1",
                       "held": "{r}.held",
                       "cancelled": "CASE WHEN {r}.eff_status = 'cancelled' THEN 1 ELSE 0 END",
                       "not_held": "CASE WHEN {r}.held = 0 AND {r}.eff_status <> 'cancelled' THEN 1 ELSE 0 END",
                       "held_qr": _HELD.replace("{v}", "1"),
                       **{b: f"{{r}}.held * {{r}}.e_{b}" for b in ("men", "women", "boys", "girls", "other", "people")},
                       "people_qr": _HELD.replace("{v}", "{r}.e_people"),
                       "participants": "{r}.held * {r}.participant_total",
                       "participants_qr": "{r}.held * {r}.qr_participants",
                       "pledges": "{r}.held * {r}.e_pledges",
                       "pledges_qr": "CASE WHEN {r}.held = 1 AND {r}.pledge_source = 'qr_summary' "
                                     "THEN {r}.e_pledges ELSE 0 END"}),
    "month_participant": ("fact_participant", {**_KEY, "gender": ("CharField", 16, "{r}.gender"),
                                               "age_band": ("CharField", 16, "{r}.age_band")},
                          "{r}.held = 1", {"n_rows": "1", "n": "{r}.n"}),
    "month_quiz": ("fact_quiz", {**_KEY, "game": ("CharField", 64, "{r}.game"),
                                 "question": ("CharField", 64, "{r}.question")},
                   "{r}.held = 1", {"n_rows": "1", "answers": "{r}.answers", "correct": "{r}.correct"}),
    "month_poll": ("fact_poll", {**_KEY, "game": ("CharField", 64, "{r}.game"),
                                 "question": ("CharField", 64, "{r}.question"),
                                 "phase": ("CharField", 16, "{r}.phase"), "choice": ("TextField", None, "{r}.choice")},
                   "{r}.held = 1", {"n_rows": "1", "n": "{r}.n", "lead": "{r}.lead"}),
    # the villages reached are distinct counts, which no sum can hold: one row per village a van
    # reached in a month (under its district, campaign and plan), counted from these
    "month_village": ("screening_fact", {**_KEY, "planned": ("IntegerField", None, "{r}.planned"),
                                         "village_id": ("TextField", None, "{r}.eff_village_id")},
                      "({r}.planned = 1 OR {r}.qr_van IS NOT NULL) AND {r}.held = 1", {"n_rows": "1"}),
}
# the per-screening columns each month table reads (an update that changes none of them adds nothing)
WATCH = {
    "month_fact": ("eff_date", "district", "campaign", "eff_van", "planned", "qr_van", "held", "eff_status",
                   "source", "e_men", "e_women", "e_boys", "e_girls", "e_other", "e_people", "participant_total",
                   "qr_participants", "e_pledges", "pledge_source"),
    "month_participant": ("eff_date", "district", "campaign", "eff_van", "held", "gender", "age_band", "n"),
    "month_quiz": ("eff_date", "district", "campaign", "eff_van", "held", "game", "question", "answers", "correct"),
    "month_poll": ("eff_date", "district", "campaign", "eff_van", "held", "game", "question", "phase", "choice",
                   "n", "lead"),
    "month_village": ("eff_date", "district", "campaign", "eff_van", "planned", "qr_van", "held", "eff_village_id"),
}


def _model(database, table, key, values):
    fields = {}
    for name, (kind, max_length, _expression) in key.items():
        field = {"CharField": CharField, "TextField": TextField, "IntegerField": IntegerField}[kind]
        fields[name] = field(**({"max_length": max_length} if max_length else {}))
    for name in values:
        fields[name] = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    meta = type("Meta", (), {"database": database, "table_name": table, "primary_key": CompositeKey(*key)})
    return type(table, (Model,), {**fields, "Meta": meta})


def models(database) -> list:
    """The month tables as peewee models bound to `database` (the migration creates them)."""
    return [_model(database, table, key, values) for table, (_base, key, _when, values) in SUMS.items()]


def _add(table, key, when, values, r):
    """The row r's share added to its month row (created when missing)."""
    names = [*key, *values]
    exprs = [e.format(r=r) for (_k, _m, e) in key.values()] + [v.format(r=r) for v in values.values()]
    sets = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in values)
    return (f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} WHERE {when.format(r=r)} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}")


def _take_back(table, key, when, values, r):
    """The row r's share taken from its month row, and the month row gone when nothing is left."""
    match = " AND ".join(f"{k} = {e.format(r=r)}" for k, (_kind, _m, e) in key.items())
    sets = ", ".join(f"{v} = {v} - ({e.format(r=r)})" for v, e in values.items())
    return [f"UPDATE {table} SET {sets} WHERE {match} AND {when.format(r=r)}",
            f"DELETE FROM {table} WHERE {match} AND n_rows = 0"]


def triggers(postgres: bool) -> list[str]:
    out = []
    for table, (base, key, when, values) in SUMS.items():
        add_new = _add(table, key, when, values, "NEW")
        back_old = _take_back(table, key, when, values, "OLD")
        watch = WATCH[table]
        if postgres:
            same = (f"({', '.join('NEW.' + c for c in watch)}) IS NOT DISTINCT FROM "
                    f"({', '.join('OLD.' + c for c in watch)})")
            out += [f"CREATE OR REPLACE FUNCTION vankit_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF TG_OP = 'UPDATE' AND {same} THEN RETURN NULL; END IF; "
                    f"IF TG_OP <> 'INSERT' THEN {'; '.join(back_old)}; END IF; "
                    f"IF TG_OP <> 'DELETE' THEN {add_new}; END IF; RETURN NULL; END $$",
                    f"CREATE TRIGGER {table}_sum AFTER INSERT OR UPDATE OR DELETE ON {base} "
                    f"FOR EACH ROW EXECUTE FUNCTION vankit_{table}()"]
        else:
            changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watch)
            out += [f"CREATE TRIGGER {table}_insert AFTER INSERT ON {base} BEGIN {add_new}; END",
                    f"CREATE TRIGGER {table}_update AFTER UPDATE ON {base} WHEN {changed} BEGIN "
                    f"{'; '.join(back_old)}; {add_new}; END",
                    f"CREATE TRIGGER {table}_delete AFTER DELETE ON {base} BEGIN {'; '.join(back_old)}; END"]
    return out




# --- filling and checking ------------------------------------------------------------------------

def _sum_sql(table: str) -> tuple[list[str], str]:
    """(columns, SQL) of the month rows as a fresh sum of the per-screening rows."""
    base, key, when, values = SUMS[table]
    keys = [e.format(r="r") for (_k, _m, e) in key.values()]
    sums = [f"SUM({e.format(r='r')})" for e in values.values()]
    return [*key, *values], (f'SELECT {", ".join(keys)}, {", ".join(sums)} FROM "{base}" r '
                             f'WHERE {when.format(r="r")} GROUP BY {", ".join(keys)}')


def fill(database=None) -> None:
    """Rewrite every month row as a sum of the per-screening rows (in the caller's transaction)."""
    database = database or db
    if "month_fact" not in database.get_tables():
        return                      # migration 0100's fill, before this one made them
    postgres = not _is_sqlite(database)
    for table in SUMS:
        if postgres:
            database.execute_sql(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        database.execute_sql(f'DELETE FROM "{table}"')
        columns, sql = _sum_sql(table)
        database.execute_sql(f'INSERT INTO "{table}" ({", ".join(columns)}) {sql}')


def _is_sqlite(database) -> bool:
    from peewee import SqliteDatabase
    return isinstance(getattr(database, "obj", database), SqliteDatabase)


def check(limit: int = 1000) -> list[tuple[str, str, object, object]]:
    """(month row, column, stored, a fresh sum) wherever the month tables differ from the
    per-screening rows; [] when they agree."""
    out = []
    for table, (_base, key, _when, values) in SUMS.items():
        columns, sql = _sum_sql(table)
        width = len(key)
        fresh = {tuple(row[:width]): tuple(int(v or 0) for v in row[width:]) for row in db.execute_sql(sql)}
        stored = {tuple(row[:width]): tuple(int(v or 0) for v in row[width:]) for row in
                  db.execute_sql(f'SELECT {", ".join(columns)} FROM "{table}"')}
        zero = tuple(0 for _ in values)
        for k in sorted(set(fresh) | set(stored), key=repr):
            have, want = stored.get(k, zero), fresh.get(k, zero)
            for name, a, b in zip(values, have, want):
                if a != b:
                    out.append((f"{table} " + "/".join(map(str, k)), name, a, b))
            if len(out) >= limit:
                return out[:limit]
    return out


# --- what a report reads -------------------------------------------------------------------------

def _month_of(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def split(filters: Filters) -> tuple[tuple[str, str] | None, list[tuple[str, str]]]:
    """(whole, edges) of the date filters: `whole` = (first, last) month summed from the month
    tables ('' = open; None: no whole month in the range), `edges` = [(first day, last day)] read
    from the per-screening rows."""
    first, last = filters.date_from, filters.date_to
    lo = hi = ""
    if first:
        day = dt.date.fromisoformat(first)
        lo = _month_of(day) if day.day == 1 else _month_of((day.replace(day=28) + dt.timedelta(days=4)))
    if last:
        day = dt.date.fromisoformat(last)
        hi = _month_of(day) if (day + dt.timedelta(days=1)).day == 1 else \
            _month_of(day.replace(day=1) - dt.timedelta(days=1))
    if lo and hi and lo > hi:
        return None, [(first, last)]
    edges = []
    if first and first != lo + "-01":
        edges.append((first, (dt.date.fromisoformat(lo + "-01") - dt.timedelta(days=1)).isoformat()))
    if last:
        after = dt.date.fromisoformat(hi + "-01").replace(day=28) + dt.timedelta(days=4)
        if last >= after.replace(day=1).isoformat():
            edges.append((after.replace(day=1).isoformat(), last))
    return (lo, hi), edges


def _month_where(filters: Filters, whole: tuple[str, str], planned: bool) -> tuple[str, list]:
    """The month rows under `filters` (as factsql.fact_where / detail_where select their screenings)."""
    conditions, values = ["1 = 1"], []
    for column, value in (("district", filters.district), ("campaign", filters.campaign)):
        if value:
            conditions.append(f"{'planned = 1 AND ' if planned else ''}{column} = ?")
            values.append(value)
    for condition, value in (("van = ?", filters.van), ("month >= ?", whole[0]), ("month <= ?", whole[1])):
        if value:
            conditions.append(condition)
            values.append(value)
    return " AND ".join(conditions), values


def _edge_where(edges) -> tuple[str, list]:
    return (" OR ".join("(eff_date >= ? AND eff_date <= ?)" for _ in edges),
            [day for edge in edges for day in edge])


def fact_rows(filters: Filters) -> tuple[str, list]:
    """(SQL, parameters) of rows (district, van, then month_fact's sums) whose sums are the totals
    of the screenings under `filters`: month rows, and per-screening shares at the edges."""
    whole, edges = split(filters)
    _base, _key, _when, values = SUMS["month_fact"]
    parts, params = [], []
    if whole is not None:
        where, found = _month_where(filters, whole, planned=True)
        parts.append(f'SELECT district, van, {", ".join(values)} FROM "month_fact" WHERE {where}')
        params += found
    if edges:
        where, found = factsql.fact_where(Filters(district=filters.district, van=filters.van,
                                                  campaign=filters.campaign))
        days, found_days = _edge_where(edges)
        shares = ", ".join(f'{e.format(r="r")} AS {name}' for name, e in values.items())
        parts.append(f'SELECT r.district AS district, r.eff_van AS van, {shares} FROM "screening_fact" r '
                     f"WHERE {where} AND ({days})")
        params += found + found_days
    return " UNION ALL ".join(parts), params


def village_rows(filters: Filters) -> tuple[str, list]:
    """(SQL, parameters) of rows (district, van, village_id), one or more per village a held
    screening under `filters` reached: month rows, and the screenings at the edges."""
    whole, edges = split(filters)
    parts, params = [], []
    if whole is not None:
        where, found = _month_where(filters, whole, planned=True)
        parts.append(f'SELECT district, van, village_id FROM "month_village" WHERE {where} AND n_rows > 0')
        params += found
    if edges:
        where, found = factsql.fact_where(Filters(district=filters.district, van=filters.van,
                                                  campaign=filters.campaign))
        days, found_days = _edge_where(edges)
        parts.append('SELECT district, eff_van AS van, eff_village_id AS village_id FROM "screening_fact" '
                     f"WHERE held = 1 AND {where} AND ({days})")
        params += found + found_days
    return " UNION ALL ".join(parts), params


# detail rows of a report: (kind, a, b, c, d, rows, v1, v2)
_DETAILS = {
    "participant": ("month_participant", "gender AS a, age_band AS b, '' AS c, '' AS d", "n AS v1, 0 AS v2"),
    "quiz": ("month_quiz", "game AS a, question AS b, '' AS c, '' AS d", "answers AS v1, correct AS v2"),
    "poll": ("month_poll", "game AS a, question AS b, phase AS c, choice AS d", "n AS v1, lead AS v2"),
}


def detail_rows(filters: Filters) -> tuple[str, list]:
    """(SQL, parameters) of (kind, a, b, c, d, rows, v1, v2) summed over the held screenings
    under `filters`, grouped: sign-ins by gender and age band (v1 = n), quiz answers by game and
    question (rows = screenings, v1 = answers, v2 = right answers), poll answers by game,
    question, phase and choice (v1 = n, v2 = screenings that asked it). Each kind is summed on
    its own (over fewer, narrower rows than one union of all three)."""
    whole, edges = split(filters)
    kinds, params = [], []
    for kind, (table, labels, sums) in _DETAILS.items():
        base = SUMS[table][0]
        parts = []
        if whole is not None:
            where, found = _month_where(filters, whole, planned=False)
            parts.append(f'SELECT {labels}, n_rows, {sums} FROM "{table}" WHERE {where}')
            params += found
        if edges:
            where, found = factsql.detail_where(Filters(district=filters.district, van=filters.van,
                                                        campaign=filters.campaign))
            days, found_days = _edge_where(edges)
            parts.append(f'SELECT {labels}, 1 AS n_rows, {sums} FROM "{base}" WHERE {where} AND ({days})')
            params += found + found_days
        kinds.append(f"SELECT '{kind}', a, b, c, d, SUM(n_rows), SUM(v1), SUM(v2) FROM "
                     f"({' UNION ALL '.join(parts)}) AS {kind}_rows GROUP BY a, b, c, d HAVING SUM(n_rows) > 0")
    return " UNION ALL ".join(kinds), params
