"""One error shape on every API surface (as datasette's tests/test_error_shape.py): every route of
the van's /api/v1, the audience's /a/api, the hub's API and the hub's pages asked for JSON
answers a failure as {"error": {"code", "message"[, "field"][, "retry_after" | "records"]}} and
nothing else; and every JSON body they read is refused alike (400 bad_json, field "body")."""
import re

import pytest

from vanapp import create_app, security
from vanapp.db import migrate
from vanapp.hub import accounts, pairing
from vanapp.models import db

from .conftest import csrf_from
from .support.factories import make_screening

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
EXTRAS = {"retry_after", "records"}
JUNK = b"{not json"
NO_BODY = {"api.player_action", "api.screening_finish", "api.screening_held"}   # commands that read no body


def assert_one_shape(response, where: str) -> dict:
    assert response.status_code >= 400, where
    assert response.mimetype == "application/json", f"{where}: {response.mimetype}"
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"{where}: {body}"
    error = body["error"]
    assert CODE.match(error.get("code") or ""), f"{where}: {error}"
    assert isinstance(error.get("message"), str) and error["message"], f"{where}: {error}"
    assert "field" not in error or isinstance(error["field"], str) and error["field"], f"{where}: {error}"
    assert set(error) <= {"code", "message", "field"} | EXTRAS, f"{where}: {error}"
    return error


def routes(app, *prefixes):
    """(endpoint, method, url) of every route under `prefixes`, path arguments filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefixes):
            continue
        url = re.sub(r"<any\(([a-z]+)[^>]*>", r"\1", rule.rule)        # <any(pause, ...):action>
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "nope", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, url))
    assert out, prefixes
    return out


def test_every_van_api_route_refuses_a_stranger_in_the_one_shape(app, client):
    for endpoint, method, url in routes(app, "/api/v1/"):
        if endpoint == "api.openapi":               # the API's own description is public
            assert client.get(url).json["openapi"] == "3.1.0"
            continue
        error = assert_one_shape(client.open(url, method=method, data=JUNK), f"{method} {url}")
        assert error["code"] == "unauthorized", (endpoint, error)


def test_every_van_api_body_is_parsed_alike(app, client):
    auth = {"Authorization": f"Bearer {security.create_token('shape')}",
            "Content-Type": "application/json"}
    screening = make_screening()
    checked = 0
    for endpoint, method, url in routes(app, "/api/v1/"):
        if method not in ("POST", "PUT") or endpoint in NO_BODY:
            continue
        url = url.replace("nope", screening.id).replace("/games/live/next", "/games/live/judge")
        error = assert_one_shape(client.open(url, method=method, data=JUNK, headers=auth), f"{method} {url}")
        assert (error["code"], error.get("field")) == ("bad_json", "body"), (endpoint, error)
        checked += 1
    assert checked >= 9


def test_van_api_refusals_of_services_are_the_one_shape(app, client):
    auth = {"Authorization": f"Bearer {security.create_token('shape')}"}
    screening = make_screening()
    for method, url, body in [
            ("GET", "/api/v1/screenings/nope", None),                      # the screening 404
            ("GET", "/api/v1/screenings?limit=0", None),                   # pagination
            ("GET", "/api/v1/screenings?from=tomorrow", None),
            ("POST", f"/api/v1/screenings/{screening.id}/attendance", {"category": "men", "delta": 5}),
            ("POST", f"/api/v1/screenings/{screening.id}/finish", {}),       # lifecycle: not started
            ("POST", "/api/v1/player/play", {"screening": "nope"}),        # player
            ("POST", "/api/v1/games/runs", {"screening": screening.id, "game": "nope"}),   # game machine
            ("POST", "/api/v1/games/live/next", {}),
            ("GET", "/api/v1/games/runs/nope", None),
            ("GET", "/api/v1/participants/nope", None),
            ("DELETE", "/api/v1/screenings", None),                        # 405
            ("GET", "/api/v1/nothing-here", None)]:                       # 404
        assert_one_shape(client.open(url, method=method, json=body, headers=auth), f"{method} {url}")


def test_every_audience_api_route_refuses_in_the_one_shape(app, client):
    page = client.get("/a/")
    phone = {"X-CSRFToken": csrf_from(page.data), "Content-Type": "application/json"}
    for endpoint, method, url in routes(app, "/a/api/"):
        if method == "GET":
            response = client.open(url, method="DELETE")                  # 405
        else:
            response = client.open(url, method=method, data=JUNK, headers=phone)
            assert response.get_json()["error"]["code"] == "bad_json", endpoint
        assert_one_shape(response, f"{method} {url}")
    client.delete_cookie("vk_device")
    vote = client.post("/a/api/vote", json={"run": "r", "question": "q", "choice": "c"}, headers=phone)
    assert assert_one_shape(vote, "vote without joining")["code"] == "not_joined"
    for _ in range(70):
        answer = client.get("/a/api/me")
    assert "retry_after" in assert_one_shape(answer, "too many")


@pytest.fixture
def hub(tmp_path):
    app = create_app({"TESTING": True, "MODE": "hub", "DATA_DIR": str(tmp_path / "hub")})
    migrate()
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield app
        if not db.is_closed():
            db.close()


def test_every_hub_api_route_refuses_in_the_one_shape(hub):
    client = hub.test_client()
    api = [r for r in routes(hub, "/api/v1/", "/s/") if r[1] != "GET" or "/sync/" in r[2]]
    for endpoint, method, url in api:
        assert_one_shape(client.open(url, method=method, data=JUNK), f"{method} {url}")
    _van, code = pairing.add_van("Van 03", "van-03")
    for body, expected in [(JUNK, "bad_json"), (b'{"code": 7}', "malformed"),
                           (b'{"code": "AAAA-AAAA"}', "unknown_code")]:
        answer = client.post("/api/v1/pair", data=body, content_type="application/json")
        assert assert_one_shape(answer, f"pair {body!r}")["code"] == expected
    paired = client.post("/api/v1/pair", json={"code": pairing.format_code(code)}).get_json()
    auth = {"Authorization": f"Bearer {paired['van_id']}.{paired['secret']}"}
    for method, url, data, expected in [
            ("POST", "/api/v1/sync/push", JUNK, "malformed"),
            ("POST", "/api/v1/sync/push", b'{"format": 1, "models": 3}', "malformed"),
            ("GET", "/api/v1/sync/pull?cursor=x", None, "malformed"),
            ("POST", "/s/van-03/AAAA", None, "bad_summary"),
            ("GET", "/api/v1/nothing-here", None, "not_found")]:
        error = assert_one_shape(client.open(url, method=method, data=data, headers=auth), f"{method} {url}")
        assert error["code"] == expected, (url, error)


def test_hub_pages_asked_for_json_answer_in_the_one_shape(hub):
    accounts.create_coordinator("asha", "a long password")
    client = hub.test_client()
    json_please = {"Accept": "application/json"}
    assert_one_shape(client.post("/logout", headers=json_please), "logout without CSRF")
    assert_one_shape(client.get("/nothing-here", headers=json_please), "no such page")
    assert_one_shape(client.post("/vans", headers=json_please), "wrong method")
