"""The crew console's Sync page against a real hub (`vanapp hub serve`) and a real van
(`vanapp serve`) on 127.0.0.1: pairing through the form, Sync now, the honest status, an
unreachable hub, parked records, the USB bundle, and the automatic sync with its backoff."""
import json
import threading
import time
from contextlib import contextmanager

import requests

from vanapp import create_app
from vanapp.models import Outbox, TallyEvent, db
from vanapp.sync import state

from .conftest import PIN, csrf_from
from .support.server import ROOT
from .support.syncenv import Hub, make_night, vanapp
from .support.faultproxy import ThrottledProxy

VAN = "van-07"
OFFLINE_WORDS = "Could not reach the hub: no connection, or the hub is switched off. Sync will try again."


def wait_for(check, timeout=30.0, what="condition"):
    """Poll `check` until it returns something truthy (generous: CI is a loaded 2-core box)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        time.sleep(0.1)


@contextmanager
def van_db(srv):
    """The van server's database, bound in this process (SQLite WAL: both may write)."""
    app = create_app({"TESTING": True, "DATA_DIR": str(srv.data_dir), "MEDIA_DIR": str(ROOT / "media"),
                      "DATABASE_URL": ""})
    with app.app_context(), db.connection_context():
        yield app


class Console:
    """A crew member's browser session on the van's console, as plain HTTP."""

    def __init__(self, srv, lang="en"):
        self.url = srv.url
        self.http = requests.Session()
        self.http.cookies.set("vk_lang", lang)
        login = self.http.get(self.url + "/login")
        answer = self.http.post(self.url + "/login", data={"pin": PIN, "csrf_token": csrf_from(login.text)})
        assert answer.status_code == 200, answer.text
        self.csrf = csrf_from(self.page())

    def page(self) -> str:
        return self.http.get(self.url + "/sync/").text

    def status(self) -> dict:
        answer = self.http.get(self.url + "/sync/status.json")
        assert answer.status_code == 200
        return answer.json()

    def form(self, path, **fields):
        return self.http.post(self.url + path, data=dict(fields, csrf_token=self.csrf))

    def pair(self, **fields) -> str:
        answer = self.form("/sync/pair", **fields)
        assert answer.status_code == 200 and answer.url.endswith("/sync/")
        return answer.text

    def press_sync_now(self):
        return self.http.post(self.url + "/sync/now",
                              headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})

    def sync_now(self) -> dict:
        """Press Sync now and wait for that sync to finish; -> the status after it."""
        pressed = self.press_sync_now()
        assert pressed.status_code == 202, pressed.text
        return wait_for(lambda: (lambda s: s if not s["running"] else None)(self.status()), what="the sync to end")


def start_van(server_factory, interval="0"):
    return server_factory("van", env={"VANAPP_SYNC_INTERVAL": interval})


def paired_console(server_factory):
    """A hub, a van's `vanapp serve` and its console, paired through the Sync page's form."""
    hub = Hub(server_factory)
    code = hub.add_van(VAN)
    van = start_van(server_factory)
    crew = Console(van)
    crew.pair(hub_url=hub.url, code=code)
    return hub, van, crew


def on_van_reported(hub) -> dict | None:
    """What the van last told the hub of its outbox, as `vanapp hub report --json` shows it."""
    return {v["van"]: v for v in hub.report()["vans"]}[VAN]["on_van"]


