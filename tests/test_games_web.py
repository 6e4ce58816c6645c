"""Games over HTTP with the test client: audience API (join, vote, buzz, poll), crew API and
pages, isolation of the audience from crew pages and the API, CSRF and input checks."""
import json
import re

import pytest
from flask import g

from vanapp.games.content import load_games
from vanapp.models import GameResult, GameVote

from .conftest import csrf_from
from .support.factories import make_screening


@pytest.fixture
def screening(app, media_dir):
    assert load_games(media_dir).ok
    return make_screening(items=(("psa", "ring-the-bell"), ("game", "bell-quiz"), ("game", "attitude@before"),
                                 ("film", "equal-voices"), ("game", "attitude@after"), ("game", "pledge")))


def phone(app):
    """A fresh phone: its own cookies, the page's CSRF token."""
    client = app.test_client()
    # The `app` fixture keeps one app context for the whole test, so Flask-WTF's per-request
    # token cache in `g` would leak the previous client's token into this page.
    g.pop("csrf_token", None)
    page = client.get("/a/")
    assert page.status_code == 200
    client.csrf = csrf_from(page.data)
    return client


def post(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json",
                                   headers={"X-CSRFToken": client.csrf})


def test_crew_starts_a_programme_game_and_phones_answer(app, crew, screening):
    page = crew.get("/games/")
    assert page.status_code == 200
    assert b"bell-quiz" in page.data and b"Start this game" in page.data or "इस खेल".encode() in page.data
    start = crew.post("/games/start", data={"csrf_token": crew.csrf, "screening": screening.id,
                                            "game": "bell-quiz", "phase": "", "position": "1"})
    assert start.status_code == 302
    live = crew.get("/api/v1/games/live").get_json()
    assert live["state"] == "lobby" and live["game"]["id"] == "bell-quiz"
    a, b = phone(app), phone(app)
    for p in (a, b):
        joined = post(p, "/a/api/join", {})
        assert joined.status_code == 200, joined.data
        assert joined.get_json()["token"]
    assert post(crew, "/api/v1/games/live/next", {}).status_code == 200
    state = a.get("/a/api/state").get_json()
    assert state["q"]["id"] == "q1" and "answer" not in state["q"]
    assert post(a, "/a/api/vote", {"run": state["run"], "question": "q1", "choice": "c"}).status_code == 200
    assert post(b, "/a/api/vote", {"run": state["run"], "question": "q1", "choice": "a"}).status_code == 200
    assert post(b, "/a/api/vote", {"run": state["run"], "question": "q1", "choice": "c"}).status_code == 200
    assert a.get(f"/a/api/state?v={state['v']}").get_json()["tally"]["counts"]["c"]["phones"] == 2
    assert post(crew, "/api/v1/games/live/hands", {"question": "q1", "counts": {"b": 5}}, "put").status_code == 200
    assert post(crew, "/api/v1/games/live/reveal", {}).status_code == 200
    revealed = b.get("/a/api/state").get_json()
    assert revealed["q"]["answer"] == "c"
    assert revealed["tally"]["counts"] == {"a": {"phones": 0, "hands": 0}, "b": {"phones": 0, "hands": 5},
                                           "c": {"phones": 2, "hands": 0}}
    assert GameVote.select().count() == 2
    assert post(crew, "/api/v1/games/live/finish", {}).status_code == 200
    result = GameResult.get(GameResult.question_id == "q1")
    assert result.counts["c"]["phones"] == 2 and result.counts["b"]["hands"] == 5
    results_page = crew.get(f"/games/runs/{state['run']}")
    assert results_page.status_code == 200 and b'data-question="q1"' in results_page.data
    assert crew.get(f"/games/screenings/{screening.id}").status_code == 200


def test_poll_answers_204_when_nothing_changed(app, crew, screening):
    post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "pledge"})
    p = phone(app)
    first = p.get("/a/api/state")
    v = first.get_json()["v"]
    again = p.get(f"/a/api/state?v={v}")
    assert again.status_code == 204 and again.data == b""
    assert again.headers["Cache-Control"] == "no-store" and again.headers["X-Now"].isdigit()


