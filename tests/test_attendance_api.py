"""The attendance API: taps stored once and acknowledged with counts, refusals that write nothing,
headcounts, participants with consent."""
import datetime as dt
import uuid

import pytest

from vanapp.ids import from_iso, utcnow
from vanapp.models import Headcount, Outbox, Participant, Screening, Setting, TallyEvent, db

from .support.factories import make_screening


@pytest.fixture
def screening(crew):
    return make_screening()


def url(s, what="attendance"):
    sid = s.id if hasattr(s, "id") else s
    return f"/api/v1/screenings/{sid}/{what}"


def tap(crew, s, category="women", delta=1, **extra):
    return crew.post(url(s), json={"category": category, "delta": delta, **extra},
                     headers={"X-CSRFToken": crew.csrf})


def written():
    """Everything a refused request must leave untouched."""
    return (TallyEvent.select().count(), Headcount.select().count(), Participant.select().count(),
            Outbox.select().count())


def test_tap_is_stored_and_answered_with_counts(crew, screening):
    r = tap(crew, screening, "women", 1)
    assert r.status_code == 201
    assert r.json["counts"] == {"men": 0, "women": 1, "boys": 0, "girls": 0}
    assert r.json["duplicate"] is False
    row = TallyEvent.get_by_id(r.json["id"])
    assert (row.screening_id, row.category, row.delta) == (screening.id, "women", 1)
    assert uuid.UUID(row.id).version == 7
    assert Outbox.select().where((Outbox.model == "TallyEvent") & (Outbox.record_id == row.id)).count() == 1


def test_counts_are_the_sum_of_taps_per_category(crew, screening):
    for category, delta in [("men", 1), ("men", 1), ("girls", 1), ("men", -1), ("boys", 1), ("boys", 1)]:
        assert tap(crew, screening, category, delta).status_code == 201
    r = crew.get(url(screening))
    assert r.status_code == 200
    assert r.json["counts"] == {"men": 1, "women": 0, "boys": 2, "girls": 1}
    assert r.json["total"] == 4
    assert r.json["headcounts"] == {"start": None, "end": None}


def test_retried_tap_with_same_id_is_stored_once(crew, screening):
    tap_id = str(uuid.uuid4())
    first = tap(crew, screening, "men", 1, id=tap_id)
    again = tap(crew, screening, "men", 1, id=tap_id)
    # the retry gets the first try's answer: 201 and the same counts, flagged as a duplicate
    assert first.status_code == 201 and again.status_code == 201
    assert first.json["duplicate"] is False and again.json["duplicate"] is True and again.json["id"] == tap_id
    assert again.json["counts"] == first.json["counts"] and again.json["counts"]["men"] == 1
    assert TallyEvent.select().where(TallyEvent.id == tap_id).count() == 1
    assert Outbox.select().where(Outbox.record_id == tap_id).count() == 1


def test_same_id_with_other_content_is_a_conflict(crew, screening):
    tap_id = str(uuid.uuid4())
    assert tap(crew, screening, "men", 1, id=tap_id).status_code == 201
    before = written()
    r = tap(crew, screening, "women", 1, id=tap_id)
    assert r.status_code == 409 and r.json["error"]["field"] == "id"
    assert written() == before


