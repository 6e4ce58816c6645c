"""Pre-flight: before the van leaves, is every item of the coming screenings present, intact
and playable? Each problem names the item, says what is wrong, and lists the screenings it hits.

Media: known to the catalogue, file present, checksum equal to the last scan's, and playable
in a libVLC probe. Games: loaded, and their content file present with the checksum recorded
when it was loaded. Each distinct file is hashed and probed once; a file whose size, change
time and inode are those of the last check keeps that check's checksum and probe (CheckCache),
so checking again with nothing changed takes a fraction of a second.
"""
import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..ids import utcnow
from ..models import Game, MediaItem, MediaScan, Screening
from ..tours import queries
from .catalog import CATALOG_NAME, read_catalog
from .files import FileState, read_state
from .probe import VLC_MISSING, Prober, ProbeResult, ProbeUnavailable
from .scan import not_as_catalogued

SKIPPED_STATUSES = ("cancelled", "done")  # the van has nothing left to show at these
CACHE_NAME = "preflight-cache.json"       # in the data dir: the last check of each file


def cache_path(data_dir) -> Path:
    return Path(data_dir) / CACHE_NAME


@dataclass
class Problem:
    ref: str                # how programmes name it: psa:ring-the-bell, game:bell-quiz
    kind: str               # media | game | system
    problem: str            # unknown | removed | missing | unreadable | not_scanned | changed | damaged
    #                         | unplayable | no_file | no_libvlc | catalog_broken
    message: str            # plain English, for the CLI
    title_hi: str = ""
    title_en: str = ""
    file: str = ""
    detail: str = ""        # libVLC's or the file system's own words
    screenings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"ref": self.ref, "kind": self.kind, "problem": self.problem,
                "message": self.message, "file": self.file, "detail": self.detail,
                "screenings": list(self.screenings)}


@dataclass
class ScreeningCheck:
    id: str
    date: str
    start: str
    village: str
    village_en: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    def label(self) -> str:
        name = self.village if self.village == self.village_en else f"{self.village} ({self.village_en})"
        return f"{self.date} {self.start} {name}"

    def to_dict(self) -> dict:
        return {"id": self.id, "date": self.date, "start": self.start, "village": self.village,
                "village_en": self.village_en, "ready": self.ready,
                "problems": [{"ref": p.ref, "problem": p.problem, "message": p.message}
                             for p in self.problems]}


@dataclass
class PreflightReport:
    days: int
    first_day: str
    last_day: str
    screenings: list[ScreeningCheck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    items_checked: int = 0
    checked_at: dt.datetime | None = None
    seconds: float = 0.0
    next_screening: ScreeningCheck | None = None    # the first one after the window, if any
    files_rechecked: int = 0                        # files hashed or probed afresh (not from the cache)

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def nothing_planned(self) -> bool:
        """Nothing to check in the window: not a "ready", which would prove nothing."""
        return not self.screenings

    def screening(self, screening_id: str) -> ScreeningCheck | None:
        return next((s for s in self.screenings if s.id == screening_id), None)

    def to_dict(self) -> dict:
        nxt = self.next_screening
        return {"ready": self.ready, "nothing_planned": self.nothing_planned, "days": self.days,
                "from": self.first_day, "to": self.last_day,
                "screenings": [s.to_dict() for s in self.screenings],
                "problems": [p.to_dict() for p in self.problems],
                "next": None if nxt is None else {"id": nxt.id, "date": nxt.date, "start": nxt.start,
                                                  "village": nxt.village, "village_en": nxt.village_en},
                "seconds": round(self.seconds, 2)}


class CheckCache:
    """The last check of each file: its checksum and probe, kept with the file's size, change
    times and inode in a JSON file in the data dir. An entry counts only while the file on
    disk still has that size, mtime, ctime and inode (a copy, an edit or a replacement changes
    one of them); anything else is hashed and probed again."""

    def __init__(self, path: Path | None):
        self.path, self.entries, self.dirty = path, {}, False
        if path is not None:
            try:
                loaded = json.loads(path.read_text())
                self.entries = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def stamp(path: Path) -> list | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]

    def get(self, rel: str, stamp: list | None) -> dict | None:
        entry = self.entries.get(rel)
        if stamp is None or not isinstance(entry, dict) or entry.get("stamp") != stamp:
            return None
        return entry

    def put(self, rel: str, stamp: list | None, **values) -> None:
        if stamp is None:
            return
        entry = self.entries.get(rel) if isinstance(self.entries.get(rel), dict) else {}
        if entry.get("stamp") != stamp:
            entry = {"stamp": stamp}
        entry.update(values)
        self.entries[rel] = entry
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self.entries))
            os.replace(tmp, self.path)      # whole or not at all: a reader never sees half
        except OSError:
            tmp.unlink(missing_ok=True)     # a cache that cannot be written only costs time


