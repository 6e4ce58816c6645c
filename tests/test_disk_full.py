"""A full disk during tapping, on a real filesystem that really fills: `vanapp serve` runs with its
data dir on a small tmpfs that the test mounts in a user and mount namespace of its own
(`unshare -r -m`, no root needed). Taps are refused with a clear message (507 disk_full, and in
words on the crew's phone in Chromium), nothing is half-written, every acknowledged tap is kept,
and once space is freed the phone's queued taps go through with no restart."""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from .support.server import ROOT, free_port
from .test_attendance_browser import PHONE, NO_RANDOM_UUID, all_saved, login, plus, queued
from .test_attendance_crash import crew_session, seed_screening

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = "6m"


class NamespacedServer:
    """`vanapp serve` whose data dir is a tmpfs of SIZE mounted in its own mount namespace. The
    test reaches into that namespace through /proc/PID/root (the server's view of the files)."""

    def __init__(self, seed: Path, work: Path):
        self.port = free_port()
        self.mount = work / "tmpfs"                  # empty here; the tmpfs exists only inside
        self.mount.mkdir()
        self.log_path = work / "server.log"
        script = (f'set -e; mount -t tmpfs -o size={SIZE} vanapp-test "{self.mount}"; '
                  f'cp -a "{seed}/." "{self.mount}/"; '
                  f'exec "{sys.executable}" -m vanapp.cli serve --host 127.0.0.1 --port {self.port}')
        env = dict(os.environ, VANAPP_DATA_DIR=str(self.mount), VANAPP_MEDIA_DIR=str(ROOT / "media"))
        env.pop("VANAPP_DATABASE_URL", None)
        if shutil.which("unshare") is None:
            pytest.fail("util-linux's unshare is missing: the test needs it to mount its own tmpfs")
        self.proc = subprocess.Popen(["unshare", "-r", "-m", "sh", "-c", script], env=env, cwd=str(ROOT),
                                     stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("could not start vanapp serve on a tmpfs in a user+mount namespace "
                            f"(unshare -r -m; are unprivileged user namespaces allowed?):\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("vanapp serve did not answer:\n" + self.log())

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def inside(self) -> Path:
        """The tmpfs as the server sees it."""
        return Path(f"/proc/{self.proc.pid}/root") / str(self.mount).lstrip("/")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def fill(self) -> int:
        """Fill the tmpfs to the last byte; returns how much was written."""
        written = 0
        with open(self.inside / "filler", "wb") as fh:
            chunk = b"\0" * 65536
            while True:
                try:
                    written += fh.write(chunk)
                    fh.flush()
                except OSError:
                    break
        for size in (4096, 512, 1):              # the last partial blocks too
            try:
                with open(self.inside / f"filler-{size}", "wb") as fh:
                    while True:
                        fh.write(b"\0" * size)
                        fh.flush()
            except OSError:
                pass
        return written

    def snapshot(self, folder: Path) -> str:
        """The database file and its WAL copied out of the namespace (SQLite itself would follow
        /proc/PID/root back to this namespace's empty folder); read it while nothing is tapping."""
        folder.mkdir()
        for name in ("vanapp.db", "vanapp.db-wal"):
            if (self.inside / name).exists():
                shutil.copyfile(self.inside / name, folder / name)
        return str(folder / "vanapp.db")

    def free(self):
        for path in self.inside.glob("filler*"):
            path.unlink()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def tap(session, base, screening, category="women"):
    return session.post(f"{base}/api/v1/screenings/{screening}/attendance", timeout=10,
                        json={"id": str(uuid.uuid4()), "category": category, "delta": 1})


def test_a_full_disk_refuses_taps_in_words_corrupts_nothing_and_recovers_when_freed(tmp_path, chromium):
    seed = tmp_path / "seed"
    subprocess.run([sys.executable, "-m", "vanapp.cli", "init", "--pin", "2468"], check=True, capture_output=True,
                   env=dict(os.environ, VANAPP_DATA_DIR=str(seed)), cwd=str(ROOT))
    screening = seed_screening(seed)
    srv = NamespacedServer(seed, tmp_path)
    try:
        phone = crew_session(srv.url)
        acked = []
        r = tap(phone, srv.url, screening)
        assert r.status_code == 201
        acked.append(r.json()["id"])

        context = chromium.new_context(**PHONE)
        context.add_init_script(NO_RANDOM_UUID)
        page = login(context, srv.url)
        page.goto(f"{srv.url}/attendance/screenings/{screening}")

        assert srv.fill() > 0
        # the WAL may still have room for a few: tap until the disk says no (it must, soon)
        for _ in range(400):
            r = tap(phone, srv.url, screening)
            if r.status_code != 201:
                break
            acked.append(r.json()["id"])
        assert r.status_code == 507, (r.status_code, r.text)
        error = r.json()["error"]
        assert error["code"] == "disk_full" and "disk is full" in error["message"]
        assert tap(phone, srv.url, screening).status_code == 507        # and it stays refused

        # the crew's phone: the tap is kept, and the status says why, in Hindi
        plus(page, "men")
        plus(page, "men")
        status = page.locator("#tally-status")
        expect(status).to_contain_text("डिस्क भर", timeout=15000)
        assert len(queued(page)) == 2
        page.screenshot(path=str(ROOT / "test-artifacts" / "tally-disk-full.png")) \
            if (ROOT / "test-artifacts").is_dir() else None

        # a page in words, not a traceback
        form = phone.get(f"{srv.url}/attendance/screenings/{screening}", timeout=10)
        assert form.status_code in (200, 507) and "Traceback" not in form.text

        srv.free()
        all_saved(page)                              # the phone's two taps, with no restart
        r = tap(phone, srv.url, screening)
        assert r.status_code == 201
        acked.append(r.json()["id"])

        counts = phone.get(f"{srv.url}/api/v1/screenings/{screening}/attendance", timeout=10).json()["counts"]
        assert counts["women"] == len(acked) and counts["men"] == 2
        con = sqlite3.connect(srv.snapshot(tmp_path / "snapshot"))
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            stored = {row[0] for row in con.execute(
                "SELECT id FROM tally_event WHERE screening_id = ? AND category = 'women'", (screening,))}
            outbox = con.execute("SELECT COUNT(*) FROM outbox WHERE model = 'TallyEvent'").fetchone()[0]
        finally:
            con.close()
        assert stored == set(acked) and outbox == len(acked) + 2
        context.close()
    finally:
        srv.stop()
