"""The hub's reach totals, their filters and their trace to screenings, and the dashboard pages:
on SQLite and on PostgreSQL (the `hub_app` fixture), checked against hand-counted figures."""
import re

import pytest

from vanapp.hub import reports
from vanapp.hub.reports import Filters

from .test_hub_dashboard_scenario import (EXPECTED, TRACE, coordinator, fresh_hub_app, hub_app,  # noqa: F401
                                          hub_db, login)


def _report(**args):
    return reports.report(Filters.parse(args))


def test_report_totals_match_hand_counts(hub_db):
    got = _report()
    for key, value in EXPECTED.items():
        assert got[key] == value, key
    assert got["filters"] == {}


def test_each_van_shows_sync_time_records_held_and_revocation(hub_db):
    vans = {v["van"]: v for v in _report()["vans"]}
    assert set(vans) == {"van-03", "van-05", "van-07"}
    # van-03: 42 taps, 6 screening events, 4 sign-ins, 8 game runs, 9 game results
    assert [vans[v]["records"] for v in ("van-03", "van-05", "van-07")] == [69, 24, 7]
    assert vans["van-03"]["last_sync"] == "2027-01-30T09:00:00.000000Z"
    assert vans["van-05"]["last_received"] == "2027-01-31T12:30:00.000000Z"
    assert [vans[v]["revoked"] for v in ("van-03", "van-05", "van-07")] == [False, False, True]
    assert all(vans[v]["paired"] for v in vans)
    assert [vans[v]["state"] for v in ("van-03", "van-05", "van-07")] == ["paired", "paired", "revoked"]
    # S5's QR summary came, its taps did not; S8's taps came, so its summary does not count as waiting
    assert [vans[v]["qr_only_nights"] for v in ("van-03", "van-05", "van-07")] == [0, 1, 0]


def test_a_vans_pairing_code_shows_as_waiting_then_expired(hub_db):
    import datetime as dt
    from vanapp.hub import pairing
    from vanapp.ids import UTC
    from vanapp.models import Van, db
    with db.atomic() as txn:
        pairing.add_van("Van 9", "van-09")
        now = dt.datetime.now(UTC)
        states = [{v["van"]: v for v in reports.van_status(now=at)}["van-09"]["state"]
                  for at in (now, now + dt.timedelta(hours=25))]
        assert states == ["code_waiting", "code_expired"]
        assert Van.get_by_id("van-09").secret_hash is None
        txn.rollback()          # the module's scenario stays as it was


@pytest.mark.parametrize("args, held, total, people, villages, cancelled", [
    ({"district": "Lucknow"}, 3, 3, 36, 2, 0),
    ({"van": "van-03"}, 2, 3, 35, 1, 1),
    ({"campaign": "helpline"}, 1, 2, 7, 1, 0),
    ({"from": "2026-12-01", "to": "2027-01-19"}, 3, 3, 27, 2, 0),
    ({"from": "2026-12-06", "to": "2026-12-06"}, 1, 1, 10, 1, 0),    # S3, rescheduled onto the 6th
    ({"from": "2026-12-05", "to": "2026-12-05"}, 0, 0, 0, 0, 0),     # ... so no longer on the 5th
    ({"district": "Lucknow", "van": "van-03"}, 0, 0, 0, 0, 0),
])
def test_filters_narrow_every_total(hub_db, args, held, total, people, villages, cancelled):
    got = _report(**args)
    assert (got["screenings"]["held"], got["screenings"]["total"], got["people"]["total"],
            got["villages_reached"], got["screenings"]["cancelled"]) == (held, total, people, villages, cancelled)
    assert got["filters"] == args


def test_filters_reach_quiz_polls_and_pledges(hub_db):
    lucknow = _report(district="Lucknow")
    assert lucknow["quiz"] == []
    assert lucknow["pledges"] == {"total": 11, "from_qr_summary": 11}
    poll = lucknow["polls"][0]
    assert poll["screenings"] == 1
    assert poll["before"]["shares"] == {"no": 0.5, "yes": 0.5}
    assert poll["shift"] == {"no": 0.4, "yes": -0.4}
    assert [v["van"] for v in _report(van="van-05")["vans"]] == ["van-05"]


