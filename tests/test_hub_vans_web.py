"""Coordinators pair, re-key and block vans on the hub's Vans page, no terminal needed: adding a
van shows its one-time code and pairing QR on screen (a real van pairs with it); a new code and
a block are asked first, on a page of their own, and go by POST with the CSRF token only."""
import json
import re
import subprocess
import sys

import pytest

from vanapp.models import Van, db

from .conftest import need_zbarimg
from .support.server import ROOT
from .support.syncenv import Hub, vanapp
from .test_hub_dashboard_scenario import COORDINATOR, PASSWORD, fresh_hub_app, login  # noqa: F401


def _page(response):
    return response.get_data(as_text=True)


@pytest.fixture
def coordinator_of_fresh(fresh_hub_app):  # noqa: F811
    client = fresh_hub_app.test_client()
    client.csrf = login(client)
    client.app = fresh_hub_app
    return client


def _van(app, van_id):
    with app.app_context(), db.connection_context():
        return Van.get_or_none(Van.id == van_id)


def test_adding_a_van_shows_its_code_and_qr_once_and_stores_only_a_fingerprint(coordinator_of_fresh):
    c = coordinator_of_fresh
    page = _page(c.post("/vans/add?lang=en", data={"name": "वैन 09", "id": "van-09", "csrf_token": c.csrf}))
    code = re.search(r'id="pairing-code">([0-9A-Z]{4}-[0-9A-Z]{4})<', page).group(1)
    assert "<svg" in page and 'aria-label="Pairing QR code for वैन 09"' in page
    van = _van(c.app, "van-09")
    assert van.name == "वैन 09" and van.pair_code_hash and code.replace("-", "") not in van.pair_code_hash
    # the list shows it waiting for its laptop; the code is not shown again
    vans = _page(c.get("/vans?lang=en"))
    assert 'data-van="van-09" data-state="code_waiting"' in vans and code not in vans


def test_a_van_without_a_usable_id_or_a_token_is_refused_and_nothing_is_stored(coordinator_of_fresh):
    c = coordinator_of_fresh
    before = _page(c.get("/vans"))
    refused = c.post("/vans/add?lang=en", data={"name": "वैन", "csrf_token": c.csrf})     # no Latin to make an id of
    assert refused.status_code == 400 and 'data-field="id"' in _page(refused)
    bad = c.post("/vans/add?lang=en", data={"name": "Van 9", "id": "Van 9!", "csrf_token": c.csrf})
    assert bad.status_code == 400 and "small English letters" in _page(bad)
    taken = c.post("/vans/add?lang=en", data={"name": "again", "id": "van-03", "csrf_token": c.csrf})
    assert taken.status_code == 400 and "already a van with this id" in _page(taken)
    assert c.post("/vans/add", data={"name": "Van 10", "id": "van-10"}).status_code == 400   # no CSRF token
    assert _van(c.app, "van-10") is None
    assert _page(c.get("/vans")).count("data-van=") == before.count("data-van=")


def test_new_code_and_block_ask_first_and_change_nothing_until_confirmed(coordinator_of_fresh):
    c = coordinator_of_fresh
    with c.app.app_context(), db.connection_context():
        from vanapp.hub import pairing
        van, code = pairing.add_van("Van 11", "van-11")
        pairing.redeem(code)
        secret_hash = Van.get_by_id("van-11").secret_hash
    for action in ("rotate", "revoke"):
        ask = _page(c.get(f"/vans/van-11/{action}?lang=en"))
        assert 'id="confirm"' in ask and f'action="/vans/van-11/{action}"' in ask and 'name="csrf_token"' in ask
        assert _van(c.app, "van-11").secret_hash == secret_hash and not _van(c.app, "van-11").revoked
        assert c.post(f"/vans/van-11/{action}").status_code == 400                     # no CSRF token
        assert _van(c.app, "van-11").secret_hash == secret_hash
    assert c.get("/vans/nope/rotate").status_code == 404
    assert c.post("/vans/nope/revoke", data={"csrf_token": c.csrf}).status_code == 404
    blocked = c.post("/vans/van-11/revoke?lang=en", data={"csrf_token": c.csrf}, follow_redirects=True)
    assert "Van 11 is blocked" in _page(blocked) and _van(c.app, "van-11").revoked


