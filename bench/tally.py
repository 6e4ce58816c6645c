"""Benchmark: how long a tally tap takes over HTTP against a real `vanapp serve` on 127.0.0.1,
with 1 and with 20 phones at once, beside the floor — a bare SQLite commit of the same rows
(tap + outbox, BEGIN IMMEDIATE, WAL, synchronous=FULL) in the same directory, in the same run.

    .venv/bin/python bench/tally.py [--taps 300] [--phones 20] [--paced-ms 250] [--auth session|token]

Prints figures and the issue's target beside them; asserts nothing. "paced" phones tap every
--paced-ms (± 50 %), a fast thumb on each of 20 phones (80 taps/s in all): the target's case.
"burst" phones tap back to back with no pause at all, the worst case: there a tap's time is
mostly its wait behind the other 19 phones' taps (their number times one tap's work).
Each phone is a thread with its own keep-alive connection (http.client: a thin client, so the
figures are the server's rather than the client library's).
"""
import argparse
import http.client
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

PIN = "2468"
CATEGORIES = ("men", "women", "boys", "girls")
TARGET_P95_MS = 20


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(name, ms):
    return (f"{name:<34} n={len(ms):<5} median {statistics.median(ms):7.2f} ms   "
            f"p95 {pct(ms, 95):7.2f} ms   max {max(ms):7.2f} ms")


def seed(data_dir: Path) -> str:
    from vanapp import create_app
    from vanapp.models import db
    from tests.support.factories import make_screening
    app = create_app({"DATA_DIR": str(data_dir)})
    with app.app_context(), db.connection_context():
        return make_screening().id


def login(base: str) -> dict:
    """The crew's browser login, as headers a phone sends: cookie and CSRF token."""
    import re
    s = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"', s.get(base + "/login").text).group(1)
    s.post(base + "/login", data={"pin": PIN, "csrf_token": token})
    page = s.get(base + "/attendance/").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in s.cookies)
    return {"Cookie": cookie, "X-CSRFToken": csrf}


def bearer(srv) -> dict:
    made = subprocess.run([sys.executable, "-m", "vanapp.cli", "token", "create", "bench"], env=srv.env,
                          check=True, capture_output=True, text=True, cwd=str(ROOT))
    return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


class Phone:
    """One phone: a keep-alive HTTP connection to the server."""

    def __init__(self, base, path, headers):
        from urllib.parse import urlsplit
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.path, self.headers = path, {**headers, "Content-Type": "application/json"}

    def post(self, body) -> int:
        self.conn.request("POST", self.path, body=json.dumps(body), headers=self.headers)
        r = self.conn.getresponse()
        r.read()
        return r.status

    def close(self):
        self.conn.close()


def run_phones(base, path, headers, phones, taps_each, paced_ms):
    latencies, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(phones)

    def phone(i):
        p = Phone(base, path, headers)
        rng = random.Random(i)
        p.post({"category": "men", "delta": 1})      # warm the connection
        mine = []
        barrier.wait()
        for _ in range(taps_each):
            if paced_ms:
                time.sleep(paced_ms * rng.uniform(0.5, 1.5) / 1000)
            body = {"id": str(uuid.uuid4()), "category": rng.choice(CATEGORIES), "delta": 1}
            t0 = time.perf_counter()
            status = p.post(body)
            dt = (time.perf_counter() - t0) * 1000
            if status != 201:
                errors.append(status)
            mine.append(dt)
        p.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=phone, args=(i,)) for i in range(phones)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return latencies, errors, wall


