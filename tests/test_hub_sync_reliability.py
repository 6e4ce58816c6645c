"""Sync between real processes, on a SQLite hub and on a real PostgreSQL hub: `vanapp hub serve`,
vans' `vanapp serve` and `vanapp sync`, through a TCP proxy that cuts requests, drops answers
after the hub committed and repeats requests; a hub killed with SIGKILL mid-sync; 25 vans at
once. Afterwards the hub holds exactly each van's records (ids and versions, none lost, none
doubled), every cursor is where it must be, and a broken link cost at most one batch.
Then the hub's doors over HTTP: 401 for wrong credentials, 403 for another van's records,
400/413 for malformed, forged and oversized batches — with nothing stored."""
import gzip
import json
import uuid

import pytest
import requests

from vanapp.ids import to_iso

from .conftest import PIN
from .support.faultproxy import FaultProxy
from .test_attendance_crash import crew_session
from .support.syncenv import Hub, Van, hub_state, make_night, sync_at_once, van_state, van_template, vanapp

pytestmark = pytest.mark.slow

PUSH = "/api/v1/sync/push"
CATEGORIES = ("men", "women", "boys", "girls")


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, server_factory):
    """`vanapp hub serve` on SQLite, or on a new database of the session's PostgreSQL server."""
    url = "" if request.param == "sqlite" else request.getfixturevalue("pg_migrated_url")
    return Hub(server_factory, url)


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    return van_template(tmp_path_factory.mktemp("van-template"))


# --- checks ---------------------------------------------------------------------------------

def assert_hub_holds_exactly(hub: Hub, van: Van) -> int:
    """The hub holds exactly the van's own records (same ids, same versions, none missing, none
    extra), and both sides agree on the cursor. Returns the number of records."""
    snap = van.snapshot()
    mine, held = snap["records"], hub_state(hub, van.van_id)
    assert {t: len(r) for t, r in held.items()} == {t: len(r) for t, r in mine.items()}, van.van_id
    assert held == mine, van.van_id
    seq = snap["max_seq"]
    assert hub.cursor(van.van_id) == {snap["epoch"]: seq}
    assert snap["push_cursor"] == str(seq)
    assert snap["pending"] is None                          # no batch left in flight
    batches = hub.batches(van.van_id)
    # the batches the hub applied tile the outbox: each starts where the one before ended
    assert batches[0][1] == 0 and batches[-1][2] == seq
    assert all(a[2] == b[1] for a, b in zip(batches, batches[1:])), batches
    return sum(map(len, mine.values()))


def assert_ok(result: dict):
    assert result["ok"] is True and result["exit"] == 0, result
    assert result["error_code"] == "" and result["waiting"] == 0 and result["parked_total"] == 0, result


def tap_through_console(van_server, screening_id: str, n: int, offset: int = 0) -> dict:
    """`n` taps on the van's running console, as the crew's phones send them; -> category -> sum."""
    phone = crew_session(van_server.url)
    url = f"{van_server.url}/api/v1/screenings/{screening_id}/attendance"
    totals = {}
    for i in range(offset, offset + n):
        category = CATEGORIES[i % 4]
        answer = phone.post(url, json={"id": str(uuid.uuid4()), "category": category, "delta": 1}, timeout=20)
        assert answer.status_code == 201, answer.text
        totals[category] = totals.get(category, 0) + 1
    return totals


# --- the faulty link, two vans, their consoles running ----------------------------------------