def test_console_pairs_and_sync_now_moves_the_outbox_to_the_hub(server_factory):
    hub = Hub(server_factory)
    code = hub.add_van(VAN)
    van = start_van(server_factory)
    with van_db(van):
        make_night("", taps=12)                      # recorded before pairing: "this van"
    crew = Console(van)

    before = crew.status()
    assert before["paired"] is False and before["last_success"] is None
    assert {w["kind"]: w["count"] for w in before["waiting"]}["TallyEvent"] == 12
    assert "Not paired" in crew.page()

    wrong = crew.pair(hub_url=hub.url, code="ZZZZ-ZZZZ")
    assert "Pairing did not work" in wrong and crew.status()["paired"] is False

    page = crew.pair(hub_url="", code=f"{hub.url}/pair?code={code}")   # the link from the QR code
    assert f"this laptop is {VAN}" in page
    status = crew.status()
    assert status["paired"] and status["van_id"] == VAN and status["hub_url"] == hub.url

    done = crew.sync_now()
    assert done["last"]["ok"] is True and done["last"]["trigger"] == "web"
    assert done["message"].startswith("Sync finished:")
    assert done["percent"] == 100
    assert len(hub.ids("tally_event", VAN)) == 12
    assert done["waiting_total"] == 0 and done["last_success"] is not None
    assert done["last_error"] == ""
    assert done["last_success_local"] in crew.page()
    with van_db(van):
        from vanapp import clock
        offset = clock.hub_offset()          # read from the hub's answer: one machine, one clock
    assert offset is not None and abs(offset["offset"]) < 5

    # a second sync sends nothing again: still twelve on the hub
    crew.sync_now()
    assert len(hub.ids("tally_event", VAN)) == 12

    # `vanapp sync` in a terminal holds the van's sync lock: the button says a sync is running
    held, release = threading.Event(), threading.Event()

    def terminal_sync():
        with state.sync_lock(str(van.data_dir)):
            held.set()
            release.wait(30)
    holder = threading.Thread(target=terminal_sync)
    holder.start()
    try:
        assert held.wait(10)
        busy = crew.sync_now()
        assert busy["last"]["error_code"] == "busy"
        assert busy["message"] == "Sync did not finish: A sync is already running."
        refused = vanapp(van.data_dir, "sync", "--json", "--wait", "0")
        assert refused.returncode == 1 and json.loads(refused.stdout)["error_code"] == "busy"
        # ... while `vanapp sync` waits for a running sync (e.g. the automatic one) to end
        threading.Timer(2.0, release.set).start()
        waited = vanapp(van.data_dir, "sync", "--json")
        assert waited.returncode == 0 and json.loads(waited.stdout)["ok"] is True, waited.stderr
    finally:
        release.set()
        holder.join(10)


def test_a_second_press_while_a_sync_runs_says_so(server_factory):
    hub = Hub(server_factory)
    code = hub.add_van(VAN)
    link = ThrottledProxy(hub.server.port, bits_per_second=2_000_000, latency=0.4)   # a slow hop
    van = start_van(server_factory)
    with van_db(van):
        make_night("", taps=20)
    crew = Console(van)
    crew.pair(hub_url=link.url, code=code)
    try:
        first = crew.press_sync_now()
        assert first.status_code == 202 and first.json()["running"] is True
        second = crew.press_sync_now()
        assert second.status_code == 409
        assert second.json()["notice"] == "A sync is already running."
        assert second.json()["started"] is False
        done = wait_for(lambda: (lambda s: s if not s["running"] else None)(crew.status()), what="the sync")
        assert done["last"]["ok"] is True
        assert len(hub.ids("tally_event", VAN)) == 20
    finally:
        link.close()


def test_unreachable_hub_says_so_in_plain_words_keeps_the_records_and_the_bundle_carries_them(server_factory, tmp_path):
    hub, van, crew = paired_console(server_factory)
    with van_db(van):
        make_night("", taps=8)
    hub.server.stop()                               # the office wifi is out of reach

    failed = crew.sync_now()
    assert failed["last"]["ok"] is False
    assert failed["last_error_code"] == "offline"
    assert failed["last_error"] == OFFLINE_WORDS
    assert "Traceback" not in failed["last_error"] + failed["last_error_detail"]
    assert failed["message"] == "Sync did not finish: " + OFFLINE_WORDS
    assert {w["kind"]: w["count"] for w in failed["waiting"]}["TallyEvent"] == 8
    assert failed["last_success"] is None
    assert OFFLINE_WORDS in crew.page()
    hindi = Console(van, lang="hi").page()
    assert "हब तक नहीं पहुँच सके" in hindi and "पिछला सिंक नहीं हो पाया" in hindi

    # no connection at all: the bundle goes on a USB stick, and the hub imports it
    answer = crew.form("/sync/bundle")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert answer.content.startswith(b"VANKIT-BUNDLE 1\n")
    stick = tmp_path / "stick.vkb"
    stick.write_bytes(answer.content)
    hub.server.start()
    hub.cli("import-bundle", str(stick))
    assert len(hub.ids("tally_event", VAN)) == 8

    # the connection is back: the sync finds the hub holds them, and counts nothing twice
    done = crew.sync_now()
    assert done["last"]["ok"] is True and done["last_error"] == "" and done["waiting_total"] == 0
    assert len(hub.ids("tally_event", VAN)) == 8