def floor(directory: Path, n: int):
    """A bare commit of the same rows with the same pragmas, one connection, no HTTP, no Python web."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "floor.db"
    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute("PRAGMA journal_mode=wal")
    con.execute("PRAGMA synchronous=2")
    con.execute("PRAGMA foreign_keys=1")
    con.execute("CREATE TABLE tally_event (id VARCHAR(64) PRIMARY KEY, van VARCHAR(64), version INTEGER, "
                "created_at VARCHAR(27), updated_at VARCHAR(27), received_at VARCHAR(27), screening_id VARCHAR(64), "
                "category VARCHAR(32), delta INTEGER, at VARCHAR(27), device VARCHAR(64))")
    con.execute("CREATE INDEX tally_event_sc ON tally_event (screening_id, category)")
    con.execute("CREATE TABLE outbox (seq INTEGER PRIMARY KEY, model VARCHAR(64), record_id VARCHAR(64), "
                "created_at VARCHAR(27))")
    ms = []
    for _ in range(n):
        now = "2026-11-23T09:02:22.850466Z"
        tap_id = str(uuid.uuid4())
        t0 = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO tally_event VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (tap_id, "van-03", 1, now, now, None, "s1", "men", 1, now, "bench"))
        con.execute("INSERT INTO outbox (model, record_id, created_at) VALUES (?,?,?)", ("TallyEvent", tap_id, now))
        con.execute("COMMIT")
        ms.append((time.perf_counter() - t0) * 1000)
    con.close()
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--taps", type=int, default=300, help="taps by the single phone")
    ap.add_argument("--phones", type=int, default=20)
    ap.add_argument("--per-phone", type=int, default=30, help="taps by each of the --phones phones")
    ap.add_argument("--paced-ms", type=int, default=250)
    ap.add_argument("--threads", type=int, default=16, help="waitress threads (vanapp serve --threads)")
    ap.add_argument("--auth", choices=("session", "token"), default="session",
                    help="the crew's browser login (as tally.js) or a bearer token (as a script)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="vanapp-bench-") as tmp:
        data = Path(tmp) / "van"
        srv = ServerProcess(data, args=("serve", "--threads", str(args.threads)))
        subprocess.run([sys.executable, "-m", "vanapp.cli", "init", "--pin", PIN], env=srv.env, check=True,
                       capture_output=True, cwd=str(ROOT))
        screening = seed(data)
        srv.start()
        try:
            base = srv.url
            path = f"/api/v1/screenings/{screening}/attendance"
            headers = login(base) if args.auth == "session" else bearer(srv)
            storage = requests.get(base + "/api/v1/attendance/storage", headers=headers).json()
            print(f"vanapp serve on {base} (waitress, {args.threads} threads), {storage}, auth {args.auth}, "
                  f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, python {sys.version.split()[0]}")
            floor_ms = floor(Path(tmp), args.taps)
            one, e1, w1 = run_phones(base, path, headers, 1, args.taps, 0)
            paced, e3, w3 = run_phones(base, path, headers, args.phones, args.per_phone, args.paced_ms)
            burst, e2, w2 = run_phones(base, path, headers, args.phones, args.per_phone, 0)
            floor_ms = floor_ms + floor(Path(tmp) / "again", args.taps)   # the disk now, too
            print(line("floor: bare SQLite commit", floor_ms))
            print(line("HTTP tap, 1 phone", one) + f"   {len(one) / w1:6.0f} taps/s")
            print(line(f"HTTP tap, {args.phones} phones, paced {args.paced_ms} ms", paced)
                  + f"   {len(paced) / w3:6.0f} taps/s")
            print(line(f"HTTP tap, {args.phones} phones, burst", burst) + f"   {len(burst) / w2:6.0f} taps/s")
            f_med, f_95 = statistics.median(floor_ms), pct(floor_ms, 95)
            for name, ms in (("1 phone", one), (f"{args.phones} paced", paced), (f"{args.phones} burst", burst)):
                print(f"ratio to floor, {name:<10}: median x{statistics.median(ms) / f_med:5.1f}   "
                      f"p95 x{pct(ms, 95) / f_95:5.1f}")
            p95 = pct(paced, 95)
            print(f"target: p95 under {TARGET_P95_MS} ms with {args.phones} phones (paced): "
                  f"{p95:.2f} ms -> {'met' if p95 < TARGET_P95_MS else 'MISSED'}"
                  f"   (burst, no pause at all: p95 {pct(burst, 95):.2f} ms)")
            errors = e1 + e2 + e3
            print(f"errors: {len(errors)} {sorted(set(errors)) if errors else ''}")
            counts = requests.get(base + path, headers=headers).json()
            expected = len(one) + len(burst) + len(paced) + 1 + 2 * args.phones
            print(f"stored taps now: {counts['total']} (expected {expected})")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
