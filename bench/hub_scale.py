"""Benchmark: the hub at the campaign's scale, on PostgreSQL and SQLite.

    .venv/bin/python bench/hub_scale.py [--sizes 1k,5k,20k,75k] [--backends postgresql,sqlite]
                                        [--runs 3] [--json FILE]

For each backend, one hub grows through the sizes (screenings; about 200 taps each, see
bench/hub_nights.py for the shape of a night), filled through the models as sync stores them
(`receive.apply_batch`, 2,000 records a batch, the kept facts updated in the same transaction).
At each size it prints:
  * ingest: records per second through apply_batch, beside a bare COPY (PostgreSQL) or
    executemany (both) of the same kind of rows into the hub's own tables, in one transaction per
    batch, rolled back — measured in the same run, before and after the growth (median);
  * a check: `facts_store.check()` (the kept numbers against a recount of every screening) and
    the report's headline totals against a bare SQL recount of the raw records;
  * per request, against a real `vanapp hub serve` on 127.0.0.1 (median of --runs after a
    warm-up; CSVs once): wall time, time to the first byte (CSV), bytes, and the hub process's
    peak resident memory during the request (VmHWM, reset before each request); beside it a bare
    SQL query over the same rows (the floor) and, for the dashboard, the raw recount the hub did
    before it kept facts (SUM over every tap);
  * `vanapp hub report --json` as a command (a new process each run, median of --runs): wall time
    and its peak memory, and the report alone in-process;
and at the end the growth of each figure from the smallest size to the largest.
PostgreSQL runs as its own server on 127.0.0.1 with its default settings (a commit is on disk
before it returns); nothing here talks to anything but 127.0.0.0/8. Asserts nothing but the check.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import hub_nights  # noqa: E402

SIZES = {"1k": 1000, "5k": 5000, "20k": 20000, "75k": 75000}
COORDINATOR, PASSWORD = "bench", "bench-password-1"
TARGETS = {"postgresql": 0.5, "sqlite": 2.0}      # seconds, pages and report (issue 14)


# --- the database ----------------------------------------------------------------------------------

class Backend:
    def __init__(self, name: str):
        self.name = name
        self.data_dir = tempfile.mkdtemp(prefix=f"hub-scale-{name}-")
        self.server = None
        self.url = ""
        if name == "postgresql":
            from tests.support.postgres import PostgresServer
            # PostgreSQL's own defaults (fsync on), only more connections for the hub's threads
            self.server = PostgresServer(settings={"max_connections": "100"}).start()
            self.url = self.server.url()

    def app(self):
        from vanapp import create_app
        return create_app({"MODE": "hub", "DATA_DIR": self.data_dir, "DATABASE_URL": self.url})

    def env(self) -> dict:
        env = dict(os.environ, VANAPP_DATA_DIR=self.data_dir)
        env.pop("VANAPP_DATABASE_URL", None)
        if self.url:
            env["VANAPP_DATABASE_URL"] = self.url
        return env

    def close(self):
        if self.server:
            self.server.stop()


def timed(fn, runs: int):
    fn()                                   # warm-up: caches, the query plan, the connection
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def sql_time(sql: str, params=(), runs: int = 3) -> float:
    from vanapp.models import db
    sql = sql.replace("?", db.param)
    return timed(lambda: db.execute_sql(sql, list(params)).fetchall(), runs)


# --- ingest -----------------------------------------------------------------------------------

def bare_ingest(size: int, postgres: bool, sample: int = 60) -> dict:
    """Records per second of a bare COPY / executemany of nights' records (fresh ids, existing
    screenings) into the hub's own tables, 2,000 a transaction, rolled back."""
    from vanapp.models import db
    from vanapp.protocol import records as tables
    batches, batch, count = [], [], 0
    for i in range(max(0, size - sample * 3), size):
        rows, _summary = hub_nights.night_records(i, size + 10**9)
        batch.extend(rows)                 # whole nights a batch: a result travels with its run
        if len(batch) >= hub_nights.BATCH:
            batches.append(batch)
            count += len(batch)
            batch = []
        if count >= sample * 200:
            break
    nights = [row for b in batches for row in b]
    out = {}
    for how in (("copy", "executemany") if postgres else ("executemany",)):
        began = time.perf_counter()
        for batch in batches:
            by_model = {}
            for model, row in batch:
                by_model.setdefault(model, []).append(row)
            with db.atomic() as txn:
                for table in tables.ordered_tables("van"):
                    rows = by_model.get(table.name)
                    if not rows:
                        continue
                    columns = [c for c in table.columns if c in rows[0]]
                    params = table.to_db(columns, [tuple(r[c] for c in columns) for r in rows])
                    names = ", ".join(f'"{table.sql_column(c)}"' for c in columns)
                    if how == "copy":
                        with db.cursor().copy(f'COPY "{table.table}" ({names}) FROM STDIN') as copy:
                            for row in params:
                                copy.write_row(row)
                    else:
                        marks = ", ".join([db.param] * len(columns))
                        db.cursor().executemany(f'INSERT INTO "{table.table}" ({names}) VALUES ({marks})', params)
                txn.rollback()
        out[how] = len(nights) / (time.perf_counter() - began)
    return out


