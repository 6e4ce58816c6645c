"""The tally: configurable categories, append-only taps (±1) with derived counts, and headcounts.

A tap is acknowledged only after its transaction commits (SQLite WAL, synchronous=FULL), and
the check "this would not go below zero" runs under the write lock, so two phones cannot both
take away the last person of a category.
"""
import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from peewee import fn

from ..db import insert_row, statement, write_transaction
from ..errors import AppError
from ..ids import from_iso, new_id, utcnow
from ..models import DEFAULT_CATEGORIES, Headcount, Outbox, Participant, Screening, Setting, TallyEvent, db

CATEGORIES_KEY = "tally_categories"
CATEGORY_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_CATEGORIES = 8
HEADCOUNT_KINDS = ("start", "end")
MAX_HEADCOUNT = 100_000
# A phone's clock may be far off (a cheap phone after a flat battery says 2015). A queued tap can
# legitimately arrive hours late, so only times outside this window are replaced by the receipt.
AT_PAST_LIMIT = dt.timedelta(days=7)
AT_FUTURE_LIMIT = dt.timedelta(minutes=2)


class AttendanceError(AppError):
    """A refused count, headcount or sign-in (nothing was written); each kind has its status."""
    status = 400

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(type(self).status, code, message, field)


class Invalid(AttendanceError):
    status = 400


class NotFound(AttendanceError):
    status = 404


class Conflict(AttendanceError):
    status = 409


@dataclass
class Written:
    """The answer to a write: the record id, whether it was already stored, and the state after."""
    id: str
    duplicate: bool
    counts: dict = field(default_factory=dict)
    headcounts: dict = field(default_factory=dict)
    taps: int | None = None     # taps stored for the screening when `counts` was read (see counts_and_taps)


# --- categories -------------------------------------------------------------------------------

def categories() -> list[str]:
    """The categories the crew counts, in button order (Setting "tally_categories", comma-separated)."""
    raw = Setting.get_value(CATEGORIES_KEY)
    if not raw:
        return list(DEFAULT_CATEGORIES)
    return [c for c in raw.split(",") if c]


def set_categories(names) -> list[str]:
    """Replace the categories; taps already made in other categories stay counted."""
    cleaned = []
    for name in names:
        name = name.strip().lower()
        if not CATEGORY_NAME.match(name):
            raise Invalid("invalid", f"category {name!r}: use 1 to 32 lower-case letters, digits, - or _, "
                          "starting with a letter", field="categories")
        if name not in cleaned:
            cleaned.append(name)
    if not 1 <= len(cleaned) <= MAX_CATEGORIES:
        raise Invalid("invalid", f"give 1 to {MAX_CATEGORIES} categories", field="categories")
    with db.atomic():
        Setting.put(CATEGORIES_KEY, ",".join(cleaned))
    return cleaned


def reset_categories() -> list[str]:
    with db.atomic():
        Setting.delete().where(Setting.key == CATEGORIES_KEY).execute()
    return list(DEFAULT_CATEGORIES)


# --- reads --------------------------------------------------------------------------------------

def counts(screening_id: str, names: list[str] | None = None) -> dict[str, int]:
    """Category -> count, derived from the taps; every configured category is present."""
    return counts_and_taps(screening_id, names)[0]


def counts_and_taps(screening_id: str, names: list[str] | None = None) -> tuple[dict[str, int], int]:
    """The counts and, read with them, how many taps the screening has stored. Taps are only ever
    added, so that number orders two answers about one screening: the one with more taps is newer
    (a phone uses it so a late answer cannot replace a fresher one)."""
    out = {name: 0 for name in (names if names is not None else categories())}
    sql = statement("counts", lambda: TallyEvent.select(TallyEvent.category, fn.SUM(TallyEvent.delta).alias("n"),
                                                   fn.COUNT(TallyEvent.id).alias("taps"))
               .where(TallyEvent.screening == "?").group_by(TallyEvent.category))
    taps = 0
    for category, n, k in db.execute_sql(sql, (screening_id,)).fetchall():
        taps += int(k or 0)
        # a category dropped from the settings keeps its count rather than vanishing from reports
        if category in out or n:
            out[category] = int(n or 0)
    return out, taps


