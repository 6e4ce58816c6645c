"""Pre-flight in real Chromium against a real server: a missing film turns the page red and
names the village; "Check again" shows its progress text and, once the file is back, says
the van may leave."""
import datetime as dt
import subprocess
import sys

import pytest

from .conftest import PIN
from .support.factories import TZ
from .support.server import ROOT

pytestmark = pytest.mark.browser


def _vanapp(srv, *args):
    result = subprocess.run([sys.executable, "-m", "vanapp.cli", *args], env=srv.env, cwd=str(ROOT),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _tour(tmp_path):
    today = dt.datetime.now(TZ).date()
    path = tmp_path / "tonight.yaml"
    path.write_text(f"""\
tour: preflight-test
title: Pre-flight test tour
van: van-03
campaign: bell-bajao
programmes:
  short: [psa:ring-the-bell, game:pledge]
  long: [psa:neighbour, game:bell-quiz, psa:ring-the-bell]
screenings:
  - {{date: {today}, start: "23:30", village: "रामपुर", village_en: Rampur, block: Haidergarh, district: Barabanki, programme: short}}
  - {{date: {today + dt.timedelta(days=1)}, start: "18:30", village: "सतरिख", village_en: Satrikh, block: Harakh, district: Barabanki, programme: long}}
""", encoding="utf-8")
    return path


def test_missing_film_then_check_again_after_the_fix(server_factory, chromium, artifacts, media_dir, tmp_path):
    srv = server_factory("van", env={"VANAPP_MEDIA_DIR": str(media_dir)})
    _vanapp(srv, "media", "scan")
    _vanapp(srv, "games", "load")
    _vanapp(srv, "schedule", "import", str(_tour(tmp_path)))
    film = media_dir / "psa/neighbour.mp4"
    saved = film.read_bytes()
    film.unlink()

    context = chromium.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.goto(srv.url + "/login?next=/preflight")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(srv.url + "/preflight")
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-ready") == "false"
    assert "तैयार नहीं: 1 समस्या" in verdict.inner_text()
    problem = page.locator('.problem[data-ref="psa:neighbour"]')
    assert "psa/neighbour.mp4" in problem.inner_text() and "सतरिख" in problem.inner_text()
    page.screenshot(path=str(artifacts / "preflight-not-ready-hi.png"), full_page=True)

    page.click("a.lang[lang=en]")
    page.wait_for_load_state()
    # Hold the form back once, to see what the crew sees while the check runs.
    page.evaluate("""document.querySelector('#check-again')
        .addEventListener('submit', e => e.preventDefault(), {once: true})""")
    page.click("#check-again button[type=submit]")
    progress = page.locator("#check-again .progress")
    assert progress.is_visible() and "few seconds" in progress.inner_text()
    page.wait_for_function("() => document.querySelector('#check-again button').disabled")

    film.write_bytes(saved)
    page.reload()
    with page.expect_navigation():
        page.click("#check-again button[type=submit]")
    assert page.locator("#verdict").get_attribute("data-ready") == "true"
    assert "Ready to leave" in page.locator("#verdict").inner_text()
    assert page.locator("#checked li.is-ready").count() == 2
    page.screenshot(path=str(artifacts / "preflight-ready-en.png"), full_page=True)
    context.close()