def test_audience_post_without_csrf_is_refused(app, crew, screening):
    post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "pledge"})
    p = phone(app)
    refused = p.post("/a/api/join", data="{}", content_type="application/json")
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf"


@pytest.mark.parametrize("body,field", [
    ({"run": "x" * 65, "question": "q1", "choice": "a"}, "run"),
    ({"run": "r", "question": "<script>", "choice": "a"}, "question"),
    ({"run": "r", "question": "q1", "choice": 5}, "choice"),
])
def test_audience_vote_input_is_validated(app, crew, screening, body, field):
    post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "bell-quiz"})
    p = phone(app)
    post(p, "/a/api/join", {})
    refused = post(p, "/a/api/vote", body)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == field


def test_vote_for_another_run_or_closed_question_is_refused(app, crew, screening):
    started = post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "bell-quiz"}).get_json()
    p = phone(app)
    post(p, "/a/api/join", {})
    post(crew, "/api/v1/games/live/next", {})
    other = post(p, "/a/api/vote", {"run": "01234567-other-run", "question": "q1", "choice": "a"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "no_game"
    wrong_q = post(p, "/a/api/vote", {"run": started["run"], "question": "q2", "choice": "a"})
    assert wrong_q.status_code == 409 and wrong_q.get_json()["error"]["code"] == "closed"
    assert GameVote.select().count() == 0


AUDIENCE_PROBES = ["/", "/tour", "/media", "/games/", "/games/projector", "/games/screenings/x", "/run", "/attendance",
                   "/api/v1/games/live", "/api/v1/games", "/api/v1/screenings"]


@pytest.mark.parametrize("path", AUDIENCE_PROBES)
def test_a_phone_reaches_no_crew_page_or_api(app, screening, path):
    p = phone(app)
    response = p.get(path, follow_redirects=True)
    assert response.request.path == "/login" or response.status_code in (401, 403, 404)
    assert screening.id.encode() not in response.data
    assert "रामपुर".encode() not in response.data and b"Rampur" not in response.data


# Open to anyone: the audience pages, static files, health, the login form, the language switch.
PUBLIC_ENDPOINTS = {"static", "healthz", "auth.login", "auth.logout", "i18n.switch",
                    "api.openapi"}     # the API's description, as in the repository


def without_own_url(html: bytes) -> bytes:
    """Every page's language switch links back to the URL the visitor asked for (ids included):
    that echoes what the visitor typed, it discloses nothing. Drop it, check the rest."""
    return re.sub(rb'<a class="lang"[^>]*href="/lang/[^"]*"', b"", html)


def _probe_url(rule, values):
    """Fill a rule's arguments with real ids (so a leak would show) or the converter's first option."""
    args = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        options = getattr(converter, "items", None) or getattr(converter, "regex", "")
        if name in values:
            args[name] = values[name]
        elif hasattr(converter, "items"):
            args[name] = sorted(options)[0]
        else:
            args[name] = "x"
    return rule.build(args, append_unknown=False)[1]


def test_a_joined_phone_reaches_no_route_of_the_crew(app, crew, screening):
    """Every route the app has (whoever added it), every method, asked by a phone that joined the
    live game and holds a valid CSRF token: a login redirect, 401, 403, 404 or 405, and no data."""
    run = post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "bell-quiz"}).get_json()["run"]
    post(crew, "/api/v1/games/live/next", {})
    p = phone(app)
    assert post(p, "/a/api/join", {}).status_code == 200
    values = {"screening_id": screening.id, "run_id": run, "tour_id": "test-tour", "code": "x",
              "participant_id": "x", "action": "next"}
    secrets = [screening.id.encode(), run.encode(), "रामपुर".encode(), b"Rampur"]
    probed = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith("audience."):
            continue
        url = _probe_url(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = p.open(url, method=method, data="{}", content_type="application/json",
                              headers={"X-CSRFToken": p.csrf})
            probed += 1
            where = f"{method} {url} ({rule.endpoint}) -> {response.status_code}"
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login?"), where
                continue
            assert response.status_code in (400, 401, 403, 404, 405), where
            assert not any(secret in without_own_url(response.data) for secret in secrets), where
    assert probed > 30
    live = crew.get("/api/v1/games/live").get_json()
    assert live["state"] == "question_open" and live["q"]["id"] == "q1" and live["run"] == run


@pytest.mark.parametrize("path,body", [("/api/v1/games/live/next", {}), ("/api/v1/games/runs", {"game": "pledge"}),
                                       ("/games/start", {})])
def test_a_phone_cannot_drive_the_game(app, crew, screening, path, body):
    post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "bell-quiz"})
    p = phone(app)
    response = post(p, path, dict(body, screening=screening.id))
    assert response.status_code in (400, 401, 403)
    assert crew.get("/api/v1/games/live").get_json()["state"] == "lobby"


