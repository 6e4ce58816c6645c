"""The hub checks what reaches it as strictly as the van does: limits keyed on what a client
cannot invent, media paths a van would refuse, and plan records a van sends along."""
import secrets

import pytest

from vanapp import create_app
from vanapp.db import migrate
from vanapp.models import db


@pytest.fixture
def hub(tmp_path):
    app = create_app({"TESTING": True, "MODE": "hub", "DATA_DIR": str(tmp_path / "hub"), "DATABASE_URL": ""})
    migrate()
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield app
        if not db.is_closed():
            db.close()


def test_pairing_attempts_are_limited_per_address_whatever_cookie_the_client_makes_up(hub):
    client = hub.test_client()
    answers = []
    for attempt in range(12):
        client.set_cookie("vk_device", secrets.token_urlsafe(24))      # a fresh made-up cookie each time
        client.set_cookie("session", secrets.token_urlsafe(24))
        answers.append(client.post("/api/v1/pair", json={"code": f"WRONG{attempt:03d}"}))
    assert [a.status_code for a in answers[:10]] == [404] * 10
    assert answers[10].status_code == 429 and answers[10].json["error"]["code"] == "too_many_requests"
    # another address has its own budget
    other = hub.test_client().post("/api/v1/pair", json={"code": "WRONG999"},
                                   environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 404


def test_the_hub_refuses_media_paths_and_plan_values_the_van_would_refuse(hub):
    """A van brings plan records along for a hub that lacks them: they are checked as the van's
    own catalogue and importer check them, so `../../../../etc/passwd` never lands on the hub."""
    import datetime as dt
    from vanapp.ids import UTC, new_id, to_iso
    from vanapp.models import MediaItem, PlayLog, Screening
    from .support.factories import make_screening
    from .test_hub_sync_protocol import body, paired, push
    auth = paired(hub, "van-03")
    screening = make_screening(date="2026-11-23", van="van-03").id
    t0 = to_iso(dt.datetime(2026, 11, 23, 13, tzinfo=UTC))

    def media(item_id, file, **over):
        return dict({"id": item_id, "van": "", "version": 1, "created_at": t0, "updated_at": t0, "file": file,
                     "title_hi": "x", "title_en": "x", "language": "hi", "kind": "psa", "campaign": "",
                     "in_catalog": True, "expected_ms": None, "expected_sha256": ""}, **over)

    def play(media_id):
        return {"id": new_id(), "van": "van-03", "version": 1, "created_at": t0, "updated_at": t0,
                "screening": screening, "position": 0, "media_id": media_id, "kind": "media",
                "started_at": t0, "ended_at": t0, "position_ms": 0, "duration_ms": 0, "outcome": "completed"}

    for bad, field in [(media("evil-1", "../../../../etc/passwd"), "file"),
                       (media("evil-2", "/etc/hostname"), "file"),
                       (media("evil-3", "C:\\Windows\\win.ini"), "file"),
                       (media("evil-4", "psa/fine.mp4", kind="virus"), "kind")]:
        rows = {"MediaItem": [bad], "PlayLog": [play(bad["id"])]}
        answer = push(hub, auth, body({name: [{k: v for k, v in r.items() if k in _columns(name)} for r in rs]
                                       for name, rs in rows.items()}))
        assert answer.status_code == 400, answer.json
        error = answer.json["error"]
        assert error["code"] == "invalid_records"
        assert [(r["model"], r["id"]) for r in error["records"]] == [("MediaItem", bad["id"])]
        assert error["records"][0]["message"].startswith(f"{field}:"), error
    assert MediaItem.select().where(MediaItem.id.startswith("evil")).count() == 0
    assert PlayLog.select().count() == 0
    # a plan record the hub already holds is not the van's to change: its copy is not checked
    fine = media("ring-the-bell", "../elsewhere.mp4")
    answer = push(hub, auth, body({"MediaItem": [{k: v for k, v in fine.items() if k in _columns("MediaItem")}],
                                   "PlayLog": [play("ring-the-bell")]}))
    assert answer.status_code == 200, answer.json
    assert MediaItem.get_by_id("ring-the-bell").file == "psa/ring-the-bell.mp4"
    assert Screening.get_by_id(screening).status == "planned"


def _columns(name):
    from vanapp.protocol import records
    return set(records.table(name).columns)


def test_a_forged_reschedule_or_game_run_is_refused_not_a_crash(hub):
    """A reschedule moves the hub's screening, so its date and time must be ones the hub can read
    (a date that is no date was a 500 inside the batch's transaction)."""
    import datetime as dt
    from vanapp.ids import UTC, new_id, to_iso
    from vanapp.models import Screening, ScreeningEvent
    from .support.factories import make_screening
    from .test_hub_sync_protocol import body, paired, push
    auth = paired(hub, "van-03")
    screening = make_screening(date="2026-11-23", van="van-03").id
    t0 = to_iso(dt.datetime(2026, 11, 23, 13, tzinfo=UTC))
    event = {"id": new_id(), "van": "van-03", "version": 1, "created_at": t0, "updated_at": t0,
             "screening": screening, "kind": "rescheduled", "reason": "", "at": t0}
    for new_date, new_start, field in [("2026-99-99", "18:00", "new_date"), ("2026-12-01", "25:61", "new_start"),
                                       ("tomorrow", "", "new_date")]:
        forged = dict(event, id=new_id(), new_date=new_date, new_start=new_start)
        answer = push(hub, auth, body({"ScreeningEvent": [forged]}))
        assert answer.status_code == 400, answer.json
        assert answer.json["error"]["records"][0]["message"].startswith(f"{field}:")
    assert ScreeningEvent.select().count() == 0
    assert Screening.get_by_id(screening).date == "2026-11-23"