def headcounts(screening_id: str) -> dict[str, dict | None]:
    """"start"/"end" -> the latest snapshot {"count", "at"} or None."""
    out = {kind: None for kind in HEADCOUNT_KINDS}
    rows = (Headcount.select().where(Headcount.screening == screening_id)
            .order_by(Headcount.at, Headcount.created_at, Headcount.id))
    for row in rows:
        out[row.kind] = {"count": row.count, "at": row.to_wire()["at"]}
    return out


def participants_count(screening_id: str) -> int:
    return Participant.select().where(Participant.screening == screening_id).count()


def state(screening_id: str) -> dict:
    """What every crew phone shows: counts, their total, headcounts and participants."""
    c, taps = counts_and_taps(screening_id)
    return {"screening": screening_id, "counts": c, "total": sum(c.values()), "taps": taps,
            "headcounts": headcounts(screening_id), "participants": participants_count(screening_id)}


# --- input checks (before any transaction) -------------------------------------------------------

def parse_id(value, field_name: str = "id") -> str:
    """The client's own UUID for a record (any version; phones make v4), or a new UUIDv7."""
    if value is None:
        return new_id()
    if not isinstance(value, str):
        raise Invalid("invalid", f"{field_name} must be a UUID string", field=field_name)
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise Invalid("invalid", f"{field_name} {value[:60]!r} is not a UUID", field=field_name) from None


def parse_at(value, received: dt.datetime, name: str = "at") -> dt.datetime:
    """The phone's time of the event (UTC ISO 8601); absurd clocks give way to the receipt time."""
    if value is None:
        return received
    if not isinstance(value, str):
        raise Invalid("invalid", f"{name} must be a UTC ISO 8601 time like 2026-11-23T13:05:00Z", field=name)
    try:
        at = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("invalid", f"{name} {value[:40]!r} is not an ISO 8601 time", field=name) from None
    if at.tzinfo is None:
        raise Invalid("invalid", f"{name} needs a time zone: end it with Z (UTC)", field=name)
    try:
        at = from_iso(at.isoformat())
    except (OverflowError, ValueError):      # year 1 at +14:00 has no UTC instant
        raise Invalid("invalid", f"{name} {value[:40]!r} is out of range", field=name) from None
    if not (received - AT_PAST_LIMIT <= at <= received + AT_FUTURE_LIMIT):
        return received
    return at


def parse_delta(value) -> int:
    # bool is an int in Python: `true` must not count as a tap
    if isinstance(value, bool) or not isinstance(value, int) or value not in (1, -1):
        raise Invalid("invalid", "delta must be 1 or -1", field="delta")
    return value


def parse_device(value) -> str:
    if value is None:
        return ""
    # a NUL is not part of any name, and the hub's database refuses it: refused here, at the source
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        raise Invalid("invalid", "device must be text of at most 64 characters", field="device")
    return value.strip()


def get_screening(screening_id: str) -> Screening:
    s = Screening.get_or_none(Screening.id == screening_id)
    if s is None:
        raise NotFound("not_found", f"No screening {screening_id}.", field="screening")
    return s


def check_writable(s: Screening) -> None:
    # Done screenings stay open for late corrections (a crew member who finds a miscount at the
    # van); a cancelled one did not happen, so nobody was there to count.
    if s.status == "cancelled":
        raise Conflict("screening_cancelled", "This screening was cancelled: no counts can be added.",
                       field="screening")


def _screening_row(screening_id: str):
    """What a write to one screening locks on PostgreSQL: taps of two phones are one after the other."""
    return Screening.select(Screening.id).where(Screening.id == screening_id)


# --- writes -------------------------------------------------------------------------------------

def _tap_settings() -> tuple[list[str], str]:
    """Categories and van id in one read: a tap's path is kept short for crowded nights."""
    sql = statement("settings", lambda: Setting.select(Setting.key, Setting.value)
               .where(Setting.key.in_([CATEGORIES_KEY, "van_id"])))
    values = dict(db.execute_sql(sql, (CATEGORIES_KEY, "van_id")).fetchall())
    raw = values.get(CATEGORIES_KEY)
    names = [c for c in raw.split(",") if c] if raw else list(DEFAULT_CATEGORIES)
    return names, values.get("van_id") or ""


