"""One state for the show: the programme starts its game items in the game state machine (in
the item's phase, for that screening), the crew's end of the game moves the programme on, a game
left in its lobby is logged skipped, and the player's, the games' and the phones' APIs say the
same thing. Real libVLC (dummy outputs) on short clips; the app over HTTP with the test client."""
import json
import shutil
import time

import pytest
from flask import g

from vanapp.games.content import load_games
from vanapp.models import GameResult, GameRun, PlayLog

from .conftest import csrf_from
from .support.server import ROOT
from .test_player_clips import clips, programme  # noqa: F401  (fixtures)


@pytest.fixture
def app_media(tmp_path, clips):
    """Three clips (a, b: 3 s; long: 10 s) and the sample games."""
    root = tmp_path / "media"
    (root / "psa").mkdir(parents=True)
    for name in ("a", "b", "long"):
        shutil.copy(clips / "psa" / f"{name}.mp4", root / "psa")
    shutil.copytree(ROOT / "media" / "games", root / "games")
    return root


@pytest.fixture
def night(app, app_media):
    """A screening of today whose programme is `refs` (clip ids and game:ID[@phase])."""
    result = load_games(str(app_media))
    assert result.ok, result.problems
    return programme


def post(client, url, body=None, method="post"):
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json",
                                   headers={"X-CSRFToken": client.csrf})


def phone(app):
    client = app.test_client()
    g.pop("csrf_token", None)           # the app fixture keeps one `g`: see test_games_web.phone
    page = client.get("/a/")
    client.csrf = csrf_from(page.data)
    return client


