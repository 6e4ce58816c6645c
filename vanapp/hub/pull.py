"""What a van pulls from the hub: the plan (tours, screenings, programmes, villages, campaigns)
and content (media catalogue, games) changed since the van's pull cursor — the hub's own
outbox seq — limited to what concerns that van."""
from ..models import Outbox, db
from ..protocol import records
from ..protocol.wire import FORMAT, encode_models

PAGE = 2000


def latest_seq() -> int:
    value = db.execute_sql('SELECT MAX("seq") FROM "outbox"').fetchone()[0]
    return int(value or 0)


def _for_van(value, van_id: str) -> bool:
    return value in ("", None, van_id)


def changes_for(van_id: str, cursor: int, limit: int = PAGE) -> dict:
    """One page of hub-owned changes after `cursor` for `van_id`, as a pull document."""
    hub_tables = {t.name: t for t in records.ordered_tables("hub")}
    rows = list(Outbox.select(Outbox.seq, Outbox.model, Outbox.record_id)
                .where(Outbox.seq > cursor).order_by(Outbox.seq).limit(limit).tuples())
    last = rows[-1][0] if rows else cursor
    wanted = {}
    for _seq, model, record_id in rows:
        if model in hub_tables:
            wanted.setdefault(model, {})[record_id] = None
    allowed = {}                                  # model -> ids sent in this page
    tables = []
    for name, table in hub_tables.items():
        ids = list(wanted.get(name, ()))
        if not ids:
            continue
        values = table.read(ids)
        keep = list(range(len(values[0])))
        van_at = table.columns.index("van")
        keep = [i for i in keep if _for_van(values[van_at][i], van_id)]
        for fk, parent in table.foreign_keys.items():
            parent_name = parent.__name__
            if parent_name not in hub_tables:
                continue
            at = table.columns.index(fk)
            keep = [i for i in keep if values[at][i] is None
                    or _parent_allowed(parent_name, values[at][i], van_id, allowed, hub_tables)]
        values = [[column[i] for i in keep] for column in values]
        id_at = table.columns.index("id")
        allowed[name] = set(values[id_at])
        tables.append((name, table.columns, table.time_columns, values))
    return {"format": FORMAT, "kind": "pull", "van": van_id, "from": cursor, "cursor": last,
            "more": len(rows) == limit, "models": encode_models(tables)}


def _parent_allowed(name, parent_id, van_id, allowed, hub_tables) -> bool:
    if parent_id in allowed.get(name, ()):
        return True
    table = hub_tables[name]
    cursor = db.execute_sql(f'SELECT "van" FROM "{table.table}" WHERE "id" = {db.param}', [parent_id])
    row = cursor.fetchone()
    ok = row is not None and _for_van(row[0], van_id)
    if ok:
        allowed.setdefault(name, set()).add(parent_id)
    return ok
