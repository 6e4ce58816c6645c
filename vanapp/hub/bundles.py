"""Bringing in a van's USB bundle: verify it with the van's bundle key (vanapp/protocol/bundle.py)
and apply its batches through the same path as a push, so a bundle imported twice stores once.

A record the hub refuses never holds back the others: a refused batch is applied again without
the records the refusal names (and those that depend on them), and the refused ones are listed
with the hub's reason. Such a batch does not move the van's acknowledged cursor, so at its next
sync the van sends those records itself, learns the reason and sets them aside."""
from ..models import Van
from ..protocol import bundle, records
from ..protocol.wire import decode_models, encode_models
from . import receive

MAX_NARROWING = 20            # tries per batch: each drops at least one more record


def import_bundle(data: bytes, timezone: str = "Asia/Kolkata") -> dict:
    """Verify a bundle and apply its batches through the push path. Raises BundleError; a batch
    the hub refuses as a whole (a bad header) raises receive.BatchRefused (the batches before it
    stay applied: each is whole)."""
    def key_lookup(van_id):
        van = Van.get_or_none(Van.id == van_id)
        if van is None or van.revoked or not van.bundle_key:
            return None
        return bytes.fromhex(van.bundle_key)
    header, documents = bundle.read(data, key_lookup)
    totals = {"van": header["van"], "batches": 0, "replayed": 0, "records": 0, "stored": 0, "updated": 0,
              "duplicates": 0, "older": 0, "cursor": None, "refused": []}
    for document in documents:
        ack, refused = _apply(header["van"], document, timezone)
        totals["batches"] += 1
        totals["replayed"] += 1 if ack.get("replayed") else 0
        for k in ("records", "stored", "updated", "duplicates", "older"):
            totals[k] += 0 if ack.get("replayed") else ack.get(k, 0)
        totals["cursor"] = ack.get("cursor")
        totals["refused"] += refused
    return totals


def _apply(van_id: str, document: dict, timezone: str) -> tuple[dict, list[dict]]:
    """Apply one batch; when records are refused, apply the rest under a key of its own, leaving
    the cursor where it was. -> (ack, refused records with the hub's reason)."""
    refused, dropped = [], set()
    for _attempt in range(MAX_NARROWING):
        try:
            return receive.apply_batch(van_id, document, "bundle", timezone), refused
        except receive.BatchRefused as exc:
            if exc.status not in (400, 403, 409) or exc.field in ("van", "key"):
                raise
            named = {(r.get("model"), r.get("id")) for r in exc.records} - dropped
            if not named:
                raise
            document, gone = _without(document, named, exc)
            if not gone:
                raise
            dropped |= {(r["model"], r["id"]) for r in gone}
            refused += gone
    raise receive.BatchRefused(409, "conflict", "the batch could not be narrowed down to what the hub refuses")


def _without(document: dict, named: set, exc) -> tuple[dict, list[dict]]:
    """The batch without the van records `named` and every record that refers to a named one
    (a tap of a refused screening, a result of a refused run); -> (new batch, van records taken
    out with the reason). The new batch goes under a key of its own and moves no cursor."""
    entries = decode_models(document.get("models"))
    reasons = {(r.get("model"), r.get("id")): r for r in exc.records}
    bad, gone, kept = set(named), [], []
    for name, columns, rows in entries:          # parents come before children in a batch
        table = records.table(name)
        id_at = columns.index("id")
        refs = [(columns.index(fk), (parent.__name__,)) for fk, parent in table.foreign_keys.items()
                if fk in columns]
        refs += [(columns.index(c), parents) for c, parents in records.SOFT_REFS.get(name, {}).items()
                 if c in columns]
        keep = []
        for row in rows:
            key = (name, row[id_at])
            cause = next(((parent, row[at]) for at, parents in refs for parent in parents
                          if (parent, row[at]) in bad), None)
            if key in bad or cause:
                bad.add(key)
                if table.owner == "van":
                    why = reasons.get(key) or reasons.get(cause) or {}
                    gone.append({"model": name, "id": row[id_at], "code": why.get("code", exc.code),
                                 "message": why.get("message", exc.message) if key in reasons or cause is None
                                 else f"{cause[0]} {cause[1]}: {why.get('message', exc.message)}"})
                continue
            keep.append(row)
        if keep:
            kept.append((name, columns, table.time_columns, [list(col) for col in zip(*keep)]))
    narrowed = dict(document, key=f"{document.get('key', '')}"[:48] + "-part", models=encode_models(kept))
    # the van still holds the records taken out: the cursor must not pass them, so the rest is
    # stored as a batch after a gap (PROTOCOL.md), and the van sends the gap at its next sync
    narrowed["from"] = document["to"] + 1 if isinstance(document.get("to"), int) else document.get("from")
    narrowed["to"] = narrowed["from"]
    return narrowed, gone
