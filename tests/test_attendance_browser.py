"""The tally page in real Chromium on phone-sized screens: taps show at once and are saved, a
second phone sees them, and taps made while the server is down are queued, survive the page
being closed, and are delivered once after the restart."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import PIN
from .test_attendance_crash import crew_session, seed_screening, stored_taps

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
             locale="hi-IN")
# A phone on the hotspot reaches the van over plain http, where crypto.randomUUID does not exist.
NO_RANDOM_UUID = "try { Object.defineProperty(Crypto.prototype, 'randomUUID', {value: undefined}); } catch (e) {}"


def login(context, base):
    page = context.new_page()
    page.goto(base + "/login?next=/attendance/")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/attendance/.*"))
    return page


def plus(page, category):
    page.locator(f'.tally-cell[data-category="{category}"] .tally-plus').tap()


def minus(page, category):
    page.locator(f'.tally-cell[data-category="{category}"] .tally-minus').tap()


def shown(page, category):
    return page.locator(f'[data-count-for="{category}"]')


def all_saved(page, timeout=40000):
    expect(page.locator(".tally-cell.is-pending")).to_have_count(0, timeout=timeout)
    assert page.evaluate("JSON.parse(localStorage.getItem('vk_tally_queue_v1') || '[]').length") == 0


def test_tally_on_two_phones_through_a_server_restart(server_factory, chromium, artifacts):
    srv = server_factory("van")
    sid = seed_screening(srv.data_dir)
    tally_url = f"{srv.url}/attendance/screenings/{sid}"
    api = f"{srv.url}/api/v1/screenings/{sid}/attendance"
    expected = {"men": 0, "women": 0, "boys": 0, "girls": 0}

    a = chromium.new_context(**PHONE)
    b = chromium.new_context(**PHONE)
    b.add_init_script(NO_RANDOM_UUID)
    try:
        pa, pb = login(a, srv.url), login(b, srv.url)
        pa.goto(srv.url + "/attendance/")                    # the nav entry opens tonight's tally
        expect(pa).to_have_url(tally_url)
        pb.goto(tally_url)

        # Phone A taps; each tap shows at once and is then saved.
        for category, n in (("women", 3), ("men", 2), ("boys", 1)):
            for _ in range(n):
                plus(pa, category)
            expected[category] += n
        minus(pa, "men")
        expected["men"] -= 1
        for category, n in expected.items():
            expect(shown(pa, category)).to_have_text(str(n))
        all_saved(pa)
        expect(pa.locator('[data-state-for="women"]')).to_contain_text("सहेजा गया")

        # Phone B (no crypto.randomUUID) sees them appear, and its own taps reach phone A.
        for category, n in expected.items():
            expect(shown(pb, category)).to_have_text(str(n), timeout=15000)
        plus(pb, "girls")
        expected["girls"] += 1
        all_saved(pb)
        expect(shown(pa, "girls")).to_have_text("1", timeout=15000)
        session = crew_session(srv.url)
        assert session.get(api).json()["counts"] == expected

        # The generator stops: taps are kept and shown as waiting.
        srv.kill9()
        for category in ("girls", "girls", "women"):
            plus(pa, category)
            expected[category] += 1
        minus(pa, "boys")
        expected["boys"] -= 1
        for category, n in expected.items():
            expect(shown(pa, category)).to_have_text(str(n))
        expect(pa.locator('.tally-cell[data-category="girls"]')).to_have_class(re.compile("is-pending"))
        expect(pa.locator("#tally-status")).to_have_class(re.compile("offline"), timeout=15000)
        assert pa.evaluate("JSON.parse(localStorage.getItem('vk_tally_queue_v1')).length") == 4
        pa.screenshot(path=str(artifacts / "attendance-tally-offline.png"))

        # A second tab of phone A opens on the same queue: both send it, it counts once.
        srv.start()
        pa2 = a.new_page()
        pa2.goto(tally_url)
        all_saved(pa)
        all_saved(pa2)
        for category, n in expected.items():
            expect(shown(pa, category)).to_have_text(str(n), timeout=15000)
            expect(shown(pb, category)).to_have_text(str(n), timeout=15000)
        assert session.get(api).json()["counts"] == expected
        pa2.close()

        # Down again; the tab is closed with taps waiting; a new tab after the restart sends them.
        srv.kill9()
        plus(pa, "men")
        plus(pa, "women")
        expected["men"] += 1
        expected["women"] += 1
        expect(shown(pa, "men")).to_have_text(str(expected["men"]))
        pa.close()
        srv.start()
        pa3 = a.new_page()
        pa3.goto(tally_url)
        all_saved(pa3)
        for category, n in expected.items():
            expect(shown(pa3, category)).to_have_text(str(n), timeout=15000)
        assert session.get(api).json()["counts"] == expected
        rows, outbox = stored_taps(srv.data_dir, sid)
        assert sum(d for _c, d, _n in rows.values()) == sum(expected.values())
        assert all(n == 1 for *_x, n in rows.values()) and all(outbox[i] == 1 for i in rows)
        assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i)
                   for i in rows)

        # The headcount buttons.
        pa3.fill("#headcount-input", "57")
        pa3.locator('[data-headcount="start"]').tap()
        expect(pa3.locator("#headcount-start")).to_have_text("57", timeout=15000)
        pa3.screenshot(path=str(artifacts / "attendance-tally-phone.png"), full_page=True)
        assert session.get(api).json()["headcounts"]["start"]["count"] == 57
    finally:
        a.close()
        b.close()


def test_sign_in_card_and_summary_pages_render(server_factory, chromium, artifacts):
    srv = server_factory("van")
    sid = seed_screening(srv.data_dir)
    context = chromium.new_context(**PHONE)
    try:
        page = login(context, srv.url)
        page.goto(f"{srv.url}/attendance/screenings/{sid}/sign-in")
        page.fill("#name", "सुनीता देवी")
        page.locator('input[name="gender"][value="woman"]').check()
        page.locator('input[name="age_band"][value="31-45"]').check()
        page.fill("#phone", "98765 43210")
        page.click("button[type=submit]")                      # no consent ticked
        expect(page.locator('.flash.error[data-field="consent"]')).to_be_visible()
        page.locator('input[name="consent"]').check()
        page.click("button[type=submit]")
        expect(page.locator("#participant-card h1")).to_have_text("सुनीता देवी")
        expect(page.locator("#participant-card .qr svg")).to_be_visible()
        page.screenshot(path=str(artifacts / "attendance-participant-card.png"), full_page=True)
        page.goto(f"{srv.url}/attendance/screenings/{sid}/summary")
        expect(page.locator(".summary-qr svg")).to_be_visible()
        expect(page.locator("#summary-participants")).to_have_text("1")
        page.screenshot(path=str(artifacts / "attendance-summary.png"), full_page=True)
    finally:
        context.close()
