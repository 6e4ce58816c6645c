"""The hub's side of the sync protocol, on SQLite and on a real PostgreSQL server: pairing,
credentials, idempotent batches, versions, conflicts, ownership, bad batches, pull, summaries."""
import datetime as dt
import gzip
import hashlib
import hmac
import json
import shutil
import uuid
from functools import lru_cache

import pytest

from vanapp import create_app
from vanapp.db import migrate
from vanapp.hub import pairing
from vanapp.ids import UTC, new_id, to_iso
from vanapp.models import (Outbox, Screening, ScreeningEvent, SummaryReport, SyncBatch, TallyEvent, Van, db)
from vanapp.protocol import records
from vanapp.protocol.wire import MAX_RECORDS, encode_models, pack

from .support.factories import make_screening

T0 = dt.datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite hub database, copied for each test (faster than migrating each)."""
    from playhouse.migrations import Runner
    from vanapp.db import MIGRATIONS_DIR, open_database
    folder = tmp_path_factory.mktemp("hub-template")
    database = open_database("", str(folder))
    with database.connection_context():
        Runner(database, directory=str(MIGRATIONS_DIR)).up()
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return folder / "vanapp.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    data_dir = tmp_path / "hub"
    if request.param == "sqlite":
        url = ""
        data_dir.mkdir()
        shutil.copy(request.getfixturevalue("sqlite_template"), data_dir / "vanapp.db")
    else:
        url = request.getfixturevalue("pg_migrated_url")
    app = create_app({"TESTING": True, "MODE": "hub", "DATA_DIR": str(data_dir), "DATABASE_URL": url})
    assert migrate() == []
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield app
        if not db.is_closed():
            db.close()


def paired(hub, van_id="van-03"):
    """Pair a van over HTTP; -> the Authorization header value."""
    with db.connection_context():
        _van, code = pairing.add_van(van_id.title(), van_id)
    client = hub.test_client()
    answer = client.post("/api/v1/pair", json={"code": pairing.format_code(code).lower()})
    assert answer.status_code == 200, answer.json
    return f"Bearer {answer.json['van_id']}.{answer.json['secret']}"


def tap(van="van-03", screening=None, version=1, category="women", **over):
    row = {"id": new_id(), "van": van, "version": version, "created_at": to_iso(T0), "updated_at": to_iso(T0),
           "screening": screening, "category": category, "delta": 1,
           "at": to_iso(T0 + dt.timedelta(seconds=3)), "device": "phone-1"}
    row.update(over)
    return row


def body(rows_by_model: dict, van="van-03", key=None, start=0, end=None, epoch="epoch-1", raw=False):
    tables = []
    for name, rows in rows_by_model.items():
        table = records.table(name)
        columns = [c for c in table.columns if c in rows[0]]
        tables.append((name, columns, table.time_columns, [[r[c] for r in rows] for c in columns]))
    document = {"format": 1, "kind": "push", "van": van, "epoch": epoch, "key": key or uuid.uuid4().hex,
                "from": start, "to": end if end is not None else start + sum(map(len, rows_by_model.values())),
                "models": encode_models(tables)}
    return document if raw else pack(document)


def push(hub, auth, data, **headers):
    return hub.test_client().post("/api/v1/sync/push", data=data,
                                  headers={"Authorization": auth, "Content-Encoding": "gzip", **headers})


def count(model, **where):
    with db.connection_context():
        query = model.select()
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return query.count()


@pytest.fixture
def screening(hub):
    with db.connection_context():
        return make_screening(date="2026-11-23", van="van-03").id


# --- pairing and credentials ------------------------------------------------------------------

def test_pairing_code_works_once_and_only_hashes_are_kept(hub):
    with db.connection_context():
        _van, code = pairing.add_van("Van 3", "van-03")
    client = hub.test_client()
    first = client.post("/api/v1/pair", json={"code": code})
    assert first.status_code == 200
    secret = first.json["secret"]
    again = client.post("/api/v1/pair", json={"code": code})
    assert again.status_code == 404 and again.json["error"]["code"] == "unknown_code"
    with db.connection_context():
        van = Van.get_by_id("van-03")
        stored = json.dumps(list(Van.select().dicts()), default=str)
    assert secret not in stored and code not in stored
    assert van.secret_hash == hashlib.sha256(bytes.fromhex(secret)).hexdigest()
    assert van.summary_key == hmac.new(bytes.fromhex(secret), b"vankit-summary-v1", hashlib.sha256).hexdigest()
    assert client.get("/api/v1/sync/state", headers={"Authorization": f"Bearer van-03.{secret}"}).status_code == 200


def test_pairing_with_the_vans_own_secret_is_safe_to_repeat(hub):
    """The answer to a pairing can be lost after the hub paired the van: the same request
    (same code, same proposed secret) gets the same answer; nobody else gets anything."""
    with db.connection_context():
        _van, code = pairing.add_van("Van 3", "van-03")
    client = hub.test_client()
    secret = "ab" * 32
    first = client.post("/api/v1/pair", json={"code": code, "secret": secret})
    assert first.status_code == 200 and first.json["secret"] == secret
    again = client.post("/api/v1/pair", json={"code": code, "secret": secret})
    assert again.status_code == 200 and again.json["van_id"] == "van-03" and again.json["secret"] == secret
    assert client.post("/api/v1/pair", json={"code": code, "secret": "cd" * 32}).status_code == 404
    assert client.post("/api/v1/pair", json={"code": code}).status_code == 404
    for bad in ("ab" * 16, "zz" * 32, 5):
        assert client.post("/api/v1/pair", json={"code": code, "secret": bad}).status_code == 400
    with db.connection_context():
        assert Van.get_by_id("van-03").secret_hash == hashlib.sha256(bytes.fromhex(secret)).hexdigest()
        pairing.revoke("van-03")
    assert client.post("/api/v1/pair", json={"code": code, "secret": secret}).status_code == 404
    auth = {"Authorization": f"Bearer van-03.{secret}"}
    assert client.get("/api/v1/sync/state", headers=auth).status_code == 401


def test_expired_or_unknown_pairing_codes_are_refused(hub):
    with db.connection_context():
        _van, code = pairing.add_van("Van 4", "van-04", now=dt.datetime.now(UTC) - dt.timedelta(hours=25))
    client = hub.test_client()
    assert client.post("/api/v1/pair", json={"code": code}).status_code == 410
    assert client.post("/api/v1/pair", json={"code": "ZZZZ-ZZZZ"}).status_code == 404
    assert client.post("/api/v1/pair", data="nonsense").status_code == 400


def test_missing_or_wrong_credentials_get_401(hub):
    auth = paired(hub)
    wrong_secret = auth[:-4] + ("0000" if not auth.endswith("0000") else "1111")
    for header in (None, wrong_secret, "Bearer van-03", "Basic abc", "Bearer nobody.abcd", auth + "x"):
        headers = {"Authorization": header} if header else {}
        for method, path in (("get", "/api/v1/sync/state"), ("post", "/api/v1/sync/push"),
                             ("get", "/api/v1/sync/pull")):
            answer = getattr(hub.test_client(), method)(path, headers=headers)
            assert answer.status_code == 401, (path, header)
            assert answer.json["error"]["code"] == "unauthorized"


def test_revoked_van_gets_401_and_keeps_its_records_rotation_replaces_the_key(hub, screening):
    auth = paired(hub)
    assert push(hub, auth, body({"TallyEvent": [tap(screening=screening)]})).status_code == 200
    with db.connection_context():
        pairing.revoke("van-03")
    answer = hub.test_client().get("/api/v1/sync/state", headers={"Authorization": auth})
    assert answer.status_code == 401 and answer.json["error"]["code"] == "revoked"
    assert count(TallyEvent, van="van-03") == 1
    with db.connection_context():
        _van, code = pairing.rotate("van-03")
    assert hub.test_client().get("/api/v1/sync/state", headers={"Authorization": auth}).status_code == 401
    fresh = hub.test_client().post("/api/v1/pair", json={"code": code}).json
    new_auth = f"Bearer van-03.{fresh['secret']}"
    assert hub.test_client().get("/api/v1/sync/state?counts=1", headers={"Authorization": new_auth}).json[
        "counts"]["TallyEvent"] == 1


# --- push: idempotent, versioned, whole ---------------------------------------------------------

def test_a_repeated_batch_gets_the_same_ack_and_is_stored_once(hub, screening):
    auth = paired(hub)
    rows = [tap(screening=screening) for _ in range(50)]
    data = body({"TallyEvent": rows}, key="k-" + uuid.uuid4().hex, start=0, end=50)
    first = push(hub, auth, data)
    assert first.status_code == 200
    assert first.json["stored"] == 50 and first.json["cursor"] == 50
    second = push(hub, auth, data)
    assert second.status_code == 200
    assert {k: v for k, v in second.json.items() if k != "replayed"} == first.json and second.json["replayed"]
    # the same records under a new key: recognised by id and version, stored once
    third = push(hub, auth, body({"TallyEvent": rows}, start=0, end=50))
    assert third.json["stored"] == 0 and third.json["duplicates"] == 50
    assert count(TallyEvent) == 50
    with db.connection_context():
        assert SyncBatch.select().where(SyncBatch.van == "van-03").count() == 2


def test_older_versions_never_overwrite_newer_ones_and_receipt_time_is_kept(hub, screening):
    auth = paired(hub)
    row = tap(screening=screening, version=2, category="men")
    assert push(hub, auth, body({"TallyEvent": [row]})).json["stored"] == 1
    with db.connection_context():
        first_receipt = TallyEvent.get_by_id(row["id"]).received_at
    older = dict(row, version=1, category="boys")
    assert push(hub, auth, body({"TallyEvent": [older]})).json["older"] == 1
    newer = dict(row, version=3, category="girls", updated_at=to_iso(T0 + dt.timedelta(minutes=1)))
    assert push(hub, auth, body({"TallyEvent": [newer]})).json["updated"] == 1
    with db.connection_context():
        held = TallyEvent.get_by_id(row["id"])
    assert (held.version, held.category) == (3, "girls")
    assert held.received_at == first_receipt                      # first receipt, not the last
    assert to_iso(held.at) == row["at"] and held.at != held.received_at   # event time kept apart


def test_same_version_with_other_content_is_a_409_conflict_and_nothing_is_stored(hub, screening):
    auth = paired(hub)
    row = tap(screening=screening)
    push(hub, auth, body({"TallyEvent": [row]}))
    innocent = tap(screening=screening)
    answer = push(hub, auth, body({"TallyEvent": [innocent, dict(row, category="men")]}, start=1, end=3))
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "conflict"
    assert [r["id"] for r in answer.json["error"]["records"]] == [row["id"]]
    with db.connection_context():
        assert TallyEvent.get_by_id(row["id"]).category == "women"
        assert TallyEvent.get_or_none(TallyEvent.id == innocent["id"]) is None


def test_a_van_writing_another_vans_records_gets_403_and_nothing_is_stored(hub, screening):
    auth = paired(hub)
    paired(hub, "van-07")
    mine, theirs = tap(screening=screening), tap(van="van-07", screening=screening)
    answer = push(hub, auth, body({"TallyEvent": [mine, theirs]}))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "foreign_van"
    assert count(TallyEvent) == 0
    # nor may it pass off its batch as another van's, or overwrite a record the hub holds for another van
    assert push(hub, auth, body({"TallyEvent": [mine]}, van="van-07")).status_code == 403
    auth7 = paired(hub, "van-08")
    with db.connection_context():
        theirs_screening = make_screening(date="2026-11-24", van="van-08", tour="tour-08").id
    held = tap(van="van-08", screening=theirs_screening)
    assert push(hub, auth7, body({"TallyEvent": [held]}, van="van-08")).status_code == 200
    hijack = dict(held, van="van-03", version=2)
    assert push(hub, auth, body({"TallyEvent": [hijack]})).status_code == 403
    with db.connection_context():
        assert TallyEvent.get_by_id(held["id"]).van == "van-08"
    assert count(TallyEvent) == 1


def test_a_van_cannot_write_about_another_vans_screening(hub, screening):
    """Taps or a cancellation for a screening planned for another van: 403, nothing stored, and
    that van's screening keeps its status (a van covering for another is re-planned by the hub)."""
    paired(hub)
    auth5 = paired(hub, "van-05")
    tally = tap(van="van-05", screening=screening)
    answer = push(hub, auth5, body({"TallyEvent": [tally]}, van="van-05"))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "foreign_van"
    assert answer.json["error"]["records"][0]["id"] == tally["id"]
    cancel = {"id": new_id(), "van": "van-05", "version": 1, "created_at": to_iso(T0), "updated_at": to_iso(T0),
              "screening": screening, "kind": "cancelled", "reason": "forged", "new_date": "", "new_start": "",
              "at": to_iso(T0)}
    answer = push(hub, auth5, body({"ScreeningEvent": [cancel]}, van="van-05"))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "foreign_van"
    with db.connection_context():
        assert count(TallyEvent) == 0 and ScreeningEvent.select().count() == 0
        assert Screening.get_by_id(screening).status == "planned"


