"""A tour's calendar (.ics): parses back, a phone would take it, and the crew can download it."""
import datetime as dt
import re
import time
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
    assert "क्रू के फ़ोन के लिए कैलेंडर" in page        # in the page's language (Hindi by default)


# --- a change made on the van reaches the phones' calendars -------------------------------------

def _events(data: bytes) -> dict:
    cal = assert_phone_acceptable(data)
    return {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}


def _revision(event) -> tuple:
    return (event.decoded("SEQUENCE"), event.decoded("DTSTAMP"), event.decoded("LAST-MODIFIED"))


def test_a_reschedule_or_cancel_on_the_van_raises_sequence_and_the_change_times(catalog, clock):
    from vanapp.tours import lifecycle
    clock("2027-01-20 09:00+05:30")
    screenings = imported()
    before = _events(tour_ics(TOUR, TZ))
    moved, cancelled = screenings[0], screenings[1]

    clock("2027-01-22 11:15+05:30")
    lifecycle.reschedule(moved.id, "2027-03-03", "19:00", TZ)
    clock("2027-01-22 11:40+05:30")
    lifecycle.cancel(cancelled.id, "rain")
    after = _events(tour_ics(TOUR, TZ))

    for sid, when in ((moved.id, "11:15"), (cancelled.id, "11:40")):
        old, new = _revision(before[sid]), _revision(after[sid])
        assert new[0] == old[0] + 1, sid
        assert new[1] > old[1] and new[2] > old[2]
        assert new[1].astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%d %H:%M") == f"2027-01-22 {when}"
    assert after[moved.id].decoded("DTSTART").astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%d %H:%M") == "2027-03-03 19:00"
    assert str(after[cancelled.id]["STATUS"]) == "CANCELLED"
    for s in screenings[2:]:                          # the others are untouched, byte for byte
        assert after[s.id].to_ical() == before[s.id].to_ical()

    # cancelled, then planned again on another day: each change raises it again
    clock("2027-01-23 08:00+05:30")
    lifecycle.reschedule(cancelled.id, "2027-03-05", "18:00", TZ)
    again = _events(tour_ics(TOUR, TZ))[cancelled.id]
    assert again.decoded("SEQUENCE") == before[cancelled.id].decoded("SEQUENCE") + 2
    assert str(again["STATUS"]) == "CONFIRMED" and again.decoded("DTSTAMP") > after[cancelled.id].decoded("DTSTAMP")
    assert tour_ics(TOUR, TZ) == tour_ics(TOUR, TZ)  # and still the same bytes until the next change


def test_the_calendar_a_crew_phone_downloads_shows_the_change(server_factory):
    """Against `vanapp serve`: the crew downloads the calendar, reschedules one show and cancels
    another from the console's API, downloads it again."""
    import requests
    from .conftest import PIN, csrf_from
    from .support.syncenv import vanapp
    from .support.server import ROOT
    van = server_factory()
    tours = sorted(str(p) for p in (ROOT / "schedules").glob("*.yaml"))
    vanapp(van.data_dir, "schedule", "import", "--sample", *tours, check=True)
    s = requests.Session()
    s.post(van.url + "/login", data={"pin": PIN, "csrf_token": csrf_from(s.get(van.url + "/login").text)})
    csrf = csrf_from(s.get(van.url + "/").text)
    planned = [x for x in s.get(van.url + "/api/v1/screenings?limit=200").json()["items"] if x["status"] == "planned"]
    tour = planned[0]["tour"]
    planned = [x for x in planned if x["tour"] == tour]
    url = f"{van.url}/tour/{tour}.ics"
    before = _events(s.get(url).content)
    time.sleep(1.1)             # DTSTAMP and LAST-MODIFIED count in seconds: let one pass
    first, second = planned[-1], planned[-2]
    r = s.post(van.url + f"/api/v1/screenings/{first['id']}/reschedule", headers={"X-CSRFToken": csrf},
               json={"date": "2099-12-30", "start": "18:45"})
    assert r.status_code == 200, r.text
    r = s.post(van.url + f"/api/v1/screenings/{second['id']}/cancel", headers={"X-CSRFToken": csrf},
               json={"reason": "generator"})
    assert r.status_code == 200, r.text
    after = _events(s.get(url).content)
    for sid in (first["id"], second["id"]):
        assert after[sid].decoded("SEQUENCE") == before[sid].decoded("SEQUENCE") + 1
        assert after[sid].decoded("DTSTAMP") > before[sid].decoded("DTSTAMP")
        assert after[sid].decoded("LAST-MODIFIED") > before[sid].decoded("LAST-MODIFIED")
    assert str(after[second["id"]]["STATUS"]) == "CANCELLED"
    assert after[first["id"]].decoded("DTSTART").astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%d %H:%M") == "2099-12-30 18:45"
    unchanged = set(before) - {first["id"], second["id"]}
    assert unchanged and all(after[i].to_ical() == before[i].to_ical() for i in unchanged)
