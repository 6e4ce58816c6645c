"""Building the van's next batch from the outbox: the van-owned records changed after the cursor
(each once, in its current version), the plan records they refer to, the batch's idempotency
key and cursor range, packed for the wire."""
import itertools
from dataclasses import dataclass, field

from ..models import db
from ..protocol import records
from ..protocol.wire import FORMAT, MAX_BODY, MAX_RECORDS, encode_models, pack

BATCH_ROWS = 2000            # outbox rows per batch
PLAN_ROOT = "Screening"      # a screening travels with its programme
SOFT_REFS = records.SOFT_REFS


@dataclass
class Batch:
    key: str
    epoch: str
    start: int                                   # cursor range (start, end]
    end: int
    body: bytes
    records: int                                 # van-owned records in it
    versions: dict = field(default_factory=dict)  # (model, id) -> version, for parking
    plan: set = field(default_factory=set)       # (model, id) of plan records sent along
    held_back: list = field(default_factory=list)  # records set aside before sending (another van's)
    rows: int = 0                                # outbox rows the batch covers


def _outbox_rows(start: int, end: int | None, limit: int) -> list[tuple]:
    if end is None:
        sql = f'SELECT "seq", "model", "record_id" FROM "outbox" WHERE "seq" > {db.param} ORDER BY "seq" LIMIT {db.param}'
        return db.execute_sql(sql, [start, limit]).fetchall()
    sql = (f'SELECT "seq", "model", "record_id" FROM "outbox" WHERE "seq" > {db.param} AND "seq" <= {db.param} '
           f'ORDER BY "seq"')
    return db.execute_sql(sql, [start, end]).fetchall()


