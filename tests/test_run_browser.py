"""Running a screening in real Chromium against a real `vanapp serve` playing short clips through
real libVLC (dummy outputs): the run page on the laptop, the phone remote and the projector page
follow the player without reloading."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import PIN
from .test_player_clips import clips, seed_programme  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAPTOP = dict(viewport={"width": 1280, "height": 900}, locale="en-IN")
PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
             locale="hi-IN")
WAIT = 20_000       # ms: generous, for a loaded 2-core box


def login(context, base, path):
    page = context.new_page()
    page.goto(f"{base}/login?next={path}")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + path) + "$"))
    return page


def strings(page) -> dict:
    """The page's own words (run.js shows only these): the tests stay language-neutral."""
    return page.evaluate("JSON.parse(document.getElementById('run-strings').textContent)")


def progress(page) -> int:
    return int(page.get_attribute("#progress", "aria-valuenow") or 0)


def progress_moves(page):
    page.wait_for_function(
        "v => Number(document.getElementById('progress').getAttribute('aria-valuenow')) > v",
        arg=progress(page), timeout=WAIT)


def test_run_page_remote_and_projector_follow_the_player(server_factory, chromium, clips, artifacts):
    srv = server_factory("van", env={"VANAPP_MEDIA_DIR": str(clips)})
    sid = seed_programme(srv.data_dir, "a", "long", "b")
    laptop = chromium.new_context(**LAPTOP)
    phone = None
    try:
        run = login(laptop, srv.url, f"/run/{sid}")
        S = strings(run)
        expect(run.locator("#player")).to_be_hidden()
        run.click("#start")
        # Start commits the screening and reloads the page once; from then on it only polls.
        expect(run.locator("#finish")).to_be_visible(timeout=WAIT)
        run.evaluate("window.notReloaded = true")
        expect(run.locator("#player")).to_be_visible()

        # The first clip plays and the next one follows by itself.
        expect(run.locator("#now-title")).to_have_text("long", timeout=WAIT)
        expect(run.locator("#state")).to_have_text(S["states"]["playing"], timeout=WAIT)
        expect(run.locator('#programme li[data-index="1"]')).to_have_class(re.compile(r"\bcurrent\b"))
        expect(run.locator('#programme li[data-index="0"]')).to_have_class(re.compile(r"\bdone\b"))
        expect(run.locator("#next-title")).to_have_text("b")
        progress_moves(run)
        expect(run.locator("#time")).to_have_text(re.compile(r"^0:\d\d / 0:10$"))
        expect(run.locator("#plays tbody tr.outcome-completed")).to_have_count(1, timeout=WAIT)

        # The projector page: the village, the item's title card and what comes next.
        projector = laptop.new_page()
        projector.goto(f"{srv.url}/run/projector")
        expect(projector.locator("#village-hi")).to_have_text("रामपुर", timeout=WAIT)
        expect(projector.locator("#village-en")).to_have_text("Rampur")
        expect(projector.locator("#title-hi")).to_have_text("long")
        expect(projector.locator("#next-line")).to_be_visible()
        expect(projector.locator("#next-hi")).to_have_text("b")
        expect(projector.locator("#view-card")).to_be_visible()
        expect(projector.locator("#view-game")).to_be_hidden()     # no game yet: no join code
        projector.screenshot(path=str(artifacts / "run-projector.png"))

        # The phone remote, with the laptop's login, pauses: the run page follows.
        phone = chromium.new_context(storage_state=laptop.storage_state(), **PHONE)
        remote = phone.new_page()
        remote.goto(f"{srv.url}/run/remote")
        P = strings(remote)
        expect(remote.locator("#now-title")).to_have_text("long", timeout=WAIT)
        expect(remote.locator("#village")).to_contain_text("रामपुर")
        expect(remote.locator("#toggle")).to_be_enabled(timeout=WAIT)
        remote.locator("#toggle").tap()
        expect(run.locator("#state")).to_have_text(S["states"]["paused"], timeout=WAIT)
        expect(remote.locator("#toggle")).to_have_attribute("data-cmd", "resume", timeout=WAIT)
        expect(remote.locator("#toggle span")).to_have_text(P["resume"])
        expect(run.locator("#toggle")).to_contain_text(S["resume"])
        held = run.locator("#time").text_content()
        run.wait_for_timeout(1500)      # three polls: a paused clip does not move on
        assert run.locator("#time").text_content() == held
        remote.locator('[data-volume="-10"]').tap()
        expect(run.locator("#volume-text")).to_have_text("90%", timeout=WAIT)
        remote.screenshot(path=str(artifacts / "run-remote-phone.png"))

        # Resume, then Next, from the phone; it pauses the last clip at once (the answer to
        # Next already shows it) so every page can be checked on it at leisure.
        remote.locator("#toggle").tap()
        expect(run.locator("#state")).to_have_text(S["states"]["playing"], timeout=WAIT)
        progress_moves(run)
        expect(remote.locator('[data-cmd="next"]')).to_be_enabled()
        remote.locator('[data-cmd="next"]').tap()
        expect(remote.locator("#now-title")).to_have_text("b", timeout=WAIT)
        expect(remote.locator("#toggle")).to_have_attribute("data-cmd", "pause")
        remote.locator("#toggle").tap()
        expect(run.locator("#state")).to_have_text(S["states"]["paused"], timeout=WAIT)
        expect(run.locator("#now-title")).to_have_text("b")
        expect(run.locator('#programme li[data-index="2"]')).to_have_class(re.compile(r"\bcurrent\b"))
        expect(run.locator("#next-title")).to_have_text(S["nothing_next"])
        expect(projector.locator("#title-hi")).to_have_text("b", timeout=WAIT)
        expect(projector.locator("#next-line")).to_be_hidden()
        remote.locator("#toggle").tap()

        # The end: the proof of play on the run page, still without a reload.
        expect(run.locator("#state")).to_have_text(S["states"]["finished"], timeout=WAIT)
        rows = run.locator("#plays tbody tr")
        expect(rows).to_have_count(3, timeout=WAIT)
        assert [rows.nth(i).get_attribute("class") for i in range(3)] == \
            ["outcome-completed", "outcome-skipped", "outcome-completed"]
        expect(rows.nth(1)).to_contain_text(S["outcomes"]["skipped"])
        assert run.evaluate("window.notReloaded") is True
        run.screenshot(path=str(artifacts / "run-console.png"), full_page=True)
    finally:
        if phone is not None:
            phone.close()
        laptop.close()