def record_tap(screening_id: str, category, delta, tap_id=None, at=None, device=None,
               received: dt.datetime | None = None) -> Written:
    """Store one tap once. A retry with the same id (same content) is answered, not stored again."""
    received = received or utcnow()
    if category is None:
        raise Invalid("missing", "category is required", field="category")
    if delta is None:
        raise Invalid("missing", "delta is required (1 or -1)", field="delta")
    tap_id = parse_id(tap_id)
    delta = parse_delta(delta)
    at = parse_at(at, received)
    device = parse_device(device)
    if not isinstance(category, str) or not category:
        raise Invalid("invalid", "category must be one of the tally's categories", field="category")
    with write_transaction(_screening_row(screening_id)):
        names, van = _tap_settings()
        status = db.execute_sql(statement("status", lambda: Screening.select(Screening.status)
                                     .where(Screening.id == "?")), (screening_id,)).fetchone()
        if status is None:
            raise NotFound("not_found", f"No screening {screening_id}.", field="screening")
        # Checked before anything else: a retry of a stored tap is answered even if the count or
        # the screening has moved on since (a retried -1 must not be refused as "below zero").
        existing = db.execute_sql(statement("tap", lambda: TallyEvent.select(
            TallyEvent.screening, TallyEvent.category, TallyEvent.delta).where(TallyEvent.id == "?")),
            (tap_id,)).fetchone()
        now, taps = counts_and_taps(screening_id, names)
        if existing is not None:
            if tuple(existing) != (screening_id, category, delta):
                raise Conflict("conflict", f"Tap {tap_id} was already stored with other content.", field="id")
            return Written(tap_id, True, now, taps=taps)
        if status[0] == "cancelled":
            raise Conflict("screening_cancelled", "This screening was cancelled: no counts can be added.",
                           field="screening")
        if category not in names:
            raise Invalid("invalid", f"Unknown category {category[:40]!r}; counted here: "
                          + ", ".join(names), field="category")
        if now.get(category, 0) + delta < 0:
            raise Conflict("negative_count", f"The {category} count is already 0: nothing to take away.",
                           field="delta")
        # What save_change(force_insert=True) does — the row, then its one outbox row, in this
        # transaction — with statements built once (building them was half a tap's Python time).
        insert_row(TallyEvent, id=tap_id, screening=screening_id, category=category, delta=delta, at=at,
                device=device, van=van, created_at=received, updated_at=received)
        insert_row(Outbox, model="TallyEvent", record_id=tap_id)
        now[category] = now.get(category, 0) + delta   # we hold the write lock: nobody else changed it
        taps += 1
    return Written(tap_id, False, now, taps=taps)  # only now: the commit has returned


def record_headcount(screening_id: str, kind, count, record_id=None, at=None,
                     received: dt.datetime | None = None) -> Written:
    """A snapshot of how many people stand there at the start or the end; the latest one counts."""
    received = received or utcnow()
    record_id = parse_id(record_id)
    at = parse_at(at, received)
    if kind not in HEADCOUNT_KINDS:
        raise Invalid("invalid", "kind must be start or end", field="kind")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_HEADCOUNT:
        raise Invalid("invalid", f"count must be a whole number from 0 to {MAX_HEADCOUNT}", field="count")
    with write_transaction(_screening_row(screening_id)):
        s = get_screening(screening_id)
        existing = Headcount.get_or_none(Headcount.id == record_id)
        if existing is not None:
            if (existing.screening_id, existing.kind, existing.count) != (s.id, kind, count):
                raise Conflict("conflict", f"Headcount {record_id} was already stored with other content.",
                               field="id")
            return Written(record_id, True, headcounts=headcounts(s.id))
        check_writable(s)
        Headcount(id=record_id, screening=s.id, kind=kind, count=count, at=at, van=Setting.van_id(),
                  created_at=received, updated_at=received).save_change(force_insert=True)
        result = Written(record_id, False, headcounts=headcounts(s.id))
    return result
