"""A new crew member's first evening, in real Chromium against a real server:
log in → Today → Pre-flight, in Hindi and English."""
import subprocess
import sys

import pytest

from .conftest import PIN
from .support.server import ROOT

pytestmark = pytest.mark.browser


def _vanapp(srv, *args):
    result = subprocess.run([sys.executable, "-m", "vanapp.cli", *args], env=srv.env, cwd=str(ROOT),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_login_today_preflight_with_the_sample_tour(server_factory, chromium, artifacts):
    srv = server_factory("van")
    _vanapp(srv, "media", "scan")
    _vanapp(srv, "games", "load")
    _vanapp(srv, "schedule", "import", "--sample", "schedules/barabanki-2026-12.yaml")   # as `make run`

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(srv.url + "/")
    assert "/login" in page.url
    page.fill("#pin", "0000")
    page.click("button[type=submit]")
    assert page.locator(".flash.error").is_visible()
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(srv.url + "/")
    assert page.locator("html").get_attribute("lang") == "hi"
    assert page.locator("#next-screening").is_visible()
    assert page.locator("#next-screening .programme li").count() >= 3
    page.screenshot(path=str(artifacts / "console-today-hi.png"), full_page=True)

    page.click("a.lang[lang=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("nav.mainnav >> text=Pre-flight")
    page.wait_for_load_state()
    body = page.locator("main").inner_text()
    assert "Ready to leave" in body or "Not ready" in body
    page.screenshot(path=str(artifacts / "console-preflight-en.png"), full_page=True)

    # the language choice is remembered across pages
    page.click("nav.mainnav >> text=Tour")
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()


def test_phone_sized_console_has_no_horizontal_scroll(server_factory, chromium, artifacts):
    srv = server_factory("van")
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(srv.url + "/login")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(srv.url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360px phone"
    page.screenshot(path=str(artifacts / "console-phone.png"), full_page=True)
    context.close()