class _Checker:
    """Checks items once each, remembering file hashes and probes for this run (and, through
    the cache, from the last run for files that did not change)."""

    def __init__(self, media_dir: Path, prober_factory, cache: CheckCache):
        self.media_dir, self.prober_factory, self.cache = media_dir, prober_factory, cache
        self.prober = None
        self.states, self.probes, self.results, self.stamps = {}, {}, {}, {}
        self.fresh = set()                  # files hashed or probed in this run
        self.scans = {s.media_id: s for s in MediaScan.select()}

    def _stamp(self, rel: str):
        if rel not in self.stamps:
            self.stamps[rel] = self.cache.stamp(self.media_dir / rel)
        return self.stamps[rel]

    def state(self, rel: str):
        if rel not in self.states:
            stamp = self._stamp(rel)        # taken before reading: a change while hashing shows next time
            kept = self.cache.get(rel, stamp)
            if kept and kept.get("sha256") and os.path.isfile(self.media_dir / rel):
                self.states[rel] = FileState("ok", size=stamp[0], sha256=kept["sha256"])
            else:
                self.states[rel] = read_state(self.media_dir / rel, rel)
                self.fresh.add(rel)
                if self.states[rel].status == "ok":
                    self.cache.put(rel, stamp, sha256=self.states[rel].sha256)
        return self.states[rel]

    def probe(self, rel: str):
        if rel not in self.probes:
            kept = self.cache.get(rel, self._stamp(rel))
            if kept and "playable" in kept:
                self.probes[rel] = ProbeResult(kept["playable"], kept.get("duration_ms"), kept.get("error", ""))
            else:
                if self.prober is None:
                    self.prober = self.prober_factory()
                self.probes[rel] = result = self.prober.probe(self.media_dir / rel)
                self.fresh.add(rel)
                self.cache.put(rel, self._stamp(rel), playable=result.playable,
                               duration_ms=result.duration_ms, error=result.error)
        return self.probes[rel]

    def close(self):
        if self.prober is not None:
            self.prober.close()

    def check(self, kind: str, ref: str, prefix: str) -> list[Problem]:
        key = (kind, ref)
        if key not in self.results:
            self.results[key] = self._game(ref) if kind == "game" else self._media(ref, prefix)
        return self.results[key]

    def _media(self, ref: str, prefix: str) -> list[Problem]:
        item = MediaItem.get_or_none(MediaItem.id == ref)
        if item is None:
            return [Problem(f"{prefix}:{ref}", "media", "unknown",
                            f"{prefix}:{ref} is not in the media catalogue (media/catalog.yaml)")]
        name = f"{item.kind}:{ref}"
        title = f"{name} ({item.title_en or item.title_hi})"

        def problem(code, message, detail=""):
            return Problem(name, "media", code, f"{title}: {message}", item.title_hi,
                           item.title_en, item.file, detail)
        if not item.in_catalog:
            return [problem("removed", "it was removed from the media catalogue (media/catalog.yaml)")]
        state = self.state(item.file)
        if state.status == "missing":
            return [problem("missing", f"the file {item.file} is missing")]
        if state.status == "unreadable":
            return [problem("unreadable", f"the file {item.file} cannot be read", state.error)]
        found = []
        scan = self.scans.get(ref)
        if scan is None or not scan.sha256:
            found.append(problem("not_scanned", f"the file {item.file} has not been scanned, so "
                                 "nothing proves it is intact: run `vanapp media scan`"))
        elif scan.sha256 != state.sha256:
            found.append(problem("changed", f"the file {item.file} has changed since the last scan "
                                 "(its checksum differs): if the new file is right, run "
                                 "`vanapp media scan`", f"sha256 was {scan.sha256}, now {state.sha256}"))
        probed = self.probe(item.file) if state.size else None
        if probed is None or not probed.playable:
            detail = probed.error if probed else "the file is empty (0 bytes)"
            found.append(problem("unplayable", f"the file {item.file} does not play ({detail})", detail))
        else:
            damage = not_as_catalogued(item.expected_sha256, item.expected_ms, state.sha256, probed.duration_ms)
            if damage:
                found.append(problem("damaged", f"the file {item.file} is not the one the catalogue "
                                     f"describes: {damage}", damage))
        return found

    def _game(self, ref: str) -> list[Problem]:
        name = f"game:{ref}"
        game = Game.get_or_none(Game.id == ref)
        if game is None:
            return [Problem(name, "game", "unknown",
                            f"{name}: no such game is loaded: run `vanapp games load`")]
        title = f"{name} ({game.title_en or game.title_hi})"

        def problem(code, message, detail=""):
            return Problem(name, "game", code, f"{title}: {message}", game.title_hi, game.title_en,
                           game.file, detail)
        if not game.file:
            return [problem("no_file", "no content file is recorded for it: run `vanapp games load`")]
        state = self.state(game.file)
        if state.status == "missing":
            return [problem("missing", f"its file {game.file} is missing")]
        if state.status == "unreadable":
            return [problem("unreadable", f"its file {game.file} cannot be read", state.error)]
        if state.sha256 != game.sha256:
            return [problem("changed", f"its file {game.file} has changed since the games were "
                            "loaded: run `vanapp games load`",
                            f"sha256 was {game.sha256 or '—'}, now {state.sha256}")]
        return []


