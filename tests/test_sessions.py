"""Logins end when they should, on the server: logout, a PIN change, a password reset and a
revoked coordinator end every login they concern, copies of the cookie included; cookies carry
no absolute Expires, so a phone whose clock is months off stays logged in."""
import datetime as dt
import os
import re
import subprocess
import sys

import pytest
import requests

from .conftest import PIN, csrf_from
from .support.server import ROOT, ServerProcess
from .support.syncenv import Hub, vanapp

PASSWORD = "bell-bajao-2026"


def crew_login(base: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/login")
    r = s.post(base + "/login", data={"pin": PIN, "csrf_token": csrf_from(page.text)}, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert s.get(base + "/", allow_redirects=False).status_code == 200
    return s


def copy_of(s: requests.Session) -> requests.Session:
    """Another client holding the same cookies (a copied or stolen cookie)."""
    other = requests.Session()
    other.cookies.update(s.cookies)
    return other


def crew_is_in(s: requests.Session, base: str) -> bool:
    page = s.get(base + "/", allow_redirects=False)
    api = s.get(base + "/api/v1/screenings", allow_redirects=False)
    assert (page.status_code == 200) == (api.status_code == 200), (page.status_code, api.status_code)
    return page.status_code == 200


def logout(s: requests.Session, base: str) -> None:
    token = csrf_from(s.get(base + "/", allow_redirects=False).text)
    assert s.post(base + "/logout", data={"csrf_token": token}, allow_redirects=False).status_code == 302


def test_crew_logout_ends_the_login_for_every_copy_of_the_cookie(server_factory):
    van = server_factory()
    phone = crew_login(van.url)
    stolen = copy_of(phone)
    laptop = crew_login(van.url)
    assert crew_is_in(stolen, van.url)
    logout(phone, van.url)
    assert not crew_is_in(stolen, van.url)          # the copy made before the logout is worth nothing
    assert crew_is_in(laptop, van.url)              # another device's own login goes on


def test_a_pin_change_ends_every_crew_login_at_once(server_factory):
    van = server_factory()
    phones = [crew_login(van.url) for _ in range(2)]
    done = vanapp(van.data_dir, "init", "--pin", "97531", check=True)
    assert "crew PIN set" in done.stdout
    assert [crew_is_in(s, van.url) for s in phones] == [False, False]
    page = requests.get(van.url + "/login")
    r = requests.post(van.url + "/login", data={"pin": PIN, "csrf_token": csrf_from(page.text)},
                      cookies=page.cookies, allow_redirects=False)
    assert r.status_code == 401                      # the old PIN is refused too


def test_the_crew_login_ends_after_12_idle_hours_on_the_servers_clock(app, client, clock):
    clock("2027-02-10 18:00+05:30")
    token = csrf_from(client.get("/login").data)
    assert client.post("/login", data={"pin": PIN, "csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 200
    clock("2027-02-11 05:00+05:30")                  # 11 hours later: still in
    assert client.get("/").status_code == 200
    clock("2027-02-11 17:30+05:30")                  # 12.5 hours after it was last used
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_the_crew_login_ends_fourteen_days_after_the_pin_was_typed_even_if_used(app, client, clock):
    clock("2027-02-10 18:00+05:30")
    token = csrf_from(client.get("/login").data)
    client.post("/login", data={"pin": PIN, "csrf_token": token})
    day = dt.date(2027, 2, 10)
    for n in range(1, 14):                           # used every 8 hours: never idle for long
        for hour in ("02:00", "10:00", "18:00"):
            clock(f"{day + dt.timedelta(days=n)} {hour}+05:30")
            assert client.get("/").status_code == 200, (n, hour)
    clock("2027-02-24 02:00+05:30")
    assert client.get("/").status_code == 200
    clock("2027-02-24 10:00+05:30")
    assert client.get("/").status_code == 200
    clock("2027-02-24 18:01+05:30")
    assert client.get("/").status_code == 302


# --- the hub's coordinators -----------------------------------------------------------------------

def hub_cli(hub, *args, password=None):
    env = dict(os.environ, VANAPP_DATA_DIR=str(hub.data_dir))
    done = subprocess.run([sys.executable, "-m", "vanapp.cli", "hub", *args], input=password and password + "\n",
                          text=True, env=env, cwd=str(ROOT), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def hub(server_factory):
    hub = Hub(server_factory)
    for name in ("asha", "ravi"):
        hub_cli(hub, "add-coordinator", name, "--password-stdin", password=PASSWORD)
    return hub


def coordinator_login(base: str, name: str, password: str = PASSWORD) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/login")
    r = s.post(base + "/login", data={"username": name, "password": password,
                                       "csrf_token": csrf_from(page.text)}, allow_redirects=False)
    assert r.status_code == 302, r.text
    return s


def coordinator_is_in(s: requests.Session, base: str) -> bool:
    r = s.get(base + "/", allow_redirects=False)
    assert r.status_code in (200, 302), r.status_code
    return r.status_code == 200


def test_coordinator_logout_ends_the_login_for_every_copy_of_the_cookie(hub):
    office = coordinator_login(hub.url, "asha")
    stolen = copy_of(office)
    assert coordinator_is_in(stolen, hub.url)
    logout(office, hub.url)
    assert not coordinator_is_in(stolen, hub.url)


def test_a_password_reset_ends_that_coordinators_logins_only(hub):
    asha = [coordinator_login(hub.url, "asha") for _ in range(2)]
    ravi = coordinator_login(hub.url, "ravi")
    hub_cli(hub, "add-coordinator", "asha", "--reset", "--password-stdin", password="a-new-password-1")
    assert [coordinator_is_in(s, hub.url) for s in asha] == [False, False]
    assert coordinator_is_in(ravi, hub.url)
    assert coordinator_is_in(coordinator_login(hub.url, "asha", "a-new-password-1"), hub.url)


def test_a_revoked_coordinator_is_out_at_once_and_stays_out(hub):
    ravi = coordinator_login(hub.url, "ravi")
    asha = coordinator_login(hub.url, "asha")
    out = hub_cli(hub, "disable-coordinator", "ravi")
    assert "1 login(s) ended" in out
    assert not coordinator_is_in(ravi, hub.url)
    assert coordinator_is_in(asha, hub.url)
    with hub.db():
        from vanapp.models import LoginSession
        assert LoginSession.select().where(LoginSession.kind == "coordinator").count() == 1


# --- cookies and the phone's clock ---------------------------------------------------------------

def _set_cookies(response) -> list[str]:
    return response.raw.headers.getlist("Set-Cookie")


def test_no_cookie_carries_an_absolute_expiry_date(server_factory, hub):
    van = server_factory()
    s = requests.Session()
    page = s.get(van.url + "/login")
    seen = _set_cookies(page)
    seen += _set_cookies(s.post(van.url + "/login", data={"pin": PIN, "csrf_token": csrf_from(page.text)},
                                allow_redirects=False))
    seen += _set_cookies(s.get(van.url + "/lang/en", allow_redirects=False))
    seen += _set_cookies(s.get(van.url + "/a/", allow_redirects=False))
    h = requests.Session()
    page = h.get(hub.url + "/login")
    seen += _set_cookies(page)
    seen += _set_cookies(h.post(hub.url + "/login", data={"username": "asha", "password": PASSWORD,
                                                          "csrf_token": csrf_from(page.text)}, allow_redirects=False))
    names = {c.split("=", 1)[0] for c in seen}
    assert {"session", "vk_lang", "vk_device"} <= names, seen
    for cookie in seen:
        assert "expires=" not in cookie.lower(), cookie
    lasting = [c for c in seen if c.split("=", 1)[0] in ("vk_lang", "vk_device")]
    assert lasting and all(re.search(r"Max-Age=\d+", c) for c in lasting), lasting


DAY = 24 * 3600


@pytest.mark.browser
@pytest.mark.parametrize("days", [-270, 270])
def test_a_browser_whose_clock_is_months_off_the_vans_stays_logged_in(tmp_path, chromium, days):
    """The laptop's clock is nine months from the phone's (either way): the phone logs in, moves
    between pages and calls the API as the tally page does."""
    van = ServerProcess(tmp_path / "van", env={
        "PYTHONPATH": str(ROOT / "tests" / "support" / "clock"), "VANAPP_TEST_NOW": "set",
        # from the real clock (the browser's), whatever TEST_NOW the suite runs with
        "VANAPP_TEST_CLOCK_SHIFT": str(days * DAY)})
    subprocess.run([sys.executable, "-m", "vanapp.cli", "init", "--pin", PIN], env=van.env, check=True,
                   capture_output=True, cwd=str(ROOT))
    van.start()
    try:
        context = chromium.new_context()
        page = context.new_page()
        page.goto(van.url + "/login?next=/tour")
        page.fill("#pin", PIN)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/tour$"))
        page.goto(van.url + "/media")
        assert page.url.endswith("/media")
        status = page.evaluate("() => fetch('/api/v1/screenings', {credentials: 'same-origin'}).then(r => r.status)")
        assert status == 200
        # Playwright's own HTTP client keeps the answers' cookies on the browser's clock, with no
        # allowance for the server's (as many phones' browsers do): each answer renews the cookie
        for _ in range(3):
            assert context.request.get(van.url + "/api/v1/screenings").status == 200
        page.goto(van.url + "/tour")
        assert page.url.endswith("/tour")
        context.close()
    finally:
        van.stop()



def test_a_revoked_api_token_is_refused_from_its_next_request(server_factory):
    van = server_factory()
    made = vanapp(van.data_dir, "token", "create", "tally-script", check=True).stdout.strip().splitlines()[-1]
    other = vanapp(van.data_dir, "token", "create", "report-script", check=True).stdout.strip().splitlines()[-1]
    script = requests.Session()
    script.headers["Authorization"] = f"Bearer {made}"
    assert script.get(van.url + "/api/v1/screenings").status_code == 200
    done = vanapp(van.data_dir, "token", "revoke", "tally-script", check=True)
    assert "1 token(s)" in done.stdout
    r = script.get(van.url + "/api/v1/screenings")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert requests.get(van.url + "/api/v1/screenings", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    assert vanapp(van.data_dir, "token", "revoke", "no-such-script").returncode == 1
