"""A van with an evening in it, for the walks over every page: the sample media, games and tours
(as `make run` loads them), tonight's show started, a quiz live with phones answering, taps, a
headcount, a sign-in, a cancelled show; later the games and the show finished; and a hub that
the van has paired with and synced to. Driven over HTTP as the pages and phones drive it."""
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import time

import requests

from .server import ROOT, ServerProcess
from .syncenv import vanapp

PIN = "2468"
COORDINATOR, PASSWORD = "asha", "bell-bajao-2026"
HTTP = 30


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


class Crew(requests.Session):
    """The crew's browser session as the API sees it: logged in, CSRF header set."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        page = self.get(base + "/login", timeout=HTTP)
        self.post(base + "/login", data={"pin": PIN, "csrf_token": _csrf(page.text)}, timeout=HTTP)
        self.headers["X-CSRFToken"] = _csrf(self.get(base + "/", timeout=HTTP).text)

    def api(self, method, path, body=None, ok=(200, 201)):
        r = self.request(method, self.base + path, timeout=HTTP,
                         data=None if method == "GET" else json.dumps(body or {}),
                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        assert r.status_code in ok, f"{method} {path}: {r.status_code} {r.text[:300]}"
        return r.json() if r.content else {}


class Phone(requests.Session):
    """An audience phone on the hotspot: its own device cookie."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.headers["X-CSRFToken"] = _csrf(self.get(base + "/a/", timeout=HTTP).text)

    def api(self, path, body):
        r = self.post(self.base + path, data=json.dumps(body), timeout=HTTP,
                      headers={"Content-Type": "application/json"})
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
        return r.json()


def _slow_media(target):
    """The sample media and games, with every question open for an hour: a walk over every
    page takes longer than a question's 30 s, and must find it open."""
    shutil.copytree(ROOT / "media", target)
    for game in (target / "games").glob("*.yaml"):
        game.write_text(re.sub(r"(?m)^(\s*)timer: \d+", r"\1timer: 3600", game.read_text()))
    return target


def wait_for(check, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f}s for {what}")
        time.sleep(0.2)