# --- checks -------------------------------------------------------------------------------------

def recount_check() -> dict:
    """The kept numbers against a recount of every screening, and headline totals against bare SQL."""
    from vanapp.hub import facts_store, reports
    from vanapp.models import db
    began = time.perf_counter()
    differences = facts_store.check()
    seconds = time.perf_counter() - began
    report = reports.report(reports.Filters(), vans=False)
    # held nights: not cancelled, and something arrived; people: their synced taps, or the
    # summary of their own van where no tap was synced (the rules of hub/recount.py)
    raw_people = db.execute_sql(
        'SELECT COALESCE(SUM(t.delta), 0) FROM tally_event t JOIN screening s ON s.id = t.screening_id '
        "WHERE s.status <> 'cancelled'").fetchone()[0]
    raw_qr = db.execute_sql(
        'SELECT COALESCE(SUM(r.total), 0) FROM summary_report r JOIN screening s ON s.id = r.screening '
        "AND s.van = r.van WHERE s.status <> 'cancelled' AND NOT EXISTS "
        "(SELECT 1 FROM tally_event t WHERE t.screening_id = r.screening)").fetchone()[0]
    raw_held = db.execute_sql(
        "SELECT COUNT(*) FROM screening s WHERE s.status <> 'cancelled' AND (s.status IN ('done', 'in_progress') "
        "OR EXISTS (SELECT 1 FROM summary_report r WHERE r.screening = s.id AND r.van = s.van))").fetchone()[0]
    ok = (not differences and report["people"]["total"] == raw_people + raw_qr
          and report["screenings"]["held"] == raw_held)
    return {"differences": len(differences), "first": [str(d) for d in differences[:5]], "check_s": seconds,
            "people": report["people"]["total"], "raw_people": int(raw_people + raw_qr),
            "held": report["screenings"]["held"], "raw_held": int(raw_held), "ok": ok}


# --- requests against a real hub ---------------------------------------------------------------

def peak_rss_reset(pid: int) -> None:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")      # resets VmHWM to the current RSS
    except OSError:
        pass


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def login(base: str):
    import requests
    session = requests.Session()
    page = session.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(base + "/login", data={"username": COORDINATOR, "password": PASSWORD,
                                                 "csrf_token": token}, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:300]
    return session


def page_request(session, url: str, pid: int, runs: int) -> dict:
    def get():
        answer = session.get(url)
        assert answer.status_code == 200, (url, answer.status_code)
        return answer
    get()
    times, peaks = [], []
    for _ in range(runs):
        peak_rss_reset(pid)
        began = time.perf_counter()
        answer = get()
        times.append(time.perf_counter() - began)
        peaks.append(peak_rss_mb(pid))
    return {"s": statistics.median(times), "rss_mb": max(peaks), "bytes": len(answer.content)}


def csv_request(session, url: str, pid: int) -> dict:
    peak_rss_reset(pid)
    began = time.perf_counter()
    answer = session.get(url, stream=True)
    assert answer.status_code == 200, (url, answer.status_code)
    size, first = 0, None
    for chunk in answer.iter_content(65536):
        if first is None:
            first = time.perf_counter() - began
        size += len(chunk)
    return {"s": time.perf_counter() - began, "first_byte_s": first, "bytes": size, "rss_mb": peak_rss_mb(pid)}


