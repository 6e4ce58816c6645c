"""Where a push batch spends its time, both sides, in one process (no HTTP): build the van's
batches from a filled outbox, then unpack and apply them on a fresh hub database, under cProfile.

    .venv/bin/python bench/sync_profile.py [--records 20000] [--top 30] [--sort tottime|cumulative]
                                           [--batch-rows 2000] [--max-records N]

A helper for bench/sync.py (which measures the real thing over HTTP); prints wall and CPU
seconds per side and the top entries of both profiles. Batches are a fixed --batch-rows here
(the client grows them on a fast link); --max-records raises the hub's limit in this process.
"""
import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import datetime as dt  # noqa: E402

from sync import VAN_ID, make_taps, store_taps  # noqa: E402


SORT = "tottime"


def show(profiler, top):
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(SORT).print_stats(top)
    print(out.getvalue())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--batch-rows", type=int, default=2000)
    ap.add_argument("--max-records", type=int, default=None,
                    help="raise the per-batch record limit in this process (experiments)")
    ap.add_argument("--sort", default="tottime", help="tottime or cumulative")
    args = ap.parse_args()
    global SORT
    SORT = args.sort
    from playhouse.migrations import Runner
    from vanapp import create_app
    from vanapp.db import MIGRATIONS_DIR
    from vanapp.models import db
    if args.max_records:
        from vanapp.hub import receive
        from vanapp.protocol import wire
        from vanapp.sync import outbox
        wire.MAX_RECORDS = outbox.MAX_RECORDS = receive.MAX_RECORDS = args.max_records
    with tempfile.TemporaryDirectory(prefix="vanapp-prof-") as tmp:
        van = create_app({"DATA_DIR": f"{tmp}/van", "DATABASE_URL": "", "TESTING": True})
        with van.app_context(), db.connection_context():
            Runner(db.obj, directory=str(MIGRATIONS_DIR)).up()
            store_taps(make_taps(args.records, random.Random(1), dt.date(2026, 1, 1), "p"))
            from vanapp.sync import outbox
            bodies, start, sent = [], 0, set()
            prof = cProfile.Profile()
            t0, c0 = time.perf_counter(), time.process_time()
            prof.enable()
            while True:
                batch = outbox.collect(start, VAN_ID, "epoch-prof", f"key-{start:08d}", set(), sent,
                                       limit=args.batch_rows)
                if batch is None:
                    break
                bodies.append(batch.body)
                sent |= batch.plan
                start = batch.end
            prof.disable()
            van_s, van_cpu = time.perf_counter() - t0, time.process_time() - c0
        hub = create_app({"DATA_DIR": f"{tmp}/hub", "DATABASE_URL": "", "TESTING": True, "MODE": "hub"})
        with hub.app_context(), db.connection_context():
            Runner(db.obj, directory=str(MIGRATIONS_DIR)).up()
            from vanapp.hub import pairing, receive
            from vanapp.protocol.wire import unpack
            pairing.add_van("Bench", VAN_ID)
            hprof = cProfile.Profile()
            t0, c0 = time.perf_counter(), time.process_time()
            hprof.enable()
            for body in bodies:
                receive.apply_batch(VAN_ID, unpack(body))
            hprof.disable()
            hub_s, hub_cpu = time.perf_counter() - t0, time.process_time() - c0
    n = args.records
    print(f"van: {van_s:.2f} s ({van_cpu:.2f} s CPU) building {len(bodies)} batches ({n / van_s:,.0f} records/s), "
          f"{sum(map(len, bodies)) / n:.1f} body bytes/record")
    print(f"hub: {hub_s:.2f} s ({hub_cpu:.2f} s CPU) unpacking and applying them ({n / hub_s:,.0f} records/s)")
    print("--- van (tottime)")
    show(prof, args.top)
    print("--- hub (tottime)")
    show(hprof, args.top)


if __name__ == "__main__":
    main()