@pytest.mark.parametrize("args, field", [({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"),
                                         ({"from": "2027-01-02", "to": "2027-01-01"}, "to")])
def test_a_bad_filter_is_refused_naming_it(args, field):
    with pytest.raises(reports.FilterError) as caught:
        Filters.parse(args)
    assert caught.value.field == field


def test_every_total_traces_to_the_screenings_it_adds_up_from(hub_db):
    ids = {v: k for k, v in hub_db.ids.items()}
    data = _report()
    for metric, expected in TRACE.items():
        rows = reports.trace(Filters(), metric)
        assert {ids[f.id] for f, _v in rows} == expected, metric
    sums = {m: sum(v for _f, v in reports.trace(Filters(), m)) for m in
            ("people", "men", "women", "boys", "girls", "other", "pledges", "participants", "qr_summary")}
    assert sums == {"people": 78, "men": 24, "women": 37, "boys": 7, "girls": 8, "other": 2,
                    "pledges": data["pledges"]["total"], "participants": data["participants"]["total"],
                    "qr_summary": data["people"]["from_qr_summary"]}
    villages = {f.village_id for f, _v in reports.trace(Filters(), "villages")}
    assert len(villages) == data["villages_reached"]
    quiz = reports.trace(Filters(), "quiz:bell-quiz:q1")
    assert (sum(v[1] for _f, v in quiz), sum(v[0] for _f, v in quiz)) == (10, 14)
    rows = {ids[f.id]: f for f, _v in reports.trace(Filters(), "held")}
    assert rows["S5"].source == "qr_summary" and rows["S8"].source == "synced"
    assert rows["S1"].received_at.isoformat().startswith("2027-01-30T09:00")


def test_unknown_metric_is_refused():
    with pytest.raises(reports.FilterError):
        reports.parse_metric("quiz:nothing")


# --- pages -----------------------------------------------------------------------------------

def _totals(html: str) -> dict:
    """metric -> the number its tile shows."""
    found = re.findall(r'data-metric="([^"]+)">\s*<span class="value">([\d,]+)</span>', html)
    return {m: int(v.replace(",", "")) for m, v in found}


def test_dashboard_shows_the_totals_charts_and_van_status(coordinator):
    page = coordinator.get("/?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _totals(html) == {"held": 6, "villages": 4, "people": 78, "men": 24, "women": 37, "boys": 7,
                             "girls": 8, "other": 2, "participants": 7, "pledges": 38, "cancelled": 1}
    charts = re.findall(r'<figure class="chart card"><svg', html)
    assert len(charts) == 5      # gender x age, district, van, quiz, one before/after poll
    chart_html = html.split("<section class=\"charts\"")[1].split("</section>")[0]
    assert "<script" not in chart_html
    # every bar opens the screenings behind it
    for metric in ("men", "women", "boys", "girls", "other", "people&amp;district=Lucknow",
                   "held&amp;van=van-05", "quiz:bell-quiz:q2", "poll:attitude:private-matter"):
        assert f'xlink:href="/screenings?metric={metric}"' in chart_html, metric
    assert "Lucknow" in html and "Van 7" in html and "Revoked" in html
    assert "-40 points" in html and "+40 points" in html


def test_dashboard_filters_by_district(coordinator):
    html = coordinator.get("/?lang=en&district=Lucknow").get_data(as_text=True)
    totals = _totals(html)
    assert (totals["held"], totals["people"], totals["villages"]) == (3, 36, 2)
    assert 'href="/screenings?metric=people&amp;district=Lucknow"' in html
    assert 'href="/export/attendance.csv?district=Lucknow"' in html


def test_a_bad_filter_on_the_dashboard_is_a_400_page_naming_it(coordinator):
    page = coordinator.get("/?from=2027-02-30")
    assert page.status_code == 400
    assert "from: &#39;2027-02-30&#39; is not a date" in page.get_data(as_text=True)


def test_the_trace_page_lists_each_screening_with_van_village_source_and_receipt(coordinator, hub_app):
    html = coordinator.get("/screenings?metric=people&lang=en").get_data(as_text=True)
    rows = re.findall(r'<tr data-screening="([^"]+)">(.*?)</tr>', html, re.S)
    ids = {v: k for k, v in hub_app.ids.items()}
    assert {ids[r] for r, _ in rows} == TRACE["held"]
    values = {ids[r]: int(re.search(r'data-value="(-?\d+)"', body).group(1)) for r, body in rows}
    assert values == {"S1": 25, "S3": 10, "S4": 14, "S5": 19, "S6": 7, "S8": 3}
    assert '<span class="trace-total">78</span>' in html
    s5 = dict(rows)[hub_app.ids["S5"]]
    assert "from QR summary" in s5 and "van-05" in s5 and "नगराम" in s5 and "Sun 31 Jan 2027, 18:00" in s5
    s1 = dict(rows)[hub_app.ids["S1"]]
    assert "synced records" in s1 and "रामपुर" in s1 and "Sat 30 Jan 2027, 14:30" in s1   # IST
    # the village named like a formula is shown as text, escaped
    assert "=HYPERLINK(&#34;http://x.example&#34;" in s5 or "=HYPERLINK(&quot;" in s5


def test_the_screening_page_shows_taps_corrections_and_results(coordinator, hub_app):
    html = coordinator.get(f"/screenings/{hub_app.ids['S1']}?lang=en").get_data(as_text=True)
    assert "Attendance: 25</h2>" in html
    assert re.search(r">Men</a></td><td data-label=\"Count\" class=\"num\">8</td>"
                     r"<td data-label=\"Taps\" class=\"num\">10</td><td data-label=\"Corrections\" class=\"num\">2</td>", html)
    assert f'href="/screenings/{hub_app.ids["S1"]}/records?category=men"' in html
    assert coordinator.get("/screenings/nope").status_code == 404


def test_a_screenings_records_show_event_time_beside_receipt_time(coordinator, hub_app):
    s1 = hub_app.ids["S1"]
    html = coordinator.get(f"/screenings/{s1}/records?lang=en").get_data(as_text=True)
    kinds = re.findall(r'data-kind="([a-z_]+)"', html)
    # 29 taps and 2 corrections, 3 sign-ins, 4 game runs with 5 results, 2 crew actions
    assert (kinds.count("tap"), kinds.count("correction"), kinds.count("participant"),
            kinds.count("game_run"), kinds.count("game_result"), kinds.count("event")) == (27, 2, 3, 4, 5, 2)
    assert 'data-total="43"' in html
    row = re.search(r'data-kind="correction">(.*?)</tr>', html, re.S).group(1)
    # tapped at 18:35 IST on 23 Nov 2026, received 14:30 IST on 30 Jan 2027
    assert '<td data-label="What">Men</td>' in row and "-1" in row
    assert "Mon 23 Nov 2026, 18:35" in row and "Sat 30 Jan 2027, 14:30" in row
    assert "67 days" in row
    men = coordinator.get(f"/screenings/{s1}/records?category=men&lang=en").get_data(as_text=True)
    assert sorted(re.findall(r'data-kind="([a-z_]+)"', men)) == ["correction"] * 2 + ["tap"] * 10
    events = coordinator.get(f"/screenings/{s1}/records?kind=event&lang=en").get_data(as_text=True)
    assert re.findall(r'data-kind="([a-z_]+)"', events) == ["event", "event"]
    assert coordinator.get(f"/screenings/{s1}/records?kind=nonsense").status_code == 400
    assert coordinator.get("/screenings/nope/records").status_code == 404


def test_every_hub_page_needs_a_coordinator_login(hub_app):
    client = hub_app.test_client()
    public = {"static", "healthz", "hubauth.login", "i18n.switch"}
    checked = 0
    for rule in hub_app.url_map.iter_rules():
        # the sync side's endpoints authenticate vans by token, by the QR's signature, or are
        # the pairing QR's landing hint: its own tests cover them
        if rule.endpoint in public or rule.endpoint.startswith("hubapi."):
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "x", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            # GET: off to the login page; a form post: refused (no login, or no CSRF token)
            allowed = (302,) if method == "GET" else (400, 401)
            assert response.status_code in allowed, (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), rule.rule
            checked += 1
    assert checked >= 6      # dashboard, trace, screening, vans, export, logout
    assert client.get("/export/screenings.csv").status_code == 302
    assert client.get("/healthz").status_code == 200


def test_login_needs_csrf_the_right_password_and_is_rate_limited(fresh_hub_app):
    client = fresh_hub_app.test_client()
    assert client.post("/login", data={"username": "asha", "password": "bell-bajao-2026"}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    wrong = client.post("/login", data={"username": "asha", "password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == 401
    assert client.get("/").status_code == 302
    statuses = [client.post("/login", data={"username": "x", "password": "y", "csrf_token": token}).status_code
                for _ in range(10)]
    assert statuses[-1] == 429 and 401 in statuses


def test_the_login_limit_holds_when_a_guesser_changes_cookies(fresh_hub_app):
    statuses = []
    for n in range(11):
        client = fresh_hub_app.test_client()          # a new session each time
        client.set_cookie("vk_device", f"phone-{n}")  # and a device cookie of its own choosing
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        statuses.append(client.post("/login", data={"username": "asha", "password": f"guess-{n}",
                                                    "csrf_token": token}).status_code)
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_logout_is_a_csrf_protected_post(fresh_hub_app):
    coordinator = fresh_hub_app.test_client()
    coordinator.csrf = login(coordinator)
    assert coordinator.post("/logout").status_code == 400
    assert coordinator.get("/").status_code == 200
    assert coordinator.post("/logout", data={"csrf_token": coordinator.csrf}).status_code == 302
    assert coordinator.get("/").status_code == 302


def test_a_disabled_coordinator_is_logged_out_at_once(fresh_hub_app):
    from vanapp.models import Coordinator, db
    coordinator = fresh_hub_app.test_client()
    login(coordinator)
    with fresh_hub_app.app_context(), db.connection_context():
        Coordinator.update(disabled=True).execute()
    assert coordinator.get("/").status_code == 302


def test_language_switch_and_errors_stay_in_the_hub_frame(coordinator):
    back = coordinator.get("/lang/en?next=//evil.example")
    assert back.headers["Location"] == "/"
    assert coordinator.get("/lang/en?next=/\\evil.example").headers["Location"] == "/"
    html = coordinator.get("/lang/hi?next=/vans", follow_redirects=True).get_data(as_text=True)
    assert "वैन और उनका आख़िरी सिंक" in html
    missing = coordinator.get("/no-such-page")
    assert missing.status_code == 404 and "hub-topbar" in missing.get_data(as_text=True)


def test_the_hindi_dashboard_is_in_hindi(coordinator):
    html = coordinator.get("/?lang=hi").get_data(as_text=True)
    for text in ("पहुँचे लोग", "हुई स्क्रीनिंग", "फ़िल्म से पहले और बाद में", "लिंग और उम्र के अनुसार पहुँचे लोग"):
        assert text in html


def test_a_broken_database_gives_a_page_in_the_hubs_frame_not_a_traceback(fresh_hub_app):
    from vanapp.models import ScreeningFact, db
    fresh_hub_app.config["PROPAGATE_EXCEPTIONS"] = False      # as under waitress, not as a test
    coordinator = fresh_hub_app.test_client()
    login(coordinator)
    with fresh_hub_app.app_context(), db.connection_context():
        db.execute_sql(f'DROP TABLE "{ScreeningFact._meta.table_name}"')      # what the dashboard reads
    page = coordinator.get("/?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 500
    assert "hub-topbar" in html and "written to the hub" in html
    assert "Traceback" not in html and ScreeningFact._meta.table_name not in html
    api = coordinator.get("/", headers={"Accept": "application/json"})
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "internal"


def test_a_qr_night_the_hub_has_no_plan_for_counts_once(hub_db):
    """The tour was imported on the van alone and the van never synced: the night's QR summary
    still counts, under the date, village and van it carries — and not under a district filter."""
    from vanapp.hub import receive
    from vanapp.ids import new_id
    before, before_van5 = _report(), _report(van="van-05")
    unplanned = new_id()
    receive.store_summary({"van": "van-05", "screening": unplanned, "date": "2027-01-25",
                           "village": "Bakshi Ka Talab", "counts": {"men": 3, "women": 5}, "total": 8,
                           "participants": 1, "pledges": {"pledge": 5}})
    after = _report()
    assert after["screenings"]["held"] == before["screenings"]["held"] + 1
    assert after["screenings"]["held_from_qr_summary"] == before["screenings"]["held_from_qr_summary"] + 1
    assert after["people"]["total"] == before["people"]["total"] + 8
    assert after["pledges"]["total"] == before["pledges"]["total"] + 5
    assert after["villages_reached"] == before["villages_reached"] + 1
    assert after["districts_reached"] == before["districts_reached"]
    assert _report(van="van-05")["people"]["total"] == before_van5["people"]["total"] + 8
    district = before["by_district"][0]["name"]
    assert _report(district=district)["people"]["total"] == \
        {d["name"]: d for d in before["by_district"]}[district]["people"]
    assert [(f.id, n) for f, n in reports.trace(Filters(), "people") if f.id == unplanned] == [(unplanned, 8)]


def test_an_unplanned_qr_night_has_its_page_and_the_dashboard_shows_it(hub_app):
    from vanapp.hub import receive
    from vanapp.ids import new_id
    from vanapp.models import db
    unplanned = new_id()
    with hub_app.app_context(), db.connection_context():
        receive.store_summary({"van": "van-05", "screening": unplanned, "date": "2027-01-25",
                               "village": "Bakshi Ka Talab", "counts": {"men": 3, "women": 5}, "total": 8,
                               "participants": 1, "pledges": {"pledge": 5}})
    client = hub_app.test_client()
    login(client)
    page = client.get(f"/screenings/{unplanned}")
    assert page.status_code == 200 and "Bakshi Ka Talab" in page.get_data(as_text=True)
    dashboard = client.get("/lang/en", follow_redirects=True)
    assert dashboard.status_code == 200 and "not in the hub" in dashboard.get_data(as_text=True)
