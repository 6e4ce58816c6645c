"""Proof of play writes: each a short transaction through save_change (so it syncs), made by
the player thread with its own connection."""
import datetime as dt

from ..db import write_transaction
from ..ids import new_id, utcnow
from ..models import PlayLog, Setting, db

INTERRUPTED = "interrupted: VanKit stopped while this was playing"


def open_play(screening_id: str, index: int, kind: str, ref: str, started_at: dt.datetime,
              duration_ms: int | None, play_id: str | None = None) -> str:
    """A row for an item that has started (outcome "playing"); returns its id."""
    with db.connection_context():
        with write_transaction():   # each write reads first (the van id, the row)
            row = PlayLog(id=play_id or new_id(), screening=screening_id, position=index, kind=kind, media_id=ref,
                          started_at=started_at, duration_ms=duration_ms, van=Setting.van_id())
            row.save_change(force_insert=True)
    return row.id


def close_play(play_id: str | None, *, screening_id: str, index: int, kind: str, ref: str,
               started_at: dt.datetime, position_ms: int, duration_ms: int | None,
               outcome: str, error: str = "", ended_at: dt.datetime | None = None) -> str:
    """Write the outcome of an item; creates the row if it never got to start."""
    ended_at = ended_at or utcnow()
    with db.connection_context():
        with write_transaction():   # each write reads first (the van id, the row)
            row = PlayLog.get_or_none(PlayLog.id == play_id) if play_id else None
            if row is None:
                row = PlayLog(screening=screening_id, position=index, kind=kind, media_id=ref,
                              started_at=started_at, van=Setting.van_id())
                if play_id:
                    row.id = play_id
            row.ended_at = ended_at
            row.position_ms = max(int(position_ms or 0), 0)
            row.duration_ms = duration_ms
            row.outcome = outcome
            row.error = error[:2000]
            row.save_change()
    return row.id


def close_interrupted() -> int:
    """Rows left "playing" by a process that died (power cut, kill): say so, truthfully."""
    with db.connection_context():
        with write_transaction():   # each write reads first (the van id, the row)
            rows = list(PlayLog.select().where(PlayLog.outcome == "playing"))
            for row in rows:
                row.outcome = "error"
                row.error = INTERRUPTED
                row.save_change()
    return len(rows)
