"""The player API: /api/v1/player[...] and /api/v1/screenings/<id>/plays, with a bearer token or
the crew's session (+ CSRF), driving real libVLC."""
import pytest

from vanapp import security

from .test_player_clips import clips, programme, wait_for  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def player_over_clips(app, clips):
    app.config["MEDIA_DIR"] = str(clips)
    yield
    player = app.extensions.pop("player", None)
    if player is not None:
        player.close()


@pytest.fixture
def auth(app):
    return {"Authorization": f"Bearer {security.create_token('test-script')}"}


class Api:
    """The test client with a bearer token, as a script would use it."""

    def __init__(self, client, auth):
        self.client, self.auth = client, auth

    def get(self, url):
        return self.client.get("/api/v1" + url, headers=self.auth)

    def post(self, url, json=None):
        return self.client.post("/api/v1" + url, headers=self.auth, json=json)


@pytest.fixture
def api(client, auth):
    return Api(client, auth)


def test_player_api_needs_a_token_or_a_login(client):
    assert client.get("/api/v1/player").status_code == 401
    refused = client.post("/api/v1/player/play", json={"screening": "x"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/screenings/x/plays").status_code == 401
    bad = client.get("/api/v1/player", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_the_console_session_needs_its_csrf_token_to_command(crew, app):
    s = programme("long")
    assert crew.get("/api/v1/player").json["state"] == "idle"
    without = crew.post("/api/v1/player/play", json={"screening": s.id})
    assert without.status_code == 400 and without.json["error"]["code"] == "csrf"
    assert "player" not in app.extensions or app.extensions["player"].snapshot()["state"] == "idle"
    ok = crew.post("/api/v1/player/play", json={"screening": s.id}, headers={"X-CSRFToken": crew.csrf})
    assert ok.status_code == 200 and ok.json["screening"] == s.id
    assert crew.post("/api/v1/player/stop", headers={"X-CSRFToken": crew.csrf}).json["state"] == "stopped"


def test_bad_requests_name_the_field(api):
    s = programme("a")
    cases = [
        ("/player/play", {}, 400, "screening"),
        ("/player/play", {"screening": s.id, "from": 3}, 400, "from"),
        ("/player/play", {"screening": s.id, "from": "1"}, 400, "from"),
        ("/player/play", {"screening": "no-such"}, 404, "screening"),
        ("/player/volume", {"level": 150}, 400, "level"),
        ("/player/seek", {}, 400, "ms"),
    ]
    for url, body, status, field in cases:
        answer = api.post(url, body)
        assert (answer.status_code, answer.json["error"].get("field")) == (status, field), (url, body)
    assert api.post("/player/pause").status_code == 409
    not_json = api.client.post("/api/v1/player/play", headers=api.auth, data="[1]",
                               content_type="application/json")
    assert not_json.status_code == 400
    assert api.get("/screenings/no-such/plays").status_code == 404


def test_a_programme_with_broken_files_played_through_the_api_is_logged_truthfully(api, app):
    s = programme("a", "garbage", "missing", "early", "b")
    assert api.post("/player/play", {"screening": s.id, "from": 0}).status_code == 200
    wait_for(app.extensions["player"], lambda x: x["state"] == "finished", timeout=40)
    state = api.get("/player").json
    assert state["state"] == "finished" and [p["ref"] for p in state["problems"]] == \
        ["garbage", "missing", "early"]
    plays = api.get(f"/screenings/{s.id}/plays").json
    assert plays["next"] is None
    got = [(p["position"], p["media_id"], p["outcome"]) for p in plays["items"]]
    assert got == [(0, "a", "completed"), (1, "garbage", "error"), (2, "missing", "error"),
                   (3, "early", "error"), (4, "b", "completed")]
    for p in plays["items"]:
        assert p["id"] and p["started_at"].endswith("Z") and p["ended_at"].endswith("Z")
        assert (p["error"] == "") == (p["outcome"] == "completed")
    paged = api.get(f"/screenings/{s.id}/plays?limit=2").json
    assert len(paged["items"]) == 2 and "offset=2" in paged["next"]


def test_commands_through_the_api(api, app):
    s = programme("long", "a")
    api.post("/player/play", {"screening": s.id, "from": 0})
    service = app.extensions["player"]
    wait_for(service, lambda x: x["state"] == "playing" and x["position_ms"] > 300)
    paused = api.post("/player/pause").json
    assert paused["state"] == "paused" and paused["media_id"] == "long"
    assert api.post("/player/resume").json["state"] == "playing"
    assert api.post("/player/volume", {"level": 30}).json["volume"] == 30
    assert api.post("/player/seek", {"ms": 8000}).status_code == 200
    assert api.post("/player/next").json["index"] == 1
    assert api.post("/player/previous").json["index"] == 0
    assert api.post("/player/stop").json["state"] == "stopped"
    outcomes = [(p["media_id"], p["outcome"]) for p in api.get(f"/screenings/{s.id}/plays").json["items"]]
    assert outcomes == [("long", "skipped"), ("a", "skipped"), ("long", "stopped")]
    assert api.get(f"/screenings/{s.id}/plays").json["items"][0]["position_ms"] >= 8000


def test_a_cancelled_screening_is_not_played(api):
    s = programme("a", status="cancelled")
    answer = api.post("/player/play", {"screening": s.id})
    assert answer.status_code == 409 and answer.json["error"]["field"] == "screening"
