"""The whole night, as a crew lives it, in one test: a real hub and a real `vanapp serve` (the
sample films through real libVLC with dummy outputs, the sample games), real Chromium contexts
for the laptop, a 1920x1080 projector, a crew phone and two audience phones.

Log in → choose tonight → start → the programme's poll opens by itself; the phones join by the
URL read off the projector's QR code with zbar, vote; reveal → the game's end moves the
programme on → a PSA → the pledge, driven from the crew phone's Remote → taps from the crew
phone → the server killed (SIGKILL) in the middle of the next PSA, started again, resumed →
Finish → the summary's numbers are what was done, its QR code decodes and the hub verifies it →
Sync now → the hub's dashboard shows the same numbers. A screenshot of every step lands in
test-artifacts/night-NN-*.png.

Nothing here depends on today's date: the tour file is written for the day the test runs on
(whatever clock `make test TEST_NOW=...` gives it)."""
import datetime as dt
import json
import re
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from .conftest import PIN, need_zbarimg
from .support.server import ROOT
from .support.syncenv import Hub, vanapp
from .test_games_browser import decode_qr

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 45_000
COORDINATOR, PASSWORD = "asha", "bell-bajao-night"
TZ = ZoneInfo("Asia/Kolkata")
PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
             locale="hi-IN")

TOUR = """\
# One van's week: tonight's show first, tomorrow's after it.
tour: night-{today}
title: Bell Bajao — one night
van: van-03
campaign: bell-bajao
programmes:
  night: [game:neighbour-dilemma, psa:ring-the-bell, game:pledge, psa:helpline-181]
screenings:
  - {{date: {today}, start: "19:00", village: "रामपुर", village_en: Rampur, block: Haidergarh, district: Barabanki, programme: night}}
  - {{date: {tomorrow}, start: "18:30", village: "सुबेहा", village_en: Subeha, block: Haidergarh, district: Barabanki, programme: night}}
"""


class Steps:
    """Numbered screenshots: test-artifacts/night-01-login.png, ..."""

    def __init__(self, artifacts):
        self.artifacts, self.n = artifacts, 0

    def __call__(self, page, name, full_page=False):
        self.n += 1
        page.screenshot(path=str(self.artifacts / f"night-{self.n:02d}-{name}.png"), full_page=full_page)


def context(browser, **kwargs):
    made = browser.new_context(**kwargs)
    made.set_default_timeout(WAIT)
    made.set_default_navigation_timeout(WAIT)
    return made


def crew_login(page, base, then):
    page.goto(f"{base}/login?next={then}")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + then) + "$"))


def show_state(base, session):
    return session.get(base + "/api/v1/player", timeout=20).json()


