"""Benchmark: playback through a real `vanapp serve` (JSON API, bearer token) with real libVLC and
dummy outputs, beside bare python-vlc doing the same on the same files in the same run.

    .venv/bin/python bench/playback.py [--starts 20] [--items 10] [--size 426x240]

- start: POST /api/v1/player/play → libVLC reports Playing. The play log's started_at is the
  time of libVLC's Playing event, so no polling delay is counted. Baseline: a bare python-vlc
  MediaPlayer (its own process, no app): set_media + play() → the Playing event, same file.
- gap: libVLC's Ended of one item → Playing of the next, over a programme of --items short
  clips (play log: ended_at → next started_at). Baseline: bare python-vlc starting the next file
  from its main thread when the Ended event arrives.
- RSS: the server process's resident memory (VmRSS, sampled every 100 ms while it plays),
  beside the bare python-vlc process's.
One warm-up play on each side is not counted. Prints figures; asserts nothing.
"""
import argparse
import datetime as dt
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PIN = "2468"
VLC_ARGS = ["--vout=dummy", "--aout=dummy", "--no-video-title-show", "--quiet", "--no-snapshot-preview"]
TARGETS = {"start": 250, "gap": 300, "rss": 150}


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_mb(pid, field="VmRSS") -> float | None:
    """Resident memory of `pid` in MB: VmRSS (all of it, shared libraries included) or RssAnon
    (the process's own: heap, stacks, buffers)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class RssSampler(threading.Thread):
    """VmRSS and RssAnon of `pid` every 100 ms while `on` is set."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.on, self.done = pid, threading.Event(), threading.Event()
        self.samples, self.anon = [], []

    def run(self):
        while not self.done.is_set():
            if self.on.is_set() and (value := rss_mb(self.pid)) is not None:
                self.samples.append(value)
                self.anon.append(rss_mb(self.pid, "RssAnon"))
            time.sleep(0.1)


def encode(path: Path, seconds: float, size: str):
    # H.264 + AAC in MP4, like the sample PSAs in media/ (426x240).
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
                    "-f", "lavfi", "-i", "sine", "-t", str(seconds), "-c:v", "libx264", "-pix_fmt",
                    "yuv420p", "-c:a", "aac", str(path)], check=True, timeout=120)


# -- the baseline: bare python-vlc in a process of its own -------------------------------------

def baseline(start_file: str, gap_files: list[str], starts: int) -> dict:
    import vlc
    instance = vlc.Instance(VLC_ARGS)
    player = instance.media_player_new()
    events = queue.Queue()
    manager = player.event_manager()
    for kind, name in ((vlc.EventType.MediaPlayerPlaying, "playing"),
                       (vlc.EventType.MediaPlayerEndReached, "ended")):
        manager.event_attach(kind, lambda _e, n=name: events.put((n, time.perf_counter())))

    def wait(name):
        while True:
            got, at = events.get(timeout=30)
            if got == name:
                return at

    def start(path):
        media = instance.media_new_path(path)
        player.set_media(media)
        media.release()
        player.play()

    sampler = RssSampler("self")
    sampler.start()
    start_ms = []
    for i in range(starts + 1):
        t0 = time.perf_counter()
        start(start_file)
        playing = wait("playing")
        sampler.on.set()
        time.sleep(0.2)      # as the app side does: let RSS see it playing
        sampler.on.clear()
        player.stop()
        if i:       # the first is the warm-up
            start_ms.append((playing - t0) * 1000)
        while not events.empty():
            events.get_nowait()
    gap_ms = []
    sampler.on.set()
    start(gap_files[0])
    wait("playing")
    for path in gap_files[1:]:
        ended = wait("ended")
        player.stop()       # libVLC 3: a player that reached the end must be stopped to replay
        start(path)
        gap_ms.append((wait("playing") - ended) * 1000)
    wait("ended")
    sampler.on.clear()
    sampler.done.set()
    player.stop()
    player.release()
    instance.release()
    return {"start_ms": start_ms, "gap_ms": gap_ms, "rss_mb": sampler.samples, "anon_mb": sampler.anon}


