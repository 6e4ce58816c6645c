"""Sync always makes progress (issue 12): a record the hub refuses never holds back the others,
whoever owns it. It is set aside with the hub's reason — on the van's Sync page, in `vanapp sync
--json`, on the hub's Vans page — and the rest goes on; the crew can send it again or discard it.
The van refuses at the source what the hub would refuse (another van's screening), re-pairing
strands nothing, and the van's Sync page and the hub's Vans page count what is waiting alike."""
import datetime as dt
import json

import pytest
import requests

from vanapp.ids import UTC

from .conftest import csrf_from
from .support.faultproxy import FaultProxy
from .support.syncenv import Hub, Van, hub_state, make_night, van_template, vanapp

pytestmark = pytest.mark.slow
PASSWORD = "a long password"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return van_template(tmp_path_factory.mktemp("van-template"))


def own_records_held(hub, van, leave_out=()) -> dict:
    """table -> [(id, version)] the van holds of its own, less `leave_out` ids."""
    out = {}
    with van.db():
        from vanapp.models import SyncModel
        for model in SyncModel.registry().values():
            if model._meta.sync_owner == "van":
                rows = model.select(model.id, model.version).where(model.van == van.van_id)
                out[model._meta.table_name] = sorted(r for r in rows.tuples() if r[0] not in leave_out)
    return out


def coordinator(hub) -> requests.Session:
    import os
    import subprocess
    import sys
    from .support.server import ROOT
    env = dict(os.environ, VANAPP_DATA_DIR=str(hub.data_dir))
    env.pop("VANAPP_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "vanapp.cli", "hub", "add-coordinator", "asha", "--password-stdin"],
                   input=PASSWORD + "\n", text=True, env=env, cwd=str(ROOT), check=True, capture_output=True)
    session = requests.Session()
    page = session.get(hub.url + "/login")
    answer = session.post(hub.url + "/login", data={"username": "asha", "password": PASSWORD,
                                                    "csrf_token": csrf_from(page.text)})
    assert answer.status_code == 200, answer.text
    return session


def test_a_record_the_hub_refuses_never_holds_back_the_others(server_factory, tmp_path, template):
    hub = Hub(server_factory)
    van = Van(tmp_path, "van-04", template=template)
    hub.pair_many([van])
    from tests.support.factories import make_screening
    from vanapp.models import MediaItem, PlayLog, ScreeningEvent, TallyEvent, db
    # the hub plans a screening for van-03; this laptop's copy of the plan says van-04 (the
    # coordinator re-planned it after the van last pulled)
    with hub.db():
        moved = make_screening(date="2026-11-24", van="van-03", tour="tour-3", village_en="Moved")
    with van.db():
        make_night("van-04", taps=30, tour="tour-4")
        # 1. a night of another van's tour on this laptop: its cancellation (recorded before the
        #    van refused such changes at the source) must not stop the sync
        theirs = make_screening(date="2026-11-25", van="van-03", tour="tour-3b", village_en="Theirs")
        mine_moved = make_screening(date="2026-11-24", van="van-04", tour="tour-3", village_en="Moved")
        assert mine_moved.id == moved.id
        with db.atomic():
            ScreeningEvent(screening=theirs.id, kind="cancelled", reason="rain", van="van-04",
                           at=dt.datetime(2026, 11, 25, 12, tzinfo=UTC)).save_change()
        # 2. taps of the screening the hub holds for van-03 (the same screening, by id)
        with db.atomic():
            refused_taps = [TallyEvent(screening=moved.id, category="men", delta=1, van="van-04",
                                       at=dt.datetime(2026, 11, 24, 13, i, tzinfo=UTC)).save_change().id
                            for i in range(3)]
        # 3. a play of a media item whose path the hub refuses (the van refuses it too)
        with db.atomic():
            MediaItem.insert(id="evil", file="../../../../etc/passwd", title_hi="x", title_en="x",
                             kind="psa").execute()
        later = make_night("van-04", taps=20, day="2026-11-26", tour="tour-4", village_en="Later")
        with db.atomic():
            own_evil = PlayLog(screening=later.id, position=9, media_id="evil", van="van-04", outcome="completed",
                               started_at=dt.datetime(2026, 11, 26, 14, tzinfo=UTC)).save_change().id
        make_night("van-04", taps=10, day="2026-11-27", tour="tour-4", village_en="Last")
        cancel_event = ScreeningEvent.get(ScreeningEvent.screening == theirs.id).id
    refused = {cancel_event, own_evil, *refused_taps}

    first = van.sync()
    assert first["ok"] is True and first["exit"] == 0, first
    assert first["parked_total"] == len(refused) and first["waiting"] == 0, first
    reasons = {r["id"]: r for r in first["set_aside"]}
    assert set(reasons) == refused
    assert reasons[cancel_event]["code"] == "foreign_van" and "van-03" in reasons[cancel_event]["reason"]
    assert all(reasons[t]["code"] == "foreign_van" for t in refused_taps)
    assert reasons[own_evil]["code"] == "invalid_records" and "media folder" in reasons[own_evil]["reason"]
    # everything else is on the hub, exactly
    assert hub_state(hub, "van-04") == own_records_held(hub, van, leave_out=refused)
    # the coordinator sees what was set aside, and why
    vans_page = coordinator(hub).get(hub.url + "/vans").text
    assert "3 records set aside" not in vans_page
    for record_id in refused:
        assert f'data-record="{record_id}"' in vans_page
    assert "media folder" in vans_page and "van-03" in vans_page

    # sending them again, in batches of one, or by USB bundle: still no wedge
    with van.db():
        make_night("van-04", taps=5, day="2026-11-28", tour="tour-4", village_en="Again")
    again = van.sync("--retry-parked", "--batch-size", "1")
    assert again["ok"] is True and again["parked_total"] == len(refused), again
    with van.db():
        make_night("van-04", taps=5, day="2026-11-29", tour="tour-4", village_en="Stick")
        with db.atomic():
            TallyEvent(screening=moved.id, category="women", delta=1, van="van-04",
                       at=dt.datetime(2026, 11, 24, 14, tzinfo=UTC)).save_change()
    bundle = tmp_path / "van-04.vkb"
    vanapp(van.data_dir, "export-bundle", bundle, check=True)
    imported = json.loads(hub.cli("import-bundle", bundle, "--json").stdout)
    assert imported["ok"] is True and imported["stored"] >= 5 * 3, imported
    assert [r["code"] for r in imported["refused"]] == ["foreign_van"], imported
    last = van.sync()
    assert last["ok"] is True and last["parked_total"] == len(refused) + 1 and last["waiting"] == 0, last
    leave_out = refused | {r["id"] for r in imported["refused"]}
    assert hub_state(hub, "van-04") == own_records_held(hub, van, leave_out=leave_out)