class Evening:
    """The van's server and the ids of what is in it; `stage` says how far the evening got."""

    def __init__(self, data_dir):
        self.server = ServerProcess(data_dir)
        self.media = _slow_media(data_dir.parent / "media")
        self.server.env.update(VANAPP_PUBLIC_URL=self.server.url,   # phones join where it answers
                               VANAPP_MEDIA_DIR=str(self.media))
        self.ids = {}
        self.stage = "empty"
        self.phones = []

    @property
    def url(self):
        return self.server.url

    def _cli(self, *args):
        done = vanapp(self.server.data_dir, *args, check=True, env={
            "VANAPP_PUBLIC_URL": self.server.url, "VANAPP_MEDIA_DIR": str(self.media)})
        return done.stdout

    def load(self):
        """What `make run` loads: PIN, media scan, games, the sample tour moved to tonight."""
        self._cli("init", "--pin", PIN)
        self._cli("media", "scan")
        self._cli("games", "load")
        self._cli("schedule", "import", "--sample", "schedules/barabanki-2026-12.yaml")
        self.server.start(timeout=60)
        self.crew = Crew(self.url)
        listed = self.crew.api("GET", "/api/v1/screenings?limit=100")
        rows = sorted(listed.get("items", listed.get("screenings", [])), key=lambda s: (s["date"], s["start"]))
        self.ids.update(tonight=rows[0]["id"], tomorrow=rows[1]["id"], cancelled=rows[2]["id"],
                        later=rows[3]["id"])
        return self

    # -- the night ------------------------------------------------------------------------
    def _live(self):
        return self.crew.api("GET", "/api/v1/games/live")

    def _finish_live_game(self):
        live = self._live()
        if live.get("run") and live.get("state") not in (None, "idle", "finished"):
            self.crew.api("POST", "/api/v1/games/live/finish")

    def _game(self, game, position, phase="", votes=(), reveal=False, finish=True):
        """Run `game` for tonight: open each question, the phones answer `votes` (one choice
        per phone, for every question), close it (and reveal). Returns the run id."""
        self._finish_live_game()
        started = self.crew.api("POST", "/api/v1/games/runs", {
            "screening": self.ids["tonight"], "game": game, "phase": phase, "position": position})
        run = started.get("run") or started.get("id")
        for phone in self.phones:
            phone.api("/a/api/join", {})
        questions = self.crew.api("GET", f"/api/v1/games/runs/{run}")
        count = len(questions.get("questions") or []) or 1
        for _ in range(count):
            live = self.crew.api("POST", "/api/v1/games/live/next")
            q = (live.get("q") or {}).get("id") or live.get("question")
            if q is None:
                q = self._live()["q"]["id"]
            for phone, choice in zip(self.phones, votes):
                phone.api("/a/api/vote", {"run": run, "question": q, "choice": choice})
            if game != "pledge":
                self.crew.api("POST", "/api/v1/games/live/close")
                if reveal:
                    self.crew.api("POST", "/api/v1/games/live/reveal")
        if finish:
            self.crew.api("POST", "/api/v1/games/live/finish")
        return run

    def night(self):
        """Tonight's show on (paused on its first film), a count, a sign-in, a cancelled show,
        the poll before the film played, and the quiz live with its first question open."""
        s = self.ids["tonight"]
        self.crew.api("POST", f"/api/v1/screenings/{s}/start", {"play": False})
        self.crew.api("POST", "/api/v1/player/play", {"screening": s, "from": 1})
        wait_for(lambda: self.crew.api("GET", "/api/v1/player").get("state") == "playing", "the film to play")
        self.crew.api("POST", "/api/v1/player/pause")
        for category, n in (("men", 7), ("women", 11), ("boys", 3), ("girls", 4)):
            for _ in range(n):
                self.crew.api("POST", f"/api/v1/screenings/{s}/attendance", {"category": category, "delta": 1})
        self.crew.api("POST", f"/api/v1/screenings/{s}/attendance", {"category": "men", "delta": -1})
        self.crew.api("POST", f"/api/v1/screenings/{s}/headcounts", {"kind": "start", "count": 24})
        person = self.crew.api("POST", f"/api/v1/screenings/{s}/participants", {
            "name": "सुनीता देवी", "gender": "woman", "age_band": "31-45", "village": "रामपुर",
            "consent": True, "consent_version": self._consent_version()})
        self.ids["participant"] = person.get("id") or person.get("participant", {}).get("id")
        self.crew.api("POST", f"/api/v1/screenings/{self.ids['cancelled']}/cancel",
                      {"reason": "rain", "text": ""})
        # a show of yesterday that never ran: Run lists it under "earlier, not held yet"
        today = self.crew.api("GET", f"/api/v1/screenings/{s}")["date"]
        yesterday = (dt.date.fromisoformat(today) - dt.timedelta(days=1)).isoformat()
        self.crew.api("POST", f"/api/v1/screenings/{self.ids['later']}/reschedule",
                      {"date": yesterday, "start": "18:00"})
        self.phones = [Phone(self.url) for _ in range(3)]
        self.ids["poll_before"] = self._game("attitude", 0, "before", votes=("yes", "yes", "no"))
        self.ids["quiz"] = self._game("bell-quiz", 2, votes=(), finish=False)
        self.crew.api("POST", "/api/v1/games/live/next")
        q = self._live()["q"]["id"]
        for phone, choice in zip(self.phones, ("c", "a", "c")):
            phone.api("/a/api/vote", {"run": self.ids["quiz"], "question": q, "choice": choice})
        self.stage = "night"
        return self

    def _consent_version(self):
        page = self.crew.get(f"{self.url}/attendance/screenings/{self.ids['tonight']}/sign-in", timeout=HTTP).text
        return re.search(r'name="consent_version" value="([^"]*)"', page).group(1)

    def revealed(self):
        """The quiz's first question closed and its answer shown."""
        if self._live().get("state") == "question_open":
            self.crew.api("POST", "/api/v1/games/live/close")
        self.crew.api("POST", "/api/v1/games/live/reveal")
        self.stage = "revealed"
        return self

    def buzzer(self):
        """The quiz finished; the bell buzzer on, teams chosen, its first question open, two
        phones rung (one team's turn to answer)."""
        self._finish_live_game()
        started = self.crew.api("POST", "/api/v1/games/runs", {"screening": self.ids["tonight"],
                                                                "game": "bell-buzzer"})
        run = self.ids["buzzer"] = started.get("run") or started.get("id")
        for phone, team in zip(self.phones, ("red", "yellow", "blue")):
            phone.api("/a/api/join", {"team": team})
        self.crew.api("POST", "/api/v1/games/live/next")
        q = self._live()["q"]["id"]
        for phone in self.phones[:2]:
            phone.api("/a/api/buzz", {"run": run, "question": q})
        self.stage = "buzzer"
        return self

    def after(self):
        """The games finished, the poll after the film and the pledge played, the show finished."""
        self._finish_live_game()
        self.ids["poll_after"] = self._game("attitude", 4, "after", votes=("no", "no", "unsure"))
        self.ids["pledge"] = self._game("pledge", 5, votes=("pledge", "pledge"), finish=False)
        self.crew.api("POST", "/api/v1/games/live/finish")
        self.crew.api("POST", "/api/v1/player/stop", ok=(200, 409))
        self.crew.api("POST", f"/api/v1/screenings/{self.ids['tonight']}/headcounts", {"kind": "end", "count": 30})
        self.crew.api("POST", f"/api/v1/screenings/{self.ids['tonight']}/finish")
        (self.media / "psa" / "neighbour.mp4").unlink()     # pre-flight now has a problem to name
        self.stage = "after"
        return self

    def stop(self):
        self.server.stop()


class Hub:
    """`vanapp hub serve` with a coordinator, the van paired and synced to it."""

    def __init__(self, data_dir):
        self.server = ServerProcess(data_dir, args=("hub", "serve"))
        self.ids = {}

    @property
    def url(self):
        return self.server.url

    def _cli(self, *args, stdin=None):
        full = dict(self.server.env)
        done = subprocess.run([sys.executable, "-m", "vanapp.cli", "hub", *args], env=full, cwd=str(ROOT),
                              input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, evening: Evening):
        self._cli("init", "--coordinator", COORDINATOR, "--password-stdin", stdin=PASSWORD + "\n")
        self.server.start(timeout=60)
        made = json.loads(self._cli("add-van", "वैन 03", "--id", "van-03", "--url", self.url, "--json"))
        self._cli("add-van", "वैन 05", "--id", "van-05", "--url", self.url, "--json")   # waiting for its laptop
        evening._cli("pair", self.url, made["code"])
        evening._cli("sync")
        self.ids.update(evening.ids)
        self.ids["pair_code"] = made["code"]
        return self

    def stop(self):
        self.server.stop()