def run_baseline(start_file, gap_files, starts):
    out = subprocess.run([sys.executable, __file__, "--baseline-child", json.dumps(
        {"start": start_file, "gaps": gap_files, "starts": starts})], capture_output=True, text=True,
        timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"baseline failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the app -------------------------------------------------------------------------------------

def seed(data_dir: Path, refs_by_screening: dict) -> dict:
    from vanapp import create_app
    from vanapp.models import db
    from tests.support.factories import make_screening
    app = create_app({"DATA_DIR": str(data_dir)})
    ids = {}
    with app.app_context(), db.connection_context():
        for n, (name, refs) in enumerate(refs_by_screening.items()):
            ids[name] = make_screening(start=f"{10 + 3 * n}:00", village_en=f"Bench{n}",
                                       village=f"बेंच{n}", items=[("psa", r) for r in refs]).id
    return ids


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_app(media: Path, tmp: Path, starts: int, items: int):
    import requests
    from tests.support.server import ServerProcess

    data = tmp / "van"
    srv = ServerProcess(data, env={"VANAPP_MEDIA_DIR": str(media),
                                   "VANAPP_VLC_ARGS": "--vout=dummy --aout=dummy",
                                   "VANAPP_SYNC_INTERVAL": "0"})
    run = lambda *a: subprocess.run([sys.executable, "-m", "vanapp.cli", *a], env=srv.env,  # noqa: E731
                                    check=True, capture_output=True, text=True, cwd=str(ROOT))
    run("init", "--pin", PIN)
    token = run("token", "create", "bench").stdout.strip().splitlines()[-1]
    ids = seed(data, {"start": ["start"], "gaps": [f"g{i}" for i in range(items)]})
    srv.start()
    sampler = RssSampler(srv.proc.pid)
    sampler.start()
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    api = srv.url + "/api/v1"

    def state():
        return http.get(api + "/player", timeout=30).json()

    def until(predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while not predicate(snap := state()):
            if time.monotonic() > deadline:
                raise SystemExit(f"the player did not get there: {snap}")
            time.sleep(0.02)
        return snap

    try:
        idle_rss = rss_mb(srv.proc.pid)
        asked, answer_ms = [], []
        for i in range(starts + 1):
            t0 = dt.datetime.now(dt.timezone.utc)
            p0 = time.perf_counter()
            r = http.post(api + "/player/play", json={"screening": ids["start"], "from": 0}, timeout=30)
            answer_ms.append((time.perf_counter() - p0) * 1000)
            r.raise_for_status()
            until(lambda s: s["state"] == "playing")
            sampler.on.set()
            time.sleep(0.2)      # let RSS see it playing
            sampler.on.clear()
            http.post(api + "/player/stop", timeout=30).raise_for_status()
            asked.append(t0)
        plays = http.get(api + f"/screenings/{ids['start']}/plays?limit=500", timeout=30).json()["items"]
        start_ms = [(utc(p["started_at"]) - t0).total_seconds() * 1000 for p, t0 in zip(plays, asked)][1:]

        sampler.on.set()
        http.post(api + "/player/play", json={"screening": ids["gaps"], "from": 0}, timeout=30).raise_for_status()
        until(lambda s: s["state"] == "finished", timeout=30 + 5 * items)
        sampler.on.clear()
        plays = http.get(api + f"/screenings/{ids['gaps']}/plays?limit=500", timeout=30).json()["items"]
        gap_ms = [(utc(b["started_at"]) - utc(a["ended_at"])).total_seconds() * 1000
                  for a, b in zip(plays, plays[1:])]
        outcomes = sorted({p["outcome"] for p in plays})
        return {"start_ms": start_ms, "answer_ms": answer_ms[1:], "gap_ms": gap_ms,
                "rss_mb": sampler.samples, "anon_mb": sampler.anon, "idle_rss": idle_rss,
                "outcomes": outcomes,
                "url": srv.url}
    finally:
        sampler.done.set()
        srv.stop()


def line(name, values, unit="ms", target=None, base=None):
    text = (f"{name:<44} n={len(values):<3} median {statistics.median(values):7.1f} {unit}   "
            f"p95 {pct(values, 95):7.1f} {unit}   max {max(values):7.1f} {unit}")
    if target is not None:
        verdict = "ok" if pct(values, 95) < target else "OVER"
        text += f"   target < {target} {unit}: {verdict}"
    if base:
        text += f"   x{statistics.median(values) / statistics.median(base):.1f} of baseline"
    return text


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline-child":
        job = json.loads(sys.argv[2])
        print(json.dumps(baseline(job["start"], job["gaps"], job["starts"])))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--starts", type=int, default=20, help="play requests to time")
    ap.add_argument("--items", type=int, default=10, help="short clips in the programme for the gaps")
    ap.add_argument("--clip-seconds", type=float, default=1.5)
    ap.add_argument("--size", default="426x240", help="video size of the clips (the samples are 426x240)")
    args = ap.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is needed to make the clips (apt-get install ffmpeg)")

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vanapp-bench-") as tmp:
        tmp = Path(tmp)
        media = tmp / "media"
        (media / "psa").mkdir(parents=True)
        encode(media / "psa/start.mp4", 6, args.size)
        encode(tmp / "clip.mp4", args.clip_seconds, args.size)
        gap_files = []
        for i in range(args.items):     # distinct paths, as a programme has
            gap_files.append(str(media / f"psa/g{i}.mp4"))
            shutil.copy(tmp / "clip.mp4", gap_files[-1])

        base = run_baseline(str(media / "psa/start.mp4"), gap_files, args.starts)
        app = run_app(media, tmp, args.starts, args.items)

    import vlc
    print(f"libVLC {vlc.libvlc_get_version().decode()}, python-vlc {vlc.__version__}, "
          f"python {sys.version.split()[0]}, {sys.platform}; outputs: --vout=dummy --aout=dummy")
    print(f"clips: H.264+AAC {args.size}, a 6 s one for the starts, {args.items} x {args.clip_seconds:g} s "
          f"for the gaps; app: vanapp serve on {app['url']} over HTTP with a token; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print()
    print(line("start, app: POST play -> Playing", app["start_ms"], target=TARGETS["start"],
               base=base["start_ms"]))
    print(line("start, baseline: bare python-vlc play -> Playing", base["start_ms"]))
    print(line("  (app: POST play -> HTTP answer)", app["answer_ms"]))
    print(line("gap, app: Ended -> next Playing", app["gap_ms"], target=TARGETS["gap"], base=base["gap_ms"]))
    print(line("gap, baseline: bare python-vlc", base["gap_ms"]))
    rss_app, rss_base = app["rss_mb"], base["rss_mb"]
    if rss_app:
        print(line("RSS, app (vanapp serve) while playing", rss_app, "MB", target=TARGETS["rss"],
                   base=rss_base or None) + f"   (idle before playing: {app['idle_rss']:.1f} MB)")
    else:
        print("RSS, app: not measured (no /proc on this platform)")
    if rss_base:
        print(line("RSS, baseline: bare python-vlc while playing", rss_base, "MB"))
    if app["anon_mb"] and base["anon_mb"]:
        print(line("  of which private (RssAnon), app", app["anon_mb"], "MB", base=base["anon_mb"]))
        print(line("  of which private (RssAnon), baseline", base["anon_mb"], "MB"))
    print(f"\ngap programme outcomes: {', '.join(app['outcomes'])}; "
          f"ran in {time.monotonic() - began:.0f} s")
    print("targets: start < 250 ms, gap < 300 ms, RSS < 150 MB; ok/OVER compares the p95")


if __name__ == "__main__":
    main()
