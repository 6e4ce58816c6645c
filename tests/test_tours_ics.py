"""A tour's calendar (.ics): parses back, a phone would take it, and the crew can download it."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

import flask_babel
import icalendar

from vanapp.models import Screening, ScreeningEvent, Village
from vanapp.ids import utcnow
from vanapp.tours.ics import tour_ics
from vanapp.tours.importer import import_files

from .test_tours_support import SITAPUR_PATH, catalog  # noqa: F401

TOUR = "test-sitapur-2027"
TZ = "Asia/Kolkata"


def imported():
    result = import_files([str(SITAPUR_PATH)], tz=TZ)
    assert result.ok, result.errors
    return list(Screening.select().where(Screening.tour == TOUR))


def assert_phone_acceptable(data: bytes):
    """What calendar apps insist on (RFC 5545): framing, PRODID/VERSION, folded CRLF lines,
    UID/DTSTAMP/DTSTART per event, and a VTIMEZONE for every TZID used."""
    text = data.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    lines = text.split("\r\n")[:-1]
    assert all("\n" not in line and len(line.encode("utf-8")) <= 75 for line in lines)
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).strip()
    events = cal.walk("VEVENT")
    assert events
    for event in events:
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert name in event, name
        assert event.decoded("DTEND") > event.decoded("DTSTART")
    assert len({str(e["UID"]) for e in events}) == len(events)
    used = set(re.findall(r";TZID=([^:;]+)", text))
    defined = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert used and used <= defined
    return cal


def test_calendar_has_one_event_per_screening_in_local_time(catalog):
    screenings = imported()
    cal = assert_phone_acceptable(tour_ics(TOUR, TZ))
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"{s.id}@vankit" for s in screenings}
    for s in screenings:
        e = events[f"{s.id}@vankit"]
        start = e.decoded("DTSTART")
        assert start.tzinfo is not None and start == s.starts_at
        assert start.astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%d %H:%M") == f"{s.date} {s.start}"
        assert e.decoded("DTEND") - start == dt.timedelta(minutes=s.duration_min)
        v = Village.get_by_id(s.village_id)
        assert v.name in str(e["SUMMARY"]) and v.name_en in str(e["SUMMARY"])
        assert v.block in str(e["LOCATION"]) and v.district in str(e["LOCATION"])
        assert str(e["STATUS"]) == "CONFIRMED"
    laharpur = next(s for s in screenings if s.date == "2027-02-01")
    description = str(events[f"{laharpur.id}@vankit"]["DESCRIPTION"])
    assert "game:attitude@before" in description and "psa:ring-the-bell" in description
    assert description.index("attitude@before") < description.index("ring-the-bell")


def test_cancelled_screening_is_marked_cancelled(catalog):
    s = imported()[0]
    Screening.update(status="cancelled", status_reason="rain").where(Screening.id == s.id).execute()
    ScreeningEvent.create(screening=s, kind="cancelled", reason="rain", at=utcnow())
    cal = assert_phone_acceptable(tour_ics(TOUR, TZ))
    statuses = {str(e["UID"]): str(e["STATUS"]) for e in cal.walk("VEVENT")}
    assert statuses.pop(f"{s.id}@vankit") == "CANCELLED"
    assert set(statuses.values()) == {"CONFIRMED"}


def test_export_is_stable_until_a_screening_changes(catalog, tmp_path):
    imported()
    first = tour_ics(TOUR, TZ)
    assert tour_ics(TOUR, TZ) == first
    changed = tmp_path / SITAPUR_PATH.name
    changed.write_text(SITAPUR_PATH.read_text(encoding="utf-8").replace("start: 18:00", 'start: "17:30"'),
                       encoding="utf-8")
    assert import_files([str(changed)], tz=TZ).ok
    after = icalendar.Calendar.from_ical(tour_ics(TOUR, TZ))
    sequences = {e.decoded("DTSTART").astimezone(ZoneInfo(TZ)).strftime("%H:%M"): e.decoded("SEQUENCE")
                 for e in after.walk("VEVENT")}
    assert sequences["17:30"] == 1 and sorted(sequences.values()) == [0, 0, 0, 1]


def test_unknown_tour_has_no_calendar(app):
    assert tour_ics("no-such-tour", TZ) is None


def test_calendar_download_needs_the_crew_login(catalog, client):
    imported()
    r = client.get(f"/tour/{TOUR}.ics")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_crew_downloads_the_calendar_in_their_language(catalog, crew):
    imported()
    r = crew.get(f"/tour/{TOUR}.ics")
    assert r.status_code == 200
    assert r.mimetype == "text/calendar"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{TOUR}.ics"'
    cal = assert_phone_acceptable(r.data)
    assert all(str(e["SUMMARY"]).startswith("स्क्रीनिंग:") for e in cal.walk("VEVENT"))
    assert all("कार्यक्रम:" in str(e["DESCRIPTION"]) for e in cal.walk("VEVENT"))
    crew.get("/lang/en")
    # The `app` fixture keeps one app context (and so one `g`) for the whole test, where
    # Flask-Babel caches the locale; a real server has a fresh one per request.
    flask_babel.refresh()
    cal = icalendar.Calendar.from_ical(crew.get(f"/tour/{TOUR}.ics").data)
    assert all(str(e["SUMMARY"]).startswith("Screening:") for e in cal.walk("VEVENT"))
    assert crew.get("/tour/no-such-tour.ics").status_code == 404


def test_tour_page_links_each_tours_calendar(catalog, crew):
    imported()
    page = crew.get("/tour").data.decode("utf-8")
    assert page.count(f'href="/tour/{TOUR}.ics"') == 1
    assert "कैलेंडर (.ics)" in page
