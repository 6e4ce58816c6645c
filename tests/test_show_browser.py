"""The night as one show, in real Chromium against a real `vanapp serve` playing short clips
through real libVLC (dummy outputs): the laptop's Run page, a 1920x1080 projector, the crew's
phone Remote and an audience phone. The programme reaches its game and the game opens by itself
everywhere; the crew drives it from Run and the Remote without changing page; ending it moves
the programme on; Finish shows the night's summary and the projector says goodbye. The
projector never shows a crew word."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import PIN, need_zbarimg
from .support.a11y import describe, violations
from .support.show import seed_show, show_media
from .test_games_browser import decode_qr
from .test_player_clips import clips  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 30_000
LAPTOP = dict(viewport={"width": 1280, "height": 900}, locale="en-IN")
PROJECTOR = dict(viewport={"width": 1920, "height": 1080})
PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)


def context(browser, **kwargs):
    made = browser.new_context(**kwargs)
    made.set_default_timeout(WAIT)
    return made


def login(page, base, path):
    page.goto(f"{base}/login?next={path}")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + path) + "$"))


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def accessible(page, exclude=()):
    found = violations(page, exclude=exclude)
    assert not found, f"{page.url}:\n{describe(found)}"


def crew_words(page) -> list[str]:
    """Every word the Run page's script may show the crew (states, problems, errors)."""
    strings = page.evaluate("JSON.parse(document.getElementById('run-strings').textContent)")
    words = [strings["states"][k] for k in ("idle", "opening", "playing", "paused", "game", "finished", "stopped")]
    words += list(strings["problems"].values()) + list(strings["errors"].values())
    return words + [strings["offline"], strings["skipped_because"]]


