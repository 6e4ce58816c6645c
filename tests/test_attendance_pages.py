"""Crew pages of attendance: the tally, sign-in with consent (CSRF), the card with its QR, look-up,
and `vanapp report`."""
import json
import re

import pytest
from markupsafe import escape

from vanapp.attendance import participants, tally
from vanapp.models import Outbox, Participant, Screening, TallyEvent

from .conftest import csrf_from
from .support.factories import make_screening


@pytest.fixture
def screening(crew):
    return make_screening()


def test_count_nav_opens_tonights_tally(crew, screening):
    r = crew.get("/attendance/")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/attendance/screenings/{screening.id}")
    page = crew.get(r.headers["Location"]).data.decode()
    for name in ("men", "women", "boys", "girls"):
        assert f'data-count-for="{name}"' in page
        assert f'data-category="{name}" data-delta="-1"' in page
    config = json.loads(re.search(r'<script type="application/json" id="tally-config">(.*?)</script>', page, re.S).group(1))
    assert config["screening"] == screening.id and config["attendanceUrl"].endswith("/attendance")
    assert "js/tally.js" in page and "css/attendance.css" in page


def test_tally_page_without_screenings_offers_a_choice(crew):
    r = crew.get("/attendance/")
    assert r.status_code == 200 and b"tally-grid" not in r.data


def test_tally_shows_configured_categories_and_stored_counts(crew, screening):
    tally.set_categories(["women", "men", "elders"])
    tally.record_tap(screening.id, "elders", 1)
    page = crew.get(f"/attendance/screenings/{screening.id}").data.decode()
    assert re.search(r'data-count-for="elders">1<', page)
    assert 'data-count-for="boys"' not in page