def test_parked_records_are_listed_with_the_reason_and_can_be_retried(server_factory):
    hub, van, crew = paired_console(server_factory)
    with van_db(van):
        night = make_night("", taps=6)
    assert crew.sync_now()["last"]["ok"]
    on_van = on_van_reported(hub)
    assert (on_van["not_received"], on_van["parked"]) == (0, 0)      # the van told the hub: all sent
    with van_db(van):
        # the same tap (same id and version) changed on the laptop: the hub must refuse it (409)
        changed = TallyEvent.select().where(TallyEvent.screening == night.id).first()
        db.execute_sql('UPDATE "tally_event" SET "category" = ? WHERE "id" = ?',
                       ("girls" if changed.category != "girls" else "boys", changed.id))
        Outbox.create(model="TallyEvent", record_id=changed.id)
        # and a tap written under another van's name: the van itself holds it back
        TallyEvent(screening=night.id, category="men", delta=1, at=changed.at, device="phone-9",
                   van="van-99").save_change(force_insert=True)
        fine = TallyEvent(screening=night.id, category="women", delta=1, at=changed.at, device="phone-1", van="")
        fine.save_change(force_insert=True)

    done = crew.sync_now()
    assert done["last"]["ok"] is True and done["last"]["parked"] == 2
    assert done["parked_count"] == 2
    assert fine.id in hub.ids("tally_event", VAN)          # parked records do not block the rest
    # the coordinator sees, on the hub, that this van holds two records back
    on_van = on_van_reported(hub)
    assert (on_van["not_received"], on_van["parked"]) == (0, 2)
    assert "2 record(s) set aside" in hub.cli("report").stdout
    page = crew.page()
    assert "The hub already holds a different copy of this record." in page
    assert "made under another van" in page
    assert changed.id in page

    with van_db(van):
        from vanapp.models import SyncParked
        conflict = SyncParked.get(SyncParked.record_id == changed.id)
    answer = crew.form("/sync/parked/retry", parked=str(conflict.id))
    assert "1 record(s) queued again" in answer.text
    after = crew.status()
    assert after["parked_count"] == 1 and after["waiting_total"] == 1
    assert changed.id not in crew.page().split('id="parked"')[1]
    answer = crew.form("/sync/parked/retry", parked="all")
    assert crew.status()["parked_count"] == 0
    # queued again, not yet sent: the hub learns it at the van's next contact and counts what is missing
    with van_db(van):
        from vanapp.sync import client
        from vanapp.sync import state as sync_state
        http = client.Http(hub.url, "Bearer {}.{}".format(*sync_state.credentials()[1:]))
        http.outbox = client._outbox_header(sync_state.epoch())
        try:
            assert http.json("GET", "/api/v1/sync/state")[0] == 200
        finally:
            http.close()
    on_van = on_van_reported(hub)
    assert (on_van["not_received"], on_van["parked"]) == (2, 0)


def test_auto_sync_pushes_a_new_tally_and_backs_off_while_the_hub_is_down(server_factory):
    hub = Hub(server_factory)
    code = hub.add_van(VAN)
    van = start_van(server_factory, interval="1")
    with van_db(van):
        screening = make_night("", taps=2).id
    crew = Console(van)
    assert crew.status()["auto"]["enabled"] is True
    crew.pair(hub_url=hub.url, code=code)
    wait_for(lambda: len(hub.ids("tally_event", VAN)) == 2, what="the automatic first sync")

    def tap(category):
        answer = crew.http.post(f"{van.url}/api/v1/screenings/{screening}/attendance",
                                json={"category": category, "delta": 1},
                                headers={"X-CSRFToken": crew.csrf})
        assert answer.status_code in (200, 201), answer.text
        return answer.json()["id"]

    first = tap("women")
    wait_for(lambda: first in hub.ids("tally_event", VAN), what="the new tap on the hub")
    status = wait_for(lambda: (lambda s: s if s["last"] and s["last"]["ok"] else None)(crew.status()))
    assert status["last"]["trigger"] == "auto" and status["auto"]["failures"] == 0

    hub.server.stop()
    second = tap("men")
    seen = {}                                           # failures in a row -> the wait after them

    def backed_off_three_times():
        auto = crew.status()["auto"]
        if auto["failures"]:
            seen.setdefault(auto["failures"], auto["backoff_seconds"])
        return auto["failures"] >= 3
    wait_for(backed_off_three_times, timeout=60, what="three failed automatic syncs")
    waits = [seen[n] for n in sorted(seen)]
    assert waits == sorted(waits) and waits[-1] > waits[0], seen       # the wait grows
    down = crew.status()
    assert down["last_error_code"] == "offline" and down["waiting_total"] == 1
    assert "did not work" in down["auto_text"]

    hub.server.start()
    wait_for(lambda: second in hub.ids("tally_event", VAN), timeout=60, what="the tap after the hub is back")
    back = wait_for(lambda: (lambda s: s if s["auto"]["failures"] == 0 and not s["running"] else None)(crew.status()))
    assert back["auto"]["backoff_seconds"] == 0 and back["last_error"] == "" and back["waiting_total"] == 0
    assert sorted(hub.ids("tally_event", VAN)) == sorted(set(hub.ids("tally_event", VAN)))