@pytest.mark.parametrize("change", [{"delta": 1000}, {"delta": -5000}, {"delta": 0}, {"category": "Aliens!"}],
                         ids=["delta+1000", "delta-5000", "delta0", "category"])
def test_values_the_van_itself_refuses_are_refused_by_the_hub(hub, screening, change):
    auth = paired(hub)
    good, forged = tap(screening=screening), tap(screening=screening, **change)
    answer = push(hub, auth, body({"TallyEvent": [good, forged]}))
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_records"
    assert [r["id"] for r in answer.json["error"]["records"]] == [forged["id"]]
    assert count(TallyEvent) == 0


def test_a_batch_key_used_again_for_another_range_is_a_409(hub, screening):
    auth = paired(hub)
    first = push(hub, auth, body({"TallyEvent": [tap(screening=screening)]}, key="k" * 32, start=0, end=1))
    assert first.status_code == 200
    again = push(hub, auth, body({"TallyEvent": [tap(screening=screening)]}, key="k" * 32, start=0, end=1))
    assert again.status_code == 200 and again.json["replayed"] is True      # a resend: the first answer
    other = push(hub, auth, body({"TallyEvent": [tap(screening=screening)]}, key="k" * 32, start=1, end=2))
    assert other.status_code == 409 and other.json["error"]["code"] == "key_reused"
    assert count(TallyEvent) == 1