# The command's own peak memory, read by itself as it exits: a child's rusage (wait4) counts the
# pages of the process that forked it, so this bench's own 180 MB would show as the command's.
_PEAK = ("import atexit, re, runpy, sys\n"
         "atexit.register(lambda: sys.stderr.write('\\nVmHWM %s kB\\n' % re.search(r'VmHWM:\\s+(\\d+)', "
         "open('/proc/self/status').read()).group(1)))\n"
         "sys.argv = ['vanapp', 'hub', 'report', '--json']\n"
         "runpy.run_module('vanapp.cli', run_name='__main__')\n")


def report_command(backend: Backend, runs: int = 3) -> dict:
    """`vanapp hub report --json` as a coordinator's script runs it: a new process each time
    (median of `runs` after a warm-up that fills the OS's file cache)."""
    times, peaks = [], []
    for attempt in range(runs + 1):
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _PEAK], env=backend.env(), cwd=str(ROOT),
                              capture_output=True, text=True)
        seconds = time.perf_counter() - began
        assert done.returncode == 0, done.stderr[-2000:]
        json.loads(done.stdout)
        if attempt:
            times.append(seconds)
            peaks.append(int(re.search(r"VmHWM (\d+) kB", done.stderr).group(1)) / 1024)
    return {"s": statistics.median(times), "rss_mb": max(peaks)}


