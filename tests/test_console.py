"""The crew console's pages and the screenings API, over a temp database."""
import datetime as dt

import pytest
from babel.dates import format_date

from vanapp import security

from .support.factories import TZ, make_screening


def _today():
    return dt.datetime.now(TZ).date().isoformat()


def test_today_shows_tonights_screening_and_programme(crew):
    make_screening(village="रामपुर", village_en="Rampur",
                   items=(("psa", "ring-the-bell"), ("game", "bell-quiz")))
    html = crew.get("/").data.decode()
    assert "रामपुर" in html and "Rampur" not in html          # a Hindi page names it in Hindi
    assert "ring-the-bell" in html and "bell-quiz" in html     # the items' titles (the factory's)
    assert "psa:" not in html and "game:" not in html          # never the programme's codes
    assert "संदेश फ़िल्म" in html and "2 आइटम · 1 खेल" in html
    crew.get("/lang/en")
    html = crew.get("/").data.decode()
    assert "रामपुर" in html and "(Rampur)" in html and "2 items · 1 game" in html


def test_today_warns_when_the_laptop_clock_is_wrong(crew):
    from vanapp import clock
    from vanapp.ids import utcnow
    from vanapp.models import Outbox, TallyEvent, db
    make_screening()
    crew.get("/lang/en")
    assert 'class="flash warn clock-warning"' not in crew.get("/").data.decode()

    # at a sync the hub's clock read 25 minutes ahead of ours
    now = utcnow()
    clock.note_hub_time((now + dt.timedelta(minutes=25)).isoformat(), now, now)
    html = crew.get("/").data.decode()
    assert "25 minutes behind the hub" in html

    # a tap stamped three hours from now: the clock has since gone backwards
    screening = make_screening(date=(dt.datetime.now(TZ) + dt.timedelta(days=1)).date().isoformat(), tour="t2")
    with db.atomic():
        tap = TallyEvent(screening=screening.id, category="women", delta=1, at=now, device="p")
        tap.save_change(force_insert=True)
        # ... written while the clock read three hours later than it does now
        Outbox.update(created_at=now + dt.timedelta(hours=3)).where(Outbox.record_id == tap.id).execute()
    html = crew.get("/").data.decode()
    assert "it went backwards" in html
    assert [p["kind"] for p in clock.problems()] == ["behind_records", "off_hub"]
    assert [p["kind"] for p in clock.problems(now=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc))][0] == "reset"
    assert "घड़ी" in crew.get("/lang/hi", follow_redirects=True).data.decode()


def test_today_without_any_tour_says_so(crew):
    crew.get("/lang/en")
    assert "No screening is planned." in crew.get("/").data.decode()


def test_today_skips_done_screenings_for_the_next_one(crew):
    tomorrow = (dt.datetime.now(TZ) + dt.timedelta(days=1)).date().isoformat()
    make_screening(date=_today(), village_en="Rampur", status="done")
    make_screening(date=tomorrow, village="सिकंदरपुर", village_en="Sikandarpur")
    assert "सिकंदरपुर" in crew.get("/").data.decode()


def test_tour_lists_screenings_by_day(crew):
    tomorrow = (dt.datetime.now(TZ) + dt.timedelta(days=1)).date().isoformat()
    make_screening(date=_today(), village_en="Rampur")
    make_screening(date=tomorrow, village="सिकंदरपुर", village_en="Sikandarpur")
    html = crew.get("/tour").data.decode()
    assert html.index("रामपुर") < html.index("सिकंदरपुर")
    # each day with its weekday, in the page's language
    weekday = format_date(dt.date.fromisoformat(tomorrow), "EEEE d MMMM y", locale="hi")
    assert weekday in html and "सोमवार मंगलवार बुधवार गुरुवार शुक्रवार शनिवार रविवार".find(weekday.split()[0]) >= 0
    crew.get("/lang/en")
    html = crew.get("/tour").data.decode()
    assert "Rampur" in html and "Sikandarpur" in html
    assert format_date(dt.date.fromisoformat(tomorrow), "EEEE d MMMM y", locale="en") in html


def test_screening_page_and_unknown_screening(crew):
    s = make_screening()
    assert crew.get(f"/screenings/{s.id}").status_code == 200
    assert crew.get("/screenings/nope").status_code == 404


def test_village_names_are_escaped(crew):
    make_screening(village="<script>alert(1)</script>", village_en="X<b>")
    html = crew.get("/tour").data.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.fixture
def token(app):
    return security.create_token("test-script")


def test_api_lists_and_gets_screenings_with_token(client, token):
    s = make_screening(items=(("psa", "ring-the-bell"), ("game", "attitude@before")))
    auth = {"Authorization": f"Bearer {token}"}
    listing = client.get("/api/v1/screenings", headers=auth).json
    assert [i["id"] for i in listing["items"]] == [s.id] and listing["next"] is None
    one = client.get(f"/api/v1/screenings/{s.id}", headers=auth).json
    assert one["village"]["name"] == "रामपुर"
    assert [i["label"] for i in one["items"]] == ["psa:ring-the-bell", "game:attitude@before"]
    assert one["starts_at"].endswith("Z")


def test_api_paginates_and_filters(client, token):
    base = dt.datetime.now(TZ).date()
    days = [(base + dt.timedelta(days=n)).isoformat() for n in range(5)]
    for n, day in enumerate(days):
        make_screening(date=day, village_en=f"V{n}", village=f"गाँव{n}")
    auth = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/screenings?limit=2", headers=auth).json
    assert [i["date"] for i in first["items"]] == days[:2] and first["next"]
    second = client.get(first["next"], headers=auth).json
    assert [i["date"] for i in second["items"]] == days[2:4]
    ranged = client.get(f"/api/v1/screenings?from={days[1]}&to={days[2]}", headers=auth).json
    assert [i["date"] for i in ranged["items"]] == days[1:3]


@pytest.mark.parametrize("query,field", [("limit=0", "limit"), ("limit=x", "limit"),
                                         ("from=3/12/2026", "from"), ("date=tomorrow", "date")])
def test_api_refuses_bad_query_naming_the_field(client, token, query, field):
    r = client.get(f"/api/v1/screenings?{query}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and r.json["error"]["field"] == field


def test_api_unknown_screening_is_404_json(client, token):
    r = client.get("/api/v1/screenings/nope", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_token_create_prints_a_working_token(cli, client):
    result = cli("token", "create", "laptop-script")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert client.get("/api/v1/screenings", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_programme_titles_follow_the_chosen_language(crew):
    from vanapp.models import MediaItem
    make_screening(items=(("psa", "ring-the-bell"),))
    MediaItem.update(title_hi="घंटी बजाओ", title_en="Ring the Bell").execute()
    crew.get("/lang/hi")
    assert "घंटी बजाओ" in crew.get("/").data.decode()
    crew.get("/lang/en")
    html = crew.get("/").data.decode()
    assert "Ring the Bell" in html and "घंटी बजाओ" not in html
