"""A tour as an iCalendar file for crew phones: one event per screening, built with `icalendar`.

A phone keeps an event it has seen unless the new copy says it changed: a higher SEQUENCE, and a
newer DTSTAMP/LAST-MODIFIED. A screening changes in two ways: the hub's plan (a new version of
the Screening row, from a re-import or a sync) and the crew's own cancel, reschedule or reopen
on this laptop, which travel as ScreeningEvents and leave the plan's version alone
(tours/lifecycle.py). Both count.
"""
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
from peewee import fn

from ..ids import from_iso
from ..models import Game, MediaItem, ScreeningEvent, Tour
from . import queries

PRODID = "-//VanKit//Tour calendar//EN"
# What the crew does that a calendar shows: the status (CANCELLED/CONFIRMED) or the time.
CALENDAR_EVENTS = ("cancelled", "rescheduled", "reopened")


def _identity(text):
    return text


def _titles():
    titles = {m.id: (m.title_hi, m.title_en) for m in MediaItem.select()}
    titles.update({g.id: (g.title_hi, g.title_en) for g in Game.select()})
    return titles


def _description(s, tour, items, titles, _):
    lines = [_("Tour: %(tour)s") % {"tour": tour.title or tour.id}]
    if s.status == "cancelled":
        lines.append(_("Cancelled") + (f": {s.status_reason}" if s.status_reason else ""))
    lines.append(_("Programme:"))
    for n, item in enumerate(items, start=1):
        hi, en = titles.get(item.ref, ("", ""))
        name = " / ".join(t for t in (hi, en) if t) or item.ref
        lines.append(f"{n}. {name} ({item.label})")
    if s.notes:
        lines.append(_("Notes: %(notes)s") % {"notes": s.notes})
    return "\n".join(lines)


def _crew_changes(screening_ids) -> dict[str, tuple[int, dt.datetime]]:
    """screening id -> (how many calendar changes the crew made, when the last was recorded)."""
    if not screening_ids:
        return {}
    rows = (ScreeningEvent.select(ScreeningEvent.screening, fn.COUNT(ScreeningEvent.id),
                                  fn.MAX(ScreeningEvent.created_at))
            .where(ScreeningEvent.screening.in_(screening_ids) & ScreeningEvent.kind.in_(CALENDAR_EVENTS))
            .group_by(ScreeningEvent.screening).tuples())
    # peewee converts MAX(created_at) back with the field's own converter; text if it does not
    return {sid: (count, from_iso(last) if isinstance(last, str) else last) for sid, count, last in rows}


def revision(s, changes) -> tuple[int, dt.datetime]:
    """The screening's SEQUENCE and its last change time: the plan's version (0 when first
    imported) plus the crew's changes; the later of the plan's and the crew's change times."""
    count, last = changes.get(s.id, (0, None))
    changed = s.updated_at if last is None else max(s.updated_at, last)
    return max(s.version - 1, 0) + count, changed.astimezone(dt.timezone.utc)


def build_calendar(tour, screenings, tz: str, gettext=None) -> icalendar.Calendar:
    """The calendar of `tour` with its `screenings` (Screening rows with village joined).

    `gettext` translates the few labels (the web passes the crew's language); times are
    local to `tz` with a VTIMEZONE so phones show the screening's own clock time.
    """
    _ = gettext or _identity
    zone = ZoneInfo(tz)
    titles = _titles()
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", tour.title or tour.id)
    cal.add("x-wr-timezone", tz)
    # Always present, so even a tour with no screening yet is a calendar a phone accepts.
    cal.add_component(icalendar.Timezone.from_tzid(tz))
    changes = _crew_changes([s.id for s in screenings])
    for s in screenings:
        v = s.village
        start = s.starts_at.astimezone(zone)
        event = icalendar.Event()
        event.add("uid", f"{s.id}@vankit")
        # The screening's own change time, not now: an unchanged tour exports the same bytes.
        sequence, changed = revision(s, changes)
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        event.add("sequence", sequence)
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(minutes=s.duration_min))
        event.add("summary", _("Screening: %(village)s") % {"village": f"{v.name} ({v.name_en})"})
        event.add("location", ", ".join(p for p in (f"{v.name} ({v.name_en})", v.block,
                                                      v.district) if p))
        event.add("description", _description(s, tour, list(queries.programme(s.id)), titles, _))
        event.add("status", "CANCELLED" if s.status == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    return cal


def tour_ics(tour_id: str, tz: str, gettext=None) -> bytes | None:
    """The .ics bytes of a tour, or None if there is no such tour. Needs an open connection."""
    tour = Tour.get_or_none(Tour.id == tour_id)
    if tour is None:
        return None
    return build_calendar(tour, list(queries.screenings(tour_id)), tz, gettext).to_ical()
