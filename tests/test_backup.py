"""Backups of the van's database: `vanapp serve` copies it after each Finish and once a day (SQLite's
online backup, checked, seven kept), `vanapp backup DEST` writes one to a stick, a damaged
database is refused at start with the way back, and `vanapp restore` puts back the newest good
copy."""
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from vanapp import backup
from vanapp.ids import UTC

from .conftest import PIN
from .support.server import ROOT, ServerProcess
from .test_attendance_crash import crew_session, seed_screening


def vanapp(data_dir, *args, input=None):
    env = dict(os.environ, VANAPP_DATA_DIR=str(data_dir), VANAPP_MEDIA_DIR=str(ROOT / "media"))
    env.pop("VANAPP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "vanapp.cli", *map(str, args)], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120, input=input)


def taps_in(path) -> int:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return con.execute("SELECT COUNT(*) FROM tally_event").fetchone()[0]
    finally:
        con.close()


def tap(session, base, screening, n=1):
    for _ in range(n):
        r = session.post(f"{base}/api/v1/screenings/{screening}/attendance", timeout=10,
                         json={"id": str(uuid.uuid4()), "category": "women", "delta": 1})
        assert r.status_code == 201, r.text


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


@pytest.fixture
def van(tmp_path):
    data = tmp_path / "van"
    assert vanapp(data, "init", "--pin", PIN).returncode == 0
    srv = ServerProcess(data)
    srv.screening = seed_screening(data)
    yield srv
    srv.stop()


def test_serve_copies_the_database_at_start_and_after_each_finish(van):
    van.start()
    folder = van.data_dir / "backups"
    first = wait_for(lambda: backup.copies(folder))      # none yet: one at once
    assert [c.reason for c in first] == ["daily"]
    phone = crew_session(van.url)
    assert phone.post(f"{van.url}/api/v1/screenings/{van.screening}/start", json={"play": False}).status_code == 200
    tap(phone, van.url, van.screening, 5)
    assert phone.post(f"{van.url}/api/v1/screenings/{van.screening}/finish", json={}).status_code == 200
    after = wait_for(lambda: [c for c in backup.copies(folder) if c.reason == "finish"], timeout=20)
    assert len(after) == 1 and taps_in(after[0].path) == 5
    con = sqlite3.connect(after[0].path)
    try:
        assert con.execute("SELECT kind FROM screening_event WHERE screening_id = ? ORDER BY at",
                           (van.screening,)).fetchall() == [("started",), ("finished",)]
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"   # one file, nothing beside it
    finally:
        con.close()
    assert not list(folder.glob("*.partial")) and not list(folder.glob("*-wal"))
    # nothing new finished: no further copy
    time.sleep(1)
    assert len(backup.copies(folder)) == 2


def test_seven_copies_are_kept_the_oldest_go(tmp_path, van):
    db = van.data_dir / "vanapp.db"
    made = [backup.take(van.data_dir, db, "daily") for _ in range(9)]
    kept = backup.copies(van.data_dir / "backups")
    assert [c.number for c in kept] == [m.number for m in reversed(made)][:7]
    assert not made[0].path.exists() and not made[1].path.exists()


def test_a_copy_is_due_once_a_day_and_a_clock_set_back_does_not_loop(van):
    db = van.data_dir / "vanapp.db"
    now = dt.datetime(2027, 2, 1, 20, 0, tzinfo=UTC)
    runner = backup.BackupRunner(van.data_dir, db)
    assert runner.due(now) == "daily"                   # no copy yet
    assert runner.run_once(now).reason == "daily"
    assert runner.due(now + dt.timedelta(hours=23)) == ""
    fresh = backup.BackupRunner(van.data_dir, db)       # after a restart, the copies' own times count
    assert fresh.due(now + dt.timedelta(hours=25)) == "daily"
    assert fresh.due(now - dt.timedelta(days=200)) == ""   # the laptop's clock went back: no copy every look


def test_vanapp_backup_writes_a_checked_copy_to_a_stick(van, tmp_path):
    van.start()
    phone = crew_session(van.url)
    tap(phone, van.url, van.screening, 7)
    stick = tmp_path / "stick"
    stick.mkdir()
    done = vanapp(van.data_dir, "backup", stick, "--json")       # while the server is serving
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] and Path(out["path"]).parent == stick and taps_in(out["path"]) == 7
    assert not list(stick.glob("*.partial"))
    missing = vanapp(van.data_dir, "backup", tmp_path / "no-stick-here", "--json")
    assert missing.returncode == 1
    error = json.loads(missing.stdout)["error"]
    assert error["code"] == "backup_failed" and "no-stick-here" in error["message"]
    plain = vanapp(van.data_dir, "backup", tmp_path / "no-stick-here")
    assert plain.returncode == 1 and "is not a folder" in plain.stderr and "Traceback" not in plain.stderr


