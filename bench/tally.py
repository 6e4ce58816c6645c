"""Benchmark: how long a tally tap takes over HTTP against a real `vanapp serve` on 127.0.0.1,
with 1 and with 20 phones at once, beside the floor — a bare SQLite commit of the same rows
(tap + outbox, BEGIN IMMEDIATE, WAL, synchronous=FULL) in the same directory, in the same run.

    .venv/bin/python bench/tally.py [--taps 300] [--phones 20] [--paced-ms 250]

Prints figures; asserts nothing. "burst" phones tap back to back with no pause (the worst case);
"paced" phones tap every --paced-ms (± 50 %), roughly a fast thumb.
"""
import argparse
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


def login(base: str) -> requests.Session:
    import re
    s = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"', s.get(base + "/login").text).group(1)
    s.post(base + "/login", data={"pin": PIN, "csrf_token": token})
    page = s.get(base + "/attendance/").text
    s.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return s


def phone_like(session: requests.Session) -> requests.Session:
    s = requests.Session()
    s.cookies.update(session.cookies)
    s.headers.update(session.headers)
    return s


def run_phones(url, master, phones, taps_each, paced_ms):
    latencies, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(phones)

    def phone(i):
        s = phone_like(master)
        rng = random.Random(i)
        s.post(url, json={"category": "men", "delta": 1})      # warm the connection
        mine = []
        barrier.wait()
        for _ in range(taps_each):
            if paced_ms:
                time.sleep(paced_ms * rng.uniform(0.5, 1.5) / 1000)
            body = {"id": str(uuid.uuid4()), "category": rng.choice(CATEGORIES), "delta": 1}
            t0 = time.perf_counter()
            r = s.post(url, json=body)
            dt = (time.perf_counter() - t0) * 1000
            if r.status_code != 201:
                errors.append(r.status_code)
            mine.append(dt)
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
    ap.add_argument("--taps", type=int, default=300, help="taps by the single phone (and per run of 20)")
    ap.add_argument("--phones", type=int, default=20)
    ap.add_argument("--paced-ms", type=int, default=250)
    ap.add_argument("--threads", type=int, default=16, help="waitress threads (vanapp serve --threads)")
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
            url = f"{base}/api/v1/screenings/{screening}/attendance"
            master = login(base)
            per_phone = max(5, args.taps // args.phones)
            print(f"vanapp serve on {base} (waitress, {args.threads} threads), SQLite WAL synchronous=FULL, "
                  f"{sys.platform}, python {sys.version.split()[0]}")
            floor_ms = floor(Path(tmp), args.taps)
            one, e1, w1 = run_phones(url, master, 1, args.taps, 0)
            burst, e2, w2 = run_phones(url, master, args.phones, per_phone, 0)
            paced, e3, w3 = run_phones(url, master, args.phones, per_phone, args.paced_ms)
            print(line("floor: bare SQLite commit", floor_ms))
            print(line("HTTP tap, 1 phone", one) + f"   {len(one) / w1:6.0f} taps/s")
            print(line(f"HTTP tap, {args.phones} phones, burst", burst) + f"   {len(burst) / w2:6.0f} taps/s")
            print(line(f"HTTP tap, {args.phones} phones, paced {args.paced_ms} ms", paced)
                  + f"   {len(paced) / w3:6.0f} taps/s")
            f_med, f_95 = statistics.median(floor_ms), pct(floor_ms, 95)
            for name, ms in (("1 phone", one), (f"{args.phones} burst", burst), (f"{args.phones} paced", paced)):
                print(f"ratio to floor, {name:<10}: median x{statistics.median(ms) / f_med:5.1f}   "
                      f"p95 x{pct(ms, 95) / f_95:5.1f}")
            errors = e1 + e2 + e3
            print(f"errors: {len(errors)} {sorted(set(errors)) if errors else ''}")
            counts = master.get(url).json()
            print(f"stored taps now: {counts['total']} (expected {len(one) + len(burst) + len(paced) + 1 + 2 * args.phones})")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
