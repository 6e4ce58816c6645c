"""Applying what the van pulled from the hub: the plan and content, written straight to the tables
in one transaction (not through save_change, so nothing pulled is queued to be pushed back)."""
from peewee import IntegrityError

from ..models import ScreeningEvent, db
from ..protocol import records
from ..protocol.wire import WireError, decode_models

# The van decides a screening's status through its own events; a plan update from the hub
# must not undo "started" or "cancelled" on a laptop that has already said so.
VAN_DECIDES = {"Screening": ("status", "status_reason", "date", "start", "starts_at")}


def apply_pull(document: dict) -> dict:
    """Write one pull page; returns {"applied": n, "skipped": [{"model", "id", "message"}]}.
    Records that clash with the van's own (e.g. the same village under another id) are skipped
    and reported, the rest applied."""
    if not isinstance(document, dict) or document.get("kind") != "pull":
        raise WireError("not a pull document")
    entries = decode_models(document.get("models"), max_records=10 ** 6)
    by_name = {name: (columns, rows) for name, columns, rows in entries}
    applied, skipped = 0, []
    with db.atomic():
        for table in records.ordered_tables("hub"):
            if table.name not in by_name:
                continue
            columns, rows = by_name[table.name]
            unknown = [c for c in columns if c not in table.field_by_name]
            if unknown or "id" not in columns:
                raise WireError(f"{table.name}: unknown columns {unknown}")
            problems = table.check(columns, rows)
            id_at = columns.index("id")
            stored = table.existing_ids([r[id_at] for r in rows])
            keep = _van_decides(table, columns)
            for row in rows:
                record_id = row[id_at]
                if record_id in problems:
                    skipped.append({"model": table.name, "id": record_id, "message": problems[record_id]})
                    continue
                try:
                    with db.atomic():              # a savepoint: one bad row does not undo the page
                        if record_id in stored:
                            table.update(columns, [row], keep=keep(record_id))
                        else:
                            table.insert(columns, [row])
                    applied += 1
                except IntegrityError as exc:
                    skipped.append({"model": table.name, "id": record_id, "message": str(exc)})
    return {"applied": applied, "skipped": skipped}


def _van_decides(table, columns):
    fields = VAN_DECIDES.get(table.name)
    if not fields:
        return lambda record_id: ()

    def keep(record_id):
        has_events = ScreeningEvent.select().where(ScreeningEvent.screening == record_id).exists()
        return tuple(f for f in fields if f in columns) if has_events else ()
    return keep
