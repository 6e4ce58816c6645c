"""Benchmark: a crowd of phones playing a quiz against a real `vanapp serve` on 127.0.0.1.

    .venv/bin/python bench/audience.py [--phones 300] [--threads 16] [--think 3.0]

Every simulated phone does what the phone page (static/js/audience.js + games-poll.js) does:
loads /a/ (device cookie, session, CSRF token), polls /a/api/state?v=<last version> on one
keep-alive connection every 500 ms + 0..99 ms after each answer (both numbers read from the
page's JavaScript) (204 = nothing changed, else a
small delta or the full state), and when it sees a live run it asks /a/api/me and joins.
Requests the page makes beside the poll (me, join, vote) go over a second connection, as a
browser opens one when the first is busy. When a question opens, each phone votes after a
"thinking" pause (uniform 0.2..--think s). The bench itself is the crew: it logs in with the
PIN, starts the five-question quiz through /api/v1, opens, closes and reveals every question and
finishes the game, while one projector polls as its page does (500 ms).

Prints: vote latency (median, p95), the delay from each crew change (time the crew's request
was sent) until each phone's poll brings it (median, p95, max), errors by kind, the server's
CPU (user+sys from /proc/<pid>/stat, and % of one core over the run), votes acknowledged vs
votes in the database afterwards (an acknowledged vote is a committed vote), and the load
generator's own CPU and event-loop lag (to show it is not the bottleneck). Asserts nothing.
"""
import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

PIN = "2468"
GAME = "bell-quiz"
JS = ROOT / "vanapp" / "static" / "js"


def _from_js(name, pattern):
    """A number read from the pages' own JavaScript, so the bench polls exactly as they do."""
    match = re.search(pattern, (JS / name).read_text())
    if match is None:
        raise SystemExit(f"bench/audience.py: cannot find {pattern!r} in {name}: update the bench")
    return int(match.group(1))


POLL_MS = _from_js("audience.js", r"G\.poll\(urls\.state, (\d+),")                     # phone page
POLL_JITTER_MS = _from_js("games-poll.js", r"schedule\(interval \+ Math\.floor\(Math\.random\(\) \* (\d+)\)\)")
PROJECTOR_POLL_MS = _from_js("games-projector.js", r"G\.poll\([^,]+, (\d+),")            # projector
REQUEST_TIMEOUT = 4.0                       # games-poll.js request(): 4 s deadline on a poll
SEND_TIMEOUT = 5.0                          # games-poll.js send(): 5 s on a POST
CSRF_RE = re.compile(rb'name="csrf-token" content="([^"]+)"')
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def line(name, ms, target="", met=None):
    if not ms:
        return f"{name:<24} n=0"
    verdict = "" if met is None else ("  ok" if met else "  MISSED")
    return (f"{name:<24} n={len(ms):<6} median {statistics.median(ms):7.1f} ms   p95 {pct(ms, 95):7.1f} ms   "
            f"max {max(ms):7.1f} ms   {target}{verdict}")


