"""A screening's lifecycle: start, finish, cancel with a reason, reschedule — each a synced
ScreeningEvent with the Screening updated in the same transaction; bad changes change nothing."""
import datetime as dt

import pytest

from vanapp.models import Outbox, Screening, ScreeningEvent
from vanapp.tours import lifecycle

from .support.factories import TZ, make_screening
from .test_player_clips import clips, programme, wait_for  # noqa: F401  (fixtures)


def day(offset: int) -> str:
    return (dt.datetime.now(TZ).date() + dt.timedelta(days=offset)).isoformat()


def events(s):
    return [(e.kind, e.reason) for e in
            ScreeningEvent.select().where(ScreeningEvent.screening == s.id).order_by(ScreeningEvent.at)]


def fresh(s):
    return Screening.get_by_id(s.id)


@pytest.fixture(autouse=True)
def close_player(app):
    # Only the test that plays asks for the clips (and so for ffmpeg): the lifecycle rules
    # themselves need neither.
    yield
    player = app.extensions.pop("player", None)
    if player is not None:
        player.close()


def post(crew, url, body=None):
    return crew.post("/api/v1" + url, json=body or {}, headers={"X-CSRFToken": crew.csrf})


def test_start_then_finish_records_events_that_sync():
    s = make_screening()
    lifecycle.start(s.id)
    assert fresh(s).status == "in_progress"
    lifecycle.finish(s.id)
    assert fresh(s).status == "done"
    assert events(s) == [("started", ""), ("finished", "")]
    queued = [o.record_id for o in Outbox.select().where(Outbox.model == "ScreeningEvent")]
    assert len(queued) == 2 and set(queued) == {e.id for e in ScreeningEvent.select()}


@pytest.mark.parametrize("status,action", [
    ("planned", "finish"), ("done", "start"), ("cancelled", "start"), ("in_progress", "start"),
    ("done", "cancel"), ("in_progress", "reschedule"), ("done", "reschedule")])
def test_bad_transitions_are_refused_and_change_nothing(status, action):
    s = make_screening(status=status)
    calls = {"start": lambda: lifecycle.start(s.id), "finish": lambda: lifecycle.finish(s.id),
             "cancel": lambda: lifecycle.cancel(s.id, "rain"),
             "reschedule": lambda: lifecycle.reschedule(s.id, day(3), "18:00", "Asia/Kolkata")}
    with pytest.raises(lifecycle.LifecycleError) as refused:
        calls[action]()
    assert refused.value.status == 409 and refused.value.field == "status"
    assert fresh(s).status == status and events(s) == []
    assert not Outbox.select().where(Outbox.model == "ScreeningEvent").exists()


def test_only_one_screening_of_a_van_is_in_progress():
    first = make_screening(date=day(0), start="17:00", village_en="Rampur")
    second = make_screening(date=day(0), start="20:00", village_en="Sikandarpur", village="सिकंदरपुर")
    lifecycle.start(first.id)
    with pytest.raises(lifecycle.LifecycleError) as refused:
        lifecycle.start(second.id)
    assert refused.value.code == "other_in_progress" and fresh(second).status == "planned"


def test_cancel_needs_a_known_reason_and_text_for_other():
    s = make_screening()
    for reason, text, field in (("", "", "reason"), ("flood", "", "reason"), ("other", " ", "text")):
        with pytest.raises(lifecycle.LifecycleError) as refused:
            lifecycle.cancel(s.id, reason, text)
        assert (refused.value.status, refused.value.field) == (400, field)
    assert fresh(s).status == "planned"
    lifecycle.cancel(s.id, "other", "road washed out")
    assert (fresh(s).status, fresh(s).status_reason) == ("cancelled", "other: road washed out")
    assert events(s) == [("cancelled", "other: road washed out")]


def test_reschedule_moves_date_time_and_utc_start_and_refuses_an_overlap():
    s = make_screening(date=day(1), start="18:30", village_en="Rampur")
    other = make_screening(date=day(2), start="18:00", village_en="Sikandarpur", village="सिकंदरपुर")
    with pytest.raises(lifecycle.LifecycleError) as clash:
        lifecycle.reschedule(s.id, day(2), "19:00", "Asia/Kolkata")   # inside 18:00 + 120 min
    assert (clash.value.status, clash.value.code) == (409, "overlap")
    assert (fresh(s).date, fresh(s).start) == (day(1), "18:30") and events(s) == []
    lifecycle.reschedule(s.id, day(2), "20:00", "Asia/Kolkata")           # right after it
    moved = fresh(s)
    assert (moved.date, moved.start, moved.status) == (day(2), "20:00", "planned")
    assert moved.starts_at == dt.datetime.fromisoformat(f"{day(2)}T20:00").replace(tzinfo=TZ)
    event = ScreeningEvent.get(ScreeningEvent.screening == s.id)
    assert (event.kind, event.new_date, event.new_start) == ("rescheduled", day(2), "20:00")
    assert fresh(other).start == "18:00"
    for date, start, field in (("2026-02-30", "18:00", "date"), ("tomorrow", "18:00", "date"),
                               (day(3), "25:00", "start"), (day(3), "6pm", "start")):
        with pytest.raises(lifecycle.LifecycleError) as bad:
            lifecycle.reschedule(s.id, date, start, "Asia/Kolkata")
        assert (bad.value.status, bad.value.field) == (400, field)