@lru_cache(maxsize=1)
def _bomb() -> bytes:
    """40 MiB of JSON whitespace in 40 KiB of gzip."""
    return gzip.compress(b'{"format":1,"models":[' + b" " * (40 * 1024 * 1024) + b"]}", 9)


def test_malformed_and_oversized_batches_are_refused_with_nothing_stored(hub, screening):
    auth = paired(hub)
    cases = [("garbage", b"\x00\x01not a batch", 400), ("not gzip", b"\x1f\x8b\x08garbage", 400),
             ("json list", pack([1, 2]), 400), ("wrong format", pack({"format": 99, "models": []}), 400),
             ("zip bomb", _bomb(), 413), ("too big", b"x" * (2 * 1024 * 1024 + 10), 413)]
    for name, data, status in cases:
        answer = push(hub, auth, data)
        assert answer.status_code == status, (name, answer.json)
        assert set(answer.json["error"]) >= {"code", "message"}
    assert count(TallyEvent) == 0
    with db.connection_context():
        assert SyncBatch.select().count() == 0


def test_invalid_records_are_named_and_the_whole_batch_is_refused(hub, screening):
    auth = paired(hub)
    good = tap(screening=screening)
    cases = [dict(tap(screening=screening), delta="1"), dict(tap(screening=screening), at="yesterday"),
             dict(tap(screening=screening), category="x" * 500), dict(tap(screening=screening), version=0)]
    for bad in cases:
        answer = push(hub, auth, body({"TallyEvent": [good, bad]}))
        assert answer.status_code == 400, bad
        assert answer.json["error"]["code"] == "invalid_records"
        assert [r["id"] for r in answer.json["error"]["records"]] == [bad["id"]]
    orphan = tap(screening=new_id())
    answer = push(hub, auth, body({"TallyEvent": [good, orphan]}))
    assert answer.status_code == 400 and answer.json["error"]["records"][0]["code"] == "missing_parent"
    document = body({"TallyEvent": [good]}, raw=True)
    for broken in ({**document, "key": 5}, {**document, "to": -1},
                   {**document, "models": [{"name": "Nope", "n": 1, "columns": {"id": ["x"]}}]},
                   {**document, "models": [{"name": "TallyEvent", "n": 2, "columns": {"id": ["x"]}}]},
                   {**document, "models": [{"name": "TallyEvent", "n": 1,
                                            "columns": {"id": {"d": ["x"], "i": [3]}}}]}):
        assert push(hub, auth, pack(broken)).status_code == 400
    too_many = body({"TallyEvent": [tap(screening=screening) for _ in range(MAX_RECORDS + 1)]})
    assert push(hub, auth, too_many).status_code == 413
    assert count(TallyEvent) == 0


