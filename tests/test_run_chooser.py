"""Choosing the show: Run lists tonight's screenings first, then earlier ones not held yet (mark
held, or cancel with a reason), then the coming ones; starting a screening of another day asks
first, naming its date; every screening's page links to its Run, Count, Games and Summary."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from vanapp import create_app
from vanapp.models import Screening, ScreeningEvent, db

from .conftest import PIN, csrf_from
from .support.factories import make_screening

TZ = ZoneInfo("Asia/Kolkata")
LAPTOP = dict(viewport={"width": 1280, "height": 900}, locale="en-IN")
PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
             locale="hi-IN")
WAIT = 20_000


@pytest.fixture
def evening(clock):
    """17:00 on 2031-02-10, set before the crew logs in (a login lasts two weeks)."""
    clock("2031-02-10 17:00+05:30")


def sections(html: str) -> dict:
    """Section id -> its HTML, for the chooser's three groups."""
    out = {}
    for name in ("tonight", "earlier", "coming"):
        found = re.search(rf'<section[^>]*id="{name}".*?</section>', html, re.S)
        out[name] = found.group(0) if found else ""
    return out


def test_run_lists_tonight_first_then_earlier_not_held_then_coming(evening, crew):
    make_screening(date="2031-02-12", village_en="Later")
    make_screening(date="2031-02-10", village_en="Tonight")
    make_screening(date="2031-02-08", village_en="Missed")
    make_screening(date="2031-02-07", village_en="Held", status="done")
    make_screening(date="2031-02-06", village_en="Rained", status="cancelled")
    html = crew.get("/run/?lang=en").get_data(as_text=True)
    found = sections(html)
    assert html.index('id="tonight"') < html.index('id="earlier"') < html.index('id="coming"')
    assert "Tonight" in found["tonight"] and "Monday 10 February 2031" in found["tonight"]   # with its weekday
    assert "Missed" in found["earlier"] and "Mark held" in found["earlier"] and "reason" in found["earlier"]
    assert "Later" in found["coming"]
    assert "Held" not in html and "Rained" not in html
    assert "six weeks" not in html and 'data-page="run"' not in html     # a list, not a show


def test_without_a_show_tonight_run_says_so_and_names_the_next(evening, crew):
    make_screening(date="2031-03-20", village_en="Faraway")
    html = crew.get("/run/?lang=en").get_data(as_text=True)
    assert "No screening is planned for tonight." in html and "Thursday 20 March 2031" in html


def test_a_show_in_progress_opens_run_on_it(evening, crew):
    make_screening(date="2031-02-10", village_en="Tonight")
    running = make_screening(date="2031-02-09", village_en="Yesterday", status="in_progress")
    html = crew.get("/run/?lang=en").get_data(as_text=True)
    assert 'data-page="run"' in html and f'data-screening="{running.id}"' in html


def test_an_earlier_screening_can_be_marked_held(evening, crew):
    missed = make_screening(date="2031-02-08", village_en="Missed")
    answer = crew.post(f"/api/v1/screenings/{missed.id}/held", json={}, headers={"X-CSRFToken": crew.csrf})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["screening"]["status"] == "done"
    event = ScreeningEvent.get(ScreeningEvent.screening == missed.id)
    assert (event.kind, event.reason) == ("finished", "marked held afterwards")
    assert "Missed" not in crew.get("/run/").get_data(as_text=True)
    again = crew.post(f"/api/v1/screenings/{missed.id}/held", json={}, headers={"X-CSRFToken": crew.csrf})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "bad_status"


def test_another_days_screening_warns_before_start_and_tonights_does_not(evening, crew):
    coming = make_screening(date="2031-02-12", village_en="Later")
    tonight = make_screening(date="2031-02-10", village_en="Tonight")
    later = crew.get(f"/run/{coming.id}?lang=en").get_data(as_text=True)
    assert 'data-not-today="2031-02-12"' in later and 'id="confirm-start"' in later
    assert "planned for Wednesday 12 February 2031, not for today (Monday 10 February 2031)" in later
    now = crew.get(f"/run/{tonight.id}").get_data(as_text=True)
    assert "data-not-today" not in now and 'id="confirm-start"' not in now


def test_the_screening_page_links_to_run_count_games_and_summary(crew):
    s = make_screening()
    html = crew.get(f"/screenings/{s.id}").get_data(as_text=True)
    links = re.search(r'<nav[^>]*id="screening-links".*?</nav>', html, re.S).group(0)
    targets = re.findall(r'href="([^"]+)"', links)
    assert targets == [f"/run/{s.id}", f"/attendance/screenings/{s.id}", f"/games/screenings/{s.id}",
                       f"/attendance/screenings/{s.id}/summary"]
    for url in targets:
        assert crew.get(url).status_code == 200, url
    today = crew.get("/").get_data(as_text=True)
    assert f'href="/run/{s.id}"' in today


# --- in Chromium, against `vanapp serve` --------------------------------------------------------