def coming_screenings(tz: str, days: int, today: dt.date | None = None, van: str | None = None):
    """The screenings still to do from today (local) for `days` days, today included."""
    today = today or queries.local_now(tz).date()
    last = today + dt.timedelta(days=days - 1)
    query = (queries.screenings(van=van)
             .where((Screening.date >= today.isoformat()) & (Screening.date <= last.isoformat())
                    & Screening.status.not_in(SKIPPED_STATUSES)))
    return today, last, list(query)


def _as_check(s) -> ScreeningCheck:
    return ScreeningCheck(s.id, s.date, s.start, s.village.name, s.village.name_en)


def _libvlc_missing() -> str:
    """Why libVLC cannot be loaded, or "" (loading the library is cheap; starting it is not)."""
    try:
        import vlc  # noqa: F401
    except (ImportError, OSError, NotImplementedError, SystemExit):
        return VLC_MISSING
    return ""


def run_preflight(media_dir, vlc_args: str = "", tz: str = "Asia/Kolkata", days: int = 7,
                  today: dt.date | None = None, van: str | None = None,
                  cache_path: Path | None = None) -> PreflightReport:
    """Check every programme item of the coming screenings (of `van`, when given); see the
    module docstring. `cache_path`: where the last check of each file is kept (CheckCache)."""
    started = time.monotonic()
    first, last, screenings = coming_screenings(tz, days, today, van)
    report = PreflightReport(days, first.isoformat(), last.isoformat(), checked_at=utcnow())
    checks = [_as_check(s) for s in screenings]
    report.screenings = checks
    if not checks:
        after = (queries.screenings(van=van)
                 .where((Screening.date > last.isoformat()) & Screening.status.not_in(SKIPPED_STATUSES))
                 .first())
        report.next_screening = _as_check(after) if after is not None else None
        report.seconds = time.monotonic() - started
        return report
    no_vlc = _libvlc_missing()
    found: dict[tuple, Problem] = {}
    cache = CheckCache(cache_path)
    checker = _Checker(Path(media_dir), lambda: Prober(vlc_args), cache)
    seen_items = set()
    try:
        for check in checks:
            for item in queries.programme(check.id):
                seen_items.add((item.kind, item.ref))
                if no_vlc and item.kind != "game":
                    continue
                try:
                    problems = checker.check(item.kind, item.ref, item.prefix)
                except ProbeUnavailable as exc:
                    no_vlc = str(exc)
                    continue
                for p in problems:
                    key = (p.kind, p.ref, p.problem)
                    shared = found.setdefault(key, p)
                    if check.id not in shared.screenings:
                        shared.screenings.append(check.id)
                        check.problems.append(shared)
    finally:
        checker.close()
        cache.save()
    report.files_rechecked = len(checker.fresh)
    if no_vlc:
        # Without libVLC nothing can be proved to play: one problem, every screening.
        p = Problem("libvlc", "system", "no_libvlc", no_vlc, detail=no_vlc,
                    screenings=[c.id for c in checks])
        found[("system", "libvlc", "no_libvlc")] = p
        for check in checks:
            check.problems.append(p)
    catalog = read_catalog(media_dir)
    if catalog.errors:
        # edited since the last scan and broken now: what was checked above is the catalogue as
        # it was scanned, and the next scan will refuse this one
        first_error = catalog.errors[0]
        p = Problem("media/catalog.yaml", "system", "catalog_broken",
                    f"the media catalogue has {len(catalog.errors)} error(s), first: {first_error}; "
                    "fix it and run `vanapp media scan`", file=CATALOG_NAME, detail=str(first_error),
                    screenings=[c.id for c in checks])
        found[("system", "catalog", "catalog_broken")] = p
        for check in checks:
            check.problems.append(p)
    report.problems = list(found.values())
    report.items_checked = len(seen_items)
    report.seconds = time.monotonic() - started
    return report
