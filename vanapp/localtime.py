"""Local time on screen: every time is stored and sent in UTC (ids.py); pages, the CLI and file
names show it in VANAPP_TIMEZONE, through these functions only."""
import datetime as dt
from zoneinfo import ZoneInfo

from .ids import from_iso, utcnow

SCREEN = "%Y-%m-%d %H:%M"


def local(when: dt.datetime | str, zone: str) -> dt.datetime:
    """A UTC instant (a datetime, or its ISO 8601 text) in the local zone."""
    if isinstance(when, str):
        when = from_iso(when)
    return when.astimezone(ZoneInfo(zone))


def now(zone: str) -> dt.datetime:
    return local(utcnow(), zone)


def text(when: dt.datetime | str | None, zone: str, fmt: str = SCREEN) -> str | None:
    """The local date and time as people read it ("2026-12-03 18:30"); None for no time."""
    if when is None or when == "":
        return None
    return local(when, zone).strftime(fmt)
