"""The tally page in real Chromium on phone-sized screens: taps show at once and are saved, a
second phone sees them, and taps made while the server is down are queued, survive the page
being closed, and are delivered once after the restart."""
import json
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


def queued(page):
    """The ids of the taps waiting in the phone's localStorage queue (one key per item), oldest first."""
    return page.evaluate("""() => {
        const items = [];
        for (let i = 0; i < localStorage.length; i++) {
            const k = localStorage.key(i);
            if (k.startsWith('vk_tally_tap_v2:')) { items.push(JSON.parse(localStorage.getItem(k))); }
        }
        if (localStorage.getItem('vk_tally_queue_v1') !== null) { items.push({id: 'old queue left', t: 0, n: 0}); }
        return items.sort((a, b) => (a.t - b.t) || (a.n - b.n)).map(x => x.id);
    }""")


def all_saved(page, timeout=40000):
    expect(page.locator(".tally-cell.is-pending")).to_have_count(0, timeout=timeout)
    assert queued(page) == []


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
        waiting = queued(pa)
        assert len(waiting) == 4
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
        waiting += queued(pa)
        assert len(waiting) == 6
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
        # Stored under the phones' own ids (UUIDv4, made before sending), never ids the server made
        # up: only the phone's id lets a resend, or a second tab's send, be recognised as the same tap.
        assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i)
                   for i in rows)
        assert set(waiting) <= set(rows)

        # The headcount buttons.
        pa3.fill("#headcount-input", "57")
        pa3.locator('[data-headcount="start"]').tap()
        expect(pa3.locator("#headcount-start")).to_have_text("57", timeout=15000)
        pa3.screenshot(path=str(artifacts / "attendance-tally-phone.png"), full_page=True)
        assert session.get(api).json()["headcounts"]["start"]["count"] == 57
    finally:
        a.close()
        b.close()


def test_two_tabs_send_the_same_tap_and_answers_are_lost(server_factory, chromium):
    """The races of one phone with two tabs on a flaky hotspot, made to happen: tab A's first tap is
    stored but its answer held until tab B has sent the same queued tap (answered "duplicate"), then
    dropped; every later first answer to tab A is lost after the commit, so its retry is the
    duplicate. Each tap is stored once under the phone's id, and each tab shows the server's count
    plus only the taps not yet acknowledged, also while its own request is still in the air."""
    srv = server_factory("van")
    sid = seed_screening(srv.data_dir)
    tally_url = f"{srv.url}/attendance/screenings/{sid}"
    api = f"{srv.url}/api/v1/screenings/{sid}/attendance"
    a = chromium.new_context(**PHONE)
    try:
        pa = login(a, srv.url)
        pa.goto(tally_url)
        pa2 = a.new_page()
        pa2.goto(tally_url)
        sent = []                                      # tab A's tap ids, first send of each

        def flaky(route):
            if route.request.method != "POST":
                route.continue_()
                return
            tap = json.loads(route.request.post_data)["id"]
            if tap in sent:                            # a retry: let its answer through
                route.continue_()
                return
            sent.append(tap)
            assert route.fetch().status == 201        # stored on the server...
            if len(sent) == 1:
                # ...tab B sends the same tap from the shared queue while A still waits:
                pa2.wait_for_function("id => localStorage.getItem('vk_tally_tap_v2:' + id) === null",
                                      arg=tap, timeout=20000)
                expect(shown(pa, "women")).to_have_text("1", timeout=15000)
                expect(shown(pa2, "women")).to_have_text("1", timeout=15000)
                expect(pa.locator(".tally-cell.is-pending")).to_have_count(0, timeout=15000)
            route.abort("connectionreset")            # ...and tab A never hears the answer

        pa.route(re.compile(r".*/api/v1/screenings/[^/]+/attendance$"), flaky)
        plus(pa, "women")
        all_saved(pa2)
        all_saved(pa)
        pa.bring_to_front()                            # a background tab's taps wait for its frames
        plus(pa, "men")
        minus(pa, "men")                               # only sent once the +1 is acknowledged
        plus(pa, "boys")
        all_saved(pa)
        pa2.bring_to_front()
        plus(pa2, "girls")
        expected = {"men": 0, "women": 1, "boys": 1, "girls": 1}
        all_saved(pa2)
        all_saved(pa)
        for page in (pa, pa2):
            for category, n in expected.items():
                expect(shown(page, category)).to_have_text(str(n), timeout=15000)
            expect(page.locator("#tally-total")).to_have_text("3", timeout=15000)
        session = crew_session(srv.url)
        assert session.get(api).json()["counts"] == expected
        rows, outbox = stored_taps(srv.data_dir, sid)
        # (which tab delivered the later taps first depends on timing: tab B sends any it finds
        # waiting; so does tab A after its backoff)
        assert len(rows) == 5 and len(sent) >= 2 and set(sent) < set(rows)
        assert all(n == 1 for *_x, n in rows.values()) and all(outbox[i] == 1 for i in rows)

        # A phone updated while taps waited in the old one-array queue: they are sent once too.
        old_id = "0b7e3a52-6c1d-4f0e-9a8b-2d4c6e8f0a1b"
        old = [{"id": old_id, "url": f"/api/v1/screenings/{sid}/attendance", "screening": sid, "tries": 1,
                "body": {"category": "boys", "delta": 1, "at": "2026-01-01T00:00:00Z", "device": "d"}}]
        pa.unroute(re.compile(r".*/api/v1/screenings/[^/]+/attendance$"))
        pa.evaluate("q => localStorage.setItem('vk_tally_queue_v1', JSON.stringify(q))", old)
        pa2.reload()
        all_saved(pa2)
        expected["boys"] += 1
        for page in (pa, pa2):
            expect(shown(page, "boys")).to_have_text(str(expected["boys"]), timeout=15000)
        assert session.get(api).json()["counts"] == expected
        rows, _outbox = stored_taps(srv.data_dir, sid)
        assert len(rows) == 6 and rows[old_id] == ("boys", 1, 1)
    finally:
        a.close()


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
