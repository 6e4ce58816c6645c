"""Vans and a hub for sync tests: real `vanapp hub serve` and `vanapp` commands in subprocesses,
van databases filled in-process, and the hub's tables read straight from its database."""
import json
import os
import sqlite3
import subprocess
import sys
import datetime as dt
from contextlib import contextmanager
from pathlib import Path

from .server import ROOT

PIN = "2468"


def vanapp(data_dir, *args, env=None, check=False, timeout=120):
    """Run `vanapp ARGS` in a subprocess with its own data dir (as the crew would)."""
    full = dict(os.environ, VANAPP_DATA_DIR=str(data_dir), VANAPP_MEDIA_DIR=str(ROOT / "media"))
    full.pop("VANAPP_DATABASE_URL", None)
    full.update(env or {})
    done = subprocess.run([sys.executable, "-m", "vanapp.cli", *map(str, args)], env=full,
                          capture_output=True, text=True, cwd=str(ROOT), timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"vanapp {' '.join(map(str, args))} failed ({done.returncode}):\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


class Hub:
    """`vanapp hub serve` on SQLite (its data dir) or on a PostgreSQL database URL."""

    def __init__(self, server_factory, database_url: str = "", name: str = "hub"):
        self.database_url = database_url
        self.env = {"VANAPP_DATABASE_URL": database_url} if database_url else {}
        self.server = server_factory(name, env=self.env, args=("hub", "serve"), init=False)
        self.data_dir = self.server.data_dir

    @property
    def url(self):
        return self.server.url

    def cli(self, *args, check=True):
        return vanapp(self.data_dir, "hub", *args, env=self.env, check=check)

    def add_van(self, van_id: str) -> str:
        out = self.cli("add-van", van_id.replace("-", " ").title(), "--id", van_id, "--json")
        return json.loads(out.stdout)["code"]

    def query(self, sql: str, params=()):
        if self.database_url:
            import psycopg
            with psycopg.connect(self.database_url) as conn:
                return conn.execute(sql.replace("?", "%s"), params).fetchall()
        conn = sqlite3.connect(str(Path(self.data_dir) / "vanapp.db"), timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def ids(self, table: str, van: str | None = None) -> list[str]:
        """Every id in `table` (of `van`), as a sorted list: duplicates would show."""
        if van is None:
            return sorted(r[0] for r in self.query(f'SELECT id FROM "{table}"'))
        return sorted(r[0] for r in self.query(f'SELECT id FROM "{table}" WHERE van = ?', (van,)))


class Van:
    """A van's data dir: `vanapp init`, pairing, records made in-process, `vanapp sync`."""

    def __init__(self, root: Path, van_id: str):
        self.van_id, self.data_dir = van_id, Path(root) / van_id
        vanapp(self.data_dir, "init", "--pin", PIN, "--van", van_id, check=True)

    def pair(self, hub: Hub):
        return vanapp(self.data_dir, "pair", hub.url, hub.add_van(self.van_id), check=True)

    def sync(self, *args, env=None):
        return vanapp(self.data_dir, "sync", "--json", *args, env=env)

    @contextmanager
    def db(self):
        """This van's database bound in this process (one van at a time: the proxy is global)."""
        from vanapp import create_app
        from vanapp.models import db
        app = create_app({"TESTING": True, "DATA_DIR": str(self.data_dir), "MEDIA_DIR": str(ROOT / "media"),
                          "DATABASE_URL": ""})
        with app.app_context(), db.connection_context():
            yield app

    def ids(self, model) -> list[str]:
        with self.db():
            return sorted(r.id for r in model.select(model.id))


def make_night(van_id: str, taps: int = 400, day: str = "2026-11-23", village_en: str = "Rampur",
               tour: str = "tour-barabanki"):
    """A screening with its taps, headcounts, a play log, a game run with results and events,
    all through save_change (so they are in the outbox) — call inside Van.db()."""
    from tests.support.factories import make_screening
    from vanapp.ids import UTC
    from vanapp.models import (GameResult, GameRun, Headcount, Participant, PlayLog, Screening,
                               ScreeningEvent, TallyEvent, db)
    s = Screening.get_or_none((Screening.tour == tour) & (Screening.date == day) &
                              (Screening.key == f"{day}/{village_en}"))
    if s is None:
        s = make_screening(date=day, village=village_en, village_en=village_en, tour=tour, van=van_id,
                           items=(("psa", "ring-the-bell"), ("game", "bell-quiz"), ("psa", "ring-the-bell-2")))
    start = dt.datetime.fromisoformat(f"{day}T13:00:00").replace(tzinfo=UTC)
    categories = ("men", "women", "boys", "girls")
    with db.atomic():
        ScreeningEvent(screening=s, kind="started", at=start, van=van_id).save_change()
        for i in range(taps):
            at = start + dt.timedelta(seconds=i * 1.7, microseconds=i * 7919 % 1000000)
            TallyEvent(screening=s, category=categories[i % 4], delta=-1 if i % 37 == 36 else 1, at=at,
                       device=f"phone-{i % 3}", van=van_id).save_change(force_insert=True)
        Headcount(screening=s, kind="start", count=taps // 2, at=start, van=van_id).save_change()
        for pos in range(3):
            PlayLog(screening=s, position=pos, media_id="ring-the-bell", started_at=start,
                    ended_at=start + dt.timedelta(seconds=8), position_ms=8000, duration_ms=8000,
                    outcome="completed", van=van_id).save_change()
        run = GameRun(screening=s, game_id="bell-quiz", started_at=start, van=van_id)
        run.save_change()
        for q in range(5):
            GameResult(run=run, question_id=f"q{q}", counts={"a": {"phones": q, "hands": 3}},
                       answer="a", closed_at=start, van=van_id).save_change()
        run.finished_at, run.state = start + dt.timedelta(minutes=5), "finished"
        run.save_change()                          # version 2 of the run: the newest must win
        Participant(screening=s, name="सीता", gender="woman", age_band="18-30", consent_version="1",
                    consent_at=start, van=van_id).save_change()
        ScreeningEvent(screening=s, kind="finished", at=start + dt.timedelta(hours=2), van=van_id).save_change()
    return s


VAN_TABLES = ("screening_event", "tally_event", "headcount", "play_log", "game_run", "game_result",
              "participant")


def van_state(van: Van) -> dict:
    """table -> sorted [(id, version)] of the van's own records (what the hub must hold)."""
    from vanapp.models import SyncModel
    out = {}
    with van.db():
        for model in SyncModel.registry().values():
            if model._meta.sync_owner == "van":
                out[model._meta.table_name] = sorted(model.select(model.id, model.version).tuples())
    return out


def hub_state(hub: Hub, van_id: str) -> dict:
    from vanapp.models import SyncModel
    out = {}
    for model in SyncModel.registry().values():
        if model._meta.sync_owner == "van":
            table = model._meta.table_name
            out[table] = sorted(tuple(r) for r in hub.query(f'SELECT id, version FROM "{table}" WHERE van = ?',
                                                              (van_id,)))
    return out
