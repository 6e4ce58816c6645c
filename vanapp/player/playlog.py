"""Proof of play writes: each a short transaction through save_change (so it syncs), made by
the player thread with its own connection; and the van's own note of where the show stands
(settings `player_progress`, and `player_interrupted` after a power cut), which never syncs."""
import datetime as dt
import json

from ..db import write_transaction
from ..ids import from_iso, new_id, to_iso, utcnow
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


def close_interrupted(where: dict | None = None) -> int:
    """Rows left "playing" by a process that died (power cut, kill): say so, truthfully, with
    the position the show had reached (`where`, the last progress marker) when it is known."""
    with db.connection_context():
        with write_transaction():   # each write reads first (the van id, the row)
            rows = list(PlayLog.select().where(PlayLog.outcome == "playing"))
            for row in rows:
                row.outcome = "error"
                row.error = INTERRUPTED
                if where and where.get("play") == row.id and row.kind == "media":
                    row.position_ms = max(int(where.get("ms") or 0), row.position_ms or 0)
                row.ended_at = row.ended_at or (from_iso(where["at"]) if where and where.get("at")
                                                and where.get("play") == row.id else None)
                row.save_change()
    return len(rows)


PROGRESS, INTERRUPTED_AT = "player_progress", "player_interrupted"


def keep_progress(where: dict) -> None:
    """Where the show stands now: {screening, index, ms, play, kind, ref, run}."""
    value = json.dumps(dict(where, at=to_iso(utcnow())), separators=(",", ":"))
    with db.connection_context():
        with write_transaction():
            Setting.put(PROGRESS, value)


def clear_progress() -> None:
    """The programme ended or was stopped: nothing to resume."""
    with db.connection_context():
        with write_transaction():
            Setting.delete().where(Setting.key == PROGRESS).execute()


def take_progress() -> dict | None:
    """At start: a progress marker left behind means the last process died mid-show. It becomes
    the interruption (kept until the show is resumed or played again); returns it, or the
    interruption an earlier start found and nobody has resumed yet."""
    with db.connection_context():
        with write_transaction():
            raw = Setting.get_value(PROGRESS)
            if raw is not None:
                Setting.put(INTERRUPTED_AT, raw)
                Setting.delete().where(Setting.key == PROGRESS).execute()
            else:
                raw = Setting.get_value(INTERRUPTED_AT)
    try:
        found = json.loads(raw) if raw else None
    except ValueError:
        return None
    return found if isinstance(found, dict) and isinstance(found.get("screening"), str) else None


def drop_interrupted() -> None:
    with db.connection_context():
        with write_transaction():
            Setting.delete().where(Setting.key == INTERRUPTED_AT).execute()