def test_two_vans_sync_exactly_once_through_a_faulty_link(hub, server_factory, tmp_path, template):
    """The issue's scenario: two vans — van-01 with `vanapp serve` running, its taps made on the
    console as the crew's phones make them — pair and `vanapp sync` through a link that cuts
    requests, drops answers after the hub committed, repeats requests and cuts answers. The hub
    ends with exactly their records, and its report counts exactly their taps."""
    from tests.support.factories import make_screening
    from vanapp import security
    proxy = FaultProxy(hub.server.port, only=(PUSH, "/api/v1/pair"))
    a, b = Van(tmp_path, "van-01", template=template), Van(tmp_path, "van-02", template=template)
    with a.db():
        security.set_pin(PIN)
        screening = make_screening(date="2026-11-23", village="गाँव", village_en="Gaon", tour="tour-van-01",
                                   van="van-01").id
    console = server_factory("van-01", init=False)          # `vanapp serve` on van-01's data dir
    with b.db():
        make_night("van-02", taps=50, village_en="Kasba", tour="tour-van-02")
    tap_through_console(console, screening, 50)

    # the hub's answer to the pairing is lost: van-01's own retry gets it; van-02 loses it every
    # time, and the crew runs `vanapp pair` again with the same (one-time) code
    proxy.plan("drop_response")
    paired = vanapp(a.data_dir, "pair", proxy.url, hub.add_van("van-01"), "--json", check=True)
    assert json.loads(paired.stdout)["van_id"] == "van-01"
    code = hub.add_van("van-02")
    proxy.plan("drop_response", "drop_response", "drop_response")
    failed = vanapp(b.data_dir, "pair", proxy.url, code, "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["ok"] is False
    paired = vanapp(b.data_dir, "pair", proxy.url, code, "--json", check=True)
    assert json.loads(paired.stdout)["van_id"] == "van-02"
    assert proxy.pending() == 0
    batch = 10                                               # records per request (--batch-size)

    # van-01: every fault once; the client's retries carry the sync through in one go
    proxy.plan("pass", "cut_request", "drop_response", "repeat", "cut_response")
    first = a.sync("--batch-size", batch)
    assert_ok(first)
    assert proxy.pending() == 0
    assert first["resent"] == 0 and first["retried"] == batch * 3   # one batch per fault the van saw
    assert first["replayed"] >= 2                            # the dropped answer and the repeat
    assert first["stored"] == first["pushed"] == assert_hub_holds_exactly(hub, a)
    assert first["cursor"] == a.max_seq() and first["van"] == "van-01"

    # van-02: the link dies for good at its second batch after the hub committed it: the sync
    # fails, and the next one goes on after that batch, sending no batch twice
    proxy.plan("pass", "drop_response", "drop_response", "drop_response")
    broken = b.sync("--batch-size", batch)
    assert broken["ok"] is False and broken["exit"] == 1 and broken["error_code"] == "offline", broken
    assert broken["batches"] == 1 and broken["waiting"] > 0
    assert [status for _path, _action, status in proxy.faults()][-3:] == [200, 200, 200]
    assert hub.cursor("van-02") == {b.setting("sync_epoch"): 2 * batch}   # the hub committed batch 2
    held = sum(map(len, hub_state(hub, "van-02").values()))
    resumed = b.sync("--batch-size", batch)
    assert_ok(resumed)
    assert resumed["resent"] == resumed["retried"] == 0
    total_b = assert_hub_holds_exactly(hub, b)
    assert resumed["stored"] == total_b - held                # every record new to the hub, once

    # more taps on van-01; its link is cut mid-request three times at its second batch: the hub
    # never saw that batch; the next sync sends it again under the same key, once
    tap_through_console(console, screening, 30, offset=50)
    held_before = len(hub_state(hub, "van-01")["tally_event"])
    proxy.plan("pass", "cut_request", "cut_request", "cut_request")
    broken = a.sync("--batch-size", batch)
    assert broken["ok"] is False and broken["error_code"] == "offline" and broken["batches"] == 1, broken
    assert len(hub_state(hub, "van-01")["tally_event"]) == held_before + batch
    resumed = a.sync("--batch-size", batch)
    assert_ok(resumed)
    assert 0 < resumed["resent"] <= batch                    # the one batch in flight, no more
    assert resumed["duplicates"] == 0
    assert broken["stored"] + resumed["stored"] == 30
    assert_hub_holds_exactly(hub, a)

    # the hub plans a new screening for van-01; the answers to its pull are cut and dropped
    with hub.db():
        from vanapp.models import db as hub_db
        planned = make_screening(date="2026-11-30", village="नया गाँव", village_en="Naya Gaon", tour="tour-van-01",
                                 van="van-01")
        with hub_db.atomic():
            for record in (planned.village, planned, *planned.items):
                record.save_change()                       # version 2, in the hub's outbox
    proxy.only = "/api/v1/sync/pull"
    proxy.plan("cut_response", "drop_response")
    pulled = a.sync()
    assert_ok(pulled)
    assert pulled["pulled"] == 3 and pulled["pushed"] == 0 and pulled["retried"] == 0
    assert proxy.pending() == 0
    with a.db():
        from vanapp.models import Screening
        assert Screening.get_by_id(planned.id).version == 2
    assert a.setting("sync_pull_cursor") == str(hub.query('SELECT MAX("seq") FROM "outbox"')[0][0])

    # a sync with nothing new sends nothing and changes nothing
    idle = a.sync()
    assert_ok(idle)
    assert idle["pushed"] == idle["batches"] == idle["resent"] == idle["pulled"] == 0

    # the coordinator's report counts exactly the vans' taps and records
    taps = {}
    for van in (a, b):
        with van.db():
            from vanapp.models import TallyEvent
            for category, delta in TallyEvent.select(TallyEvent.category, TallyEvent.delta).tuples():
                taps[category] = taps.get(category, 0) + delta
    report = hub.report()
    assert {c: report["people"][c] for c in CATEGORIES} == taps
    assert {v["van"]: v["records"] for v in report["vans"]} == {
        "van-01": sum(map(len, van_state(a).values())), "van-02": sum(map(len, van_state(b).values()))}


# --- the hub killed mid-sync -------------------------------------------------------------------

def test_a_hub_killed_mid_sync_and_restarted_loses_and_doubles_nothing(hub, tmp_path, template):
    van = Van(tmp_path, "van-05", template=template)
    with van.db():
        make_night("van-05", taps=160, village_en="Kalyanpur", tour="tour-van-05")
    code = hub.add_van("van-05")
    proxy = FaultProxy(hub.server.port, only=PUSH, on_kill=hub.server.kill9)
    with van.db():
        from vanapp.sync import client
        client.pair(proxy.url, code)
    batch = 25

    # killed while it works on the third batch: the sync fails, the hub comes back, and the
    # next sync goes on from what the hub holds
    proxy.plan("pass", "pass", "kill")
    broken = van.sync("--batch-size", batch)
    assert broken["ok"] is False and broken["error_code"] == "offline" and broken["batches"] == 2, broken
    hub.server.start()
    # killed again just after it committed the next batch (its answer lost with it)
    proxy.plan("pass", "kill_after")
    again = van.sync("--batch-size", batch)
    assert again["ok"] is False and again["error_code"] == "offline" and again["batches"] == 1, again
    assert again["resent"] <= batch                                  # at most the batch cut off
    assert again["retried"] == batch * 2                             # its retries while the hub was down
    hub.server.start()
    held = sum(map(len, hub_state(hub, "van-05").values()))
    resumed = van.sync("--batch-size", batch)
    assert_ok(resumed)
    assert resumed["resent"] == resumed["retried"] == 0              # the hub's cursor said it had it
    total = assert_hub_holds_exactly(hub, van)
    assert resumed["stored"] == total - held
    assert hub.report()["vans"][0]["records"] == total
    assert [action for _path, action, _status in proxy.faults()] == ["kill", "kill_after"]


# --- 25 vans at once ---------------------------------------------------------------------------

def sync_25_vans_at_once(hub, tmp_path, template) -> dict:
    """25 vans, each with its own night (30 + n taps), paired and pushing at the same moment;
    every sync succeeded and the hub holds exactly each van's records: -> van id -> records."""
    vans = [Van(tmp_path, f"van-{n:02d}", template=template) for n in range(1, 26)]
    for n, van in enumerate(vans):
        with van.db():
            make_night(van.van_id, taps=30 + n, village_en=f"Village {n}", tour=f"tour-{van.van_id}")
    hub.pair_many(vans)
    results = sync_at_once(vans, batch_rows=20)
    for result in results:
        assert_ok(result)
    totals = {van.van_id: assert_hub_holds_exactly(hub, van) for van in vans}
    assert {r["van"]: r["stored"] for r in results} == totals
    return totals


def test_25_vans_sync_at_once(hub, tmp_path, template):
    """25 vans push at the same moment, each in its own process (forked: the function `vanapp
    sync` runs, without 25 Python start-ups), against one hub serving them in parallel."""
    totals = sync_25_vans_at_once(hub, tmp_path, template)
    assert {v["van"]: v["records"] for v in hub.report()["vans"]} == totals
    assert len(hub.ids("tally_event")) == sum(30 + n for n in range(25))


# --- the hub's doors, over HTTP ----------------------------------------------------------------

def _batch(rows: list[dict], van: str, key: str | None = None, start=0, end=None, model="TallyEvent",
           epoch="e-1", raw=False):
    from vanapp.protocol import records
    from vanapp.protocol.wire import encode_models, pack
    table = records.table(model)
    columns = [c for c in table.columns if c in rows[0]]
    document = {"format": 1, "kind": "push", "van": van, "epoch": epoch, "key": key or uuid.uuid4().hex,
                "from": start, "to": len(rows) if end is None else end,
                "models": encode_models([(model, columns, table.time_columns,
                                          [[r[c] for r in rows] for c in columns])])}
    return document if raw else pack(document)


def test_credentials_ownership_and_bad_batches_over_http(hub, tmp_path, template):
    """Against the real server: 401 without the right key, 403 for another van's records or
    batch, 400/413 for malformed, forged and oversized batches — and nothing stored."""
    a, b = Van(tmp_path, "van-11", template=template), Van(tmp_path, "van-12", template=template)
    with a.db():
        make_night("van-11", taps=5, village_en="Amethi", tour="tour-van-11")
    with b.db():
        make_night("van-12", taps=5, village_en="Bhadohi", tour="tour-van-12")
    hub.pair_many([a, b])
    assert_ok(b.sync())                                          # van-12's records are on the hub
    auth_a = f"Bearer van-11.{a.setting('van_secret')}"
    auth_b = f"Bearer van-12.{b.setting('van_secret')}"
    before = hub_state(hub, "van-12")
    with b.db():
        from vanapp.models import TallyEvent
        theirs = TallyEvent.select().first()
        screening = theirs.screening_id
        held = {k: getattr(theirs, k) for k in ("id", "version", "category", "delta", "device", "van")}
        held.update(screening=screening, at=to_iso(theirs.at), created_at=to_iso(theirs.created_at),
                    updated_at=to_iso(theirs.updated_at))
    with a.db():
        from vanapp.models import TallyEvent
        mine = TallyEvent.select().first()
        own = {k: getattr(mine, k) for k in ("id", "version", "category", "delta", "device", "van")}
        own.update(screening=mine.screening_id, at=to_iso(mine.at), created_at=to_iso(mine.created_at),
                   updated_at=to_iso(mine.updated_at))

    def push(data, auth=auth_a, **headers):
        h = {"Content-Encoding": "gzip", "Content-Type": "application/json", **headers}
        if auth:
            h["Authorization"] = auth
        return requests.post(hub.url + PUSH, data=data, headers=h, timeout=30)

    good = _batch([own], "van-11")
    # 401: no key, a wrong key, another van's id with this van's secret, a revoked van
    secret_a = a.setting("van_secret")
    for auth in (None, "Bearer van-11." + "0" * 64, f"Bearer van-12.{secret_a}", "Bearer van-11",
                 f"Basic {secret_a}", "Bearer nobody." + secret_a):
        answer = push(good, auth=auth)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized", auth
        for path in ("/api/v1/sync/state", "/api/v1/sync/pull"):
            assert requests.get(hub.url + path, headers={"Authorization": auth} if auth else {},
                                timeout=30).status_code == 401

    # 403: another van's records, a batch passed off as another van's, a record the hub holds for
    # another van taken over under a higher version
    cases = [_batch([own, dict(held, id=str(uuid.uuid4()))], "van-11"),
             _batch([own], "van-12"),
             _batch([dict(held, van="van-11", version=held["version"] + 1, category="men")], "van-11")]
    for data in cases:
        answer = push(data)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "foreign_van", answer.text

    # 400/413: garbage, broken gzip, wrong format, forged header and records, a zip bomb, too big
    document = _batch([own], "van-11", raw=True)
    from vanapp.protocol.wire import MAX_RECORDS, pack
    bad = [("garbage", b"\x00\x01 not a batch", 400), ("broken gzip", good[:len(good) // 2], 400),
           ("not gzip at all", b"\x1f\x8b\x08 nonsense", 400), ("json list", pack([document]), 400),
           ("wrong format", pack(dict(document, format=2)), 400),
           ("key too short", pack(dict(document, key="k")), 400),
           ("cursor backwards", pack(dict(document, **{"from": 5, "to": 1})), 400),
           ("unknown model", pack(dict(document, models=[dict(document["models"][0], name="Coordinator")])), 400),
           ("short column", pack(dict(document, models=[dict(document["models"][0], n=2)])), 400),
           ("forged version", _batch([dict(own, version=0)], "van-11"), 400),
           ("forged time", _batch([dict(own, at="yesterday")], "van-11"), 400),
           ("unknown screening", _batch([dict(own, screening=str(uuid.uuid4()))], "van-11"), 400),
           ("zip bomb", gzip.compress(b'{"format":1,"models":[' + b" " * (40 << 20) + b"]}", 9), 413),
           ("too many records", _batch([dict(own, id=str(uuid.uuid4())) for _ in range(MAX_RECORDS + 1)], "van-11"), 413),
           ("too big", b"\x1f\x8b" + b"x" * (3 << 20), 413)]
    for name, data, status in bad:
        answer = push(data)
        assert answer.status_code == status, (name, answer.status_code, answer.text[:300])
        error = answer.json()["error"]
        assert error["code"] and error["message"], name

    # the revoked van is refused too
    hub.cli("revoke-van", "van-12")
    assert push(_batch([held], "van-12"), auth=auth_b).status_code == 401

    # nothing of any of that was stored: van-11 has nothing on the hub, van-12 what it synced
    assert hub.query("SELECT COUNT(*) FROM sync_batch WHERE van = ?", ("van-11",))[0][0] == 0
    assert all(not rows for rows in hub_state(hub, "van-11").values())
    assert hub_state(hub, "van-12") == before
    assert hub.cursor("van-11") == {}

    # and the honest van-11 then syncs everything, once
    assert_ok(a.sync())
    assert_hub_holds_exactly(hub, a)
