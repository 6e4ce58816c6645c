"""A screening's life on the van: planned → in progress → done (or marked held afterwards), or
cancelled with a reason, or rescheduled. Each change is a ScreeningEvent (van-owned, synced
through save_change) and the Screening's own status/date/time updated with it, in one short
transaction.

The Screening row is the hub's plan, so it is updated in place without an outbox entry; the
event is what travels, and the tour importer keeps what the crew did (see importer.py).
"""
import datetime as dt
import re
from zoneinfo import ZoneInfo

from ..db import is_sqlite, write_transaction
from ..errors import AppError
from ..ids import utcnow
from ..models import CANCEL_REASONS, Screening, ScreeningEvent, Setting, Village

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
EVENT_KINDS = ("started", "finished", "cancelled", "rescheduled", "reopened")   # ScreeningEvent.kind


class LifecycleError(AppError):
    """A refused change of a screening's status, date or time."""


def _get(screening_id: str) -> Screening:
    if is_sqlite():
        screening = Screening.get_or_none(Screening.id == screening_id)
    else:
        screening = (Screening.select().where(Screening.id == screening_id).for_update().first())
    if screening is None:
        raise LifecycleError(404, "not_found", f"No screening {screening_id}.", field="id")
    _refuse_other_van(screening)
    return screening


def _refuse_other_van(screening: Screening) -> None:
    """One laptop is one van: another van's screening is that van's to start, cancel or move.
    The hub refuses such a change (403 foreign_van), so the van refuses it here first, before
    anything is recorded, rather than hold a record it can never send."""
    from .identity import this_van
    mine = this_van().van
    planned_for = screening.van or (screening.tour.van if screening.tour_id else "")
    if mine and planned_for and planned_for != mine:
        raise LifecycleError(409, "other_van", (
            f"This screening is planned for {planned_for}, and this laptop is {mine}: only "
            f"{planned_for}'s crew can change it. Nothing was changed."), field="van", van=planned_for)


def _refuse(screening: Screening, action: str, allowed: tuple):
    if screening.status not in allowed:
        raise LifecycleError(409, "bad_status", (
            f"Cannot {action} a screening that is {screening.status.replace('_', ' ')} "
            f"(only {' or '.join(s.replace('_', ' ') for s in allowed)})."), field="status")


def _event(screening: Screening, kind: str, at: dt.datetime, **fields) -> ScreeningEvent:
    van = Setting.van_id() or screening.van
    event = ScreeningEvent(screening=screening.id, kind=kind, at=at, van=van, **fields)
    event.save_change(force_insert=True)
    return event


def _update(screening: Screening, **values):
    # The plan's version and updated_at stay the hub's: the van's change travels as the event.
    Screening.update(**values).where(Screening.id == screening.id).execute()
    for name, value in values.items():
        setattr(screening, name, value)


def start(screening_id: str, at: dt.datetime | None = None) -> ScreeningEvent:
    """planned → in progress. One screening at a time: another in progress must finish first."""
    at = at or utcnow()
    with write_transaction():
        screening = _get(screening_id)
        _refuse(screening, "start", ("planned",))
        other = (Screening.select(Screening.id, Screening.date, Village.name_en).join(Village)
                 .where((Screening.status == "in_progress") & (Screening.id != screening.id)
                        & (Screening.van == screening.van)).first())
        if other is not None:
            raise LifecycleError(409, "other_in_progress", (
                f"{other.village.name_en} ({other.date}) is still in progress: finish or cancel "
                "it first."), field="status")
        _update(screening, status="in_progress", status_reason="")
        return _event(screening, "started", at)


def finish(screening_id: str, at: dt.datetime | None = None) -> ScreeningEvent:
    """in progress → done."""
    at = at or utcnow()
    with write_transaction():
        screening = _get(screening_id)
        _refuse(screening, "finish", ("in_progress",))
        _update(screening, status="done")
        return _event(screening, "finished", at)


HELD_AFTERWARDS = "marked held afterwards"