def test_the_van_refuses_another_vans_screening_at_the_source(app, crew):
    from tests.support.factories import make_screening
    from vanapp.models import Outbox, ScreeningEvent, Setting, db
    from vanapp.tours import lifecycle
    with db.atomic():
        Setting.put("van_id", "van-04")
    theirs = make_screening(date="2026-11-25", van="van-03", tour="tour-3")
    mine = make_screening(date="2026-11-26", van="van-04", tour="tour-4", village_en="Mine")
    before = Outbox.select().count()
    for change in (lambda: lifecycle.cancel(theirs.id, "rain"), lambda: lifecycle.start(theirs.id),
                   lambda: lifecycle.mark_held(theirs.id),
                   lambda: lifecycle.reschedule(theirs.id, "2026-11-30", "18:00", "Asia/Kolkata")):
        with pytest.raises(lifecycle.LifecycleError) as refused:
            change()
        assert refused.value.code == "other_van" and "van-03" in refused.value.message
    answer = crew.post(f"/api/v1/screenings/{theirs.id}/cancel", json={"reason": "rain"},
                       headers={"X-CSRFToken": crew.csrf})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "other_van", answer.json
    assert Outbox.select().count() == before and ScreeningEvent.select().count() == 0
    lifecycle.cancel(mine.id, "rain")                      # its own screening: as before
    assert ScreeningEvent.select().count() == 1


def test_the_crew_can_discard_or_resend_what_was_set_aside(app, crew):
    from vanapp.models import Outbox, SyncParked, TallyEvent, db
    from vanapp.sync import state
    from tests.support.factories import make_screening
    screening = make_screening(date="2026-11-25")
    with db.atomic():
        taps = [TallyEvent(screening=screening.id, category="men", delta=1, van="van-03",
                           at=dt.datetime(2026, 11, 25, 13, i, tzinfo=UTC)).save_change() for i in range(3)]
    state.acknowledge(state.max_seq())
    state.park([{"model": "TallyEvent", "id": t.id, "version": 1, "code": "conflict",
                 "message": "the hub holds version 1 with other content"} for t in taps])
    assert state.parked_count() == 3 and state.waiting_total() == 0
    rows = {p.record_id: p.id for p in SyncParked.select()}
    page = crew.get("/sync/").data.decode()
    assert page.count('action="/sync/parked/discard"') == 4          # one per record, and all
    crew.post("/sync/parked/discard", data={"parked": str(rows[taps[0].id]), "csrf_token": crew.csrf})
    assert state.parked_count() == 2 and taps[0].id not in crew.get("/sync/").data.decode()
    assert ("TallyEvent", taps[0].id, 1) in state.parked_keys()        # never sent
    assert TallyEvent.get_by_id(taps[0].id)                           # but kept on the laptop
    crew.post("/sync/parked/retry", data={"parked": str(rows[taps[1].id]), "csrf_token": crew.csrf})
    assert state.parked_count() == 1 and state.waiting_total() == 1
    assert Outbox.select().order_by(Outbox.seq.desc()).first().record_id == taps[1].id
    crew.post("/sync/parked/discard", data={"parked": "all", "csrf_token": crew.csrf})
    assert state.parked_count() == 0 and state.waiting_total() == 1
    assert crew.get("/sync/status.json").json["parked_count"] == 0


