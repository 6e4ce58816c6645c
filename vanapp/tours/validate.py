"""Checks across parsed tour files: one tour agreeing with itself, duplicates, villages,
refs against the catalogue, overlapping screenings of a van, screenings in the past.

Pure functions over parsed files and plain values; the importer feeds them the database's side.
"""
import datetime as dt
from dataclasses import dataclass, field

from .spec import Problem, check_slug, suggest


@dataclass
class MergedTour:
    """One tour as all the given files describe it."""
    id: str
    file: str
    line: int
    van: str = ""
    title: str = ""
    campaign: str = ""
    files: list = field(default_factory=list)
    screenings: list = field(default_factory=list)
    lines: dict = field(default_factory=dict)    # field -> (file, line) of its first value


@dataclass
class Catalog:
    """What programmes may name: media id -> kind, and game ids."""
    media: dict
    games: set
    retired: set = field(default_factory=set)   # media that left the catalogue

    def problem(self, item) -> str | None:
        if item.kind == "game":
            if item.ref in self.games:
                return None
            if item.ref in self.media:
                kind = self.media[item.ref]
                return f"'{item.ref}' is a {kind}, not a game: write {kind}:{item.ref}"
            return f"no game '{item.ref}'{suggest(item.ref, self.games)}" + self._hint(self.games, "games")
        if item.ref in self.media:
            kind = self.media[item.ref]
            if item.ref in self.retired:
                return f"media item '{item.ref}' is no longer in the catalogue"
            if item.prefix != "media" and item.prefix != kind:
                return f"'{item.ref}' is a {kind}, not a {item.prefix}: write {kind}:{item.ref}"
            return None
        if item.ref in self.games:
            return f"'{item.ref}' is a game: write game:{item.ref}"
        return (f"no media item '{item.ref}' in the catalogue{suggest(item.ref, self.media)}"
                + self._hint(self.media, "media"))

    @staticmethod
    def _hint(known, what):
        if known:
            return ""
        return (" (no media is loaded yet: run `vanapp media scan` first)" if what == "media"
                else " (no games are loaded yet: run `vanapp games load` first)")


def merge_tours(parsed_files) -> tuple[dict, list]:
    """Tour id -> MergedTour from every file's claims and screenings; disagreements are errors."""
    tours, problems = {}, []
    for parsed in parsed_files:
        for claim in parsed.claims:
            if check_slug(claim.id, "tour"):
                continue                       # reported where it was read
            tour = tours.get(claim.id)
            if tour is None:
                tour = tours[claim.id] = MergedTour(claim.id, claim.file, claim.line)
            if claim.file not in tour.files:
                tour.files.append(claim.file)
            for name in ("van", "title", "campaign"):
                mine, theirs = getattr(claim, name), getattr(tour, name)
                if not mine:
                    continue
                if not theirs:
                    setattr(tour, name, mine)
                    tour.lines[name] = (claim.file, claim.lines.get(name, claim.line))
                elif mine != theirs:
                    where = "%s:%s" % tour.lines[name]
                    problems.append(Problem(claim.file, claim.lines.get(name, claim.line), name, (
                        f"tour '{claim.id}' has {name} '{mine}' here but '{theirs}' at {where}; "
                        "one tour has one van, title and campaign")))
        for spec in parsed.screenings:
            if spec.tour in tours:
                tours[spec.tour].screenings.append(spec)
    return tours, problems


def duplicates(tours) -> list:
    """The same tour, date and village listed twice; one village written two ways."""
    problems, seen, villages = [], {}, {}
    for tour in tours.values():
        for spec in tour.screenings:
            if not spec.complete:
                continue
            key = (tour.id, spec.date, spec.village_en.casefold())
            if key in seen:
                other = seen[key]
                problems.append(Problem(spec.file, spec.line, "screening", (
                    f"the screening in {spec.village_en} on {spec.date} of tour '{tour.id}' "
                    f"is already listed at {other.file}:{other.line}")))
            else:
                seen[key] = spec
            place = (spec.district, spec.block, spec.village_en)
            first = villages.setdefault(place, spec)
            if spec.village and first.village and spec.village != first.village:
                problems.append(Problem(spec.file, spec.line_of("village"), "village", (
                    f"{spec.village_en} ({spec.block}, {spec.district}) is written "
                    f"'{spec.village}' here but '{first.village}' at {first.file}:{first.line}")))
    return problems


def check_refs(parsed_files, catalog: Catalog) -> list:
    problems = []
    for parsed in parsed_files:
        for use in parsed.refs:
            message = catalog.problem(use.item)
            if message:
                problems.append(Problem(use.file, use.line, use.field, message))
    return problems


def in_the_past(specs, tz, now: dt.datetime) -> list:
    return [Problem(spec.file, spec.line_of("date"), "date",
                    f"{spec.date} {spec.start} is in the past", "warning")
            for spec in specs if spec.complete and spec.starts_at(tz) < now]


@dataclass
class Window:
    """A van busy from `start` to `end` (UTC); `spec` is set when it comes from a file."""
    van: str
    start: dt.datetime
    end: dt.datetime
    label: str
    spec: object = None
    where: str = ""


def overlaps(windows) -> list:
    """A van gives one show at a time: every pair of its windows that overlap, once.

    Pairs where neither side comes from the files are the database's business, not this import's.
    """
    problems, by_van = [], {}
    for w in windows:
        by_van.setdefault(w.van, []).append(w)
    for van, items in by_van.items():
        items.sort(key=lambda w: (w.start, w.spec is None))
        active = []
        for w in items:
            active = [a for a in active if a.end > w.start]
            for a in active:
                if a.spec is None and w.spec is None:
                    continue
                here, other = (w, a) if w.spec is not None else (a, w)
                there = (f"{other.spec.file}:{other.spec.line}" if other.spec is not None
                         else other.where)
                problems.append(Problem(here.spec.file, here.spec.line_of("start"), "start", (
                    f"{van} would be at {here.label} and at {other.label} ({there}) at the "
                    "same time; each show lasts its duration (default 120 minutes)")))
            active.append(w)
    return problems


def window_for(spec, van, tz) -> Window:
    start = spec.starts_at(tz)
    return Window(van, start, start + dt.timedelta(minutes=spec.duration),
                  f"{spec.village_en} {spec.date} {spec.start}", spec=spec)
