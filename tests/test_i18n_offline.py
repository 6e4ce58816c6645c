"""Every screen in Hindi and English, and nothing served from outside the van."""
import re
from pathlib import Path

import pytest
import requests
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from vanapp.web.i18n import SOURCE_DIR, translated

PACKAGE = Path(__file__).resolve().parents[1] / "vanapp"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def _hindi_catalogue():
    known = {}
    for po in sorted((SOURCE_DIR / "hi").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id and translated(message):
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    known[key] = message.string
    return known


def test_every_ui_string_has_a_hindi_translation():
    known = _hindi_catalogue()
    missing = []
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), METHODS, keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else message[0]
        if msgid and msgid not in known:
            missing.append(f"{filename}: {msgid!r}")
    assert not missing, "strings without Hindi (add them to vanapp/translations/hi/<area>.po):\n" + \
        "\n".join(sorted(set(missing)))


def test_hindi_translations_are_devanagari():
    for msgid, text in _hindi_catalogue().items():
        assert re.search("[\u0900-\u097F]", text if isinstance(text, str) else text[0]) or \
            not re.search("[A-Za-z]{3}", msgid), f"{msgid!r} -> {text!r} has no Devanagari"


def test_templates_and_static_files_load_nothing_from_outside():
    offenders = []
    pattern = re.compile(r"""(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//""", re.I)
    for path in list((PACKAGE / "templates").rglob("*")) + list((PACKAGE / "static").rglob("*")):
        if path.is_file() and path.suffix in {".html", ".css", ".js", ".svg"}:
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if pattern.search(line) and "w3.org/2000/svg" not in line:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()[:120]}")
    assert not offenders, "remote references:\n" + "\n".join(offenders)


def _fonts_for(page, selector: str) -> list[dict]:
    """The fonts Chromium really used to lay out `selector`'s text (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


@pytest.mark.browser
@pytest.mark.parametrize("path, selector", [("/login", "h1"), ("/a/", ".phonebar .brand")])
def test_hindi_is_laid_out_with_the_font_the_app_carries(server_factory, chromium, path, selector):
    """Not with a system font: a laptop or phone without Devanagari fonts shows the same words."""
    srv = server_factory("van")
    font = requests.get(srv.url + "/static/fonts/NotoSansDevanagari-Regular.woff2", timeout=10)
    assert font.status_code == 200 and font.headers["Content-Type"] == "font/woff2"
    assert font.content[:4] == b"wOF2"
    context = chromium.new_context(locale="hi-IN")
    page = context.new_page()
    page.goto(srv.url + path)
    page.evaluate("document.fonts.ready")
    text = page.locator(selector).first.inner_text()
    assert re.search("[\u0900-\u097F]", text), text
    fonts = _fonts_for(page, selector)
    devanagari = [f for f in fonts if f["isCustomFont"] and f["familyName"] == "Noto Sans Devanagari"]
    assert devanagari and devanagari[0]["glyphCount"] >= 2, fonts
    assert not [f for f in fonts if "Devanagari" in f["familyName"] and not f["isCustomFont"]], fonts
    context.close()