def proc_cpu(pid: int) -> float:
    """user + system CPU seconds of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK     # utime, stime (fields 14, 15)


class HttpError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection with its own cookie jar (shared by a phone's two)."""

    def __init__(self, host, port, jar):
        self.host, self.port, self.jar = host, port, jar
        self.reader = self.writer = None

    async def _open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT):
        try:
            return await asyncio.wait_for(self._request(method, path, body, headers), timeout)
        except Exception:
            self.close()               # a lost or broken request: the next one reconnects
            raise

    async def _request(self, method, path, body, headers):
        if self.writer is None:
            await self._open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: */*"]
        if self.jar:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.jar.items()))
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        data = b""
        if isinstance(body, bytes):                    # a form
            data = body
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(data)}"]
        elif body is not None:
            data = json.dumps(body).encode()
            lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
            elif name == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                self.jar[key.strip()] = val.strip()
        if chunked:
            payload = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                payload += chunk[:-2]
            body_bytes = bytes(payload)
        else:
            body_bytes = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body_bytes


class Stats:
    def __init__(self):
        self.vote_ms, self.join_ms, self.crew_ms, self.poll_ms = [], [], [], []
        self.errors: dict[str, int] = {}
        self.acked = 0
        self.polls = self.polls_204 = self.polls_delta = self.polls_full = 0

    def error(self, kind):
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Phone:
    def __init__(self, n, host, port, stats, think):
        self.n, self.stats, self.think = n, stats, think
        self.jar = {}
        self.poll_conn = Conn(host, port, self.jar)
        self.act_conn = Conn(host, port, self.jar)
        self.csrf = None
        self.version = None
        self.state = None
        self.me = None
        self.joining = False
        self.voted = {}                 # question -> choice (acknowledged)
        self.voting = set()
        self.seen = {}                  # (state, question) -> monotonic time it arrived
        self.stopped = False
        self.tasks = set()

    def spawn(self, coro):
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self):
        try:
            status, page = await self.poll_conn.request("GET", "/a/")
            if status != 200:
                raise HttpError(f"page {status}")
            self.csrf = CSRF_RE.search(page).group(1).decode()
        except Exception as exc:
            self.stats.error(f"page: {type(exc).__name__} {exc}")
            return
        failures = 0
        while not self.stopped:
            path = "/a/api/state?v=" + ("" if self.version is None else str(self.version))
            try:
                sent = time.monotonic()
                status, body = await self.poll_conn.request("GET", path)
                arrived = time.monotonic()
                self.stats.poll_ms.append((arrived - sent) * 1000)
                if status not in (200, 204):
                    raise HttpError(f"poll HTTP {status}")
            except Exception as exc:
                failures += 1
                self.stats.error(f"poll: {type(exc).__name__} {exc}".strip())
                await asyncio.sleep(min(3.0, 0.3 * failures))       # games-poll.js back-off
                continue
            failures = 0
            self.stats.polls += 1
            if status == 204:
                self.stats.polls_204 += 1
            else:
                data = json.loads(body)
                if data.get("delta"):
                    self.stats.polls_delta += 1
                    if self.state is not None:
                        self.state.update(v=data["v"], state=data["state"], tally=data["tally"])
                else:
                    self.stats.polls_full += 1
                    self.state = data
                self.version = data["v"]
                if self.state is not None:
                    self.on_state(self.state, arrived)
            await asyncio.sleep((POLL_MS + random.randrange(POLL_JITTER_MS)) / 1000)

    def on_state(self, state, arrived):
        q = state.get("q")
        key = (state["state"], q["id"] if q else None)
        self.seen.setdefault(key, arrived)
        if state.get("run") and state["state"] not in ("finished", "idle"):
            if (self.me is None or self.me.get("run") != state["run"]) and not self.joining:
                self.joining = True
                self.spawn(self.ensure_joined(state["run"]))
        if (state["state"] == "question_open" and q and self.me and q["id"] not in self.voted
                and q["id"] not in self.voting):
            self.voting.add(q["id"])
            self.spawn(self.vote(state["run"], q))

    async def ensure_joined(self, run):
        try:
            status, body = await self.act_conn.request("GET", "/a/api/me")
            if status != 200:
                raise HttpError(f"me HTTP {status}")
            me = json.loads(body)["me"]
            if not me or me.get("run") != run:
                started = time.monotonic()
                status, body = await self.act_conn.request("POST", "/a/api/join", body={},
                                                           headers={"X-CSRFToken": self.csrf}, timeout=SEND_TIMEOUT)
                if status != 200:
                    raise HttpError(f"join HTTP {status}: {body[:120]!r}")
                self.stats.join_ms.append((time.monotonic() - started) * 1000)
                me = json.loads(body)["me"]
            self.me = me
            if self.state is not None:
                self.on_state(self.state, time.monotonic())
        except Exception as exc:
            self.stats.error(f"join: {type(exc).__name__} {exc}".strip())
        finally:
            self.joining = False

    async def vote(self, run, q):
        await asyncio.sleep(random.uniform(0.2, self.think))
        choice = random.choice(q["choices"])["id"]
        started = time.monotonic()
        try:
            status, body = await self.act_conn.request(
                "POST", "/a/api/vote", body={"run": run, "question": q["id"], "choice": choice},
                headers={"X-CSRFToken": self.csrf}, timeout=SEND_TIMEOUT)
            took = (time.monotonic() - started) * 1000
            if status != 200:
                raise HttpError(f"vote HTTP {status}: {body[:120]!r}")
            self.stats.vote_ms.append(took)
            self.stats.acked += 1
            self.voted[q["id"]] = choice
        except Exception as exc:
            self.stats.error(f"vote: {type(exc).__name__} {exc}".strip())
        finally:
            self.voting.discard(q["id"])


class Crew:
    """The crew console, over the same API its page uses (session cookie + CSRF header)."""

    def __init__(self, host, port, stats):
        self.jar = {}
        self.conn = Conn(host, port, self.jar)
        self.stats = stats
        self.csrf = None

    async def login(self):
        status, page = await self.conn.request("GET", "/login")
        token = CSRF_RE.search(page).group(1).decode()
        form = f"csrf_token={token}&pin={PIN}".encode()
        await self.conn.request("POST", "/login", body=form, timeout=30)
        status, page = await self.conn.request("GET", "/games/")
        if status != 200:
            raise SystemExit(f"crew login failed: {status}")
        self.csrf = CSRF_RE.search(page).group(1).decode()

    async def call(self, method, path, body=None):
        started = time.monotonic()
        status, data = await self.conn.request(method, path, body=body if body is not None else {},
                                               headers={"X-CSRFToken": self.csrf}, timeout=30)
        self.stats.crew_ms.append((time.monotonic() - started) * 1000)
        if status >= 300:
            raise SystemExit(f"crew {method} {path} -> {status}: {data[:300]!r}")
        return json.loads(data)

    async def live(self):
        status, data = await self.conn.request("GET", "/api/v1/games/live", timeout=30)
        return json.loads(data)


async def projector(host, port, stats, stop):
    """The projector page: the same poll, every 500 ms."""
    conn, version = Conn(host, port, {}), None
    while not stop.is_set():
        try:
            status, body = await conn.request("GET", "/a/api/state?v=" + ("" if version is None else str(version)))
            if status == 200:
                version = json.loads(body)["v"]
            elif status != 204:
                stats.error(f"projector HTTP {status}")
        except Exception as exc:
            stats.error(f"projector: {type(exc).__name__}")
        await asyncio.sleep((PROJECTOR_POLL_MS + random.randrange(POLL_JITTER_MS)) / 1000)


async def loop_lag(samples, stop):
    """How late the load generator's event loop wakes up: if this stays small, the generator
    is keeping up and the latencies measured are the server's."""
    while not stop.is_set():
        start = time.monotonic()
        await asyncio.sleep(0.05)
        samples.append((time.monotonic() - start - 0.05) * 1000)


async def wait_until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


async def drive(args, host, port, screening, server_pid):
    stats = Stats()
    stop = asyncio.Event()
    lag = []
    crew = Crew(host, port, stats)
    await crew.login()
    started = await crew.call("POST", "/api/v1/games/runs", {"screening": screening, "game": GAME})
    questions = [q["id"] for q in started["live"]["questions"]]
    bg = [asyncio.create_task(loop_lag(lag, stop)), asyncio.create_task(projector(host, port, stats, stop))]

    cpu0, wall0, gen0 = proc_cpu(server_pid), time.monotonic(), time.process_time()
    phones = [Phone(i, host, port, stats, args.think) for i in range(args.phones)]
    tasks = []
    # People scan the QR code over a few seconds, not all in the same millisecond.
    for i, phone in enumerate(phones):
        tasks.append(asyncio.create_task(phone.run()))
        if i % 10 == 9:
            await asyncio.sleep(args.arrive / (args.phones / 10))
    joined = await wait_until(lambda: all(p.me for p in phones), 60)
    live = await crew.live()
    print(f"joined: {sum(1 for p in phones if p.me)}/{args.phones} phones "
          f"(server counts {live['tally']['joined']}) in {time.monotonic() - wall0:.1f} s"
          + ("" if joined else "  <-- NOT ALL JOINED"))

    changes = []        # (key, monotonic time the crew sent the request)

    async def change(action, key):
        sent = time.monotonic()
        await crew.call("POST", f"/api/v1/games/live/{action}")
        changes.append((key, sent))
        if not await wait_until(lambda: all(key in p.seen for p in phones), 10):
            stats.error(f"change {key} not seen by every phone within 10 s")

    quiz_cpu0, quiz_wall0 = proc_cpu(server_pid), time.monotonic()
    for qid in questions:
        await change("next", ("question_open", qid))
        await wait_until(lambda: all(qid in p.voted for p in phones if p.me), args.think + 10)
        await asyncio.sleep(0.3)
        await change("close", ("question_closed", qid))
        await change("reveal", ("revealed", qid))
        await asyncio.sleep(0.5)
    await change("finish", ("finished", questions[-1]))
    quiz_cpu, quiz_wall = proc_cpu(server_pid) - quiz_cpu0, time.monotonic() - quiz_wall0

    # A quiet stretch: everyone keeps polling, nothing changes (what an idle crowd costs).
    idle_cpu0, idle_wall0 = proc_cpu(server_pid), time.monotonic()
    await asyncio.sleep(args.idle)
    idle_cpu, idle_wall = proc_cpu(server_pid) - idle_cpu0, time.monotonic() - idle_wall0

    for p in phones:
        p.stopped = True
    stop.set()
    await asyncio.gather(*tasks, *bg, return_exceptions=True)
    for p in phones:
        for t in list(p.tasks):
            t.cancel()
    cpu, wall, gen = proc_cpu(server_pid) - cpu0, time.monotonic() - wall0, time.process_time() - gen0
    for p in phones:
        p.poll_conn.close()
        p.act_conn.close()

    delays = []
    for key, sent in changes:
        mine = [(p.seen[key] - sent) * 1000 for p in phones if key in p.seen]
        delays += mine
        if args.verbose:
            print(f"  change {key}: median {statistics.median(mine):.0f} ms, max {max(mine):.0f} ms")
    return dict(stats=stats, delays=delays, changes=len(changes), cpu=cpu, wall=wall, gen=gen, lag=lag,
                quiz=(quiz_cpu, quiz_wall), idle=(idle_cpu, idle_wall), run=started["run"], pid=server_pid)


def seed(srv) -> str:
    code = (
        "from vanapp import create_app\n"
        "from vanapp.models import db\n"
        "from vanapp.games.content import load_games\n"
        "from tests.support.factories import make_screening\n"
        "app = create_app()\n"
        "with app.app_context(), db.connection_context():\n"
        "    result = load_games(app.config['MEDIA_DIR'])\n"
        "    assert result.ok, [str(p) for p in result.problems]\n"
        f"    print(make_screening(items=[('game', '{GAME}')]).id)\n")
    out = subprocess.run([sys.executable, "-c", code], env=srv.env, cwd=str(ROOT), capture_output=True,
                         text=True, check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None, help="waitress threads (default: serve's own)")
    parser.add_argument("--think", type=float, default=3.0, help="phones vote within this many seconds")
    parser.add_argument("--arrive", type=float, default=5.0, help="phones join over this many seconds")
    parser.add_argument("--verbose", action="store_true", help="print each change's delays")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of polling with no change at the end")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vk-audience-") as tmp:
        serve = ["serve"] + (["--threads", str(args.threads)] if args.threads else [])
        srv = ServerProcess(Path(tmp) / "van", args=serve)
        srv.data_dir.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "vanapp.cli", "init", "--pin", PIN], env=srv.env, check=True,
                       capture_output=True, cwd=str(ROOT))
        screening = seed(srv)
        srv.env["VANAPP_PUBLIC_URL"] = srv.url
        srv.start(timeout=60)
        try:
            r = asyncio.run(drive(args, "127.0.0.1", srv.port, screening, srv.proc.pid))
        except BaseException:
            print("--- server log (tail) ---\n" + "\n".join(srv.log().splitlines()[-40:]), file=sys.stderr)
            raise
        finally:
            srv.stop()
        db = sqlite3.connect(f"file:{srv.data_dir / 'vanapp.db'}?mode=ro", uri=True)
        stored = db.execute("SELECT count(*) FROM game_vote WHERE run_id = ?", (r["run"],)).fetchone()[0]
        db.close()

    s, d = r["stats"], r["delays"]
    cores = os.cpu_count()
    print(f"\naudience benchmark: {args.phones} phones, quiz '{GAME}' ({r['changes']} crew changes), "
          f"{r['wall']:.1f} s, {cores} cores, load average {os.getloadavg()[0]:.2f} (shared machine)")
    print(f"phone poll every {POLL_MS} ms + 0..{POLL_JITTER_MS - 1} ms (from audience.js / games-poll.js)")
    print(f"polls: {s.polls} ({s.polls / r['wall']:.0f}/s): {s.polls_204} unchanged (204), "
          f"{s.polls_delta} deltas, {s.polls_full} full states")
    print(line("vote latency", s.vote_ms, "target: p95 < 100 ms", pct(s.vote_ms, 95) < 100))
    print(line("change seen by phone", d, "target: within 1000 ms", bool(d) and max(d) < 1000))
    print(line("poll round trip", s.poll_ms))
    print(line("join (me + join)", s.join_ms))
    print(line("crew action", s.crew_ms))
    errors = sum(s.errors.values())
    print(f"errors: {errors}     target: 0{'  ok' if errors == 0 else '  MISSED'}")
    for kind, n in sorted(s.errors.items(), key=lambda kv: -kv[1])[:10]:
        print(f"    {n:6d}  {kind}")
    print(f"votes acknowledged {s.acked}, votes in the database {stored}"
          + ("" if stored == s.acked else "   <-- MISMATCH"))
    qc, qw = r["quiz"]
    ic, iw = r["idle"]
    print(f"server CPU (/proc/{r['pid']}/stat user+sys): {r['cpu']:.2f} s over {r['wall']:.1f} s = "
          f"{100 * r['cpu'] / r['wall']:.0f}% of one core   (quiz {100 * qc / qw:.0f}%, idle polling "
          f"{100 * ic / iw:.0f}%)     target: on 2 cores (< 200%){'  ok' if r['cpu'] / r['wall'] < 2 else '  MISSED'}")
    print(f"load generator: {r['gen']:.2f} s CPU = {100 * r['gen'] / r['wall']:.0f}% of one core; event-loop lag "
          f"median {statistics.median(r['lag']):.1f} ms, p95 {pct(r['lag'], 95):.1f} ms, max {max(r['lag']):.1f} ms"
          + ("   (kept up: the latencies above are the server's)" if pct(r["lag"], 95) < 10 and r["gen"] / r["wall"] < 0.5
             else "   (the generator itself was slow: latencies above are inflated)"))


if __name__ == "__main__":
    main()