def _seed(data_dir):
    """Tonight's show, one two days ahead, two earlier ones not held: dates from the clock the
    server shares with this process (both run on the same day, whatever day that is)."""
    today = dt.datetime.now(TZ).date()
    app = create_app({"DATA_DIR": str(data_dir)})
    with app.app_context(), db.connection_context():
        day = lambda n: (today + dt.timedelta(days=n)).isoformat()   # noqa: E731
        return {"tonight": make_screening(date=day(0), village_en="Rampur").id,
                "coming": make_screening(date=day(2), village="सुबेहा", village_en="Subeha").id,
                "held": make_screening(date=day(-2), village="बेलहरा", village_en="Belhara").id,
                "rained": make_screening(date=day(-1), village="सतरिख", village_en="Satrikh").id,
                "today": today.isoformat(), "coming_date": day(2),
                # as the pages say a date: with its weekday, in the page's language
                "coming_en": format_date(today + dt.timedelta(days=2), "EEEE d MMMM y", locale="en"),
                "coming_short_en": format_date(today + dt.timedelta(days=2), "EEE d MMM", locale="en"),
                "coming_hi": format_date(today + dt.timedelta(days=2), "EEEE d MMMM y", locale="hi")}


def _status(data_dir, sid):
    app = create_app({"DATA_DIR": str(data_dir)})
    with app.app_context(), db.connection_context():
        return Screening.get_by_id(sid).status


def _login(context, base, path):
    page = context.new_page()
    page.goto(f"{base}/login?next={path}")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + path) + "$"))
    return page


@pytest.mark.browser
def test_crew_chooses_tonight_confirms_another_day_and_clears_earlier_ones(server_factory, chromium, artifacts):
    srv = server_factory("van", env={"VANAPP_PUBLIC_URL": ""})
    ids = _seed(srv.data_dir)
    laptop = chromium.new_context(**LAPTOP)
    laptop.add_cookies([{"name": "vk_lang", "value": "en", "url": srv.url}])
    try:
        run = _login(laptop, srv.url, "/run/")
        groups = run.locator("section.choose-group")
        expect(groups.nth(0)).to_have_id("tonight")
        expect(run.locator("#tonight .choice")).to_have_count(1)
        expect(run.locator("#tonight")).to_contain_text("Rampur")
        expect(run.locator("#earlier .choice")).to_have_count(2)
        expect(run.locator("#coming")).to_contain_text(ids["coming_short_en"])
        run.screenshot(path=str(artifacts / "run-chooser-laptop-en.png"), full_page=True)

        # an earlier show that took place: mark held; one that did not: cancel with the reason
        run.locator(f'#earlier li[data-screening="{ids["held"]}"] button.held').click()
        expect(run.locator("#earlier .choice")).to_have_count(1, timeout=WAIT)
        rained = run.locator(f'#earlier li[data-screening="{ids["rained"]}"]')
        rained.locator("select[name=reason]").select_option("rain")
        rained.locator("button[type=submit]").click()
        expect(run.locator("#earlier")).to_have_count(0, timeout=WAIT)
        assert _status(srv.data_dir, ids["held"]) == "done"
        assert _status(srv.data_dir, ids["rained"]) == "cancelled"

        # another day's show: Start asks first, naming its date; No leaves it planned
        run.locator(f'#coming li[data-screening="{ids["coming"]}"] a').click()
        run.wait_for_url(f"{srv.url}/run/{ids['coming']}")
        expect(run.locator("#not-today")).to_contain_text(ids["coming_en"])
        expect(run.locator("#confirm-start")).to_be_hidden()
        run.click("#start")
        expect(run.locator("#confirm-start")).to_be_visible()
        expect(run.locator("#confirm-start")).to_contain_text(ids["coming_en"])
        run.screenshot(path=str(artifacts / "run-confirm-another-day-en.png"), full_page=True)
        run.click("#confirm-start-no")
        expect(run.locator("#confirm-start")).to_be_hidden()
        assert _status(srv.data_dir, ids["coming"]) == "planned"

        # tonight's: chosen from the list, started at once
        run.goto(f"{srv.url}/run/")
        run.locator("#tonight a.button").click()
        run.wait_for_url(f"{srv.url}/run/{ids['tonight']}")
        expect(run.locator("#not-today")).to_have_count(0)
        run.click("#start")
        expect(run.locator("#finish")).to_be_visible(timeout=WAIT)
        assert _status(srv.data_dir, ids["tonight"]) == "in_progress"
        # Run now opens on the show in progress
        run.goto(f"{srv.url}/run/")
        expect(run.locator("#run")).to_have_attribute("data-screening", ids["tonight"])
    finally:
        laptop.close()


@pytest.mark.browser
def test_the_chooser_fits_a_phone_in_hindi(server_factory, chromium, artifacts):
    srv = server_factory("van")
    ids = _seed(srv.data_dir)
    phone = chromium.new_context(**PHONE)
    try:
        page = _login(phone, srv.url, "/run/")
        expect(page.locator("h1")).to_have_text("शो चुनें")
        expect(page.locator("#tonight h2")).to_contain_text("आज रात")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        for box in page.locator("#choose a.button, #choose button, #choose select").evaluate_all(
                "els => els.map(e => e.getBoundingClientRect()).map(r => [r.width, r.height])"):
            assert box[0] >= 48 and box[1] >= 48, box
        page.screenshot(path=str(artifacts / "run-chooser-phone-hi.png"), full_page=True)
        page.goto(f"{srv.url}/run/{ids['coming']}")
        page.click("#start")
        expect(page.locator("#confirm-start")).to_contain_text(ids["coming_hi"])
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        page.screenshot(path=str(artifacts / "run-confirm-another-day-phone-hi.png"), full_page=True)
        page.goto(f"{srv.url}/screenings/{ids['tonight']}")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        page.screenshot(path=str(artifacts / "screening-links-phone-hi.png"), full_page=True)
    finally:
        phone.close()