@pytest.mark.parametrize("body, status, field", [
    ({"category": "elders", "delta": 1}, 400, "category"),
    ({"category": "", "delta": 1}, 400, "category"),
    ({"category": 5, "delta": 1}, 400, "category"),
    ({"category": "men", "delta": 0}, 400, "delta"),
    ({"category": "men", "delta": 2}, 400, "delta"),
    ({"category": "men", "delta": -2}, 400, "delta"),
    ({"category": "men", "delta": "1"}, 400, "delta"),
    ({"category": "men", "delta": True}, 400, "delta"),
    ({"category": "men", "delta": 1.0}, 400, "delta"),
    ({"category": "men"}, 400, "delta"),
    ({"delta": 1}, 400, "category"),
    ({"category": "men", "delta": None}, 400, "delta"),
    ({"category": "men", "delta": 1, "id": "not-a-uuid"}, 400, "id"),
    ({"category": "men", "delta": 1, "at": "yesterday"}, 400, "at"),
    ({"category": "men", "delta": 1, "at": "2026-11-23T10:00:00"}, 400, "at"),
    ({"category": "men", "delta": 1, "device": "x" * 65}, 400, "device"),
    # valid ISO 8601, but with no UTC instant (found by review: was a 500)
    ({"category": "men", "delta": 1, "at": "0001-01-01T00:00:00+14:00"}, 400, "at"),
    ({"category": "men", "delta": 1, "at": "9999-12-31T23:59:59-14:00"}, 400, "at"),
    ({"category": "men", "delta": -1}, 409, "delta"),
])
def test_bad_taps_are_refused_and_write_nothing(crew, screening, body, status, field):
    before = written()
    r = crew.post(url(screening), json=body, headers={"X-CSRFToken": crew.csrf})
    assert r.status_code == status
    assert r.json["error"]["field"] == field and r.json["error"]["message"]
    assert written() == before


@pytest.mark.parametrize("raw", ['{"category": "men", "delta": 1', "[1, 2]", "", "  ", "null", '"men"', "1",
                                 "category=men&delta=1", b"\xff\xfe{}", "[" * 100_000, '{"category": "men",' * 3])
@pytest.mark.parametrize("what", ["attendance", "headcounts", "participants"])
def test_malformed_json_is_refused(crew, screening, raw, what):
    before = written()
    r = crew.post(url(screening, what), data=raw, content_type="application/json",
                  headers={"X-CSRFToken": crew.csrf})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_json"
    assert r.json["error"]["field"] == "body" and r.json["error"]["message"]
    assert written() == before


def test_body_is_read_as_json_whatever_the_content_type(crew, screening):
    r = crew.post(url(screening), data='{"category": "men", "delta": 1}', content_type="text/plain",
                  headers={"X-CSRFToken": crew.csrf})
    assert r.status_code == 201 and r.json["counts"]["men"] == 1


def test_unknown_screening_is_404_and_writes_nothing(crew, screening):
    before = written()
    r = crew.post(url("no-such-screening"), json={"category": "men", "delta": 1},
                  headers={"X-CSRFToken": crew.csrf})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    assert crew.get(url("no-such-screening")).status_code == 404
    assert written() == before


def test_count_never_goes_below_zero(crew, screening):
    assert tap(crew, screening, "girls", 1).status_code == 201
    assert tap(crew, screening, "girls", -1).status_code == 201
    r = tap(crew, screening, "girls", -1)
    assert r.status_code == 409 and r.json["error"]["code"] == "negative_count"
    assert crew.get(url(screening)).json["counts"]["girls"] == 0


def test_cancelled_screening_refuses_taps_but_done_takes_corrections(crew, screening):
    cancelled = make_screening(village_en="Sohawal", village="सोहावल", status="cancelled")
    r = tap(crew, cancelled, "men", 1)
    assert r.status_code == 409 and r.json["error"]["code"] == "screening_cancelled"
    assert TallyEvent.select().count() == 0
    tap(crew, screening, "men", 1)
    Screening.update(status="done").where(Screening.id == screening.id).execute()
    assert tap(crew, screening, "men", -1).status_code == 201


def test_phone_time_is_kept_and_absurd_clocks_give_way_to_receipt(crew, screening):
    when = (utcnow() - dt.timedelta(minutes=20)).replace(microsecond=0)
    r = tap(crew, screening, "men", 1, at=when.isoformat().replace("+00:00", "Z"), device="phone-a")
    row = TallyEvent.get_by_id(r.json["id"])
    assert row.at == when and row.device == "phone-a"
    r = tap(crew, screening, "men", 1, at="2015-01-01T00:00:00Z")
    row = TallyEvent.get_by_id(r.json["id"])
    assert row.at == row.created_at
    r = tap(crew, screening, "men", 1, at="2099-01-01T00:00:00+05:30")
    row = TallyEvent.get_by_id(r.json["id"])
    assert row.at == row.created_at and row.at.year != 2099