def test_re_pairing_mid_screening_strands_nothing(server_factory, tmp_path, template):
    hub = Hub(server_factory)
    van = Van(tmp_path, "van-05", template=template)
    van.pair(hub)
    with van.db():
        night = make_night("van-05", taps=40, tour="tour-5")
    assert van.sync()["ok"] is True
    # the coordinator rotates the van's key mid-screening; the crew pairs again with the new code
    rotated = json.loads(hub.cli("rotate-van", "van-05", "--json").stdout)
    with van.db():
        from vanapp.models import TallyEvent, db
        with db.atomic():
            for i in range(15):
                TallyEvent(screening=night.id, category="girls", delta=1, van="van-05",
                           at=dt.datetime(2026, 11, 23, 15, i, tzinfo=UTC)).save_change()
    stale = van.sync()
    assert stale["ok"] is False and stale["error_code"] == "unauthorized" and stale["waiting"] == 15, stale
    # a code for another van is refused and changes nothing
    other = vanapp(van.data_dir, "pair", hub.url, hub.add_van("van-06"), "--json")
    assert other.returncode == 1 and json.loads(other.stdout)["ok"] is False
    vanapp(van.data_dir, "pair", hub.url, rotated["code"], check=True)
    with van.db():
        with db.atomic():
            for i in range(5):
                TallyEvent(screening=night.id, category="boys", delta=1, van="van-05",
                           at=dt.datetime(2026, 11, 23, 16, i, tzinfo=UTC)).save_change()
    done = van.sync()
    assert done["ok"] is True and done["waiting"] == 0 and done["parked_total"] == 0, done
    assert hub_state(hub, "van-05") == own_records_held(hub, van)


def on_van(hub, van_id) -> dict:
    return {v["van"]: v for v in hub.report()["vans"]}[van_id]["on_van"]


def test_the_van_and_the_hub_count_what_is_waiting_alike(server_factory, tmp_path, template):
    """Records, not changes: a record changed three times before a sync is one record waiting."""
    hub = Hub(server_factory)
    van = Van(tmp_path, "van-08", template=template)
    proxy = FaultProxy(hub.server.port, only="/api/v1/sync/push")
    hub.pair_many([van])
    from tests.support.factories import make_screening
    with hub.db():                                  # the hub planned this one for another van
        make_screening(date="2026-11-30", van="van-03", tour="tour-x", village_en="Elsewhere")
    secret = van.setting("van_secret")
    with van.db():
        from vanapp.sync import state
        state.save_pairing(proxy.url, van.van_id, secret)
        from vanapp.models import GameRun, db
        night = make_night("van-08", taps=60, tour="tour-8")
        run = GameRun.get(GameRun.screening == night.id)
        with db.atomic():
            for _ in range(3):
                run.state = "finished"
                run.save_change()                   # three more changes of one record
    # the link dies after the first batch of 10 changes
    proxy.plan("pass", "drop_response", "drop_response", "drop_response")
    broken = van.sync("--batch-size", "10")
    assert broken["ok"] is False and broken["batches"] == 1
    with van.db():
        from vanapp.sync import state
        waiting_here = state.waiting_total()
        seq = state.max_seq()
    assert waiting_here == broken["waiting"] > 0
    assert on_van(hub, "van-08")["not_received"] == waiting_here
    assert seq - 10 != waiting_here                 # changes and records do differ here
    # a record set aside: both say so, and nothing is waiting
    with van.db():
        from vanapp.models import TallyEvent
        elsewhere = make_screening(date="2026-11-30", van="van-08", tour="tour-x", village_en="Elsewhere")
        with db.atomic():
            TallyEvent(screening=elsewhere.id, category="men", delta=1, van="van-08",
                       at=dt.datetime(2026, 11, 30, 16, tzinfo=UTC)).save_change()
    done = van.sync()
    assert done["ok"] is True and done["waiting"] == 0, done
    seen = on_van(hub, "van-08")
    assert (seen["not_received"], seen["parked"]) == (0, done["parked_total"])