def wait_show(base, session, predicate, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = show_state(base, session)
        if predicate(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last state: {state}")


def prepare_van(server_factory, hub, tmp_path):
    """What `make run` and the coordinator do before the night: the van's database and PIN, the
    media scanned, the games loaded, tonight's tour imported, the van paired with the hub."""
    today = dt.datetime.now(TZ).date()
    tour = tmp_path / "night.yaml"
    tour.write_text(TOUR.format(today=today.isoformat(), tomorrow=(today + dt.timedelta(days=1)).isoformat()),
                    encoding="utf-8")
    code = hub.add_van("van-03")
    van = server_factory("van")
    for args in (("media", "scan"), ("games", "load"), ("schedule", "import", str(tour)),
                 ("pair", hub.url, code)):
        vanapp(van.data_dir, *args, check=True)
    listed = json.loads(vanapp(van.data_dir, "schedule", "list", "--json", check=True).stdout)
    rows = listed if isinstance(listed, list) else listed.get("screenings") or listed.get("items")
    tonight = next(s for s in rows if s["date"] == today.isoformat())
    van.env["VANAPP_PUBLIC_URL"] = van.url          # the join address phones reach (loopback here)
    van.restart()
    return van, tonight["id"]


def test_a_whole_night_from_login_to_the_hub_dashboard(server_factory, chromium, tmp_path, artifacts,
                                                      patient_expect):
    need_zbarimg()
    hub = Hub(server_factory)
    added = subprocess.run([sys.executable, "-m", "vanapp.cli", "hub", "add-coordinator", COORDINATOR,
                            "--password-stdin"], input=PASSWORD + "\n", env=dict(hub.server.env), cwd=str(ROOT),
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    van, sid = prepare_van(server_factory, hub, tmp_path)
    base = van.url
    step = Steps(artifacts)
    watcher = requests.Session()                    # the test's own eyes on the show (crew login)
    made = []
    try:
        # -- log in on the laptop and choose tonight's show --------------------------------
        laptop = context(chromium, viewport={"width": 1280, "height": 900}, locale="en-IN")
        made.append(laptop)
        run = laptop.new_page()
        run.goto(base + "/lang/en?next=/login")
        step(run, "login")
        crew_login(run, base, "/")
        step(run, "today", full_page=True)
        run.click('nav a[href="/run/"]')
        tonight = run.locator("#choose li.choice").first      # the chooser: tonight's show first
        expect(tonight).to_have_attribute("data-screening", sid)
        step(run, "choose-tonight", full_page=True)
        tonight.locator("a.button").click()
        expect(run.locator("#run")).to_have_attribute("data-screening", sid)
        expect(run.locator("h1")).to_contain_text("Rampur")
        step(run, "run-tonight", full_page=True)
        watcher.cookies.update({c["name"]: c["value"] for c in laptop.cookies()})

        projector_ctx = context(chromium, storage_state=laptop.storage_state(),
                                viewport={"width": 1920, "height": 1080})
        crew_phone_ctx = context(chromium, **PHONE)
        phone_ctxs = [context(chromium, **PHONE) for _ in range(2)]
        made += [projector_ctx, crew_phone_ctx, *phone_ctxs]
        projector = projector_ctx.new_page()
        projector.goto(base + "/run/projector")
        expect(projector.locator("#view-welcome")).to_be_visible()
        remote = crew_phone_ctx.new_page()
        crew_login(remote, base, "/run/remote")

        # -- start: the poll opens by itself on every screen --------------------------------
        run.click("#start")
        expect(run.locator("#finish")).to_be_visible()
        expect(projector.locator("#view-game")).to_be_visible()
        expect(projector.locator(".game-title")).to_contain_text("पड़ोसी क्या करे?")
        expect(run.locator("#game-panel .state-badge")).to_have_attribute("data-state", "lobby")
        live = watcher.get(base + "/api/v1/games/live", timeout=20).json()
        assert (live["game"]["id"], live["screening"], live["position"]) == ("neighbour-dilemma", sid, 0)
        step(projector, "projector-game-lobby")

        # -- the phones join by the URL on the projector's QR code -----------------------------
        join_url = decode_qr(projector.locator(".qr").screenshot(), tmp_path)
        assert join_url == base + "/a/"
        phones = []
        for made_ctx in phone_ctxs:
            phone = made_ctx.new_page()
            phone.goto(join_url)
            expect(phone.locator(".phone-game")).to_have_text("पड़ोसी क्या करे?")
            phones.append(phone)
        expect(projector.locator("#joined")).to_have_text("2")
        expect(run.locator("#joined-count")).to_have_text("2")
        step(phones[0], "phone-joined")

        # -- vote, reveal, next ---------------------------------------------------------------
        run.click('#game-panel [data-action="next"]')
        for phone, choice in zip(phones, ("ring", "call")):
            phone.locator(f'button.choice[data-choice="{choice}"]').tap()
            expect(phone.locator(".received")).to_be_visible()
        # open: how many answered, not who answered what (issue 13); closed: the split
        expect(projector.locator("#answer-count")).to_have_text(re.compile(r"^2\b"))
        expect(projector.locator("#stage .bar-num")).to_have_count(0)
        step(projector, "projector-votes")
        run.click('#game-panel [data-action="close"]')
        expect(projector.locator('li.bar[data-choice="ring"] .bar-num')).to_have_text(re.compile(r"^1\b"))
        expect(projector.locator('li.bar[data-choice="call"] .bar-num')).to_have_text(re.compile(r"^1\b"))
        run.click('#game-panel [data-action="reveal"]')
        expect(projector.locator("#projector")).to_have_class(re.compile(r"state-revealed"))
        for phone in phones:
            expect(phone.locator(".reveal")).to_be_visible()
        step(phones[1], "phone-reveal")
        step(run, "run-reveal", full_page=True)
        run.click('#game-panel [data-action="next"]')            # End the game: the programme goes on

        # -- a PSA, then the pledge from the crew phone -----------------------------------------
        expect(run.locator("#now-title")).to_have_text("Ring the Bell")
        expect(projector.locator("#view-card")).to_be_visible()
        expect(projector.locator("#title-en")).to_have_text("Ring the Bell")
        for phone in phones:
            expect(phone.locator("h1.finished")).to_be_visible()
        step(projector, "projector-psa")
        expect(projector.locator(".game-title")).to_contain_text("घंटी बजाने की शपथ")
        expect(remote.locator("#game-panel")).to_be_visible()
        remote.locator('#game-panel [data-action="next"]').tap()   # Open the pledge
        for phone in phones:
            phone.locator(".pledge-button").tap()
            expect(phone.locator(".received")).to_be_visible()
        expect(projector.locator("#pledge-counter")).to_have_text("2")
        step(projector, "projector-pledge")
        step(remote, "remote-pledge", full_page=True)

        # -- the crew phone counts who came ---------------------------------------------------
        count = crew_phone_ctx.new_page()
        count.goto(base + "/attendance/")
        expect(count).to_have_url(f"{base}/attendance/screenings/{sid}")
        for category, taps in (("men", 3), ("women", 2), ("girls", 1)):
            for _ in range(taps):
                count.locator(f'.tally-cell[data-category="{category}"] .tally-plus').tap()
        expect(count.locator(".tally-cell.is-pending")).to_have_count(0)
        expect(count.locator("#tally-total")).to_have_text("6")
        step(count, "count")
        remote.locator('#game-panel [data-action="close"]').tap()
        remote.locator('#game-panel [data-action="next"]').tap()   # End the game

        # -- the power fails in the middle of the next PSA ------------------------------------
        cut = wait_show(base, watcher, lambda s: s["index"] == 3 and s["state"] == "playing"
                        and (s["position_ms"] or 0) >= 3000, "the helpline PSA at 0:03")
        assert cut["item"]["ref"] == "helpline-181"
        van.kill9()
        expect(run.locator("#state")).to_have_class(re.compile(r"\boffline\b"))   # Run says it lost the laptop
        step(run, "power-cut")
        van.start()
        run.reload()
        expect(run.locator("#resume-card")).to_be_visible()
        offer = show_state(base, watcher)["resume"]
        at = f"{offer['ms'] // 60000}:{offer['ms'] // 1000 % 60:02d}"
        # kept every second while it plays: the offer is within a second and a half of the cut
        assert (offer["index"], offer["ref"]) == (3, "helpline-181")
        assert cut["position_ms"] - 1500 <= offer["ms"] <= cut["position_ms"] + 1500, (offer, cut)
        expect(run.locator("#resume")).to_contain_text(f"Resume from item 4 at {at}")
        step(run, "resume-offer", full_page=True)
        run.click("#resume")
        expect(run.locator("#now-title")).to_have_text("Women's Helpline 181")
        expect(projector.locator("#title-en")).to_have_text("Women's Helpline 181")
        resumed = wait_show(base, watcher, lambda s: s["state"] == "playing", "the PSA playing again")
        assert resumed["index"] == 3 and (resumed["position_ms"] or 0) >= offer["ms"] - 500     # not from 0:00
        step(projector, "projector-resumed")

        # -- Finish: the night's summary -------------------------------------------------------
        wait_show(base, watcher, lambda s: s["state"] == "finished", "the end of the programme")
        run.once("dialog", lambda dialog: dialog.accept())
        run.click("#finish")
        run.wait_for_url(re.compile(r"/summary\?finished=1$"))
        expect(run.locator("#finished-message")).to_be_visible()
        expect(run.locator("#summary-total")).to_have_text("6")
        for category, n in (("men", 3), ("women", 2), ("boys", 0), ("girls", 1)):
            expect(run.locator(f'#summary-counts td[data-category="{category}"]')).to_have_text(str(n))
        rows = run.locator("#summary-plays tbody tr")
        expect(rows).to_have_count(5)
        assert [rows.nth(i).get_attribute("data-outcome") for i in range(5)] == \
            ["completed", "completed", "completed", "error", "completed"]
        expect(rows.nth(0)).to_contain_text("What should the neighbour do?")
        expect(rows.nth(3)).to_contain_text("Cut off")
        expect(run.locator("#summary-pledges")).to_have_text("2 people took the pledge.")
        poll = run.locator('.run-result[data-game="neighbour-dilemma"] table[data-question="q1"]')
        expect(poll.locator('tr[data-choice="ring"] td').nth(3)).to_have_text("1")
        expect(poll.locator('tr[data-choice="call"] td').nth(3)).to_have_text("1")
        step(run, "summary", full_page=True)
        expect(projector.locator("#view-closing")).to_be_visible()
        expect(projector.locator("#closing-count")).to_have_text("2")
        step(projector, "projector-goodbye")

        # -- the coordinator's QR code: it decodes, and the hub verifies it ----------------------
        text = decode_qr(run.locator(".summary-qr .qr").screenshot(), tmp_path)
        assert text.startswith(f"{hub.url}/s/van-03/"), text
        verified = requests.get(text, headers={"Accept": "application/json"}, timeout=20)
        assert verified.status_code == 201, verified.text
        night = verified.json()["summary"]
        assert night["screening"] == sid
        assert night["counts"] == {"men": 3, "women": 2, "boys": 0, "girls": 1}
        assert night["pledges"] == {"pledge": 2}
        assert [(p["position"], p["media"], p["outcome"]) for p in night["plays"]] == [
            (0, "neighbour-dilemma", "completed"), (1, "ring-the-bell", "completed"), (2, "pledge", "completed"),
            (3, "helpline-181", "error"), (3, "helpline-181", "completed")]

        # -- sync, and the hub's dashboard shows the same night ---------------------------------
        run.goto(base + "/sync/")
        run.click("#sync-now")
        expect(run.locator("#sync-message")).to_have_attribute("data-state", "ok")
        step(run, "sync", full_page=True)
        coordinator = context(chromium, viewport={"width": 1280, "height": 900})
        made.append(coordinator)
        dash = coordinator.new_page()
        dash.goto(hub.url + "/login?lang=en")
        dash.fill("#username", COORDINATOR)
        dash.fill("#password", PASSWORD)
        dash.click("button[type=submit]")
        expect(dash).to_have_url(hub.url + "/")
        for metric, value in (("held", 1), ("villages", 1), ("people", 6), ("men", 3), ("women", 2),
                              ("boys", 0), ("girls", 1), ("pledges", 2), ("cancelled", 0)):
            expect(dash.locator(f'.totals [data-metric="{metric}"] .value')).to_have_text(str(value))
        step(dash, "hub-dashboard", full_page=True)
        assert "Traceback" not in van.log() and "Traceback" not in hub.server.log()
    finally:
        for made_ctx in made:
            made_ctx.close()