def test_categories_are_configurable(crew, screening, cli):
    result = cli("attendance", "categories", "women", "men", "elders")
    assert result.exit_code == 0, result.output
    assert Setting.get_value("tally_categories") == "women,men,elders"
    assert tap(crew, screening, "elders", 1).status_code == 201
    assert tap(crew, screening, "boys", 1).status_code == 400
    assert crew.get(url(screening)).json["counts"] == {"women": 0, "men": 0, "elders": 1}
    assert cli("attendance", "categories", "Bad Name").exit_code != 0
    assert Setting.get_value("tally_categories") == "women,men,elders"
    assert cli("attendance", "categories", "--reset").output.split() == ["men", "women", "boys", "girls"]


def test_headcounts_start_and_end(crew, screening):
    h = {"X-CSRFToken": crew.csrf}
    r = crew.post(url(screening, "headcounts"), json={"kind": "start", "count": 120}, headers=h)
    assert r.status_code == 201 and r.json["headcounts"]["start"]["count"] == 120
    hid = str(uuid.uuid4())
    assert crew.post(url(screening, "headcounts"), json={"kind": "end", "count": 180, "id": hid},
                     headers=h).status_code == 201
    again = crew.post(url(screening, "headcounts"), json={"kind": "end", "count": 180, "id": hid}, headers=h)
    assert again.status_code == 201 and again.json["duplicate"] is True
    heads = crew.get(url(screening)).json["headcounts"]
    assert (heads["start"]["count"], heads["end"]["count"]) == (120, 180)
    before = written()
    for body in ({"kind": "middle", "count": 5}, {"kind": "end", "count": -1}, {"kind": "end", "count": "5"},
                 {"kind": "end"}):
        r = crew.post(url(screening, "headcounts"), json=body, headers=h)
        assert r.status_code == 400 and r.json["error"]["field"] in ("kind", "count")
    assert written() == before


PERSON = {"name": "Sunita Devi", "gender": "woman", "age_band": "31-45", "village": "Rampur",
          "phone": "98765 43210", "consent": True}


def test_participant_with_consent_is_stored(crew, screening):
    r = crew.post(url(screening, "participants"), json=PERSON, headers={"X-CSRFToken": crew.csrf})
    assert r.status_code == 201
    p = Participant.get_by_id(r.json["participant"]["id"])
    assert (p.name, p.gender, p.age_band, p.phone) == ("Sunita Devi", "woman", "31-45", "+919876543210")
    assert p.consent_version == "2026-1" and p.consent_at is not None
    assert crew.get(url(screening)).json["participants"] == 1
    listed = crew.get(url(screening, "participants")).json
    assert [x["id"] for x in listed["items"]] == [p.id] and listed["next"] is None
    found = crew.get(f"/api/v1/participants/{r.json['participant']['code']}").json["items"]
    assert [x["id"] for x in found] == [p.id]
    assert crew.get(f"/api/v1/participants/{p.id}").json["items"][0]["name"] == "Sunita Devi"
    assert crew.get("/api/v1/participants/ZZZZZZZZ").status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"consent": None}, "consent"), ({"consent": False}, "consent"), ({"consent": "no"}, "consent"),
    ({"name": "  "}, "name"), ({"gender": "robot"}, "gender"), ({"gender": None}, "gender"),
    ({"age_band": "teen"}, "age_band"), ({"phone": "12345"}, "phone"), ({"phone": "+1 415 555 0100"}, "phone"),
    ({"consent_version": "1999"}, "consent_version"),
    # values that cannot be looked up (were a 500), and 1.0 is not a yes
    ({"consent": [True]}, "consent"), ({"consent": {}}, "consent"), ({"consent": 1.0}, "consent"),
    ({"consent_version": ["x"]}, "consent_version"), ({"consent_version": {"a": 1}}, "consent_version"),
    ({"consent_at": "9999-12-31T23:59:59-14:00"}, "consent_at"),
])
def test_participant_refused_without_consent_or_with_bad_fields(crew, screening, change, field):
    body = {k: v for k, v in {**PERSON, **change}.items() if v is not None}
    before = written()
    r = crew.post(url(screening, "participants"), json=body, headers={"X-CSRFToken": crew.csrf})
    assert r.status_code == 400 and r.json["error"]["field"] == field
    assert written() == before


