"""Benchmark: sync from a van to the hub, against a real `vanapp hub serve` on 127.0.0.1.

    .venv/bin/python bench/sync.py [--records 100000] [--per-request 2000] [--noop-runs 9] [--profile]

Measures, in one run, with the van's real sync client (vanapp.sync.client.sync, in this process,
on a van data dir made by `vanapp init` and paired by `vanapp pair`):
  1. N attendance taps (TallyEvent, 400 per screening, 4 phones each, like real nights) pushed
     to the hub through a byte-counting TCP proxy, in records per second; beside
     (a) the floor: a bare sqlite3 executemany of the same rows into the hub's own tally_event
         table (a copy of the hub's database: same schema, indexes and pragmas), one transaction;
         run three times (before and after the sync: the machine is shared and its load moves),
         the median is the floor. CPU seconds of van, hub and floor are printed too: on a busy
         machine they say more than wall time about what the code costs;
     (b) one HTTP request per record: the same client with batches of one record, on a sample
         (--per-request), extrapolated to N;
  2. bytes on the wire per record (TCP payload both ways, counted by the proxy);
  3. a sync with nothing new (median of --noop-runs);
  4. one busy night (400 taps, headcount, play log, a game run with results, a participant,
     start/finish events) through a proxy playing a 2G link: 50 kbit/s each way, 300 ms each way
     (600 ms round trip) — see bench/netproxy.py for the model.
The proxies run in their own processes (relaying in the van's process would wait for its GIL).
Prints figures and the issue's targets beside them; asserts nothing. --profile prints the top of a
cProfile of the van's side of the big sync; bench/sync_profile.py profiles both sides in-process.
"""
import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from netproxy import ProxyProcess  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

PIN = "2468"
VAN_ID = "van-bench"
TAPS_PER_NIGHT = 400
CATEGORIES = ("men", "women", "boys", "girls")
TARGETS = {"ratio": 0.30, "bytes": 60, "noop_ms": 200, "night_s": 30}


