"""Where the dashboard reads the nights' QR summaries that the hub received (stored by the sync
side in `SummaryReport`), so the reports do not depend on how that storage is laid out.

`summaries(screening_ids)` -> {screening_id: {"counts": {category: n}, "pledges": {game: n},
"participants": n, "received_at": datetime, "van": str}}: the latest summary of each screening.
Whether a summary counts (only where nothing was synced) is decided in facts.py.
"""
from ..models.sync import SummaryReport


def summaries(screening_ids: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for start in range(0, len(screening_ids), 500):     # stay under SQLite's bound-variable limit
        chunk = screening_ids[start:start + 500]
        query = (SummaryReport.select().where(SummaryReport.screening.in_(chunk))
                 .order_by(SummaryReport.updated_at, SummaryReport.id))
        for row in query:
            out[row.screening] = {
                "counts": row.counts or {}, "pledges": row.pledges or {},
                "participants": row.participants or 0, "received_at": row.updated_at or row.received_at,
                "van": row.van}
    return out