def test_attendance_pages_need_the_crew(client, app):
    with app.app_context():
        s = make_screening()
    for path in ("/attendance/", f"/attendance/screenings/{s.id}", f"/attendance/screenings/{s.id}/sign-in",
                 f"/attendance/screenings/{s.id}/summary", "/attendance/lookup"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path


def _form(crew, screening, **change):
    page = crew.get(f"/attendance/screenings/{screening.id}/sign-in").data.decode()
    data = {"csrf_token": csrf_from(page), "id": re.search(r'name="id" value="([^"]+)"', page).group(1),
            "consent_version": participants.CONSENT_VERSION, "name": "Ramesh Kumar", "gender": "man",
            "age_band": "18-30", "village": "Rampur", "phone": "", "consent": "yes"}
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def test_sign_in_form_shows_consent_in_hindi_and_english(crew, screening):
    page = crew.get(f"/attendance/screenings/{screening.id}/sign-in").data.decode()
    text = participants.consent_text()
    assert str(escape(text["hi"])) in page and str(escape(text["en"])) in page and 'name="consent"' in page
    assert 'name="csrf_token"' in page


def test_sign_in_stores_and_shows_the_card_with_qr(crew, screening):
    r = crew.post(f"/attendance/screenings/{screening.id}/sign-in", data=_form(crew, screening))
    assert r.status_code == 302
    person = Participant.get()
    assert r.headers["Location"].endswith(f"/attendance/participants/{person.id}")
    card = crew.get(r.headers["Location"]).data.decode()
    assert "Ramesh Kumar" in card and "<svg" in card and participants.short_code(person.id) in card
    assert '<img' not in card.split('id="participant-card"')[1]


def test_double_submitted_form_is_stored_once(crew, screening):
    form = _form(crew, screening)
    crew.post(f"/attendance/screenings/{screening.id}/sign-in", data=form)
    crew.post(f"/attendance/screenings/{screening.id}/sign-in", data=form)
    assert Participant.select().count() == 1


@pytest.mark.parametrize("change, field", [({"consent": None}, "consent"), ({"name": ""}, "name"),
                                           ({"phone": "555"}, "phone"), ({"gender": None}, "gender")])
def test_sign_in_without_consent_or_with_bad_field_stores_nothing(crew, screening, change, field):
    r = crew.post(f"/attendance/screenings/{screening.id}/sign-in", data=_form(crew, screening, **change))
    assert r.status_code == 400
    assert f'data-field="{field}"' in r.data.decode()
    assert Participant.select().count() == 0 and Outbox.select().count() == 0


def test_sign_in_without_csrf_token_is_refused(crew, screening):
    form = _form(crew, screening)
    del form["csrf_token"]
    r = crew.post(f"/attendance/screenings/{screening.id}/sign-in", data=form)
    assert r.status_code == 400 and Participant.select().count() == 0


def test_lookup_finds_the_card_by_code_or_scanned_id(crew, screening):
    crew.post(f"/attendance/screenings/{screening.id}/sign-in", data=_form(crew, screening))
    person = Participant.get()
    for code in (participants.short_code(person.id), participants.short_code(person.id).lower(), person.id):
        r = crew.get("/attendance/lookup", query_string={"code": code})
        assert r.status_code == 302 and r.headers["Location"].endswith(person.id)
    assert crew.get("/attendance/lookup", query_string={"code": "FFFFFFFF"}).status_code == 404


def test_user_text_is_escaped_on_the_card(crew, screening):
    crew.post(f"/attendance/screenings/{screening.id}/sign-in",
              data=_form(crew, screening, name="<script>alert(1)</script>"))
    card = crew.get(f"/attendance/participants/{Participant.get().id}").data.decode()
    assert "<script>alert(1)" not in card and "&lt;script&gt;" in card


def test_report_cli_totals_per_screening_and_in_all(crew, cli):
    a = make_screening(date="2026-12-01", village_en="Rampur")
    b = make_screening(date="2026-12-02", village_en="Sohawal", village="सोहावल")
    make_screening(date="2026-12-03", village_en="Bhitauli", village="भिटौली")   # nothing recorded
    for sid, cat, n in ((a.id, "women", 3), (a.id, "men", 2), (b.id, "women", 4), (b.id, "girls", 1)):
        for _ in range(n):
            tally.record_tap(sid, cat, 1)
    tally.record_headcount(a.id, "start", 40)
    participants.sign_in(b.id, {"name": "Asha", "gender": "woman", "age_band": "18-30", "consent": True})
    result = cli("report", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [r["screening"] for r in data["screenings"]] == [a.id, b.id]
    assert data["screenings"][0]["counts"] == {"men": 2, "women": 3, "boys": 0, "girls": 0}
    assert data["screenings"][0]["headcounts"] == {"start": 40, "end": None}
    assert data["totals"]["counts"] == {"men": 2, "women": 7, "boys": 0, "girls": 1}
    assert data["totals"]["audience"] == 10 and data["totals"]["participants"] == 1
    one = json.loads(cli("report", "--json", "--screening", b.id).output)
    assert [r["screening"] for r in one["screenings"]] == [b.id] and one["totals"]["audience"] == 5
    text = cli("report").output
    assert "Rampur" in text and "Sohawal" in text and "ALL" in text
    qr = cli("report", "--screening", a.id, "--qr")
    assert qr.exit_code == 0 and "vankit:s/" in qr.output and "version" in qr.output
    missing = cli("report", "--screening", "nope")
    assert missing.exit_code == 1 and "No screening nope" in missing.output


def test_hindi_is_the_default_on_the_tally(crew, screening):
    page = crew.get(f"/attendance/screenings/{screening.id}").data.decode()
    assert "महिलाएँ" in page and "पुरुष" in page
    crew.get("/lang/en")
    from flask_babel import refresh
    refresh()   # the `app` fixture's one app context caches the locale across requests
    page = crew.get(f"/attendance/screenings/{screening.id}").data.decode()
    assert "Women" in page


def test_cancelled_screening_tally_is_disabled(crew):
    s = make_screening(status="cancelled")
    page = crew.get(f"/attendance/screenings/{s.id}").data.decode()
    assert page.count("disabled") >= 8
    assert TallyEvent.select().count() == 0 and Screening.get_by_id(s.id).status == "cancelled"


def test_card_qr_is_read_by_zbar_and_leads_back_to_the_card(crew, screening):
    """Rasterise the card's inline SVG (its squares), read it with zbar: the participant's id,
    which the look-up (a scanner typing into the code box) turns back into the card."""
    from PIL import Image
    from pyzbar import pyzbar
    crew.post(f"/attendance/screenings/{screening.id}/sign-in", data=_form(crew, screening))
    person = Participant.get()
    card = crew.get(f"/attendance/participants/{person.id}").data.decode()
    svg = re.search(r'<div class="qr"[^>]*>(<svg.*?</svg>)', card, re.S).group(1)
    size = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    scale = 8
    img = Image.new("L", (round(size * scale), round(size * scale)), 255)
    px = img.load()
    for x0, y0, x1, y1 in re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", svg):
        for y in range(round(float(y0) * scale), round(float(y1) * scale)):
            for x in range(round(float(x0) * scale), round(float(x1) * scale)):
                px[x, y] = 0
    read = pyzbar.decode(img)
    assert [r.data.decode() for r in read] == [person.id]
    r = crew.get("/attendance/lookup", query_string={"code": read[0].data.decode()})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/attendance/participants/{person.id}")
    assert crew.get(f"/api/v1/participants/{person.id}").json["items"][0]["id"] == person.id