def measure(backend: Backend, size: int, runs: int) -> dict:
    from tests.support.server import ServerProcess
    from vanapp.hub import reports
    last_day = hub_nights.FIRST_DAY.toordinal() + (size - 1) // hub_nights.VANS
    middle = __import__("datetime").date.fromordinal((hub_nights.FIRST_DAY.toordinal() + last_day) // 2)
    month = (middle.replace(day=1).isoformat(), middle.replace(day=28).isoformat())
    van = "van-042"
    out = {}
    # the floors: bare SQL over the same rows, in this process
    out["floor"] = {
        "dashboard": sql_time('SELECT COUNT(*), SUM(people) FROM screening_fact', runs=runs),
        "dashboard_month": sql_time('SELECT COUNT(*), SUM(f.people) FROM screening s LEFT JOIN screening_fact f '
                                    'ON f.screening = s.id WHERE s.date BETWEEN ? AND ?', month, runs),
        "dashboard_van": sql_time('SELECT COUNT(*), SUM(f.people) FROM screening s LEFT JOIN screening_fact f '
                                  'ON f.screening = s.id WHERE s.van = ?', [van], runs),
        "vans": sql_time('SELECT van, records, last_received FROM van_fact ORDER BY van', runs=runs),
        "screening_list": sql_time('SELECT s.id, s.date, f.people FROM screening s LEFT JOIN screening_fact f '
                                   'ON f.screening = s.id ORDER BY s.date, s.start, s.id LIMIT 100', runs=runs),
        "raw_recount": sql_time('SELECT SUM(delta) FROM tally_event', runs=1),
    }
    began = time.perf_counter()
    reports.report(reports.Filters())
    out["report_in_process_s"] = time.perf_counter() - began
    server = ServerProcess(Path(backend.data_dir), env=backend.env(), args=("hub", "serve")).start(timeout=120)
    try:
        pid = server.proc.pid
        session = login(server.url)
        base = server.url
        out["dashboard"] = page_request(session, base + "/", pid, runs)
        out["dashboard_month"] = page_request(session, f"{base}/?from={month[0]}&to={month[1]}", pid, runs)
        out["dashboard_van"] = page_request(session, f"{base}/?van={van}", pid, runs)
        out["vans"] = page_request(session, base + "/vans", pid, runs)
        out["screening_list"] = page_request(session, base + "/screenings?metric=people", pid, runs)
        for name in ("screenings", "attendance", "game_results"):
            out[f"{name}_csv"] = csv_request(session, f"{base}/export/{name}.csv", pid)
    finally:
        server.stop()
    out["report_command"] = report_command(backend, runs)
    return out


# --- the run ------------------------------------------------------------------------------------

def run_backend(name: str, sizes: list[str], runs: int) -> dict:
    from vanapp import db as database
    from vanapp.hub.accounts import create_coordinator
    from vanapp.models import db
    backend = Backend(name)
    results = {}
    try:
        app = backend.app()
        database.migrate()
        with app.app_context(), db.connection_context():
            create_coordinator(COORDINATOR, PASSWORD)
            filler = hub_nights.Filler()
            for label in sizes:
                size = SIZES[label]
                before = bare_ingest(max(filler.done, 300), name == "postgresql") if filler.done else None
                stored, seconds = filler.stored, filler.apply_seconds
                began = time.perf_counter()
                filler.grow(size)
                fill_wall = time.perf_counter() - began
                rate = (filler.stored - stored) / (filler.apply_seconds - seconds)
                after = bare_ingest(size, name == "postgresql")
                bare = {k: statistics.median([v] + ([before[k]] if before else [])) for k, v in after.items()}
                entry = {"size": size, "ingest": {"records_per_s": rate, "bare_per_s": bare,
                                                  "fill_wall_s": fill_wall, "records": filler.stored}}
                entry["check"] = recount_check()
                entry.update(measure(backend, size, runs))
                results[label] = entry
                show(name, label, entry)
    finally:
        backend.close()
    return results


def show(backend: str, label: str, e: dict) -> None:
    ing = e["ingest"]
    print(f"\n== {backend}, {label} screenings ({e['ingest']['records']:,} records) ==")
    bare = ", ".join(f"bare {k} {v:,.0f}/s (ours {ing['records_per_s'] / v:.0%})" for k, v in ing["bare_per_s"].items())
    print(f"ingest: {ing['records_per_s']:,.0f} records/s through apply_batch with the facts; {bare}")
    c = e["check"]
    print(f"check: {c['differences']} differences ({c['check_s']:.1f} s); people {c['people']:,} = raw {c['raw_people']:,}; "
          f"held {c['held']:,} = raw {c['raw_held']:,}: {'OK' if c['ok'] else 'MISMATCH ' + repr(c['first'])}")
    print(f"{'request':18s} {'time':>9s} {'first byte':>10s} {'peak RSS':>9s} {'size':>10s} {'bare SQL':>9s}")
    for name in ("dashboard", "dashboard_month", "dashboard_van", "vans", "screening_list", "screenings_csv",
                 "attendance_csv", "game_results_csv", "report_command"):
        r = e[name]
        first = f"{r['first_byte_s'] * 1000:8.0f}ms" if r.get("first_byte_s") is not None else ""
        floor = e["floor"].get(name) or (e["floor"]["dashboard"] if name == "report_command" else None)
        print(f"{name:18s} {r['s'] * 1000:7.0f}ms {first:>10s} {r['rss_mb']:7.0f}MB {r.get('bytes', 0):>10,} "
              + (f"{floor * 1000:7.1f}ms" if floor is not None else ""))
    print(f"report in-process: {e['report_in_process_s'] * 1000:.0f} ms; raw recount (SUM over every tap): "
          f"{e['floor']['raw_recount'] * 1000:.0f} ms")


def growth(results: dict) -> None:
    for backend, sizes in results.items():
        labels = list(sizes)
        if len(labels) < 2:
            continue
        small, large = sizes[labels[0]], sizes[labels[-1]]
        print(f"\n== growth on {backend}, {labels[0]} -> {labels[-1]} screenings "
              f"({large['size'] / small['size']:.0f}x the history) ==")
        for name in ("dashboard", "dashboard_month", "dashboard_van", "vans", "screening_list", "screenings_csv",
                     "game_results_csv", "report_command"):
            a, b = small[name], large[name]
            first = (f"; first byte {a['first_byte_s'] * 1000:.0f} -> {b['first_byte_s'] * 1000:.0f} ms"
                     if a.get("first_byte_s") is not None else "")
            print(f"{name:18s} {a['s'] * 1000:7.0f} -> {b['s'] * 1000:7.0f} ms ({b['s'] / a['s']:4.1f}x); "
                  f"peak RSS {a['rss_mb']:.0f} -> {b['rss_mb']:.0f} MB{first}")
        print(f"{'ingest':18s} {small['ingest']['records_per_s']:,.0f} -> {large['ingest']['records_per_s']:,.0f} records/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1k,5k")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",")]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"--sizes: {unknown} (use {', '.join(SIZES)})")
    os.environ.pop("VANAPP_DATABASE_URL", None)
    results = {}
    for backend in args.backends.split(","):
        results[backend] = run_backend(backend.strip(), sizes, args.runs)
    growth(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    if not all(e["check"]["ok"] for sizes in results.values() for e in sizes.values()):
        raise SystemExit("the kept numbers differ from a recount")


if __name__ == "__main__":
    main()
