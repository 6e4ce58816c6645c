"""The crew's Pre-flight and Media pages: verdict, problems with their screenings, Check again,
Scan now — behind the PIN, with CSRF, in Hindi and English."""
import datetime as dt
import re
import shutil

import flask_babel
from babel.dates import format_date
import pytest
import yaml

from vanapp.models import MediaScan

from .support.factories import TZ, make_screening
from .support.server import ROOT


def day(offset=0) -> str:
    return (dt.datetime.now(TZ).date() + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def kit(app, cli, media_dir):
    """Two sample PSAs and the games, scanned and loaded; screenings tonight and in two days."""
    path = media_dir / "catalog.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["items"] = [i for i in data["items"] if i["id"] in ("ring-the-bell", "neighbour")]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app.config["MEDIA_DIR"] = str(media_dir)
    assert cli("media", "scan").exit_code == 0
    assert cli("games", "load").exit_code == 0
    tonight = make_screening(date=day(0), items=(("psa", "ring-the-bell"), ("game", "pledge")))
    later = make_screening(date=day(2), village="सतरिख", village_en="Satrikh",
                           items=(("psa", "neighbour"), ("game", "bell-quiz")))
    return media_dir, tonight, later


def text(response) -> str:
    return response.data.decode()


def lang(crew, code):
    """Switch language. The `app` fixture keeps one app context, so `g` (where Flask-Babel
    caches the locale) outlives a request: drop that cache as a new request would."""
    crew.get(f"/lang/{code}")
    flask_babel.refresh()


def test_a_ready_kit_shows_the_green_verdict_in_both_languages(crew, kit):
    html = text(crew.get("/preflight"))
    assert 'class="verdict ready"' in html and "निकलने के लिए तैयार" in html
    lang(crew, "en")
    html = text(crew.get("/preflight"))
    assert "Ready to leave" in html and "Not ready" not in html
    assert 'id="problems"' not in html
    assert "next 2 screenings" in html


def test_a_missing_file_turns_it_red_and_names_the_screenings_it_hits(crew, kit):
    media, tonight, later = kit
    (media / "psa/neighbour.mp4").unlink()
    lang(crew, "en")
    html = text(crew.get("/preflight"))
    assert 'class="verdict not-ready"' in html and "Not ready: 1 problem<" in html
    problem = html.split('data-ref="psa:neighbour"')[1].split("</ol>")[0]
    assert "The file psa/neighbour.mp4 is missing." in problem
    assert f"/screenings/{later.id}" in problem and "सतरिख" in problem and "Satrikh" in problem
    assert f"/screenings/{tonight.id}" not in html.split('id="problems"')[1].split('id="checked"')[0]

    lang(crew, "hi")
    html = text(crew.get("/preflight"))
    assert "तैयार नहीं: 1 समस्या<" in html and "फ़ाइल psa/neighbour.mp4 नहीं मिली।" in html
    assert "<h3>पड़ोसी</h3>" in html  # the Hindi title on the Hindi page, not the item's code


def test_check_again_posts_with_csrf_and_sees_the_fix(crew, kit):
    media, _tonight, _later = kit
    saved = (media / "psa/neighbour.mp4").read_bytes()
    (media / "psa/neighbour.mp4").unlink()
    lang(crew, "en")
    page = text(crew.get("/preflight"))
    assert "Not ready" in page
    form = page.split('id="check-again"')[1].split("</form>")[0]
    assert 'name="csrf_token"' in form and "data-progress=" in form and "few seconds" in form

    (media / "psa/neighbour.mp4").write_bytes(saved)
    assert crew.post("/preflight", data={"days": "7"}).status_code == 400  # no CSRF token
    html = text(crew.post("/preflight", data={"csrf_token": crew.csrf, "days": "7"}))
    assert "Ready to leave" in html


def test_the_pages_and_their_buttons_need_the_crew_login(client, kit):
    assert "/login" in client.get("/preflight").headers["Location"]
    assert "/login" in client.get("/media").headers["Location"]
    assert client.post("/preflight").status_code in (400, 401)
    assert client.post("/media/scan").status_code in (400, 401)


def test_media_page_shows_length_playability_and_scan_time(crew, kit):
    lang(crew, "en")
    html = text(crew.get("/media"))
    row = html.split('id="media-ring-the-bell"')[1].split("</tr>")[0]
    scanned = format_date(dt.date.fromisoformat(day(0)), "EEE d MMM y", locale="en")
    assert "0:06" in row and "plays" in row and scanned in row  # scanned today, local time
    assert re.search(scanned + r", \d\d:\d\d", row)
    assert "Scan now" in html and 'action="/media/scan"' in html


def test_scan_now_rescans_and_reports_a_broken_file(crew, kit):
    media, _tonight, _later = kit
    before = MediaScan.get_by_id("neighbour").scanned_at
    good = (media / "psa/neighbour.mp4").read_bytes()
    (media / "psa/neighbour.mp4").write_bytes(good[:len(good) // 10])
    shutil.copy(ROOT / "media/psa/ring-the-bell.mp4", media / "psa/stray.mp4")
    lang(crew, "en")
    response = crew.post("/media/scan", data={"csrf_token": crew.csrf})
    assert response.status_code == 302 and response.headers["Location"].endswith("/media")
    html = text(crew.get("/media"))
    assert "Scanned 2 files: 1 fine, 1 with problems." in html
    strays = html.split("Files not in the catalogue: ")[1].split("</p>")[0].split(", ")
    assert "psa/stray.mp4" in strays and "film/equal-voices.mp4" in strays  # trimmed by `kit`
    row = html.split('id="media-neighbour"')[1].split("</tr>")[0]
    assert "does not play" in row and "cut short" in row
    assert MediaScan.get_by_id("neighbour").scanned_at > before


def test_scan_now_with_a_broken_catalogue_changes_nothing_and_escapes_it(crew, kit):
    media, _tonight, _later = kit
    rows = {r.media_id: (r.status, r.scanned_at) for r in MediaScan.select()}
    path = media / "catalog.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: psa", "kind: <b>movie</b>", 1),
                    encoding="utf-8")
    lang(crew, "en")
    crew.post("/media/scan", data={"csrf_token": crew.csrf})
    html = text(crew.get("/media"))
    assert "The catalogue has errors, so nothing was changed:" in html
    assert "&lt;b&gt;movie&lt;/b&gt;" in html and "<b>movie</b>" not in html
    assert {r.media_id: (r.status, r.scanned_at) for r in MediaScan.select()} == rows
