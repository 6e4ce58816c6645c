"""Vans and a hub for sync tests: real `vanapp hub serve` and `vanapp` commands in subprocesses,
van databases filled in-process, and the hub's tables read straight from its database."""
import json
import os
import shutil
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

    @contextmanager
    def db(self):
        """The hub's database bound in this process (for set-up that needs no HTTP)."""
        from vanapp import create_app
        from vanapp.models import db
        app = create_app({"TESTING": True, "MODE": "hub", "DATA_DIR": str(self.data_dir),
                          "DATABASE_URL": self.database_url})
        with app.app_context(), db.connection_context():
            yield app

    def pair_many(self, vans: list["Van"]) -> None:
        """Add and pair many vans without `vanapp pair`'s HTTP round trips (its pairing endpoint
        is rate-limited per address, and every test van comes from 127.0.0.1): the hub redeems
        each code in-process and each van stores what `vanapp pair` would have stored."""
        from vanapp.hub import pairing
        secrets = {}
        with self.db():
            for van in vans:
                _row, code = pairing.add_van(van.van_id.title(), van.van_id)
                secrets[van.van_id] = pairing.redeem(code)[1]
        for van in vans:
            with van.db():
                from vanapp.sync import state
                state.save_pairing(self.url, van.van_id, secrets[van.van_id])

    def cursor(self, van_id: str) -> dict:
        """epoch -> the cursor the hub acknowledged for `van_id`."""
        return dict(self.query('SELECT epoch, "cursor" FROM van_cursor WHERE van = ?', (van_id,)))

    def batches(self, van_id: str) -> list[tuple]:
        """(key, cursor_from, cursor_to, records) of every batch the hub applied for `van_id`."""
        return sorted(self.query('SELECT "key", cursor_from, cursor_to, records FROM sync_batch WHERE van = ?',
                                 (van_id,)), key=lambda r: (r[1], r[2]))

    def report(self, *args) -> dict:
        return json.loads(self.cli("report", "--json", *args).stdout)

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

    def __init__(self, root: Path, van_id: str, template: Path | None = None):
        """`template`: a migrated van database (`van_template`) to copy instead of running
        `vanapp init` — the same schema, without a Python start-up per van."""
        self.van_id, self.data_dir = van_id, Path(root) / van_id
        if template is None:
            vanapp(self.data_dir, "init", "--pin", PIN, "--van", van_id, check=True)
            return
        self.data_dir.mkdir(parents=True)
        shutil.copy(template, self.data_dir / "vanapp.db")
        with self.db():
            from vanapp.models import Setting, db
            with db.atomic():
                Setting.put("van_id", van_id)

    def pair(self, hub: Hub):
        return vanapp(self.data_dir, "pair", hub.url, hub.add_van(self.van_id), check=True)

    def sync(self, *args, env=None) -> dict:
        """`vanapp sync --json ARGS` -> its JSON output, with "exit" (the exit status) added."""
        done = vanapp(self.data_dir, "sync", "--json", *args, env=env)
        try:
            out = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise AssertionError(f"vanapp sync printed no JSON ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        out["exit"] = done.returncode
        return out

    def snapshot(self) -> dict:
        """In one go: "records" (as van_state), "max_seq", and the sync settings "epoch",
        "push_cursor" and "pending" (the batch in flight, or None)."""
        from vanapp.models import Setting, SyncModel
        from vanapp.sync import state
        out = {"records": {}}
        with self.db():
            for model in SyncModel.registry().values():
                if model._meta.sync_owner == "van":
                    out["records"][model._meta.table_name] = sorted(model.select(model.id, model.version).tuples())
            out.update(max_seq=state.max_seq(), epoch=Setting.get_value(state.EPOCH),
                       push_cursor=Setting.get_value(state.PUSH_CURSOR), pending=Setting.get_value(state.PENDING))
        return out

    def setting(self, key: str) -> str | None:
        with self.db():
            from vanapp.models import Setting
            return Setting.get_value(key)

    def max_seq(self) -> int:
        with self.db():
            from vanapp.sync import state
            return state.max_seq()

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


def sync_at_once(vans: list[Van], timeout: float = 240.0, **options) -> list[dict]:
    """Sync every van at the same moment, each in its own process, through the same function
    `vanapp sync` runs (`vanapp.sync.client.sync`, with `options`). The processes are forked
    from this one, so 25 vans do not pay 25 Python start-ups on a small CI box. -> the results
    (as `vanapp sync --json` prints them, with "exit"), in the order of `vans`."""
    import tempfile
    import time as _time
    folder = Path(tempfile.mkdtemp(prefix="sync-at-once-"))
    go = folder / "go"
    children = []
    for van in vans:
        pid = os.fork()
        if pid == 0:                                   # the van's process
            status = 1
            try:
                from vanapp import create_app
                from vanapp.models import db
                from vanapp.sync import client, state
                app = create_app({"DATA_DIR": str(van.data_dir), "MEDIA_DIR": str(ROOT / "media"),
                                  "DATABASE_URL": ""})
                while not go.exists():                 # start together
                    _time.sleep(0.005)
                with app.app_context(), db.connection_context():
                    result = client.sync(str(van.data_dir), "cli", **options)
                    out = dict(result.as_dict(), waiting=sum(state.waiting().values()),
                               parked_total=state.status()["parked_count"])
                (folder / f"{van.van_id}.json").write_text(json.dumps(out))
                status = 0 if result.ok else 1
            except BaseException:                      # noqa: BLE001 - tell the parent, never run its code
                import traceback
                (folder / f"{van.van_id}.json").write_text(json.dumps({"ok": False, "error": traceback.format_exc()}))
            finally:
                os._exit(status)
        children.append(pid)
    go.touch()
    results, deadline = [], _time.monotonic() + timeout
    for at, (van, pid) in enumerate(zip(vans, children)):
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if _time.monotonic() > deadline:
                for other in children[at:]:            # those not yet reaped
                    try:
                        os.kill(other, 9)
                    except OSError:
                        pass
                raise AssertionError(f"{van.van_id}: its sync did not end within {timeout} s")
            _time.sleep(0.05)
        path = folder / f"{van.van_id}.json"
        if not path.exists():
            raise AssertionError(f"{van.van_id}: the sync process ended without a result (status {status})")
        results.append(dict(json.loads(path.read_text()), exit=os.waitstatus_to_exitcode(status)))
    shutil.rmtree(folder, ignore_errors=True)
    return results


def van_template(folder: Path) -> Path:
    """A migrated, empty van database to copy for each van (see Van(template=...))."""
    from playhouse.migrations import Runner
    from vanapp.db import MIGRATIONS_DIR, open_database
    database = open_database("", str(folder))
    with database.connection_context():
        Runner(database, directory=str(MIGRATIONS_DIR)).up()
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return Path(folder) / "vanapp.db"


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
