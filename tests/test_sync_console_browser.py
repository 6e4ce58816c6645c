"""The Sync page in real Chromium: pair through the form, press Sync now, watch the progress bar
move and the finished status appear without a reload (a slow link between van and hub)."""
import pytest

from .conftest import PIN
from .support.faultproxy import ThrottledProxy
from .support.syncenv import Hub, make_night
from .test_sync_console import van_db

pytestmark = pytest.mark.browser

VAN = "van-08"


def test_sync_now_shows_progress_then_finished(server_factory, chromium, artifacts):
    hub = Hub(server_factory)
    code = hub.add_van(VAN)
    link = ThrottledProxy(hub.server.port, bits_per_second=1_000_000, latency=0.3)
    van = server_factory("van", env={"VANAPP_SYNC_INTERVAL": "0"})
    with van_db(van):
        make_night("", taps=40)
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    try:
        page.goto(van.url + "/sync/")
        page.fill("#pin", PIN)
        page.click("button[type=submit]")
        page.wait_for_url(van.url + "/sync/")
        assert page.locator("#paired").get_attribute("data-paired") == "false"
        assert page.locator("#sync-now").is_disabled()

        page.fill("#hub-url", link.url)
        page.fill("#pair-code", code)
        page.click("#pair-form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#paired").get_attribute("data-paired") == "true"
        assert page.locator(".flash.ok").is_visible()          # "जुड़ गया: …" in Hindi
        waiting = page.locator("#waiting li[data-kind=TallyEvent] strong")
        assert waiting.inner_text() == "40"

        page.click("#sync-now")
        # the button's answer says a sync runs; the bar shows and the button waits
        page.wait_for_selector("#sync-message[data-state=running]", timeout=20_000)
        assert page.locator("#sync-progress").is_visible()
        assert page.locator("#sync-now").is_disabled()
        page.screenshot(path=str(artifacts / "sync-running-hi.png"), full_page=True)

        page.wait_for_selector("#sync-message[data-state=ok]", timeout=30_000)
        assert page.locator("#sync-progress").get_attribute("value") == "100"
        assert "सिंक पूरा हुआ" in page.locator("#sync-message").inner_text()
        assert page.locator("#last-success").inner_text() not in ("", "कभी नहीं")
        assert page.locator("#waiting li[data-kind]").count() == 0
        assert page.locator("#sync-now").is_enabled()
        page.screenshot(path=str(artifacts / "sync-finished-hi.png"), full_page=True)
        assert len(hub.ids("tally_event", VAN)) == 40
    finally:
        context.close()
        link.close()
