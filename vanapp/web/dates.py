"""Dates and times on screen, in the page's language and with the weekday ("सोमवार 7 दिसंबर
2026", "Mon 7 Dec 2026, 18:30"), through Flask-Babel in the page's locale; and the fields a crew member
picks a date or a time with, which read the same way (a browser's date input shows mm/dd/yyyy
whatever the page's language).

Storage and the wire keep ISO dates and UTC instants; only templates call these."""
import datetime as dt

from babel.dates import get_month_names
from flask import current_app
from flask_babel import format_date, get_locale

from .. import localtime

DAY = "EEEE d MMMM y"            # Monday 7 December 2026 / सोमवार 7 दिसंबर 2026
SHORT_DAY = "EEE d MMM"          # Mon 7 Dec / सोम 7 दिस॰
SHORT_DAY_YEAR = "EEE d MMM y"


def _as_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _zone() -> str:
    return current_app.config.get("TIMEZONE") or "Asia/Kolkata"


def _as_local(value) -> dt.datetime | None:
    """A stored instant (aware datetime, or ISO text with Z) in VANAPP_TIMEZONE (localtime.py)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    try:
        return localtime.local(value, _zone())
    except ValueError:
        return None


def day(value, short=False) -> str:
    """A date with its weekday: "सोमवार 7 दिसंबर 2026"; short: "सोम 7 दिस॰ 2026"."""
    d = _as_date(value)
    if d is None:
        return "" if value in (None, "") else str(value)
    return format_date(d, SHORT_DAY_YEAR if short else DAY)


def short_day(value) -> str:
    """A date this year or next, in a list: "सोम 7 दिस॰"."""
    d = _as_date(value)
    return format_date(d, SHORT_DAY) if d else ("" if value in (None, "") else str(value))


def when(value, seconds=False) -> str:
    """A stored instant as local weekday, date and time: "सोम 7 दिस॰ 2026, 18:30"."""
    local = _as_local(value)
    if local is None:
        return "—"
    naive = local.replace(tzinfo=None)        # already local: Babel must not move it again
    return f"{format_date(naive.date(), SHORT_DAY_YEAR)}, {naive:%H:%M:%S}" if seconds else \
        f"{format_date(naive.date(), SHORT_DAY_YEAR)}, {naive:%H:%M}"


def clock(value, seconds=False) -> str:
    """A stored instant's local time of day only: "18:30" (the date is said elsewhere)."""
    local = _as_local(value)
    return "—" if local is None else local.strftime("%H:%M:%S" if seconds else "%H:%M")


def mmss(ms) -> str:
    """A length or a position as minutes and seconds: 1:05 (no unit to translate)."""
    seconds = max(int(ms or 0), 0) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def month_names() -> list[tuple[int, str]]:
    """(1, "जनवरी") ... (12, "दिसंबर") in the page's language, for a date field."""
    names = get_month_names("wide", locale=str(get_locale() or "hi"))
    return [(n, names[n]) for n in range(1, 13)]


def date_parts(value) -> dict:
    d = _as_date(value)
    return {"day": d.day, "month": d.month, "year": d.year} if d else {"day": None, "month": None, "year": None}


def init_app(app):
    env = app.jinja_env
    # local_time: the one filter for a stored instant on a page (weekday, date, time)
    env.filters.update(day=day, short_day=short_day, local_time=when, clock=clock, mmss=mmss)
    env.globals.update(month_names=month_names, date_parts=date_parts, local_today=local_today)


def local_today() -> dt.date:
    return localtime.now(_zone()).date()


def from_fields(args, name: str) -> str | None:
    """The ISO date a date field sent: `name` itself, or its three parts (`name_day`,
    `name_month`, `name_year`) when a browser without script sent only those. A part that is
    not a number gives the text as sent, for the caller's own error; all three empty, ""."""
    if f"{name}_year" not in args:
        return args.get(name)
    parts = [args.get(f"{name}_{p}", "").strip() for p in ("year", "month", "day")]
    if not any(parts):
        return ""
    if not all(p.isdigit() for p in parts):
        return "-".join(parts)
    year, month, day_ = (int(p) for p in parts)
    return f"{year:04d}-{month:02d}-{day_:02d}"