def test_plan_records_from_a_van_are_inserted_only_if_absent(hub, screening):
    auth = paired(hub)
    table = records.table("Screening")
    with db.connection_context():
        hub_copy = dict(zip(table.columns, [v[0] for v in table.read([screening])]))
    changed = dict(hub_copy, notes="changed on the van", version=9)
    other_day = make_van_only_plan(hub_copy)
    rows = {"Screening": [changed, other_day], "TallyEvent": [tap(screening=other_day["id"])]}
    answer = push(hub, auth, body(rows))
    assert answer.status_code == 200 and answer.json["plan_inserted"] == 1
    with db.connection_context():
        assert Screening.get_by_id(screening).notes == "" and Screening.get_by_id(screening).version == 1
        assert Screening.get_by_id(other_day["id"]).key == other_day["key"]


def test_a_van_cannot_plant_a_screening_for_another_van(hub, screening):
    auth = paired(hub)
    table = records.table("Screening")
    with db.connection_context():
        hub_copy = dict(zip(table.columns, [v[0] for v in table.read([screening])]))
    planted = dict(make_van_only_plan(hub_copy), van="van-07")
    answer = push(hub, auth, body({"Screening": [planted], "TallyEvent": [tap(screening=planted["id"])]}))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "foreign_van"
    with db.connection_context():
        assert Screening.get_or_none(Screening.id == planted["id"]) is None
    assert count(TallyEvent) == 0