def show(crew, predicate, what, timeout=30.0):
    """Poll GET /api/v1/player until `predicate(state)`."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = crew.get("/api/v1/player").get_json()
        if predicate(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last state: {state}")


def plays(screening):
    return [(p.position, p.media_id, p.outcome) for p in PlayLog.for_screening(screening.id)]


def test_the_programme_opens_its_game_and_the_games_end_moves_the_programme_on(app, crew, night):
    s = night("a", "game:bell-quiz", "b")
    assert post(crew, "/api/v1/player/play", {"screening": s.id}).status_code == 200
    state = show(crew, lambda x: x["state"] == "game", "the game item")

    # The game runs as soon as the programme reaches it, and every API names the same run.
    live = crew.get("/api/v1/games/live").get_json()
    assert live["state"] == "lobby" and live["game"]["id"] == "bell-quiz" and live["game"]["kind"] == "quiz"
    assert live["screening"] == s.id and live["position"] == 1
    assert state["item"]["kind"] == "game" and state["item"]["run"] == state["run"] == live["run"]
    assert state["game"]["run"] == live["run"] and state["game"]["state"] == "lobby"
    assert state["game"]["in_programme"] is True
    audience = phone(app)
    assert audience.get("/a/api/state").get_json()["run"] == live["run"]
    assert post(audience, "/a/api/join").status_code == 200

    # The facilitator plays a question; the phone answers; the crew ends the game.
    assert post(crew, "/api/v1/games/live/next").status_code == 200
    assert show(crew, lambda x: x["game"]["state"] == "question_open", "q1")["game"]["question"] == 1
    assert post(audience, "/a/api/vote", {"run": live["run"], "question": "q1", "choice": "c"}).status_code == 200
    assert post(crew, "/api/v1/games/live/reveal").status_code == 200
    ended = post(crew, "/api/v1/games/live/finish")
    assert ended.status_code == 200 and ended.get_json()["state"] == "finished"

    # The programme has moved on by itself: b plays, the game is logged completed.
    state = show(crew, lambda x: x["index"] == 2 and x["state"] in ("opening", "playing"), "b")
    assert state["item"]["ref"] == "b" and state["run"] is None
    assert audience.get("/a/api/state").get_json()["state"] == "finished"
    show(crew, lambda x: x["state"] == "finished", "the end")
    assert plays(s) == [(0, "a", "completed"), (1, "bell-quiz", "completed"), (2, "b", "completed")]
    run = GameRun.get_by_id(live["run"])
    assert (run.screening_id, run.position, run.state) == (s.id, 1, "finished")
    assert GameResult.get(GameResult.run == run.id).counts["c"]["phones"] == 1


def test_a_game_left_in_its_lobby_is_logged_skipped_and_phones_wait_again(app, crew, night):
    s = night("game:pledge", "a")
    post(crew, "/api/v1/player/play", {"screening": s.id})
    state = show(crew, lambda x: x["state"] == "game", "the pledge")
    audience = phone(app)
    assert post(audience, "/a/api/join").status_code == 200
    time.sleep(1.0)                         # a while on screen: its time is no "completed"
    assert post(crew, "/api/v1/player/next").status_code == 200
    show(crew, lambda x: x["index"] == 1, "a")
    assert plays(s)[0] == (0, "pledge", "skipped")
    assert GameRun.get_by_id(state["run"]).state == "skipped"
    assert not GameResult.select().where(GameResult.run == state["run"]).exists()
    assert crew.get("/api/v1/games/live").get_json()["state"] == "idle"
    assert audience.get("/a/api/state").get_json()["state"] == "idle"
    assert crew.get("/api/v1/player").get_json()["game"] is None


def test_each_game_item_runs_in_its_phase_and_the_last_next_moves_on(app, crew, night):
    s = night("game:attitude@before", "game:pledge")
    post(crew, "/api/v1/player/play", {"screening": s.id})
    state = show(crew, lambda x: x["state"] == "game", "the poll")
    live = crew.get("/api/v1/games/live").get_json()
    assert live["game"]["id"] == "attitude" and live["phase"] == "before" and live["position"] == 0
    for _question in live["questions"]:
        assert post(crew, "/api/v1/games/live/next").status_code == 200
        assert post(crew, "/api/v1/games/live/close").status_code == 200
    # the Next after the last question ends the game: the programme goes on to the pledge
    assert post(crew, "/api/v1/games/live/next").status_code == 200
    after = show(crew, lambda x: x["index"] == 1 and x["run"], "the pledge's run")
    assert after["run"] != state["run"] and after["game"]["id"] == "pledge"
    assert after["game"]["state"] == "lobby" and after["game"]["position"] == 1
    first = GameRun.get_by_id(state["run"])
    assert (first.phase, first.position, first.state) == ("before", 0, "finished")
    assert plays(s)[0] == (0, "attitude", "completed")


def test_stop_in_a_game_ends_the_game_with_the_programme(app, crew, night):
    s = night("a", "game:bell-quiz")
    post(crew, "/api/v1/player/play", {"screening": s.id, "from": 1})
    state = show(crew, lambda x: x["state"] == "game", "the quiz")
    post(crew, "/api/v1/games/live/next")
    assert post(crew, "/api/v1/player/stop").status_code == 200
    assert crew.get("/api/v1/games/live").get_json()["state"] == "finished"
    assert GameRun.get_by_id(state["run"]).state == "finished"
    assert plays(s) == [(1, "bell-quiz", "stopped")]


def test_finish_ends_the_game_and_the_projector_says_goodbye_until_the_next_show(app, crew, night):
    first = night("game:pledge", "a")
    second = night("b", village_en="Subeha", village="सुबेहा", start="20:00")
    assert post(crew, f"/api/v1/screenings/{first.id}/start").status_code == 200
    state = show(crew, lambda x: x["state"] == "game", "the pledge")
    post(crew, "/api/v1/games/live/next")
    phone_ = phone(app)
    post(phone_, "/a/api/join")
    assert post(phone_, "/a/api/vote", {"run": state["run"], "question": "pledge", "choice": "pledge"}).status_code == 200
    finished = post(crew, f"/api/v1/screenings/{first.id}/finish")
    assert finished.status_code == 200
    assert finished.get_json()["summary"] == f"/attendance/screenings/{first.id}/summary"
    assert GameRun.get_by_id(state["run"]).state == "finished"       # the game ended with the show
    assert phone_.get("/a/api/state").get_json()["state"] == "finished"
    closing = crew.get("/api/v1/player").get_json()["closing"]
    assert closing["screening"] == first.id and closing["pledges"] == 1
    assert closing["village"]["name_en"] == "Rampur" and closing["pledge"]["en"].startswith("I promise")

    post(crew, "/api/v1/player/play", {"screening": second.id})
    show(crew, lambda x: x["state"] == "finished" and x["screening"] == second.id, "the next show's end")
    assert crew.get("/api/v1/player").get_json()["closing"] is None     # not another village's goodbye
