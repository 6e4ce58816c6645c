"""What a tour file says, once parsed: tours, screenings, programme refs and the problems found.

The YAML and CSV readers both produce these, so every check after parsing is written once.
Nothing here touches the database or Flask.
"""
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")   # spreadsheets may add :00 seconds
REF = re.compile(r"^(?P<prefix>[^:@\s]+):(?P<ref>[^:@\s]+)(?:@(?P<phase>[^:@\s]*))?$")
ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MEDIA_PREFIXES = ("psa", "film", "song", "sound", "media")
PREFIXES = MEDIA_PREFIXES + ("game",)
PHASES = ("before", "after")
DEFAULT_DURATION = 120
MAX_DURATION = 12 * 60

# Fields of one screening, as both formats name them.
SCREENING_REQUIRED = ("date", "start", "village", "village_en", "block", "district", "programme")
SCREENING_OPTIONAL = ("notes", "duration")


@dataclass
class Problem:
    """An error or warning about a place in a file: FILE:LINE: field: message."""
    file: str
    line: int
    field: str
    message: str
    level: str = "error"

    def __str__(self):
        tag = "warning: " if self.level == "warning" else ""
        return f"{self.file}:{self.line}: {self.field}: {tag}{self.message}"

    def as_dict(self):
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class ItemRef:
    """One programme item as written: `psa:ring-the-bell`, `game:attitude@before`."""
    prefix: str
    ref: str
    phase: str = ""

    @property
    def kind(self):
        return "game" if self.prefix == "game" else "media"

    @property
    def label(self):
        return f"{self.prefix}:{self.ref}" + (f"@{self.phase}" if self.phase else "")


@dataclass
class RefUse:
    """Where a ref was written, so an unknown film is reported once, at its own line."""
    item: ItemRef
    file: str
    line: int
    field: str


@dataclass
class TourClaim:
    """What one YAML document or one CSV row says about its tour (checked for agreement)."""
    id: str
    file: str
    line: int
    van: str = ""
    title: str = ""
    campaign: str = ""
    lines: dict = field(default_factory=dict)   # field -> line


@dataclass
class ScreeningSpec:
    tour: str
    file: str
    line: int
    date: str = ""
    start: str = ""
    village: str = ""
    village_en: str = ""
    block: str = ""
    district: str = ""
    programme: str = ""               # the programme's name (YAML); "" when items are inline
    items: list = field(default_factory=list)
    notes: str = ""
    duration: int = DEFAULT_DURATION
    complete: bool = True             # False when date/start/village are unusable
    lines: dict = field(default_factory=dict)

    @property
    def key(self):
        return f"{self.date}/{self.village_en}"

    def line_of(self, name):
        return self.lines.get(name, self.line)

    def starts_at(self, tz) -> dt.datetime:
        """The local date and start in `tz` (a tzinfo) as an aware UTC datetime."""
        local = dt.datetime.combine(dt.date.fromisoformat(self.date),
                                    dt.time.fromisoformat(self.start), tzinfo=tz)
        return local.astimezone(dt.timezone.utc)


@dataclass
class ParsedFile:
    name: str
    claims: list = field(default_factory=list)
    screenings: list = field(default_factory=list)
    refs: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    sha256: str = ""