def make_van_only_plan(template):
    return dict(template, id=new_id(), key="2026-11-24/Rampur", date="2026-11-24", version=1)


def test_screening_status_follows_the_vans_events(hub, screening):
    auth = paired(hub)
    event = {"id": new_id(), "van": "van-03", "version": 1, "created_at": to_iso(T0), "updated_at": to_iso(T0),
             "screening": screening, "kind": "started", "reason": "", "new_date": "", "new_start": "",
             "at": to_iso(T0)}
    cancelled = dict(event, id=new_id(), kind="cancelled", reason="rain", at=to_iso(T0 + dt.timedelta(hours=1)))
    assert push(hub, auth, body({"ScreeningEvent": [cancelled, event]})).status_code == 200
    with db.connection_context():
        s = Screening.get_by_id(screening)
    assert (s.status, s.status_reason) == ("cancelled", "rain")


def test_a_batch_after_a_gap_is_stored_but_the_cursor_stays(hub, screening):
    auth = paired(hub)
    first = push(hub, auth, body({"TallyEvent": [tap(screening=screening)]}, start=0, end=10))
    assert first.json["cursor"] == 10
    gap = push(hub, auth, body({"TallyEvent": [tap(screening=screening)]}, start=20, end=30))
    assert gap.status_code == 200 and gap.json["cursor"] == 10 and gap.json["stored"] == 1
    state = hub.test_client().get("/api/v1/sync/state?epoch=epoch-1", headers={"Authorization": auth}).json
    assert state["cursor"] == 10
    assert hub.test_client().get("/api/v1/sync/state?epoch=other", headers={"Authorization": auth}).json["cursor"] == 0