def test_votes_are_rate_limited_per_device(app, crew, screening):
    started = post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "bell-quiz"}).get_json()
    post(crew, "/api/v1/games/live/next", {})
    noisy, quiet = phone(app), phone(app)
    post(noisy, "/a/api/join", {})
    post(quiet, "/a/api/join", {})
    codes = [post(noisy, "/a/api/vote", {"run": started["run"], "question": "q1", "choice": "ab"[i % 2]}).status_code
             for i in range(70)]
    assert 429 in codes
    assert post(quiet, "/a/api/vote", {"run": started["run"], "question": "q1", "choice": "a"}).status_code == 200


def test_projector_page_has_the_join_qr_and_address(app, crew, screening):
    app.config["PUBLIC_URL"] = "http://192.168.137.1:5000"
    page = crew.get("/games/projector")
    assert page.status_code == 200
    assert b"<svg" in page.data and b"192.168.137.1:5000/a" in page.data


def test_lan_address_is_private_or_loopback_and_join_url_uses_the_port():
    import ipaddress
    from vanapp.games.joinurl import join_url, lan_address
    address = ipaddress.ip_address(lan_address())
    assert address.version == 4 and not address.is_unspecified
    url = join_url("", "127.0.0.1:5123")
    assert url.endswith(":5123/a/") and url.startswith(f"http://{address}")
    assert join_url("http://van.local:8080/", "127.0.0.1:5123") == "http://van.local:8080/a/"


def test_many_phones_behind_one_address_are_not_refused(app, crew, screening):
    """Limits are per device cookie: a crowd behind one NAT address (the test client's) joins,
    polls and votes without a single refusal."""
    started = post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "bell-quiz"}).get_json()
    post(crew, "/api/v1/games/live/next", {})
    phones = [phone(app) for _ in range(40)]
    for i, p in enumerate(phones):
        assert post(p, "/a/api/join", {}).status_code == 200
        assert p.get("/a/api/state").status_code == 200
        vote = post(p, "/a/api/vote", {"run": started["run"], "question": "q1", "choice": "abc"[i % 3]})
        assert vote.status_code == 200, vote.data
    assert crew.get("/api/v1/games/live").get_json()["tally"]["joined"] == 40


def test_polls_are_limited_per_device_not_per_address(app, crew, screening):
    post(crew, "/api/v1/games/runs", {"screening": screening.id, "game": "pledge"})
    noisy, quiet = phone(app), phone(app)
    codes = [noisy.get("/a/api/state").status_code for _ in range(310)]
    assert codes.count(429) >= 10 and 429 not in codes[:300]
    refused = noisy.get("/a/api/state")
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) >= 1
    assert quiet.get("/a/api/state").status_code == 200


def test_a_phone_cannot_guess_the_crew_pin_by_changing_its_device_cookie(app, screening):
    """The device cookie is the visitor's to invent: the PIN form is also limited per address."""
    codes = []
    for i in range(40):
        p = phone(app)
        p.set_cookie("vk_device", f"forged-device-cookie-{i:04d}-xxxxxxxx")
        g.pop("csrf_token", None)
        token = csrf_from(p.get("/login").data)
        codes.append(p.post("/login", data={"pin": f"{i:04d}", "csrf_token": token}).status_code)
    assert 429 in codes and codes.count(401) <= 30