def vanapp(data_dir, *args, env=None):
    full = dict(os.environ, VANAPP_DATA_DIR=str(data_dir), VANAPP_MEDIA_DIR=str(ROOT / "media"))
    full.pop("VANAPP_DATABASE_URL", None)
    full.update(env or {})
    done = subprocess.run([sys.executable, "-m", "vanapp.cli", *map(str, args)], env=full,
                          capture_output=True, text=True, cwd=str(ROOT), timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"vanapp {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# --- the van's records ---------------------------------------------------------------------------

def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_taps(n: int, rng: random.Random, first_day: dt.date, tag: str) -> list[tuple]:
    """Screenings (one a night, with its village) and `n` taps as the phones make them: a v4 UUID
    from the phone, the phone's device id, the tap time, the van's receipt time a little later.
    Rows are (screening index, id, created_at, category, delta, at, device)."""
    from tests.support.factories import make_screening
    nights = max(1, -(-n // TAPS_PER_NIGHT))
    screenings = []
    for night in range(nights):
        day = first_day + dt.timedelta(days=night)
        s = make_screening(date=day.isoformat(), village=f"गाँव {tag}{night % 60}",
                           village_en=f"Village {tag}{night % 60}", tour=f"tour-bench-{tag}", van=VAN_ID)
        screenings.append(s)
    rows = []
    for night, s in enumerate(screenings):
        phones = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(4)]
        at = dt.datetime.combine(first_day + dt.timedelta(days=night), dt.time(13, 0), tzinfo=dt.timezone.utc)
        for i in range(min(TAPS_PER_NIGHT, n - len(rows))):
            at += dt.timedelta(microseconds=rng.randint(200_000, 6_000_000))
            received = at + dt.timedelta(microseconds=rng.randint(15_000, 400_000))
            rows.append((s.id, str(uuid.UUID(int=rng.getrandbits(128), version=4)), iso(received),
                         CATEGORIES[rng.randrange(4)], -1 if rng.random() < 0.02 else 1, iso(at),
                         phones[rng.randrange(4)]))
    return rows


def store_taps(rows: list[tuple]) -> None:
    """Into the van's tally_event and outbox, as save_change would (one outbox row per tap)."""
    from vanapp.models import db
    with db.atomic():
        db.cursor().executemany(
            'INSERT INTO "tally_event" ("id", "van", "version", "created_at", "updated_at", "screening_id", '
            '"category", "delta", "at", "device") VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)',
            [(r[1], VAN_ID, r[2], r[2], r[0], r[3], r[4], r[5], r[6]) for r in rows])
        db.cursor().executemany('INSERT INTO "outbox" ("model", "record_id", "created_at") VALUES (?, ?, ?)',
                                [("TallyEvent", r[1], r[2]) for r in rows])


# --- the floor -----------------------------------------------------------------------------------

def floor_copy(hub_db: Path, van_db: Path, target: Path) -> None:
    """The hub's database as it is now (schema, indexes), with the van's plan records copied in so
    the taps' foreign keys hold."""
    src = sqlite3.connect(str(hub_db))
    dst = sqlite3.connect(str(target))
    src.backup(dst)
    src.close()
    dst.execute("PRAGMA journal_mode=wal")
    dst.execute(f"ATTACH DATABASE '{van_db}' AS van")
    for table in ("campaign", "tour", "village", "screening"):
        columns = ", ".join(f'"{r[1]}"' for r in dst.execute(f'PRAGMA main.table_info("{table}")'))
        dst.execute(f'INSERT OR IGNORE INTO main."{table}" ({columns}) SELECT {columns} FROM van."{table}"')
    dst.commit()
    dst.execute("DETACH DATABASE van")
    dst.close()


def floor_insert(path: Path, rows: list[tuple]) -> tuple[float, float]:
    """(seconds, CPU seconds) for one executemany of the rows (as the hub stores them) in one transaction, with the
    hub's pragmas (WAL, synchronous=FULL, foreign keys)."""
    con = sqlite3.connect(str(path), isolation_level=None)
    for pragma in ("journal_mode=wal", "synchronous=2", "foreign_keys=1", "cache_size=-16000"):
        con.execute(f"PRAGMA {pragma}")
    received = iso(dt.datetime.now(dt.timezone.utc))
    params = [(r[1], VAN_ID, 1, r[2], r[2], received, r[0], r[3], r[4], r[5], r[6]) for r in rows]
    t0, c0 = time.perf_counter(), time.process_time()
    con.execute("BEGIN IMMEDIATE")
    con.executemany('INSERT INTO "tally_event" ("id", "van", "version", "created_at", "updated_at", '
                    '"received_at", "screening_id", "category", "delta", "at", "device") '
                    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', params)
    con.execute("COMMIT")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert con.execute('SELECT COUNT(*) FROM "tally_event"').fetchone()[0] >= len(rows)
    con.close()
    return seconds, cpu


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- helpers -------------------------------------------------------------------------------------

def hub_count(hub_db: Path, table: str) -> int:
    con = sqlite3.connect(str(hub_db), timeout=30)
    try:
        return con.execute(f'SELECT COUNT(*) FROM "{table}" WHERE "van" = ?', (VAN_ID,)).fetchone()[0]
    finally:
        con.close()


def use_hub(url: str) -> None:
    from vanapp.models import Setting, db
    from vanapp.sync import state
    with db.atomic():
        Setting.put(state.HUB_URL, url)


def timed_sync(data_dir, **kw):
    from vanapp.sync import client
    t0 = time.perf_counter()
    result = client.sync(str(data_dir), "bench", **kw)
    seconds = time.perf_counter() - t0
    if not result.ok:
        raise SystemExit(f"sync failed: {result.error_code} {result.error} {result.detail}")
    return result, seconds


def mark(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000, help="attendance taps in the big sync")
    ap.add_argument("--per-request", type=int, default=2000, help="sample for one request per record")
    ap.add_argument("--noop-runs", type=int, default=9)
    ap.add_argument("--rate-kbit", type=float, default=50.0)
    ap.add_argument("--rtt-ms", type=float, default=600.0)
    ap.add_argument("--batch-rows", type=int, default=None, help="outbox rows per batch (default: the client's)")
    ap.add_argument("--profile", action="store_true", help="cProfile the van's side of the big sync")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (printed)")
    args = ap.parse_args()
    rng = random.Random(20261123)
    started = time.perf_counter()

    tmp_obj = tempfile.TemporaryDirectory(prefix="vanapp-bench-sync-")
    tmp = Path(tmp_obj.name)
    if args.keep:
        tmp_obj.cleanup = lambda: None
    hub_dir, van_dir = tmp / "hub", tmp / "van"
    hub = ServerProcess(hub_dir, args=("hub", "serve"))
    hub.env.pop("VANAPP_DATABASE_URL", None)
    counting = throttled = None
    try:
        hub.start(timeout=60)
        hub_db = hub_dir / "vanapp.db"
        # the proxies run in their own processes: relaying in this one would wait for the van's GIL
        counting = ProxyProcess(("127.0.0.1", hub.port))
        throttled = ProxyProcess(("127.0.0.1", hub.port), rate_bps=args.rate_kbit * 1000,
                                 one_way_s=args.rtt_ms / 2000)
        import json
        code = json.loads(vanapp(hub_dir, "hub", "add-van", "Bench Van", "--id", VAN_ID, "--json"))["code"]
        vanapp(van_dir, "init", "--pin", PIN, "--van", VAN_ID)
        vanapp(van_dir, "pair", counting.url, code)

        from vanapp import create_app
        from vanapp.models import db
        app = create_app({"DATA_DIR": str(van_dir), "MEDIA_DIR": str(ROOT / "media"), "DATABASE_URL": ""})
        with app.app_context(), db.connection_context():
            rows = make_taps(args.records, rng, dt.date(2026, 1, 1), "a")
            store_taps(rows)
            floor_dbs = [tmp / f"floor-{i}.db" for i in range(3)]
            floor_copy(hub_db, van_dir / "vanapp.db", floor_dbs[0])
            for other in floor_dbs[1:]:
                shutil.copy(floor_dbs[0], other)
            setup_s = time.perf_counter() - started
            # (a) the floor, same rows, same run: once before the big sync, twice after (the
            # machine is shared, so its load moves; the median of the three is printed)
            floors = [floor_insert(floor_dbs[0], rows)]

            # (1) the big sync, bytes counted
            counting.reset()
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            van_cpu, hub_cpu = time.process_time(), process_cpu(hub.proc.pid)
            big, big_s = timed_sync(van_dir, **({"batch_rows": args.batch_rows} if args.batch_rows else {}))
            van_cpu, hub_cpu = time.process_time() - van_cpu, process_cpu(hub.proc.pid) - hub_cpu
            if profiler:
                profiler.disable()
            up, down = counting.counts()
            held = hub_count(hub_db, "tally_event")
            floors += [floor_insert(path, rows) for path in floor_dbs[1:]]

            # (3) nothing new
            noop_ms, noop_bytes = [], []
            for _ in range(args.noop_runs):
                counting.reset()
                result, seconds = timed_sync(van_dir)
                noop_ms.append(seconds * 1000)
                noop_bytes.append(sum(counting.counts()))
                assert result.pushed == 0, result.as_dict()

            # (b) one request per record, on a sample
            sample = make_taps(args.per_request, rng, dt.date(2027, 1, 1), "b")
            store_taps(sample)
            counting.reset()
            one, one_s = timed_sync(van_dir, batch_rows=1)
            one_up, one_down = counting.counts()

            # (4) a busy night over 2G
            from tests.support.syncenv import make_night
            make_night(VAN_ID, taps=TAPS_PER_NIGHT, day="2027-03-01", village_en="Busy Night",
                       tour="tour-bench-a")
            use_hub(throttled.url)
            throttled.reset()
            night, night_s = timed_sync(van_dir)
            night_up, night_down = throttled.counts()
            use_hub(counting.url)
        held_after = hub_count(hub_db, "tally_event")

        n = big.pushed
        floor_s = statistics.median(f[0] for f in floors)
        floor_cpu = statistics.median(f[1] for f in floors)
        rate, floor_rate = n / big_s, len(rows) / floor_s
        one_rate = one.pushed / one_s
        per_record = (up + down) / n
        noop = statistics.median(noop_ms)
        print(f"vanapp hub serve (waitress, SQLite WAL synchronous=FULL) on 127.0.0.1, van client in-process; "
              f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} "
              f"(a shared machine)")
        print(f"set-up {setup_s:.1f} s: hub, van init+pair, {len(rows)} taps in "
              f"{-(-len(rows) // TAPS_PER_NIGHT)} screenings written to the van")
        print()
        print(f"1. big sync: {n} records in {big_s:.2f} s, {big.batches} batches "
              f"-> {rate:,.0f} records/s (hub holds {held} taps)")
        print(f"   (a) floor, bare SQLite executemany of the same rows into a copy of the hub's tally_event "
              f"(one transaction): median {floor_s:.2f} s of {', '.join(f'{f[0]:.2f}' for f in floors)} "
              f"-> {floor_rate:,.0f} records/s")
        print(f"       sync / floor = {rate / floor_rate:.0%}   target >= {TARGETS['ratio']:.0%}   "
              f"{mark(rate / floor_rate >= TARGETS['ratio'])}")
        print(f"       CPU seconds (less moved by other people's load): sync {van_cpu:.2f} van + "
              f"{hub_cpu:.2f} hub, floor {floor_cpu:.2f}; floor / busiest side = "
              f"{floor_cpu / max(van_cpu, hub_cpu):.0%}")
        print(f"   (b) one HTTP request per record (hub push, batch of 1): {one.pushed} records in {one_s:.2f} s "
              f"-> {one_rate:,.0f} records/s; measured on {one.pushed}, extrapolated to {n}: "
              f"{n / one_rate:,.0f} s ({rate / one_rate:,.0f}x slower than batched), "
              f"{(one_up + one_down) / max(1, one.pushed):,.0f} bytes/record")
        print(f"2. bytes on the wire (TCP payload, HTTP headers included): up {up:,} + down {down:,} = "
              f"{up + down:,} -> {per_record:.1f} bytes/record (up alone {up / n:.1f})   "
              f"target <= {TARGETS['bytes']}   {mark(per_record <= TARGETS['bytes'])}")
        print(f"3. sync with nothing new: median {noop:.1f} ms (min {min(noop_ms):.1f}, max {max(noop_ms):.1f}, "
              f"n={len(noop_ms)}, {statistics.median(noop_bytes):,.0f} bytes)   target < {TARGETS['noop_ms']} ms   "
              f"{mark(noop < TARGETS['noop_ms'])}")
        print(f"4. busy night over 2G ({args.rate_kbit:g} kbit/s each way, {args.rtt_ms:g} ms round trip): "
              f"{night.pushed} records in {night_s:.1f} s, {night.batches} batch(es), "
              f"up {night_up:,} + down {night_down:,} bytes   target < {TARGETS['night_s']} s   "
              f"{mark(night_s < TARGETS['night_s'])}")
        expected = len(rows) + len(sample) + TAPS_PER_NIGHT
        print(f"check: hub holds {held_after} taps of this van (expected {expected})"
              + ("" if held_after == expected else "  <-- MISMATCH"))
        print(f"bench took {time.perf_counter() - started:.0f} s")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
            profiler.dump_stats(str(tmp / "van-sync.prof"))
            print(out.getvalue())
    finally:
        for proxy in (counting, throttled):
            if proxy:
                proxy.close()
        hub.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            tmp_obj.cleanup()


if __name__ == "__main__":
    main()
