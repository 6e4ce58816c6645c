"""Benchmark: the Pre-flight page for 60 days (GET /preflight?days=60) against a real `vanapp serve`
with the sample media, games and tours (real libVLC, dummy outputs).

    .venv/bin/python bench/preflight.py [--runs 5]

- cold (the baseline, as every check was before the check cache): the cache file is removed
  before each request, so every file is hashed and played again.
- warm: nothing changed since the last check: each file's size, times and inode match the
  cache, so its checksum and probe are reused.
Prints medians beside the issue's target (a 60-day pre-flight answers in under 1 s when no file
changed since the last check). Asserts nothing.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

PIN = "2468"
TARGET_S = 1.0


def vanapp(env, *args):
    subprocess.run([sys.executable, "-m", "vanapp.cli", *args], env=env, check=True,
                   capture_output=True, cwd=str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp) / "van", env={"VANAPP_VLC_ARGS": "--vout=dummy --aout=dummy",
                                                    "VANAPP_SYNC_INTERVAL": "0"})
        srv.env["VANAPP_PUBLIC_URL"] = srv.url
        schedules = sorted(str(p) for p in (ROOT / "schedules").iterdir() if p.suffix in (".yaml", ".csv"))
        vanapp(srv.env, "init", "--pin", PIN)
        vanapp(srv.env, "media", "scan")
        vanapp(srv.env, "games", "load")
        vanapp(srv.env, "schedule", "import", "--sample", *schedules)
        srv.start()
        try:
            http = requests.Session()
            login = http.get(srv.url + "/login")
            token = re.search(r'name="csrf-token" content="([^"]+)"', login.text).group(1)
            http.post(srv.url + "/login", data={"pin": PIN, "csrf_token": token})
            cache = Path(srv.data_dir) / "preflight-cache.json"

            def once(cold: bool) -> float:
                if cold:
                    cache.unlink(missing_ok=True)
                started = time.perf_counter()
                answer = http.get(srv.url + "/preflight?days=60")
                took = time.perf_counter() - started
                assert answer.status_code == 200 and 'id="verdict"' in answer.text, answer.text[:500]
                return took

            once(True)                                   # warm-up: libVLC and the page load once
            page = http.get(srv.url + "/preflight?days=60").text
            checked = len(re.findall(r'class="is-(?:not-)?ready"', page))
            cold = [once(True) for _ in range(args.runs)]
            warm = [once(False) for _ in range(args.runs)]
        finally:
            srv.stop()
    print(f"pre-flight, 60 days: {checked} screenings of the sample tours, {args.runs} runs each "
          f"({os.cpu_count()} cores)")
    print(f"  cold (baseline: every file hashed and played)  median {statistics.median(cold):.3f} s  "
          f"(min {min(cold):.3f}, max {max(cold):.3f})")
    print(f"  warm (nothing changed since the last check)    median {statistics.median(warm):.3f} s  "
          f"(min {min(warm):.3f}, max {max(warm):.3f})   target < {TARGET_S:.1f} s")


if __name__ == "__main__":
    main()
