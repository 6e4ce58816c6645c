"""Writing the van's export bundle for a USB stick (the format, and reading it on the hub, is
vanapp/protocol/bundle.py): the records the hub has not acknowledged, as the batches a push sends.
The hub applies each through the same receiving path, so importing twice stores once."""
import json
import os

from ..ids import to_iso, utcnow
from ..protocol.bundle import MAGIC, BundleError, bundle_key, sign
from . import outbox, state

__all__ = ["BundleError", "export"]


def export(path, everything: bool = False) -> dict:
    """Write the van's records not yet acknowledged by the hub (all of them with `everything`)
    to `path`; the cursor is not moved (only the hub's acknowledgement does that)."""
    creds = state.credentials()
    if creds is None:
        raise BundleError("this van is not paired with a hub: pair it once (`vanapp pair`) so the hub "
                          "can verify its bundles")
    _url, van_id, secret = creds
    epoch = state.epoch()
    start = 0 if everything else state.get_int(state.PUSH_CURSOR)
    cursor, batches, bodies, parked, sent_plan, total = start, [], [], state.parked_keys(), set(), 0
    while True:
        batch = outbox.collect(cursor, van_id, epoch, state.new_batch_key(), parked, sent_plan)
        if batch is None:
            break
        batches.append({"key": batch.key, "from": batch.start, "to": batch.end, "size": len(batch.body),
                        "records": batch.records})
        bodies.append(batch.body)
        sent_plan |= batch.plan
        total += batch.records
        cursor = batch.end
    header = {"format": 1, "van": van_id, "epoch": epoch, "created_at": to_iso(utcnow()),
              "from": start, "to": cursor, "records": total, "batches": batches}
    content = MAGIC + json.dumps(header, separators=(",", ":")).encode() + b"\n" + b"".join(bodies)
    signed = sign(content, bundle_key(bytes.fromhex(secret)))
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(signed)
    os.replace(tmp, path)
    return {"file": str(path), "van": van_id, "from": start, "to": cursor, "records": total,
            "batches": len(batches), "bytes": len(signed)}