@pytest.mark.parametrize("phone, stored", [("", ""), ("+91 98765-43210", "+919876543210"),
                                           ("09876543210", "+919876543210"), ("6000000000", "+916000000000")])
def test_phone_is_optional_and_normalised(crew, screening, phone, stored):
    r = crew.post(url(screening, "participants"), json={**PERSON, "phone": phone},
                  headers={"X-CSRFToken": crew.csrf})
    assert r.status_code == 201 and r.json["participant"]["phone"] == stored


def test_api_writes_need_login_and_csrf(client, crew, screening):
    r = crew.post(url(screening), json={"category": "men", "delta": 1})
    assert r.status_code == 400 and r.json["error"]["code"] == "csrf"
    anonymous = client.application.test_client()
    r = anonymous.post(url(screening), json={"category": "men", "delta": 1})
    assert r.status_code == 401
    assert TallyEvent.select().count() == 0


def test_bearer_token_can_tap(client, screening):
    from vanapp import security
    token = security.create_token("tally-script")
    anonymous = client.application.test_client()
    r = anonymous.post(url(screening), json={"category": "boys", "delta": 1},
                       headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201 and r.json["counts"]["boys"] == 1
    r = anonymous.post(url(screening), json={"category": "boys", "delta": 1},
                       headers={"Authorization": f"bearer {token}"})       # the scheme is case-insensitive
    assert r.status_code == 201 and r.json["counts"]["boys"] == 2


def test_summary_endpoint_gives_report_and_verifiable_qr(crew, screening):
    from vanapp import security
    from vanapp.protocol import summary
    tap(crew, screening, "women", 1)
    r = crew.get(url(screening, "summary"))
    assert r.status_code == 200 and r.json["counts"]["women"] == 1
    night = summary.decode_summary(r.json["qr"]["text"], lambda van: summary.summary_key(security.van_secret()))
    assert night["screening"] == screening.id and night["counts"]["women"] == 1


def test_tap_times_are_utc_iso(crew, screening):
    r = tap(crew, screening, "men", 1)
    raw = db.execute_sql("SELECT at, created_at FROM tally_event WHERE id = ?", (r.json["id"],)).fetchone()
    assert all(v.endswith("Z") and len(v) == 27 for v in raw)
    assert from_iso(raw[0]) <= utcnow()


def test_stored_tap_row_is_a_whole_sync_record(crew, screening):
    """The tap path writes its row and its outbox row itself: every model column is filled as
    save_change would have filled it."""
    Setting.put("van_id", "van-03")
    tap_id = str(uuid.uuid4())
    r = tap(crew, screening, "boys", 1, id=tap_id, device="phone-b")
    assert r.status_code == 201
    row = TallyEvent.get_by_id(tap_id)
    assert (row.van, row.version, row.received_at, row.device) == ("van-03", 1, None, "phone-b")
    assert row.created_at == row.updated_at and abs((row.at - row.created_at).total_seconds()) < 1
    wire = row.to_wire()
    assert set(wire) == {f.name for f in TallyEvent._meta.sorted_fields} - {"received_at"}
    box = Outbox.get((Outbox.model == "TallyEvent") & (Outbox.record_id == tap_id))
    assert box.created_at is not None and box.seq == Outbox.select().count()


def test_retry_after_other_taps_answers_the_current_counts(crew, screening):
    tap_id = str(uuid.uuid4())
    assert tap(crew, screening, "girls", 1, id=tap_id).status_code == 201
    assert tap(crew, screening, "girls", 1).status_code == 201
    again = tap(crew, screening, "girls", 1, id=tap_id)
    assert again.status_code == 201 and again.json["duplicate"] is True and again.json["counts"]["girls"] == 2
    # a retried minus is answered even where a fresh minus would now go below zero
    minus = str(uuid.uuid4())
    assert tap(crew, screening, "men", 1).status_code == 201
    assert tap(crew, screening, "men", -1, id=minus).status_code == 201
    assert tap(crew, screening, "men", -1, id=minus).json["duplicate"] is True


@pytest.mark.parametrize("change", [{"delta": -1}, {"category": "boys"}, {"screening": "other"}])
def test_same_id_with_other_delta_or_screening_is_a_conflict(crew, screening, change):
    other = make_screening(village_en="Sohawal", village="सोहावल")
    tap_id = str(uuid.uuid4())
    assert tap(crew, screening, "men", 1, id=tap_id).status_code == 201
    assert tap(crew, screening, "men", 1).status_code == 201
    before = written()
    target = other if change.get("screening") else screening
    body = {"category": change.get("category", "men"), "delta": change.get("delta", 1)}
    r = tap(crew, target, id=tap_id, **body)
    assert r.status_code == 409 and r.json["error"]["field"] == "id" and tap_id in r.json["error"]["message"]
    assert written() == before


def test_storage_reports_wal_and_full_sync_of_the_request_connection(crew):
    r = crew.get("/api/v1/attendance/storage")
    assert r.status_code == 200
    assert r.json == {"database": "sqlite", "journal_mode": "wal", "synchronous": 2, "durable": True}


def test_summary_png_is_read_by_zbar_and_verifies(crew, screening):
    from PIL import Image
    from pyzbar import pyzbar
    import io
    from vanapp import security
    from vanapp.protocol import summary
    tap(crew, screening, "women", 1)
    meta = crew.get(url(screening, "summary")).json["qr"]
    r = crew.get(meta["png"])
    assert r.status_code == 200 and r.mimetype == "image/png"
    read = pyzbar.decode(Image.open(io.BytesIO(r.data)).convert("L"))
    assert len(read) == 1 and read[0].data.decode() == meta["text"]
    night = summary.decode_summary(meta["text"], lambda van: summary.summary_key(security.van_secret()))
    assert night["counts"]["women"] == 1
    assert crew.get(url("no-such-screening", "summary.png")).status_code == 404


def test_taps_on_postgresql_stored_once_never_below_zero(pg_migrated_url, tmp_path):
    """The same tap path on the hub's database: statements built for PostgreSQL, the screening's
    row locked for the check and the write."""
    import threading
    from vanapp import create_app, security
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "pg"), "DATABASE_URL": pg_migrated_url})
    with app.app_context():
        with db.connection_context():
            s = make_screening()
            token = security.create_token("pg-script")
        client = app.test_client()
        h = {"Authorization": f"Bearer {token}"}
        tap_id = str(uuid.uuid4())
        first = client.post(url(s), json={"id": tap_id, "category": "boys", "delta": 1}, headers=h)
        again = client.post(url(s), json={"id": tap_id, "category": "boys", "delta": 1}, headers=h)
        assert first.status_code == again.status_code == 201 and again.json["duplicate"] is True
        assert again.json["counts"] == {"men": 0, "women": 0, "boys": 1, "girls": 0}
        assert client.post(url(s), json={"id": tap_id, "category": "men", "delta": 1},
                           headers=h).status_code == 409
        assert client.post(url(s), json={"category": "girls", "delta": -1}, headers=h).status_code == 409
        assert client.post(url("nope"), json={"category": "men", "delta": 1}, headers=h).status_code == 404
        storage = client.get("/api/v1/attendance/storage", headers=h).json
        assert storage["database"] == "postgresql" and storage["durable"] is (
            storage["fsync"] == "on" and storage["synchronous_commit"] != "off")   # the test server runs fsync=off

        for _ in range(3):
            assert client.post(url(s), json={"category": "men", "delta": 1}, headers=h).status_code == 201
        answers, barrier = [], threading.Barrier(8)

        def minus():
            barrier.wait()
            answers.append(app.test_client().post(url(s), json={"category": "men", "delta": -1}, headers=h).status_code)
            if not db.is_closed():
                db.close()
        threads = [threading.Thread(target=minus) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(answers) == [201] * 3 + [409] * 5
        assert client.get(url(s), headers=h).json["counts"] == {"men": 0, "women": 0, "boys": 1, "girls": 0}
        with db.connection_context():
            assert TallyEvent.select().where(TallyEvent.id == tap_id).count() == 1
            assert Outbox.select().where(Outbox.record_id == tap_id).count() == 1
        if not db.is_closed():
            db.close()