def test_the_projector_run_remote_and_phones_follow_one_show(server_factory, chromium, clips, tmp_path,
                                                            artifacts, patient_expect):
    need_zbarimg()
    srv = server_factory("van", env={"VANAPP_MEDIA_DIR": str(show_media(tmp_path / "media", clips))})
    sid = seed_show(srv, "a", "game:pledge", "b")
    srv.env["VANAPP_PUBLIC_URL"] = srv.url          # phones join this very server
    srv.restart()
    laptop = context(chromium, **LAPTOP)
    contexts = [laptop]
    try:
        run = laptop.new_page()
        run.goto(srv.url + "/lang/en?next=/login")     # the laptop in English, the phones in Hindi
        login(run, srv.url, f"/run/{sid}")
        projector_ctx = context(chromium, storage_state=laptop.storage_state(), **PROJECTOR)
        remote_ctx = context(chromium, storage_state=laptop.storage_state(), locale="hi-IN", **PHONE)
        audience_ctx = context(chromium, locale="hi-IN", **PHONE)
        contexts += [projector_ctx, remote_ctx, audience_ctx]
        projector = projector_ctx.new_page()
        projector.goto(srv.url + "/run/projector")
        remote = remote_ctx.new_page()
        remote.goto(srv.url + "/run/remote")
        hidden_from_audience = crew_words(run) + crew_words(remote)

        # Before the show: the projector welcomes the village.
        expect(projector.locator("#view-welcome")).to_be_visible()
        run.click("#start")
        expect(run.locator("#finish")).to_be_visible()

        # The first clip: its title card on the projector, what comes next under it.
        expect(projector.locator("#view-card")).to_be_visible()
        expect(projector.locator("#title-hi")).to_have_text("a")
        expect(projector.locator("#next-en")).to_have_text("The Ring the Bell pledge")
        projector.screenshot(path=str(artifacts / "show-projector-card.png"))

        # The programme reaches the pledge: it opens by itself on every screen.
        expect(projector.locator("#view-game")).to_be_visible()
        expect(projector.locator("#view-card")).to_be_hidden()
        expect(projector.locator(".game-title")).to_contain_text("घंटी बजाने की शपथ")
        expect(run.locator("#game-panel")).to_be_visible()
        expect(remote.locator("#game-panel")).to_be_visible()
        expect(run.locator("#game-panel .state-badge")).to_have_attribute("data-state", "lobby")
        games = laptop.new_page()
        games.goto(srv.url + "/games/")
        expect(games.locator("#control .state-badge")).to_have_attribute("data-state", "lobby")
        expect(games.locator('li[data-game="pledge"].current')).to_be_visible()
        expect(games.locator('li[data-game="pledge"] [data-running]')).to_be_visible()   # not a second run
        expect(games.locator('li[data-game="pledge"] form.start-form')).to_have_count(0)
        games.close()
        join_url = decode_qr(projector.locator(".qr").screenshot(), tmp_path)
        assert join_url == srv.url + "/a/"
        audience = audience_ctx.new_page()
        audience.goto(join_url)
        expect(audience.locator(".phone-game")).to_have_text("घंटी बजाने की शपथ")
        expect(projector.locator("#joined")).to_have_text("1")
        expect(run.locator("#joined-count")).to_have_text("1")
        projector.screenshot(path=str(artifacts / "show-projector-game.png"))
        remote.screenshot(path=str(artifacts / "show-remote-game.png"), full_page=True)

        # The facilitator opens the pledge from the phone Remote; the audience pledges.
        remote.locator('#game-panel [data-action="next"]').tap()
        audience.locator(".pledge-button").tap()
        expect(audience.locator(".received")).to_be_visible()
        expect(projector.locator("#pledge-counter")).to_have_text("1")
        expect(run.locator("#game-panel .state-badge")).to_have_attribute("data-state", "question_open")
        expect(remote.locator("#game-panel .state-badge")).to_have_attribute("data-state", "question_open")
        no_sideways_scroll(remote)
        accessible(remote)
        run.screenshot(path=str(artifacts / "show-run-game.png"), full_page=True)

        # Close, then end the game from Run: the programme goes on to b by itself.
        run.click('#game-panel [data-action="close"]')
        run.click('#game-panel [data-action="next"]')       # the pledge's last step: End the game
        expect(run.locator("#now-title")).to_have_text("b")
        expect(run.locator("#game-panel")).to_be_hidden()
        expect(remote.locator("#game-panel")).to_be_hidden()
        expect(remote.locator("#now-title")).to_have_text("b")
        expect(projector.locator("#view-card")).to_be_visible()
        expect(projector.locator("#title-hi")).to_have_text("b")
        expect(audience.locator("h1.finished")).to_be_visible()
        expect(run.locator("#plays tbody tr")).to_have_count(3)
        assert run.locator("#plays tbody tr").nth(1).get_attribute("class") == "outcome-completed"
        accessible(run, exclude=["#plays"])       # the log is rewritten every few polls

        # Finish: the night's summary, with a success message; goodbye on the projector.
        run.once("dialog", lambda dialog: dialog.accept())
        run.click("#finish")
        run.wait_for_url(re.compile(r"/summary\?finished=1$"))
        expect(run.locator("#finished-message")).to_be_visible()
        plays = run.locator("#summary-plays tbody tr")
        expect(plays).to_have_count(3)
        expect(plays.nth(1)).to_contain_text("The Ring the Bell pledge")
        expect(plays.nth(1)).to_contain_text("played to the end")
        expect(run.locator("#summary-pledges")).to_have_text("1 people took the pledge.")
        expect(run.locator(".run-result .pledge-total")).to_have_text("1")
        body = run.locator("main").inner_text()
        assert "QR version" not in body and "pledge:" not in body and "Text of the code" not in body
        run.screenshot(path=str(artifacts / "show-summary.png"), full_page=True)
        accessible(run)
        expect(projector.locator("#view-closing")).to_be_visible()
        expect(projector.locator("#thanks-en")).to_have_text("Thank you, Rampur!")
        expect(projector.locator("#closing-count")).to_have_text("1")
        projector.screenshot(path=str(artifacts / "show-projector-closing.png"))
        accessible(projector)
        seen = projector.locator("#show").inner_text()
        assert not [w for w in hidden_from_audience if w and w in seen], seen
        assert "Traceback" not in srv.log()
    finally:
        for made in contexts:
            made.close()
