"""Copies of the van's SQLite database: taken with SQLite's online backup (the show goes on while
it copies), checked before they count, kept seven deep in the data dir, written to a USB stick on
request, and put back by `vanapp restore`. Plus the integrity check that `vanapp serve` runs at
start. Plain functions and one background runner; no Flask.

A copy is written beside its final name, checked with `PRAGMA integrity_check`, flushed to disk
and only then renamed into place: a half-written copy (a power cut, a full disk, a stick pulled
out) never has a backup's name, so `vanapp restore` never picks one."""
import datetime as dt
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .db import file_problems
from .ids import UTC, utcnow

log = logging.getLogger(__name__)

BACKUP_DIR = "backups"
KEEP = 7
DAILY = dt.timedelta(hours=24)
# vanapp-00042-20261207T213000Z-finish.db: the number orders the copies (never the clock, which a
# van's laptop may have wrong), the time and reason are for people.
NAME = re.compile(r"^vanapp-(?P<n>\d{5,})-(?P<at>\d{8}T\d{6}Z)(?:-(?P<reason>[a-z]+))?\.db$")
STAMP = "%Y%m%dT%H%M%SZ"
SQLITE_FULL = 13


class BackupError(Exception):
    """A copy or a restore that could not be made; the message says why and what to do."""


@dataclass
class Copy:
    path: Path
    number: int
    at: dt.datetime
    reason: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def is_disk_full(exc: BaseException) -> bool:
    """An SQLite error (raw or wrapped by peewee) that says the disk is full, anywhere in the
    chain: SQLite rolls a transaction back itself on a full disk, so the error that reaches us is
    often the rollback that came after ("cannot rollback - no transaction is active")."""
    seen, todo = set(), [exc]
    while todo and len(seen) < 20:
        candidate = todo.pop()
        if candidate is None or id(candidate) in seen:
            continue
        seen.add(id(candidate))
        if getattr(candidate, "sqlite_errorcode", None) == SQLITE_FULL or \
                (isinstance(candidate, Exception) and "database or disk is full" in str(candidate)):
            return True
        if isinstance(candidate, OSError) and candidate.errno == 28:     # ENOSPC
            return True
        todo += [candidate.__cause__, candidate.__context__,
                 *(a for a in getattr(candidate, "args", ())[:1] if isinstance(a, BaseException))]
    return False


# --- checking ------------------------------------------------------------------------------------

def problems(path: Path, thorough: bool = False) -> list[str]:
    """What SQLite finds wrong with the database file at `path` ([] when it is sound)."""
    return file_problems(path, thorough)


# --- copying -------------------------------------------------------------------------------------

