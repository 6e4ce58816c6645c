"""Games end to end: a real `vanapp serve`, real Chromium with separate contexts for the
projector, the crew and three phones; a buzzer race over concurrent HTTP; a restart mid-game.

Every wait polls with a generous deadline (TIMEOUT) so a loaded 2-core CI box only makes it
slower, never red."""
import re
import sqlite3
import subprocess
import sys
import threading

import pytest
import requests

from .conftest import PIN
from .support.server import ROOT

pytestmark = pytest.mark.browser

SEED = """
from vanapp import create_app
from vanapp.models import db
from vanapp.games.content import load_games
from tests.support.factories import make_screening
app = create_app()
with app.app_context(), db.connection_context():
    result = load_games(app.config["MEDIA_DIR"])
    assert result.ok, [str(p) for p in result.problems]
    s = make_screening(items=[("psa", "ring-the-bell"), ("game", "attitude@before"), ("film", "equal-voices"),
                              ("game", "attitude@after"), ("game", "bell-quiz"), ("game", "bell-buzzer"),
                              ("game", "pledge")])
    print(s.id)
"""
TIMEOUT_MS = 60_000          # Playwright waits (selectors, functions, clicks, navigations)
HTTP_TIMEOUT = 30            # requests to the server from the test itself
PHONE = {"viewport": {"width": 390, "height": 780}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def van(server_factory):
    """A real server with the sample games and tonight's screening; phones join at its own URL."""
    srv = server_factory("van")
    out = subprocess.run([sys.executable, "-c", SEED], env=srv.env, cwd=str(ROOT), capture_output=True,
                         text=True, check=True, timeout=120)
    srv.screening = out.stdout.strip().splitlines()[-1]
    srv.env["VANAPP_PUBLIC_URL"] = srv.url
    srv.stop()
    return srv.start(timeout=60)


def new_context(browser, **kwargs):
    """A separate browser context (own cookies and storage) with generous wait deadlines."""
    context = browser.new_context(**kwargs)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def wait_text(page, css, want, prefix=False):
    """Poll until the element exists and its text is `want` (or starts with it). The element may
    not be rendered yet on a slow box: that is waited for, not an error."""
    page.wait_for_function(
        """([css, want, prefix]) => {
             const node = document.querySelector(css);
             if (!node) return false;
             return prefix ? node.textContent.startsWith(want) : node.textContent === want;
           }""", arg=[css, want, prefix], timeout=TIMEOUT_MS)


def crew_context(browser, srv, **kwargs):
    context = new_context(browser, **kwargs)
    page = context.new_page()
    page.goto(srv.url + "/login")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


class Session(requests.Session):
    """requests with a deadline on every call: a lost request fails the test, never hangs it."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return super().request(*args, **kwargs)


def crew_session(srv):
    """A requests session logged in as the crew, with the CSRF header set."""
    import re
    s = Session()
    page = s.get(srv.url + "/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    s.post(srv.url + "/login", data={"pin": PIN, "csrf_token": token})
    token = re.search(r'name="csrf-token" content="([^"]+)"', s.get(srv.url + "/games/").text).group(1)
    s.headers["X-CSRFToken"] = token
    return s


def phone_session(srv):
    import re
    s = Session()
    page = s.get(srv.url + "/a/").text
    s.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return s


def decode_qr(png: bytes, tmp_path) -> str:
    """Read the QR code as a phone would (zbar, from the Makefile's test packages)."""
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    out = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, "no QR code found on the projector"
    return out.stdout.strip()


def test_three_phones_play_a_whole_quiz(chromium, van, artifacts, tmp_path):
    crew_ctx, crew = crew_context(chromium, van, viewport={"width": 1200, "height": 900})
    crew.goto(van.url + "/games/")
    crew.locator('li[data-game="bell-quiz"] form button').click()
    crew.wait_for_selector('button[data-action="next"]')

    projector_ctx, projector = crew_context(chromium, van, viewport={"width": 1280, "height": 720})
    projector.goto(van.url + "/games/projector")
    projector.wait_for_selector(".game-title")
    join_url = decode_qr(projector.locator(".qr").screenshot(), tmp_path)
    assert join_url == van.url + "/a/"
    assert projector.locator("#join-short").text_content() == van.url.removeprefix("http://") + "/a"

    phones = []
    for _ in range(3):
        context = new_context(chromium, **PHONE)
        page = context.new_page()
        page.goto(join_url)
        phones.append(page)
    wait_text(projector, "#joined", "3")
    wait_text(crew, "#joined-count", "3")

    # Question 1: two right, one wrong, then the crew adds a show of hands.
    answers = {"q1": "cca", "q2": "bbb", "q3": "aac", "q4": "aab", "q5": "aaa"}
    for n, (qid, picks) in enumerate(answers.items()):
        crew.click('button[data-action="next"]')
        for page, choice in zip(phones, picks):
            page.click(f'button.choice[data-choice="{choice}"]')
        for page in phones:
            page.wait_for_selector("p.received")
        if n == 0:
            # A quiz's split stays off the projector while the question is open (issue 13);
            # the crew's table has each phone answer at once, and the hands are added to it.
            wait_text(crew, 'tr[data-choice="c"] .phones-count', "2")
            assert projector.locator("li.bar .bar-num").count() == 0
            crew.fill('input.hands-input[data-choice="b"]', "6")
            crew.click('button[data-action="hands"]')
            wait_text(crew, 'tr[data-choice="b"] .total-count', "6")
        crew.click('button[data-action="close"]')
        if n == 0:     # closed: the split shows, hands included
            wait_text(projector, 'li.bar[data-choice="c"] .bar-num', "2 ", prefix=True)
            wait_text(projector, 'li.bar[data-choice="b"] .bar-num', "6 ", prefix=True)
        crew.click('button[data-action="reveal"]')
        for page, choice in zip(phones, picks):
            page.wait_for_selector(".verdict")
        projector.wait_for_selector("li.bar.right")
        if n == 0:
            assert phones[0].locator(".verdict.ok").count() == 1
            assert phones[2].locator(".verdict.bad").count() == 1
            assert projector.locator(".explanation").count() == 1
            projector.screenshot(path=str(artifacts / "games-projector-reveal.png"))
            phones[0].screenshot(path=str(artifacts / "games-phone-reveal.png"))
    crew.click('button[data-action="next"]')          # past the last question: the end
    projector.wait_for_selector(".state-finished")
    for page in phones:
        page.wait_for_selector("h1.finished")
    projector.screenshot(path=str(artifacts / "games-projector-finished.png"))

    live = crew_ctx.request.get(van.url + "/api/v1/games/live").json()
    results = crew_ctx.request.get(van.url + f"/api/v1/games/runs/{live['run']}").json()
    by_q = {q["id"]: q for q in results["questions"]}
    assert [c["phones"] for c in by_q["q1"]["choices"]] == [1, 0, 2]
    assert [c["hands"] for c in by_q["q1"]["choices"]] == [0, 6, 0]
    assert by_q["q2"]["right_pct"] == 100 and by_q["q5"]["choices"][0]["phones"] == 3
    assert results["state"] == "finished"
    for context in (crew_ctx, projector_ctx, *[p.context for p in phones]):
        context.close()


def test_double_vote_counts_once_and_reload_keeps_the_answer(chromium, van):
    crew = crew_session(van)
    run = crew.post(van.url + "/api/v1/games/runs", json={"screening": van.screening, "game": "neighbour-dilemma"}).json()["run"]
    crew.post(van.url + "/api/v1/games/live/next", json={})
    context = new_context(chromium, **PHONE)
    page = context.new_page()
    page.goto(van.url + "/a/")
    page.click('button.choice[data-choice="ignore"]')
    page.wait_for_selector("p.received")
    page.click('button.choice[data-choice="ring"]')
    page.wait_for_selector('button.choice.chosen[data-choice="ring"]')
    page.wait_for_selector("p.received")
    counts = crew.get(van.url + "/api/v1/games/live").json()["tally"]["counts"]
    assert counts["ignore"]["phones"] == 0 and counts["ring"]["phones"] == 1
    page.reload()
    page.wait_for_selector('button.choice.chosen[data-choice="ring"]')
    # A phone that lost its cookie comes back with its rejoin token: still one phone, same answer.
    context.clear_cookies()
    page.reload()
    page.wait_for_selector('button.choice.chosen[data-choice="ring"]')
    live = crew.get(van.url + "/api/v1/games/live").json()
    assert live["tally"]["joined"] == 1 and live["run"] == run
    assert live["tally"]["counts"]["ring"]["phones"] == 1
    context.close()


def test_buzzer_team_survives_reload_and_projector_shows_scores(chromium, van, artifacts):
    crew = crew_session(van)
    crew.post(van.url + "/api/v1/games/runs", json={"screening": van.screening, "game": "bell-buzzer"})
    context = new_context(chromium, **PHONE)
    page = context.new_page()
    page.goto(van.url + "/a/")
    page.click('button[data-team="blue"]')
    page.wait_for_selector(".team-chip")
    crew.post(van.url + "/api/v1/games/live/next", json={})
    page.click('button[data-ring="1"]')
    page.wait_for_selector("p.received")
    assert crew.get(van.url + "/api/v1/games/live").json()["tally"]["queue"] == ["blue"]
    page.reload()
    page.wait_for_selector(".team-chip")
    assert page.locator('button[data-ring="1"]').count() == 0, "a reloaded phone must not ring twice"
    crew.post(van.url + "/api/v1/games/live/judge", json={"correct": True})
    projector_ctx, projector = crew_context(chromium, van, viewport={"width": 1280, "height": 720})
    projector.goto(van.url + "/games/projector")
    wait_text(projector, 'li.team[data-team="blue"] .team-score', "1")
    projector.screenshot(path=str(artifacts / "games-projector-buzzer.png"))
    page.screenshot(path=str(artifacts / "games-phone-buzzer.png"))
    context.close()
    projector_ctx.close()


def test_buzzer_race_is_decided_by_arrival_order(van):
    crew = crew_session(van)
    run = crew.post(van.url + "/api/v1/games/runs", json={"screening": van.screening, "game": "bell-buzzer"}).json()["run"]
    teams = ["red", "blue", "yellow"]
    phones = []
    for i in range(12):
        s = phone_session(van)
        assert s.post(van.url + "/a/api/join", json={"team": teams[i % 3]}).status_code == 200
        phones.append(s)
    crew.post(van.url + "/api/v1/games/live/next", json={})
    # A ring well before the others is first, whatever its team.
    early = phones[4]                      # blue
    assert early.post(van.url + "/a/api/buzz", json={"run": run, "question": "q1"}).json()["first"] is True
    barrier = threading.Barrier(11)
    answers = []

    def ring(s):
        barrier.wait()
        answers.append(s.post(van.url + "/a/api/buzz", json={"run": run, "question": "q1"}).json())
    threads = [threading.Thread(target=ring, args=(s,)) for s in phones if s is not early]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue = crew.get(van.url + "/api/v1/games/live").json()["tally"]["queue"]
    db = sqlite3.connect(f"file:{van.data_dir / 'vanapp.db'}?mode=ro", uri=True)
    arrivals = [team for (team,) in db.execute("SELECT team FROM game_buzz WHERE run_id = ? ORDER BY id", (run,))]
    db.close()
    assert len(arrivals) == 12
    assert arrivals[0] == "blue" and queue[0] == "blue"
    expected = []
    for team in arrivals:
        if team not in expected:
            expected.append(team)
    assert queue == expected, "teams are queued in the order their first bell reached the server"
    assert all(a["rank"] == queue.index(a["team"]) + 1 for a in answers)
    crew.post(van.url + "/api/v1/games/live/judge", json={"correct": False})
    assert crew.get(van.url + "/api/v1/games/live").json()["tally"]["turn"] == queue[1]


def without_own_url(html: str) -> str:
    """Every page's language switch links back to the URL the visitor asked for — here a crew
    URL with the screening's id that the probe itself typed. That echo discloses nothing: drop
    it and check that the rest of the page holds none of the crew's data."""
    return re.sub(r'<a class="lang"[^>]*href="/lang/[^"]*"', "", html)


def test_audience_context_reaches_no_crew_page_or_api(chromium, van):
    crew = crew_session(van)
    run = crew.post(van.url + "/api/v1/games/runs", json={"screening": van.screening, "game": "bell-quiz"}).json()["run"]
    context = new_context(chromium, **PHONE)
    page = context.new_page()
    page.goto(van.url + "/a/")
    page.wait_for_selector(".phone-game")
    secrets = [van.screening, run, "रामपुर", "Rampur"]
    for path in ["/", "/tour", "/media", "/games/", "/games/projector", f"/games/screenings/{van.screening}",
                 f"/games/runs/{run}", f"/run/{van.screening}", "/run/", "/run/projector", "/attendance/",
                 f"/attendance/screenings/{van.screening}", f"/screenings/{van.screening}", "/preflight"]:
        response = page.goto(van.url + path)
        assert "/login" in page.url or response.status in (401, 403, 404), path
        if "/login" in page.url:
            assert page.locator("#pin").count() == 1, path
        content = without_own_url(page.content())
        assert not [s for s in secrets if s in content], path
    for path in ["/api/v1/games/live", "/api/v1/games", "/api/v1/games/runs", f"/api/v1/games/runs/{run}",
                 "/api/v1/screenings", f"/api/v1/screenings/{van.screening}", "/api/v1/player"]:
        response = context.request.get(van.url + path)
        assert response.status == 401, path
        assert not [s for s in secrets if s in response.text()], path
    page.goto(van.url + "/a/")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    for path in ["/api/v1/games/live/next", "/api/v1/games/live/finish"]:
        response = context.request.post(van.url + path, data="{}", headers={"X-CSRFToken": token,
                                                                            "Content-Type": "application/json"})
        assert response.status == 401
    assert crew.get(van.url + "/api/v1/games/live").json()["state"] == "lobby"
    context.close()


def test_before_after_poll_and_restart_mid_question_loses_nothing(van):
    crew = crew_session(van)
    phones = [phone_session(van) for _ in range(4)]

    def play(phase, picks, hands=None, kill=False):
        run = crew.post(van.url + "/api/v1/games/runs", json={"screening": van.screening, "game": "attitude",
                                                              "phase": phase}).json()["run"]
        for s in phones:
            s.post(van.url + "/a/api/join", json={})
        crew.post(van.url + "/api/v1/games/live/next", json={})
        for s, choice in zip(phones, picks):
            assert s.post(van.url + "/a/api/vote", json={"run": run, "question": "private-matter",
                                                         "choice": choice}).status_code == 200
        if kill:                      # the generator coughs: SIGKILL, then back up
            van.kill9()
            van.start(timeout=60)
        if hands:
            crew.put(van.url + "/api/v1/games/live/hands", json={"question": "private-matter", "counts": hands})
        crew.post(van.url + "/api/v1/games/live/finish", json={})
        return run

    play("before", ["yes", "yes", "yes", "no"])
    after = play("after", ["yes", "no", "no", "no"], hands={"no": 4}, kill=True)
    result = crew.get(van.url + f"/api/v1/games/runs/{after}").json()
    choices = {c["id"]: c for c in result["questions"][0]["choices"]}
    assert choices["no"]["phones"] == 3 and choices["no"]["hands"] == 4 and choices["yes"]["phones"] == 1
    moved = {c["id"]: c for c in result["before_after"]["questions"][0]["choices"]}
    assert (moved["yes"]["before"], moved["yes"]["after"]) == (75, 13)
    assert (moved["no"]["before"], moved["no"]["after"]) == (25, 88)
    page = crew.get(van.url + f"/games/screenings/{van.screening}").text
    assert 'class="before-after"' in page and "88%" in page
