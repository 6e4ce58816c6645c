"""Every page, walked in real Chromium with real data (tests/support/pages.py lists them): on a
360x740 phone and a 1920x1080 projector, in Hindi and English. Each test below asserts one
behaviour over the whole walk and names every page and element that breaks it:

- no page scrolls sideways, and every target on a phone is at least 48x48 CSS px;
- axe-core finds no serious or critical violation (contrast included), in either language;
- a Hindi page shows no Latin-script word outside a short reviewed list;
- Hindi is drawn with the font the app carries (this machine has no Devanagari font of its own).

The walk runs once per module (it takes a few minutes); screenshots land in test-artifacts/walk/.
"""
import re
from collections import defaultdict

import pytest

from vanapp import create_app

from .support import walk
from .support.evening import COORDINATOR, PASSWORD, PIN, Evening, Hub
from .support.pages import (FILE_NAME, HUB_PAGES, NOT_WORDS, PROPER_NAMES, VAN_ID, VAN_PAGES,
                            Page, is_page_endpoint)
from .conftest import ARTIFACTS

# The walk (set up once for the module, in its first test) visits ~55 pages three times each.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1500)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}
WAIT_MS = 20_000


def allowed_word(page: Page):
    names = {w.lower() for w in PROPER_NAMES if len(w) > 1}      # CSS may set a name in capitals

    def allowed(word: str) -> bool:
        if word in PROPER_NAMES or word.lower() in names or re.fullmatch(VAN_ID, word, re.I):
            return True
        # file names where the crew must find or copy a file: Media, and pre-flight's missing files
        return (page.endpoint in ("console.media", "console.preflight")
                and re.fullmatch(FILE_NAME, word) is not None)
    return allowed


class Walker:
    """Browser contexts by (who, size, language), logged in where the page needs it."""

    def __init__(self, browser, van_url, hub_url=None):
        self.browser, self.van_url, self.hub_url = browser, van_url, hub_url
        self.contexts = {}
        self.found = defaultdict(list)
        (ARTIFACTS / "walk").mkdir(parents=True, exist_ok=True)

    def _context(self, who, size, lang):
        key = (who, size, lang)
        if key in self.contexts:
            return self.contexts[key]
        base = self.hub_url if who.startswith("hub") else self.van_url
        context = self.browser.new_context(**(PHONE if size == "phone" else PROJECTOR))
        context.set_default_timeout(WAIT_MS)
        host = base.split("//")[1].split(":")[0]
        context.add_cookies([{"name": "vk_lang", "value": lang, "domain": host, "path": "/"}])
        page = context.new_page()
        if who in ("crew", "projector"):
            page.goto(self.van_url + "/login")
            page.fill("#pin", PIN)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
        elif who == "hub":
            page.goto(self.hub_url + "/login")
            page.fill("#username", COORDINATOR)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
        self.contexts[key] = (context, page)
        return context, page

    def visit(self, spec: Page, ids: dict, size: str, lang: str):
        _context, page = self._context(spec.who, size, lang)
        base = self.hub_url if spec.who.startswith("hub") else self.van_url
        where = f"{spec.name} [{size}, {lang}]"
        path = spec.path.format(**ids)
        page.goto(base + path if path.startswith("/") else path)
        if spec.submit:
            with page.expect_navigation():
                page.click(spec.submit)
        page.wait_for_load_state("load")
        if spec.wait:
            try:
                page.wait_for_selector(spec.wait, state="attached", timeout=WAIT_MS)
            except Exception:                 # noqa: BLE001 - reported, and the rest is still walked
                self.found["state"].append(f"{where}: {spec.wait} never appeared")
        page.evaluate("document.fonts.ready")
        if spec.wait or spec.who in ("projector", "audience"):
            page.wait_for_timeout(400)        # the page's polls answer once more: nothing still moving
        if lang == "hi" or spec.who in ("projector", "audience"):
            page.screenshot(path=str(ARTIFACTS / "walk" / f"{spec.name}-{size}-{lang}.png"), full_page=size == "phone")
        if size == "phone":
            self.found["phone"] += walk.phone_fit(page, where)
        else:
            self.found["window"] += walk.page_fits_window(page, where)
        self.found["axe"] += walk.axe(page, where)
        if lang == "hi" and size == "phone":
            self.found["latin"] += walk.latin_words(page, where, allowed_word(spec), NOT_WORDS)
            self.found["fonts"] += walk.hindi_fonts(page, where)

    def walk(self, pages, ids):
        for spec in pages:
            self.visit(spec, ids, "phone", "hi")
            self.visit(spec, ids, "phone", "en")
            self.visit(spec, ids, "projector", "hi")

    def close(self):
        for context, _page in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def walked(chromium, tmp_path_factory):
    """The evening, stage by stage, each stage's pages walked while it lasts; then the hub."""
    root = tmp_path_factory.mktemp("walk")
    evening = Evening(root / "van").load()
    hub = None
    walker = Walker(chromium, evening.url)
    try:
        for stage, step in (("night", evening.night), ("revealed", evening.revealed), ("buzzer", evening.buzzer),
                            ("after", evening.after)):
            step()
            walker.walk([p for p in VAN_PAGES if p.stage == stage], evening.ids)
        hub = Hub(root / "hub").start(evening)
        link = evening.crew.api("GET", f"/api/v1/screenings/{evening.ids['tonight']}/summary")["qr"]["text"]
        assert link.startswith(hub.url), link
        ids = dict(hub.ids, summary_path=link)
        walker.hub_url = hub.url
        walker.walk([p for p in VAN_PAGES if p.stage == "hub"] + HUB_PAGES, ids)
        yield walker.found
    finally:
        walker.close()
        if hub:
            hub.stop()
        evening.stop()


def _report(lines):
    return "\n".join(sorted(set(lines)))


def test_every_page_reached_its_state(walked):
    assert not walked["state"], _report(walked["state"])


def test_no_page_scrolls_sideways_and_every_phone_target_is_48px(walked):
    assert not walked["phone"], "on a 360x740 phone:\n" + _report(walked["phone"])


def test_no_page_scrolls_sideways_at_projector_size(walked):
    assert not walked["window"], "at 1920x1080:\n" + _report(walked["window"])


def test_axe_finds_nothing_serious_on_any_page_in_either_language(walked):
    assert not walked["axe"], _report(walked["axe"])


def test_hindi_pages_show_no_english_words(walked):
    assert not walked["latin"], "Latin-script words on Hindi pages:\n" + _report(walked["latin"])


def test_hindi_is_drawn_with_the_font_the_app_carries_on_every_page(walked):
    assert not walked["fonts"], _report(walked["fonts"])


@pytest.mark.parametrize("mode", ["van", "hub"])
def test_every_page_the_app_serves_is_walked(tmp_path, mode):
    """A GET route that renders a page must be in tests/support/pages.py (or named there as
    not a page): a new page is walked too."""
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "MODE": mode})
    walked_endpoints = {p.endpoint for p in VAN_PAGES + HUB_PAGES}
    missing = sorted(rule.endpoint for rule in app.url_map.iter_rules()
                     if "GET" in rule.methods and is_page_endpoint(rule.endpoint)
                     and rule.endpoint not in walked_endpoints)
    assert not missing, "pages no walk visits (add them to tests/support/pages.py): " + ", ".join(missing)
