"""The crew's bar on a phone, in real Chromium: one row no taller than 64 px up to 480 px wide,
the night's four pages in it, the rest (and the language, and log out) under "More"; on a laptop
every item in the row. Works without any script of ours (the popover attribute)."""
import pytest

from .conftest import PIN

pytestmark = pytest.mark.browser

NIGHT = ["/", "/run/", "/attendance/", "/games/"]
MORE = ["/tour", "/media", "/preflight", "/sync/"]


def _login(page, base):
    page.goto(base + "/login")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _hrefs(page, css):
    return [a.get_attribute("href") for a in page.locator(css).all() if a.is_visible()]


@pytest.mark.parametrize("width, lang", [(360, "hi"), (360, "en"), (480, "hi")])
def test_the_crew_bar_is_one_row_of_the_nights_four_and_more_on_a_phone(server_factory, chromium, artifacts,
                                                                       width, lang):
    srv = server_factory("van")
    context = chromium.new_context(viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "vk_lang", "value": lang, "domain": "127.0.0.1", "path": "/"}])
    page = context.new_page()
    try:
        _login(page, srv.url)
        for path in NIGHT + MORE:
            page.goto(srv.url + path)
            bar = page.locator("header.topbar").bounding_box()
            assert bar["height"] <= 64, f"{path}: the bar is {bar['height']}px tall at {width}px"
            assert _hrefs(page, "header.topbar nav > a") == NIGHT, path
            assert page.locator(".more-button").is_visible()
            assert _hrefs(page, "#more-menu a") == []            # closed until asked
        page.goto(srv.url + "/attendance/")
        page.click(".more-button")
        assert _hrefs(page, "#more-menu a:not(.lang)") == MORE
        assert page.locator("#more-menu a.lang").is_visible()
        assert page.locator("#more-menu .logout button").is_visible()
        page.screenshot(path=str(artifacts / f"menu-more-{width}-{lang}.png"))
        page.click("#more-menu a[href='/sync/']")
        page.wait_for_url(srv.url + "/sync/")
        assert page.locator(".more-button.is-current").count() == 1   # "you are under More"
        page.click(".more-button")
        page.click("#more-menu .logout button")
        page.wait_for_url(lambda url: "/login" in url)
    finally:
        context.close()


def test_a_laptop_shows_every_item_in_one_row_and_no_more_button(server_factory, chromium):
    srv = server_factory("van")
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        _login(page, srv.url)
        assert not page.locator(".more-button").is_visible()
        assert _hrefs(page, "header.topbar a:not(.brand):not(.lang)") == NIGHT + MORE
        assert page.locator("header.topbar a.lang").is_visible()
        assert page.locator("header.topbar .logout button").is_visible()
        assert page.locator("header.topbar").bounding_box()["height"] <= 64
    finally:
        context.close()
