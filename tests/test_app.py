"""The app's frame: health, login, CSRF, language, errors without tracebacks."""
import pytest

from .conftest import PIN, csrf_from


def test_healthz_answers_ok(client):
    assert client.get("/healthz").json == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/tour", "/media"])
def test_crew_pages_redirect_to_login_without_session(client, path):
    r = client.get(path)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_login_refuses_wrong_pin_and_accepts_right_one(client):
    page = client.get("/login")
    token = csrf_from(page.data)
    bad = client.post("/login", data={"pin": "0000", "csrf_token": token})
    assert bad.status_code == 401
    assert client.get("/").status_code == 302
    good = client.post("/login", data={"pin": PIN, "csrf_token": token})
    assert good.status_code == 302
    assert client.get("/").status_code == 200


def test_login_without_csrf_token_is_refused(client):
    r = client.post("/login", data={"pin": PIN})
    assert r.status_code == 400
    assert client.get("/").status_code == 302


def test_pin_attempts_are_rate_limited(tmp_path):
    from vanapp import create_app
    from vanapp.db import migrate
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "rl")})
    migrate()
    c = app.test_client()
    token = csrf_from(c.get("/login").data)
    codes = [c.post("/login", data={"pin": "9999", "csrf_token": token}).status_code for _ in range(12)]
    assert codes[:10] == [401] * 10 and codes[-1] == 429


def test_language_switch_is_remembered(crew):
    assert 'lang="hi"' in crew.get("/tour").data.decode()
    crew.get("/lang/en?next=/tour")
    assert 'lang="en"' in crew.get("/tour").data.decode()


def test_language_switch_refuses_offsite_redirect(crew):
    r = crew.get("/lang/en?next=https://example.org/")
    assert r.headers["Location"] == "/"


def test_unknown_page_is_a_friendly_404(crew):
    r = crew.get("/no-such-page")
    assert r.status_code == 404 and b"Traceback" not in r.data


def test_api_needs_token_or_session(client, app):
    r = client.get("/api/v1/screenings")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/screenings", headers={"Authorization": "Bearer nope"}).status_code == 401
    from vanapp import security
    token = security.create_token("script")
    r = client.get("/api/v1/screenings", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json == {"items": [], "next": None}


def test_a_wrong_method_is_a_friendly_page_in_the_chosen_language(crew):
    crew.get("/lang/hi")
    page = crew.post("/", data={"csrf_token": crew.csrf})
    text = page.get_data(as_text=True)
    assert page.status_code == 405 and "Method Not Allowed" not in text
    assert "इस पेज को ऐसे इस्तेमाल नहीं किया जा सकता" in text