def mark_held(screening_id: str, at: dt.datetime | None = None) -> ScreeningEvent:
    """planned or in progress → done, for a show that took place without being run on this
    laptop (or whose Finish was never pressed): the event says so, so the hub counts it held
    and knows nothing was played or counted through the app for it."""
    at = at or utcnow()
    with write_transaction():
        screening = _get(screening_id)
        _refuse(screening, "mark held", ("planned", "in_progress"))
        _update(screening, status="done", status_reason="")
        return _event(screening, "finished", at, reason=HELD_AFTERWARDS)


def cancel(screening_id: str, reason: str, text: str = "",
           at: dt.datetime | None = None) -> ScreeningEvent:
    """planned or in progress → cancelled, with a reason (rain, generator, no_audience, other)."""
    at = at or utcnow()
    reason = (reason or "").strip()
    text = (text or "").strip()
    if reason not in CANCEL_REASONS:
        raise LifecycleError(400, "bad_request", "reason must be one of: " + ", ".join(CANCEL_REASONS)
                             + ".", field="reason")
    if reason == "other" and not text:
        raise LifecycleError(400, "bad_request", "Say what happened when the reason is 'other'.",
                             field="text")
    if len(text) > 500:
        raise LifecycleError(400, "bad_request", "text must be at most 500 characters.", field="text")
    stored = f"{reason}: {text}" if text else reason
    with write_transaction():
        screening = _get(screening_id)
        _refuse(screening, "cancel", ("planned", "in_progress"))
        _update(screening, status="cancelled", status_reason=stored)
        return _event(screening, "cancelled", at, reason=stored)


def reschedule(screening_id: str, date: str, start_time: str, tz: str,
               at: dt.datetime | None = None) -> ScreeningEvent:
    """Move a planned (or cancelled: it is planned again) screening to another local date/time;
    refused if the van has another show then."""
    at = at or utcnow()
    date, start_time = (date or "").strip(), (start_time or "").strip()
    if not DATE.match(date):
        raise LifecycleError(400, "bad_request", "date must look like 2026-12-03.", field="date")
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise LifecycleError(400, "bad_request", f"{date} is not a date in the calendar.",
                             field="date") from None
    if not 2000 <= day.year <= 2100:
        raise LifecycleError(400, "bad_request", f"{date} is out of range: a screening date is "
                             "between 2000 and 2100.", field="date")
    if not TIME.match(start_time):
        raise LifecycleError(400, "bad_request", "start must be a time like 18:30.", field="start")
    hour, minute = map(int, start_time.split(":"))
    starts_at = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))
    with write_transaction():
        screening = _get(screening_id)
        _refuse(screening, "reschedule", ("planned", "cancelled"))
        ends_at = starts_at + dt.timedelta(minutes=screening.duration_min)
        clash = _clash(screening, starts_at, ends_at)
        if clash is not None:
            raise LifecycleError(409, "overlap", (
                f"The van already has {clash.village.name_en} on {clash.date} at {clash.start}; "
                "choose another time."), field="start")
        _update(screening, status="planned", status_reason="", date=date, start=start_time,
                starts_at=starts_at)
        return _event(screening, "rescheduled", at, new_date=date, new_start=start_time)


def _clash(screening: Screening, starts_at: dt.datetime, ends_at: dt.datetime):
    """Another live screening of the same van whose time overlaps [starts_at, ends_at)."""
    same_van = (Screening.van == screening.van) if screening.van else (Screening.tour == screening.tour)
    # Stored times are fixed-width UTC text, so the window test is done here in Python over
    # the candidates of the nearby days (a show lasts hours, not days).
    near = [(starts_at + dt.timedelta(days=d)).date().isoformat() for d in (-2, -1, 0, 1, 2)]
    candidates = (Screening.select(Screening, Village).join(Village)
                  .where(same_van & (Screening.id != screening.id)
                         & (Screening.status != "cancelled") & Screening.date.in_(near)))
    for other in candidates:
        other_end = other.starts_at + dt.timedelta(minutes=other.duration_min)
        if other.starts_at < ends_at and starts_at < other_end:
            return other
    return None
