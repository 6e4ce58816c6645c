"""`vanapp media scan`: load the catalogue, then checksum and probe every catalogued file.

Each catalogued item gets one MediaScan row (this laptop's view of its file): missing,
unreadable, unplayable, changed (its checksum differs from the previous scan's) or ok.
Files are probed one after the other in one libVLC instance; rows are written in one short
transaction after all probing, so a scan never holds the database while libVLC works.
"""
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..db import write_transaction
from ..ids import utcnow
from ..models import MediaScan
from .catalog import LoadResult, load_catalog
from .files import read_state, uncatalogued
from .probe import Prober, ProbeUnavailable


@dataclass
class ItemScan:
    id: str
    file: str
    kind: str
    title_hi: str
    title_en: str
    status: str
    size: int | None = None
    sha256: str = ""
    duration_ms: int | None = None
    playable: bool = False
    error: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "file": self.file, "status": self.status,
                "duration_ms": self.duration_ms, "sha256": self.sha256, "size": self.size,
                "playable": self.playable, "error": self.error}


@dataclass
class ScanReport:
    items: list[ItemScan] = field(default_factory=list)
    not_in_catalog: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    catalog: LoadResult | None = None
    seconds: float = 0.0

    @property
    def catalog_failed(self) -> bool:
        return bool(self.catalog and self.catalog.errors)

    @property
    def ok(self) -> bool:
        return not self.errors and all(i.status == "ok" for i in self.items)

    @property
    def exit_code(self) -> int:
        return 2 if self.catalog_failed else (0 if self.ok else 1)

    def counts(self) -> dict:
        out = {}
        for item in self.items:
            out[item.status] = out.get(item.status, 0) + 1
        return out

    def to_dict(self) -> dict:
        return {"ok": self.ok, "items": [i.to_dict() for i in self.items],
                "not_in_catalog": self.not_in_catalog, "errors": self.errors,
                "seconds": round(self.seconds, 2)}


def _short(sha: str) -> str:
    return sha[:12] + "…" if sha else "—"


def scan_media(media_dir, vlc_args: str = "") -> ScanReport:
    """Scan every catalogued file under `media_dir` and record the result."""
    started = time.monotonic()
    media_dir = Path(media_dir)
    report = ScanReport(catalog=load_catalog(media_dir))
    if report.catalog.errors:
        report.errors = [e.to_dict() for e in report.catalog.errors]
        return report
    try:
        prober = Prober(vlc_args)
    except ProbeUnavailable as exc:
        report.errors = [{"file": None, "line": None, "field": "", "message": str(exc)}]
        return report
    previous = {s.media_id: s for s in MediaScan.select()}
    with prober:
        for entry in report.catalog.entries:
            report.items.append(_scan_one(prober, media_dir, entry, previous.get(entry.id)))
    catalogued = {PurePosixPath(e.file).as_posix() for e in report.catalog.entries}
    report.not_in_catalog = uncatalogued(media_dir, catalogued)
    _record(report.items, previous)
    report.seconds = time.monotonic() - started
    return report


def _scan_one(prober, media_dir: Path, entry, before) -> ItemScan:
    item = ItemScan(entry.id, entry.file, entry.kind, entry.title_hi, entry.title_en, "ok")
    state = read_state(media_dir / entry.file, entry.file)
    if state.status != "ok":
        item.status, item.error = state.status, state.error
        return item
    item.size, item.sha256 = state.size, state.sha256
    changed = bool(before and before.sha256 and before.sha256 != state.sha256)
    change_note = (f"changed since the last scan (sha256 was {_short(before.sha256)}, "
                   f"now {_short(state.sha256)})") if changed else ""
    if state.size == 0:
        item.status, item.error = "unplayable", "the file is empty (0 bytes)"
        return item
    probed = prober.probe(media_dir / entry.file)
    item.duration_ms, item.playable = probed.duration_ms, probed.playable
    damage = not_as_catalogued(entry.expected_sha256, entry.expected_ms, state.sha256,
                               probed.duration_ms if probed.playable else None)
    if not probed.playable:
        item.status = "unplayable"
        item.error = probed.error + (f"; it also {change_note}" if changed else "")
    elif damage:
        item.status, item.error = "damaged", damage + (f"; it also {change_note}" if changed else "")
    elif changed:
        item.status, item.error = "changed", f"the file {change_note}; it plays"
    return item


SHORT_FRACTION = 0.95       # as the player's "completed": a file shorter than this is cut short


def not_as_catalogued(expected_sha256: str, expected_ms: int | None, sha256: str,
                      duration_ms: int | None) -> str:
    """Why a file is not the one the catalogue describes ('' when it is, or nothing is said)."""
    from ..player.outcome import clock_text
    if expected_sha256 and sha256 and sha256 != expected_sha256:
        return (f"its checksum is not the catalogue's (sha256 {_short(sha256)}, the catalogue says "
                f"{_short(expected_sha256)}): a damaged copy or another file")
    if expected_ms and duration_ms is not None and duration_ms < SHORT_FRACTION * expected_ms:
        return (f"it plays {clock_text(duration_ms)}, the catalogue says {clock_text(expected_ms)}: "
                "the copy is cut short")
    return ""


def _record(items: list[ItemScan], previous: dict) -> None:
    now = utcnow()
    with write_transaction():
        for item in items:
            before = previous.get(item.id)
            # A missing or unreadable file keeps its last checksum, so that if it comes back
            # different the next scan (and pre-flight) still sees the change.
            sha = item.sha256 or (before.sha256 if before else "")
            row = {"media": item.id, "status": item.status, "size": item.size, "sha256": sha,
                   "duration_ms": item.duration_ms, "playable": item.playable,
                   "error": item.error, "scanned_at": now}
            (MediaScan.insert(**row)
             .on_conflict(conflict_target=[MediaScan.media],
                          update={getattr(MediaScan, k): v for k, v in row.items() if k != "media"})
             .execute())