def collect(start: int, van_id: str, epoch: str, key: str, parked: set, sent_plan: set,
            end: int | None = None, limit: int = BATCH_ROWS, waiting_after=None) -> Batch | None:
    """The batch after cursor `start` (up to `end` when resending a batch in flight), or None
    when the outbox holds nothing after `start`. `waiting_after(seq)`: how many records will
    still wait on the van once the hub holds everything up to `seq` (sent in the batch, so the
    hub's count of what is waiting is the van's own)."""
    while True:
        rows = _outbox_rows(start, end, limit)
        if not rows:
            return None
        batch = _build(rows, start, van_id, epoch, key, parked, sent_plan, waiting_after)
        if (batch.records + len(batch.plan) <= MAX_RECORDS and len(batch.body) <= MAX_BODY) \
                or len(rows) == 1:
            return batch
        # too big for one request (large records, or many plans): take fewer outbox rows
        end, limit = None, max(1, len(rows) // 2)


def _build(rows, start, van_id, epoch, key, parked, sent_plan, waiting_after=None) -> Batch:
    end = rows[-1][0]
    van_tables = {t.name: t for t in records.ordered_tables("van")}
    hub_tables = {t.name: t for t in records.ordered_tables("hub")}
    wanted = {}
    for _seq, model, record_id in rows:
        if model in van_tables:
            wanted.setdefault(model, {})[record_id] = None   # first appearance keeps its place
    batch = Batch(key=key, epoch=epoch, start=start, end=end, body=b"", records=0, rows=len(rows))
    tables, plan_need = [], {}
    read = {name: van_tables[name].read(list(ids)) for name, ids in wanted.items()}
    elsewhere = _other_vans_screenings(read, van_tables, van_id)
    for name, table in van_tables.items():
        if name not in read:
            continue
        values = read[name]
        id_at, van_at, version_at = (table.columns.index(c) for c in ("id", "van", "version"))
        foreign = elsewhere.get(name, {})
        if not parked and not foreign and set(values[van_at]) <= {"", van_id}:
            keep = range(len(values[id_at]))               # the usual case: every row goes
        else:
            keep = []
            for i, van in enumerate(values[van_at]):
                record = (name, values[id_at][i], values[version_at][i])
                if record in parked:
                    continue
                if van not in ("", van_id):
                    batch.held_back.append({"model": name, "id": record[1], "version": record[2],
                                            "code": "other_van",
                                            "message": f"recorded as van {van!r}; this laptop is paired as {van_id!r}"})
                    continue
                if record[1] in foreign:
                    # the hub would refuse it (403 foreign_van): set aside here, never sent
                    batch.held_back.append({"model": name, "id": record[1], "version": record[2],
                                            "code": "foreign_van", "message": foreign[record[1]]})
                    continue
                keep.append(i)
            values = [[column[i] for i in keep] for column in values]
        values[van_at] = [van_id] * len(keep)              # "" means this van, before pairing
        batch.versions.update(zip(zip(itertools.repeat(name), values[id_at]), values[version_at]))
        for fk, parent in table.foreign_keys.items():
            if parent.__name__ in hub_tables:
                at = table.columns.index(fk)
                plan_need.setdefault(parent.__name__, set()).update(v for v in values[at] if v)
        for column, parents in SOFT_REFS.get(name, {}).items():
            at = table.columns.index(column)
            for parent in parents:
                if parent in hub_tables:
                    plan_need.setdefault(parent, set()).update(v for v in values[at] if v)
        batch.records += len(keep)
        tables.append((name, table.columns, table.time_columns, values))
    plan_tables = _plan_closure(plan_need, hub_tables, sent_plan, batch)
    document = {"format": FORMAT, "kind": "push", "van": van_id, "epoch": epoch, "key": key,
                "from": start, "to": end, "models": encode_models(plan_tables + tables)}
    if waiting_after is not None:
        document["waiting"] = waiting_after(end)
    batch.body = pack(document)
    return batch


def _other_vans_screenings(read: dict, van_tables: dict, van_id: str) -> dict[str, dict[str, str]]:
    """model -> {record id: why} for the records about a screening planned for another van (by
    the screening or its tour): what happened there is that van's to tell, and the hub refuses
    it, so the van sets it aside instead of sending it. A record reaches its screening directly
    (a tap, a play, a game run) or through a van record it belongs to (a game result's run)."""
    screening_of = {}                       # model -> list of screening ids, row by row
    for name, values in read.items():
        table = van_tables[name]
        for fk, parent in table.foreign_keys.items():
            column = values[table.columns.index(fk)]
            if parent.__name__ == PLAN_ROOT:
                screening_of[name] = column
            elif parent.__name__ in van_tables:
                parent_table = van_tables[parent.__name__]
                via = _screenings_via(parent_table, set(filter(None, column)))
                screening_of.setdefault(name, [via.get(v) for v in column])
    wanted = {s for column in screening_of.values() for s in column if s}
    if not wanted:
        return {}
    other = _planned_elsewhere(wanted, van_id)
    if not other:
        return {}
    out = {}
    for name, column in screening_of.items():
        ids = read[name][van_tables[name].columns.index("id")]
        for record_id, screening_id in zip(ids, column):
            if screening_id in other:
                out.setdefault(name, {})[record_id] = (
                    f"screening {screening_id} is planned for {other[screening_id]}; this laptop is {van_id}: "
                    "what happened there is that van's to tell (the coordinator re-plans a screening "
                    "another van covered)")
    return out


def _screenings_via(table, ids: set) -> dict[str, str]:
    """id -> screening id, for van records `ids` of `table` that belong to a screening."""
    fk = next((fk for fk, parent in table.foreign_keys.items() if parent.__name__ == PLAN_ROOT), None)
    if fk is None or not ids:
        return {}
    out, ids, column = {}, list(ids), table.sql_column(fk)
    for at in range(0, len(ids), records.CHUNK):
        chunk = ids[at:at + records.CHUNK]
        marks = ", ".join([db.param] * len(chunk))
        out.update(db.execute_sql(f'SELECT "id", "{column}" FROM "{table.table}" WHERE "id" IN ({marks})',
                                  chunk).fetchall())
    return out


def _planned_elsewhere(screening_ids: set, van_id: str) -> dict[str, str]:
    """screening id -> the other van it (or its tour) is planned for, among `screening_ids`."""
    out, ids = {}, list(screening_ids)
    for at in range(0, len(ids), records.CHUNK):
        chunk = ids[at:at + records.CHUNK]
        marks = ", ".join([db.param] * len(chunk))
        rows = db.execute_sql(f'SELECT s."id", s."van", t."van" FROM "screening" s LEFT JOIN "tour" t '
                              f'ON t."id" = s."tour_id" WHERE s."id" IN ({marks})', chunk).fetchall()
        for screening_id, screening_van, tour_van in rows:
            other = next((v for v in (screening_van, tour_van) if v not in (None, "", van_id)), None)
            if other:
                out[screening_id] = other
    return out


def _plan_closure(need: dict, hub_tables: dict, sent_plan: set, batch: Batch) -> list:
    """The plan records the van's records refer to, with their parents and each screening's
    programme, minus those already sent in this sync. The hub inserts them only if absent."""
    roots = need.get(PLAN_ROOT, set())
    if roots:
        for name, table in hub_tables.items():
            for fk, parent in table.foreign_keys.items():
                if parent.__name__ == PLAN_ROOT:
                    ids = _children(table, fk, roots)
                    need.setdefault(name, set()).update(ids)
    out = []
    for name in reversed(list(hub_tables)):           # children first: they add their parents
        table = hub_tables[name]
        ids = sorted(i for i in need.get(name, ()) if (name, i) not in sent_plan)
        if not ids:
            continue
        values = table.read(ids)
        if not values or not values[0]:
            continue
        for fk, parent in table.foreign_keys.items():
            if parent.__name__ in hub_tables:
                at = table.columns.index(fk)
                need.setdefault(parent.__name__, set()).update(v for v in values[at] if v)
        batch.plan.update((name, i) for i in values[table.columns.index("id")])
        out.append((name, table.columns, table.time_columns, values))
    out.reverse()
    return out


def _children(table, fk: str, parent_ids: set) -> list[str]:
    ids, parents = [], list(parent_ids)
    column = table.sql_column(fk)
    for at in range(0, len(parents), records.CHUNK):
        chunk = parents[at:at + records.CHUNK]
        marks = ", ".join([db.param] * len(chunk))
        cursor = db.execute_sql(f'SELECT "id" FROM "{table.table}" WHERE "{column}" IN ({marks})', chunk)
        ids += [row[0] for row in cursor.fetchall()]
    return ids