def suggest(word, choices) -> str:
    """' (did you mean 'x'?)' for a likely typo, else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def clean(value) -> str:
    """Cell or scalar text with outer space trimmed and inner runs of space made one."""
    return " ".join(str(value).split()) if value is not None else ""


def check_slug(value, what):
    if not value:
        return "is missing"
    if not SLUG.match(value):
        return (f"'{value}' is not a valid {what} id: use lower-case letters, digits and "
                "hyphens, e.g. barabanki-2026-12")
    return None


def check_date(value):
    """None if `value` is a real YYYY-MM-DD date, else what is wrong with it."""
    if not DATE.match(value):
        return f"'{value}' is not a date: write YYYY-MM-DD, e.g. 2026-12-03"
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return f"'{value}' is not a real date"
    return None


def normalise_time(value):
    """('HH:MM', None) for a 24-hour time like 18:30 or 9:05, else (None, why not)."""
    m = TIME.match(value)
    if not m:
        return None, f"'{value}' is not a time: write HH:MM on the 24-hour clock, e.g. 18:30"
    hours, minutes = int(m.group(1)), int(m.group(2))
    if hours > 23 or minutes > 59:
        return None, f"'{value}' is not a time of day (00:00 to 23:59)"
    return f"{hours:02d}:{minutes:02d}", None


def parse_duration(value):
    """(minutes, None) or (None, why not); empty means the default."""
    if value in ("", None):
        return DEFAULT_DURATION, None
    if not str(value).isdigit() or not 0 < int(value) <= MAX_DURATION:
        return None, f"'{value}' is not a duration: give whole minutes from 1 to {MAX_DURATION}"
    return int(value), None


def parse_ref(text):
    """(ItemRef, None) or (None, why it is not a programme item)."""
    m = REF.match(text)
    if not m:
        return None, (f"'{text}' is not a programme item: write KIND:ID, "
                      "e.g. psa:ring-the-bell or game:pledge")
    prefix, ref, phase = m.group("prefix"), m.group("ref"), m.group("phase")
    if prefix not in PREFIXES:
        return None, (f"unknown kind '{prefix}' in '{text}'{suggest(prefix, PREFIXES)}: "
                      f"use one of {', '.join(PREFIXES)}")
    if not ID.match(ref):
        return None, f"'{ref}' in '{text}' is not an id: use lower-case letters, digits and hyphens"
    if phase is not None:
        if prefix != "game":
            return None, f"'{text}': @before/@after is only for games (a poll asked twice)"
        if phase not in PHASES:
            return None, f"'{text}': the phase must be @before or @after{suggest(phase, PHASES)}"
    return ItemRef(prefix, ref, phase or ""), None


def split_refs(text):
    """A programme written as one text: items separated by spaces (or commas)."""
    return [part for part in re.split(r"[\s,]+", text) if part]


def parse_refs(words, file, line_of, field_name, parsed: ParsedFile):
    """Parse each ref; record problems and uses in `parsed`; return the valid items.

    `line_of(i)` gives the line of the i-th word (block lists put each on its own line).
    """
    items = []
    for i, word in enumerate(words):
        item, problem = parse_ref(word)
        if problem:
            parsed.problems.append(Problem(file, line_of(i), field_name, problem))
            continue
        items.append(item)
        parsed.refs.append(RefUse(item, file, line_of(i), field_name))
    return items


def screening_fields(values: dict, spec: ScreeningSpec, parsed: ParsedFile):
    """Check and copy the common screening fields (all but programme) from text values."""
    def fail(name, message):
        parsed.problems.append(Problem(spec.file, spec.line_of(name), name, message))

    for name in SCREENING_REQUIRED:
        if name != "programme" and not values.get(name):
            fail(name, "is missing" if name not in values else "is empty")
            if name in ("date", "start", "village_en"):
                spec.complete = False
    spec.village, spec.village_en = values.get("village", ""), values.get("village_en", "")
    spec.block, spec.district = values.get("block", ""), values.get("district", "")
    spec.notes = values.get("notes", "")
    if values.get("date"):
        problem = check_date(values["date"])
        if problem:
            fail("date", problem)
            spec.complete = False
        spec.date = values["date"]
    if values.get("start"):
        start, problem = normalise_time(values["start"])
        if problem:
            fail("start", problem)
            spec.complete = False
        spec.start = start or values["start"]
    duration, problem = parse_duration(values.get("duration", ""))
    if problem:
        fail("duration", problem)
    spec.duration = duration or DEFAULT_DURATION