def test_the_pages_need_a_coordinator(fresh_hub_app):  # noqa: F811
    anonymous = fresh_hub_app.test_client()
    assert "/login" in anonymous.get("/vans/van-03/rotate").headers["Location"]
    assert anonymous.post("/vans/add", data={"name": "x", "id": "van-99"}).status_code in (400, 401, 403)
    assert _van(fresh_hub_app, "van-99") is None


@pytest.mark.browser
def test_a_van_pairs_with_the_qr_on_screen_then_a_new_code_and_a_block_stop_its_old_key(
        server_factory, chromium, artifacts, tmp_path):
    need_zbarimg()
    hub = Hub(server_factory)
    _add_coordinator(hub)
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    van_dir = tmp_path / "van"
    try:
        page.goto(hub.url + "/login")
        page.fill("#username", COORDINATOR)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(hub.url + "/")
        page.goto(hub.url + "/vans")
        page.fill("#van-name", "वैन 08")
        page.fill("#van-id", "van-08")
        page.click("#add-van button[type=submit]")
        page.wait_for_selector("#pairing-code")
        code = page.locator("#pairing-code").inner_text()
        page.screenshot(path=str(artifacts / "hub-van-added-phone.png"), full_page=True)
        link = _read_qr(page, tmp_path / "pairing.png")
        assert link == f"{hub.url}/pair?code={code}"

        vanapp(van_dir, "init", "--pin", "2468", check=True)
        paired = vanapp(van_dir, "pair", hub.url, code, "--json", check=True)
        assert json.loads(paired.stdout)["van_id"] == "van-08"
        assert _sync(van_dir)["ok"]

        # a new code: asked first; the old key stops working; the new code pairs it again
        page.goto(hub.url + "/vans")
        page.click('tr[data-van="van-08"] a[href$="/rotate"]')
        page.wait_for_selector("#confirm[data-action=rotate]")
        page.click("#confirm-button")
        page.wait_for_selector("#pairing-code")
        new_code = page.locator("#pairing-code").inner_text()
        assert new_code != code
        refused = _sync(van_dir)
        assert not refused["ok"] and refused["error_code"] == "unauthorized", refused
        vanapp(van_dir, "pair", hub.url, new_code, "--json", check=True)
        assert _sync(van_dir)["ok"]

        # a block: asked first; then the van is refused as revoked
        page.goto(hub.url + "/vans")
        page.click('tr[data-van="van-08"] a[href$="/revoke"]')
        page.wait_for_selector("#confirm[data-action=revoke]")
        page.screenshot(path=str(artifacts / "hub-van-block-phone.png"), full_page=True)
        page.click("#confirm-button")
        page.wait_for_selector('tr[data-van="van-08"][data-state="revoked"]')
        blocked = _sync(van_dir)
        assert not blocked["ok"] and blocked["error_code"] == "revoked", blocked
    finally:
        context.close()


def _add_coordinator(hub):
    done = subprocess.run([sys.executable, "-m", "vanapp.cli", "hub", "add-coordinator", COORDINATOR,
                           "--password-stdin"], input=PASSWORD + "\n", text=True, capture_output=True,
                          env=hub.server.env, cwd=str(ROOT), timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _sync(van_dir) -> dict:
    return json.loads(vanapp(van_dir, "sync", "--json", "--timeout", "10").stdout)


def _read_qr(page, path) -> str:
    page.locator(".pairing-qr").screenshot(path=str(path))
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(path)], capture_output=True, check=True, timeout=60)
    return out.stdout.decode("utf-8").strip()
