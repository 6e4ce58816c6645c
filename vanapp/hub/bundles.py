"""Bringing in a van's USB bundle: verify it with the van's bundle key (vanapp/protocol/bundle.py)
and apply its batches through the same path as a push, so a bundle imported twice stores once."""
from ..models import Van
from ..protocol import bundle
from . import receive


def import_bundle(data: bytes, timezone: str = "Asia/Kolkata") -> dict:
    """Verify a bundle and apply its batches through the push path. Raises BundleError or
    receive.BatchRefused (the batches before the refused one stay applied: each is whole)."""
    def key_lookup(van_id):
        van = Van.get_or_none(Van.id == van_id)
        if van is None or van.revoked or not van.bundle_key:
            return None
        return bytes.fromhex(van.bundle_key)
    header, documents = bundle.read(data, key_lookup)
    totals = {"van": header["van"], "batches": 0, "replayed": 0, "records": 0, "stored": 0, "updated": 0,
              "duplicates": 0, "older": 0, "cursor": None}
    for document in documents:
        ack = receive.apply_batch(header["van"], document, "bundle", timezone)
        totals["batches"] += 1
        totals["replayed"] += 1 if ack.get("replayed") else 0
        for k in ("records", "stored", "updated", "duplicates", "older"):
            totals[k] += 0 if ack.get("replayed") else ack.get(k, 0)
        totals["cursor"] = ack.get("cursor")
    return totals