def _damage(db: Path) -> None:
    """What a failing disk does: garbage over pages in the middle of the file."""
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        for offset in range(4096 * 2, size, 4096 * 3):
            fh.seek(offset)
            fh.write(os.urandom(4096))


def test_a_damaged_database_is_refused_at_start_and_restored_from_the_newest_good_copy(van, tmp_path):
    van.start()
    phone = crew_session(van.url)
    tap(phone, van.url, van.screening, 4)
    assert vanapp(van.data_dir, "backup", van.data_dir / "backups" / "vanapp-00005-20270201T200000Z-daily.db").returncode == 0
    tap(phone, van.url, van.screening, 3)
    assert vanapp(van.data_dir, "backup", van.data_dir / "backups" / "vanapp-00006-20270201T210000Z-finish.db").returncode == 0
    van.stop()
    con = sqlite3.connect(van.data_dir / "vanapp.db")
    try:
        epoch_before = con.execute("SELECT value FROM setting WHERE key = 'sync_epoch'").fetchone()
    finally:
        con.close()
    copies = backup.copies(van.data_dir / "backups")
    assert [c.number for c in copies][:2] == [6, 5]
    _damage(copies[0].path)                             # the newest copy is bad too
    db = van.data_dir / "vanapp.db"
    _damage(db)

    refused = vanapp(van.data_dir, "serve", "--port", "1")
    assert refused.returncode == 3, refused.stderr
    message = refused.stderr
    assert "is damaged" in message and "vanapp restore" in message
    assert "vanapp-00005-20270201T200000Z-daily.db" in message and "00006" in message
    assert "Traceback" not in message
    assert vanapp(van.data_dir, "init").returncode == 3          # nor is it migrated

    listing = vanapp(van.data_dir, "restore", "--list")
    assert "DAMAGED" in listing.stdout and "good" in listing.stdout
    done = vanapp(van.data_dir, "restore", "--yes")
    assert done.returncode == 0, done.stderr
    assert "skipping vanapp-00006" in done.stderr and "vanapp-00005" in done.stdout
    aside = [p for p in van.data_dir.iterdir() if p.name.startswith("damaged-")]
    assert len(aside) == 1 and (aside[0] / "vanapp.db").exists()     # kept, never deleted
    assert taps_in(db) == 4
    con = sqlite3.connect(db)
    try:
        epoch_after = con.execute("SELECT value FROM setting WHERE key = 'sync_epoch'").fetchone()
    finally:
        con.close()
    assert epoch_after is not None and epoch_after != epoch_before   # the next sync starts a new outbox

    van.start()                                          # and the van serves again
    phone = crew_session(van.url)
    counts = phone.get(f"{van.url}/api/v1/screenings/{van.screening}/attendance", timeout=10).json()["counts"]
    assert counts["women"] == 4


def test_restore_without_any_good_copy_says_so(van):
    van.start()
    van.stop()
    _damage(van.data_dir / "vanapp.db")
    for copy in backup.copies(van.data_dir / "backups"):
        _damage(copy.path)
    refused = vanapp(van.data_dir, "serve", "--port", "1")
    assert refused.returncode == 3 and "no good copy" in refused.stderr.lower()
    done = vanapp(van.data_dir, "restore", "--yes")
    assert done.returncode == 1 and "no good copy" in done.stderr and "Traceback" not in done.stderr