def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(str(folder), os.O_RDONLY)
    except OSError:                              # Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_database(source: Path, target: Path) -> Path:
    """An online backup of the database at `source` into the file `target`, checked; returns it."""
    source, target = Path(source), Path(target)
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    partial = target.with_name(target.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        src = sqlite3.connect(str(source), timeout=30)
        dst = sqlite3.connect(str(partial))
        try:
            # one step (-1 pages): a consistent snapshot under a read transaction; in WAL mode the
            # tally's writers are not held up while it copies
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")   # one self-contained file, no -wal beside it
            found = [str(r[0]) for r in dst.execute("PRAGMA integrity_check").fetchall()]
        finally:
            dst.close()
            src.close()
        if found != ["ok"]:
            raise BackupError(f"the copy of {source} does not pass SQLite's check: {'; '.join(found[:3])} "
                              "(the database itself may be damaged: run `vanapp serve` to have it checked)")
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)
        _fsync_dir(target.parent)
        return target
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno == 28 or is_disk_full(exc):
            raise BackupError(f"no space left for a copy in {target.parent}: free some space "
                              "(or use another stick) and try again") from None
        raise BackupError(f"cannot write a copy to {target}: {exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def backup_dir(data_dir) -> Path:
    return Path(data_dir) / BACKUP_DIR


def copies(folder: Path) -> list[Copy]:
    """The backups in `folder`, newest first (only complete ones carry a backup's name)."""
    found = []
    if Path(folder).is_dir():
        for path in Path(folder).iterdir():
            m = NAME.match(path.name)
            if m and path.is_file():
                at = dt.datetime.strptime(m["at"], STAMP).replace(tzinfo=UTC)
                found.append(Copy(path, int(m["n"]), at, m["reason"] or ""))
    return sorted(found, key=lambda c: c.number, reverse=True)


def _stamp(now: dt.datetime) -> str:
    return now.astimezone(UTC).strftime(STAMP)


def take(data_dir, database: Path, reason: str, now: dt.datetime | None = None) -> Copy:
    """A copy into the data dir's backups folder; the oldest beyond seven are removed."""
    now = now or utcnow()
    folder = backup_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.partial"):             # a copy cut short by a power cut
        stale.unlink(missing_ok=True)
    number = max((c.number for c in copies(folder)), default=0) + 1
    path = copy_database(database, folder / f"vanapp-{number:05d}-{_stamp(now)}-{reason}.db")
    for old in copies(folder)[KEEP:]:
        old.path.unlink(missing_ok=True)
    return Copy(path, number, now, reason)


def write_to(dest: Path, database: Path, van: str = "", now: dt.datetime | None = None) -> Path:
    """`vanapp backup DEST`: a copy into the folder DEST (a USB stick), or to the file DEST."""
    dest = Path(dest)
    now = now or utcnow()
    if dest.is_dir():
        target = dest / (f"vanapp-{van}-{_stamp(now)}.db" if van else f"vanapp-{_stamp(now)}.db")
    elif dest.suffix == ".db" and dest.parent.is_dir():
        target = dest
    else:
        raise BackupError(f"{dest} is not a folder (is the stick mounted?) nor a .db file in one")
    return copy_database(database, target)


def newest_good(data_dir) -> tuple[Copy | None, list[tuple[Copy, list[str]]]]:
    """The newest backup that passes the thorough check, and the newer ones that did not."""
    bad = []
    for copy in copies(backup_dir(data_dir)):
        found = problems(copy.path, thorough=True)
        if not found:
            return copy, bad
        bad.append((copy, found))
    return None, bad


def restore(database: Path, backup: Path, now: dt.datetime | None = None) -> Path:
    """Put `backup` in place of the database; the database as it was (damaged, usually) is moved
    aside, never deleted. Returns the folder it went to. The server must not be running."""
    database, backup = Path(database), Path(backup)
    found = problems(backup, thorough=True)
    if found:
        raise BackupError(f"{backup} does not pass SQLite's check ({'; '.join(found[:3])}): choose another copy")
    now = now or utcnow()
    aside = database.parent / f"damaged-{now.astimezone(UTC).strftime(STAMP)}"
    aside.mkdir(parents=True, exist_ok=False)
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = Path(str(database) + suffix)
        if part.exists():
            shutil.move(str(part), str(aside / part.name))
    copy_database(backup, database)
    return aside


# --- after each Finish, and once a day ------------------------------------------------------------

def finished_count(path: Path) -> int:
    """How many Finishes the database at `path` holds (a count, not a time: the van's clock may
    be wrong, and a screening reopened and finished again is a second Finish)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute("SELECT COUNT(*) FROM screening_event WHERE kind = 'finished'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return -1


class BackupRunner:
    """`vanapp serve`'s backups: one after each Finish and one a day, in a thread of their own so
    the crew's Finish does not wait for the copy."""

    CHECK_EVERY = 30.0      # seconds between looks (a Finish through the API wakes it at once)

    def __init__(self, data_dir, database: Path):
        self.data_dir, self.database = data_dir, Path(database)
        self.last_error = None          # the last copy that failed, in words
        self._covered = None            # Finishes in the newest copy (read from it once)
        self._taken_at = None           # time.monotonic() of this runner's last copy
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def due(self, now: dt.datetime) -> str:
        """Why a copy is due now ("finish", "daily"), or ""."""
        newest = next(iter(copies(backup_dir(self.data_dir))), None)
        if newest is None:
            return "daily"
        if self._covered is None:
            self._covered = finished_count(newest.path)
        if finished_count(self.database) > self._covered:
            return "finish"
        if self._taken_at is not None:   # uptime, not the wall clock, once this runner has copied
            return "daily" if time.monotonic() - self._taken_at >= DAILY.total_seconds() else ""
        return "daily" if now - newest.at >= DAILY else ""

    def run_once(self, now: dt.datetime | None = None) -> Copy | None:
        now = now or utcnow()
        reason = self.due(now)
        if not reason:
            return None
        try:
            copy = take(self.data_dir, self.database, reason, now)
        except BackupError as exc:
            self.last_error = str(exc)
            log.warning("backup failed: %s", exc)
            return None
        self.last_error = None
        self._covered = finished_count(copy.path)
        self._taken_at = time.monotonic()
        log.info("backup (%s): %s", reason, copy.path)
        return copy

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="vanapp-backup", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a failed look must not end the backups for the night
                log.exception("backup check failed")
            self._wake.wait(self.CHECK_EVERY)
            self._wake.clear()