def test_a_cancelled_screening_rescheduled_is_planned_again():
    s = make_screening(date=day(1))
    lifecycle.cancel(s.id, "rain")
    lifecycle.reschedule(s.id, day(2), "18:30", "Asia/Kolkata")
    assert (fresh(s).status, fresh(s).status_reason) == ("planned", "")
    assert [k for k, _ in events(s)] == ["cancelled", "rescheduled"]


# -- over the API --------------------------------------------------------------------------

def test_lifecycle_api_needs_login_and_csrf(client, crew):
    s = make_screening()
    assert client.application.test_client().post(f"/api/v1/screenings/{s.id}/start").status_code == 401
    assert crew.post(f"/api/v1/screenings/{s.id}/start", json={}).status_code == 400   # no CSRF
    assert fresh(s).status == "planned"


def test_start_over_the_api_starts_the_programme_and_finish_stops_it(crew, app, clips):
    app.config["MEDIA_DIR"] = str(clips)
    s = programme("long", "a")
    started = post(crew, f"/screenings/{s.id}/start")
    assert started.status_code == 200
    assert started.json["screening"]["status"] == "in_progress"
    assert started.json["event"]["kind"] == "started"
    assert started.json["player"]["screening"] == s.id and started.json["player"]["index"] == 0
    wait_for(app.extensions["player"], lambda x: x["state"] == "playing")
    again = post(crew, f"/screenings/{s.id}/start")
    assert again.status_code == 409 and again.json["error"]["field"] == "status"
    done = post(crew, f"/screenings/{s.id}/finish")
    assert done.json["screening"]["status"] == "done" and done.json["player"]["state"] == "stopped"
    plays = crew.get(f"/api/v1/screenings/{s.id}/plays").json["items"]
    assert [(p["media_id"], p["outcome"]) for p in plays] == [("long", "stopped")]


def test_start_and_play_in_either_order_play_the_programme_once(crew, app, clips):
    """A script that starts the screening and then plays it (or plays, then starts) must not get
    a skipped first item and a second run: the play log has one row per item."""
    app.config["MEDIA_DIR"] = str(clips)
    s = programme("a", "b")
    assert post(crew, f"/screenings/{s.id}/start").status_code == 200
    assert post(crew, "/player/play", {"screening": s.id, "from": 0}).status_code == 200
    wait_for(app.extensions["player"], lambda x: x["state"] == "finished", timeout=30)
    plays = crew.get(f"/api/v1/screenings/{s.id}/plays").json["items"]
    assert [(p["media_id"], p["outcome"]) for p in plays] == [("a", "completed"), ("b", "completed")]

    t = programme("long", "a", tour="t2", start="22:00")
    assert post(crew, f"/screenings/{s.id}/finish").status_code == 200
    assert post(crew, "/player/play", {"screening": t.id, "from": 0}).status_code == 200
    wait_for(app.extensions["player"], lambda x: x["state"] == "playing")
    started = post(crew, f"/screenings/{t.id}/start")
    assert started.status_code == 200 and started.json["player"]["index"] == 0
    assert post(crew, "/player/stop").status_code == 200
    plays = crew.get(f"/api/v1/screenings/{t.id}/plays").json["items"]
    assert [(p["media_id"], p["outcome"]) for p in plays] == [("long", "stopped")]


def test_lifecycle_api_refusals(crew):
    planned = make_screening(date=day(1), start="18:00", village_en="Rampur")
    make_screening(date=day(1), start="21:00", village_en="Sikandarpur", village="सिकंदरपुर")
    finish = post(crew, f"/screenings/{planned.id}/finish")
    assert finish.status_code == 409
    no_reason = post(crew, f"/screenings/{planned.id}/cancel", {})
    assert no_reason.status_code == 400 and no_reason.json["error"]["field"] == "reason"
    other = post(crew, f"/screenings/{planned.id}/cancel", {"reason": "other"})
    assert other.status_code == 400 and other.json["error"]["field"] == "text"
    overlap = post(crew, f"/screenings/{planned.id}/reschedule", {"date": day(1), "start": "20:00"})
    assert overlap.status_code == 409 and overlap.json["error"]["code"] == "overlap"
    for absurd in ("9999-12-31", "0001-01-01"):                  # was a 500 (date overflow)
        refused = post(crew, f"/screenings/{planned.id}/reschedule", {"date": absurd, "start": "18:00"})
        assert refused.status_code == 400 and refused.json["error"]["field"] == "date"
    missing = post(crew, f"/screenings/{planned.id}/reschedule", {"date": day(2)})
    assert missing.status_code == 400 and missing.json["error"]["field"] == "start"
    assert post(crew, "/screenings/nope/start").status_code == 404
    assert fresh(planned).status == "planned" and events(planned) == []
    cancelled = post(crew, f"/screenings/{planned.id}/cancel", {"reason": "rain"})
    assert cancelled.status_code == 200 and cancelled.json["screening"]["status_reason"] == "rain"
    moved = post(crew, f"/screenings/{planned.id}/reschedule", {"date": day(2), "start": "18:30"})
    assert moved.status_code == 200 and moved.json["screening"]["status"] == "planned"
