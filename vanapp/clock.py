"""Is the laptop's clock right? Every tap, play and vote is stamped with it, so a clock that a flat
CMOS battery reset to 2019, or one an hour off, would put a night's records on the wrong day with
nobody noticing. Two honest signs, no network needed for the second:

* the hub's clock, read at each sync (`note_hub_time`): the difference is kept;
* the newest record this van made: the clock is now earlier than that, so it went backwards.

`problems()` lists what is wrong, for the console to show; nothing is changed or guessed."""
import datetime as dt
import json

from peewee import fn

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


def newest_record() -> dt.datetime | None:
    """When this van last wrote a tap or a play-log row (by its own clock)."""
    from .models import PlayLog, TallyEvent
    newest = None
    for model in (TallyEvent, PlayLog):
        value = model.select(fn.MAX(model.created_at)).scalar()
        if isinstance(value, str):
            value = from_iso(value)
        if value is not None and (newest is None or value > newest):
            newest = value
    return newest


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
