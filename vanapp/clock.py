"""Is the laptop's clock right? Every tap, play and vote is stamped with it, so a clock that a flat
CMOS battery reset to 2019, or one an hour off, would put a night's records on the wrong day with
nobody noticing. Two honest signs, no network needed for the second:

* the hub's clock, read at each sync (`note_hub_time`): the difference is kept;
* the newest change this van made (its outbox): the clock is now earlier than that, so it went
  backwards.

`problems()` lists what is wrong, for the console to show; nothing is changed or guessed."""
import datetime as dt
import json

from .ids import from_iso, to_iso, utcnow

OFFSET_KEY = "clock_offset"
TOLERANCE = dt.timedelta(minutes=10)     # more than this off the hub's clock is worth saying
EARLIEST = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)   # a clock before this was reset


def note_hub_time(server_time: str, sent_at: dt.datetime, answered_at: dt.datetime) -> None:
    """Keep how far the hub's clock (read between `sent_at` and `answered_at`) is from ours."""
    from .models import Setting, db
    try:
        hub = from_iso(server_time)
    except (TypeError, ValueError):
        return
    middle = sent_at + (answered_at - sent_at) / 2
    offset = (hub - middle).total_seconds()
    known = hub_offset()
    if known is not None and abs(known["offset"] - offset) < 1.0:
        return                  # the same as last time: no write (a sync with nothing new stays cheap)
    with db.atomic():
        Setting.put(OFFSET_KEY, json.dumps({"offset": round(offset, 1), "at": to_iso(answered_at)}))


def hub_offset() -> dict | None:
    """{"offset": seconds the hub's clock is ahead of ours, "at": when we read it} or None."""
    from .models import Setting
    try:
        value = json.loads(Setting.get_value(OFFSET_KEY) or "null")
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("offset"), (int, float)) else None


RECENT_CHANGES = 1000     # how far back the outbox is read for the newest local change


def newest_record() -> dt.datetime | None:
    """When this van last wrote something (a tap, a play, a vote...) by its own clock: the latest
    time among its last RECENT_CHANGES outbox rows (read by the indexed seq, so the Today page
    stays quick however many taps the laptop holds; a clock turned back shows as rows stamped
    later than now)."""
    from .models import Outbox, db
    recent = Outbox.select(Outbox.created_at).order_by(Outbox.seq.desc()).limit(RECENT_CHANGES)
    value = db.execute_sql(f'SELECT MAX("created_at") FROM ({recent.sql()[0]}) AS recent',
                           recent.sql()[1]).fetchone()[0]
    return from_iso(value) if isinstance(value, str) else value


def problems(now: dt.datetime | None = None) -> list[dict]:
    """What looks wrong with the clock: [{"kind": "reset" | "behind_records" | "off_hub", ...}]."""
    now = now or utcnow()
    out = []
    if now < EARLIEST:
        out.append({"kind": "reset", "now": to_iso(now)})
    newest = newest_record()
    if newest is not None and now < newest - dt.timedelta(minutes=5):
        out.append({"kind": "behind_records", "now": to_iso(now), "newest": to_iso(newest)})
    hub = hub_offset()
    if hub is not None and abs(hub["offset"]) > TOLERANCE.total_seconds():
        out.append({"kind": "off_hub", "minutes": round(hub["offset"] / 60), "at": hub.get("at")})
    return out
