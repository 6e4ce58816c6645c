"""Resume after a power cut: `vanapp serve` is killed (SIGKILL) in the middle of a programme and
started again. Run offers "resume from item N at mm:ss", the play log says the item was cut off
(in the page's language), counts, votes and the play log so far are kept, and resuming goes on
from there: a film from its position, a game as the very run the phones were playing."""
import re
import time
import uuid

import pytest

from .support.show import Phone, seed_show, show_media
from .test_attendance_crash import bearer_session, crew_session
from .test_player_clips import clips  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def van(server_factory, tmp_path, clips):
    return server_factory("van", env={"VANAPP_MEDIA_DIR": str(show_media(tmp_path / "media", clips))})


def wait(api, srv, predicate, what, timeout=40.0):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = api.get(srv.url + "/api/v1/player", timeout=20).json()
        if predicate(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last state: {state}\n{srv.log()[-2000:]}")


def plays(api, srv, sid):
    return api.get(f"{srv.url}/api/v1/screenings/{sid}/plays", timeout=20).json()["items"]


def test_a_film_cut_by_a_power_failure_resumes_where_it_stopped(van):
    sid = seed_show(van, "a", "long", "b")
    api = bearer_session(van, "resume")
    base = van.url + "/api/v1"
    assert api.post(f"{base}/screenings/{sid}/start", json={}, timeout=20).status_code == 200
    for category in ("women", "women", "men"):
        assert api.post(f"{base}/screenings/{sid}/attendance", timeout=20,
                        json={"id": str(uuid.uuid4()), "category": category, "delta": 1}).status_code == 201
    wait(api, van, lambda s: s["index"] == 1 and s["state"] == "playing" and s["position_ms"] >= 3000,
         "long at 0:03")
    van.kill9()                                    # the generator dies
    van.start()

    state = api.get(base + "/player", timeout=20).json()
    assert state["state"] == "idle"
    offer = state["resume"]
    assert offer["screening"] == sid and offer["index"] == 1 and offer["kind"] == "media"
    assert 2000 <= offer["ms"] <= 8000, offer
    log = plays(api, van, sid)
    assert [(p["position"], p["media_id"], p["outcome"], p["problem"]) for p in log] == [
        (0, "a", "completed", ""), (1, "long", "error", "interrupted")]
    assert log[1]["position_ms"] == offer["ms"]     # the log says how far it got
    counts = api.get(f"{base}/screenings/{sid}/attendance", timeout=20).json()["counts"]
    assert (counts["women"], counts["men"]) == (2, 1)

    # Run says so, in the page's language, and offers the resume at that item and time.
    crew = crew_session(van.url)
    at = f"{offer['ms'] // 60000}:{offer['ms'] // 1000 % 60:02d}"
    english = crew.get(f"{van.url}/run/{sid}?lang=en", timeout=20).text
    assert re.search(r'id="resume-card"(?![^>]*hidden)', english)
    assert f"Resume from item 2 at {at}" in english
    hindi = crew.get(f"{van.url}/run/{sid}?lang=hi", timeout=20).text
    assert f"आइटम 2 को {at} से फिर चलाएँ" in hindi
    assert "बीच में कटा" in hindi and "VanKit stopped while this was playing" not in hindi

    # Resume: the film goes on from there (not from 0:00), then the programme carries on.
    resumed = crew.post(f"{base}/screenings/{sid}/resume", json={}, timeout=20)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["index"] == 1 and resumed.json()["resume"] is None
    playing = wait(api, van, lambda s: s["index"] == 1 and s["state"] == "playing", "long again")
    assert playing["position_ms"] >= offer["ms"] - 500
    wait(api, van, lambda s: s["state"] == "finished", "the end")
    assert [(p["position"], p["media_id"], p["outcome"]) for p in plays(api, van, sid)] == [
        (0, "a", "completed"), (1, "long", "error"), (1, "long", "completed"), (2, "b", "completed")]
    again = api.post(f"{base}/screenings/{sid}/resume", json={}, timeout=20)
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_resume"
    assert "Traceback" not in van.log()


def test_a_game_cut_by_a_power_failure_resumes_as_the_same_run_with_its_votes(van):
    sid = seed_show(van, "a", "game:attitude@before", "b")
    api = bearer_session(van, "resume")
    base = van.url + "/api/v1"
    assert api.post(f"{base}/screenings/{sid}/start", json={"play": False}, timeout=20).status_code == 200
    api.post(f"{base}/player/play", json={"screening": sid, "from": 1}, timeout=20)
    run = wait(api, van, lambda s: s["state"] == "game", "the poll")["run"]
    phones = [Phone(van.url) for _ in range(2)]
    for phone in phones:
        assert phone.api("POST", "/a/api/join").status_code == 200
    api.post(f"{base}/games/live/next", json={}, timeout=20)
    question = api.get(f"{base}/games/live", timeout=20).json()["q"]["id"]
    for phone, choice in zip(phones, ("no", "yes")):
        assert phone.api("POST", "/a/api/vote", {"run": run, "question": question, "choice": choice}).status_code == 200
    van.kill9()
    van.start()

    offer = api.get(base + "/player", timeout=20).json()["resume"]
    assert (offer["index"], offer["kind"], offer["ref"]) == (1, "game", "attitude")
    live = api.get(f"{base}/games/live", timeout=20).json()
    assert live["run"] == run and live["state"] == "question_open"       # the phones' game goes on
    resumed = api.post(f"{base}/screenings/{sid}/resume", json={}, timeout=20)
    assert resumed.status_code == 200, resumed.text
    state = resumed.json()
    assert state["index"] == 1 and state["state"] == "game" and state["run"] == run
    live = api.get(f"{base}/games/live", timeout=20).json()
    assert live["run"] == run and live["state"] == "question_open"
    assert (live["tally"]["counts"]["no"]["phones"], live["tally"]["counts"]["yes"]["phones"]) == (1, 1)
    # the phones are still in, as the same players
    assert all(phone.api("GET", "/a/api/me").json()["me"]["run"] == run for phone in phones)
    api.post(f"{base}/games/live/finish", json={}, timeout=20)
    wait(api, van, lambda s: s["index"] == 2, "b after the poll")
    log = [(p["position"], p["media_id"], p["outcome"]) for p in plays(api, van, sid)]
    assert log[:2] == [(1, "attitude", "error"), (1, "attitude", "completed")]     # then b plays
    assert "Traceback" not in van.log()