# --- pull -------------------------------------------------------------------------------------

def test_pull_gives_this_vans_plan_and_shared_content_since_a_cursor(hub):
    auth = paired(hub)
    with db.connection_context():
        mine = make_screening(date="2026-11-23", van="van-03", tour="tour-a")
        theirs = make_screening(date="2026-11-23", village="Other", village_en="Other", van="van-07", tour="tour-b")
        with db.atomic():
            for model in (mine.tour, mine.village, mine, *mine.items, theirs.tour, theirs, *theirs.items):
                model.save_change()
    client = hub.test_client()
    answer = client.get("/api/v1/sync/pull?cursor=0", headers={"Authorization": auth})
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    from vanapp.protocol.wire import decode_models, unpack
    document = unpack(answer.data)
    got = {name: [dict(zip(cols, r))["id"] for r in rows] for name, cols, rows in decode_models(document["models"])}
    assert got["Screening"] == [mine.id]
    assert set(got["ProgrammeItem"]) == {i.id for i in mine.items}
    assert "Tour" in got and theirs.tour_id not in got["Tour"]
    with db.connection_context():
        last = Outbox.select().order_by(Outbox.seq.desc()).first().seq
    assert document["cursor"] == last and document["more"] is False
    later = unpack(client.get(f"/api/v1/sync/pull?cursor={last}", headers={"Authorization": auth}).data)
    assert later["models"] == [] and later["cursor"] == last
    paged = unpack(client.get("/api/v1/sync/pull?cursor=0&limit=2", headers={"Authorization": auth}).data)
    assert paged["more"] is True and paged["cursor"] == 2
    state = client.get("/api/v1/sync/state", headers={"Authorization": auth}).json
    assert state["pull_cursor"] == last


# --- the night's summary from a QR code ----------------------------------------------------------

def test_summary_qr_is_verified_stored_once_and_superseded_by_synced_taps(hub, screening):
    from vanapp.protocol.summary import encode_summary, summary_key
    from vanapp.hub import receive
    auth = paired(hub)
    secret = bytes.fromhex(auth.rsplit(".", 1)[1])
    night = {"screening": screening, "date": "2026-11-23", "village": "Rampur",
             "counts": {"men": 40, "women": 52, "boys": 10, "girls": 12}, "headcounts": {"start": 90, "end": 110},
             "participants": 3, "plays": [], "pledges": {"pledge": 31}}
    text = encode_summary(night, summary_key(secret), "van-03", hub_url="http://hub.example")
    path = text.split("http://hub.example", 1)[1]
    client = hub.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "114" in page.get_data(as_text=True)
    assert client.get(path).status_code == 200
    assert count(SummaryReport) == 1
    forged = encode_summary(dict(night, counts={"men": 4000}), b"k" * 32, "van-03", hub_url="http://hub.example")
    # the signature is the summary's credential: a forged or damaged one is 403 (bad_summary)
    assert client.get(forged.split("http://hub.example", 1)[1]).status_code == 403
    assert client.post(path[:-3] + "AAA", headers={"Accept": "application/json"}).status_code == 403
    with db.connection_context():
        assert SummaryReport.get().total == 114
        assert [s.screening for s in receive.summaries_in_use()] == [screening]
    push(hub, auth, body({"TallyEvent": [tap(screening=screening)]}))
    with db.connection_context():
        assert list(receive.summaries_in_use()) == []          # synced taps win; never both


def test_openapi_lists_exactly_the_routes_the_hub_serves(hub):
    from vanapp.protocol.openapi import spec
    served = set()
    for rule in hub.url_map.iter_rules():
        if rule.endpoint.startswith("hubapi."):
            served.add(rule.rule.replace("<", "{").replace(">", "}"))
    document = hub.test_client().get("/api/v1/openapi.json").json
    assert set(document["paths"]) == served == set(spec()["paths"])
