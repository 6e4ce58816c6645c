"""The coordinator's dashboard in real Chromium against a real `vanapp hub serve`: log in, filter,
follow a number to the screenings behind it and on to their records, download a CSV. Nothing
is fetched from anywhere but the hub."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from vanapp.models import db

from .support.server import ServerProcess
from .test_hub_dashboard_scenario import COORDINATOR, PASSWORD, build, make_hub_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def hub_server(tmp_path):
    """A hub holding the scenario's three vans (SQLite), served by waitress in a subprocess."""
    data = tmp_path / "hub"
    app = make_hub_app(data)
    from vanapp.hub.accounts import create_coordinator
    with app.app_context(), db.connection_context():
        create_coordinator(COORDINATOR, PASSWORD)
        ids = build()
    server = ServerProcess(data, args=("hub", "serve")).start()
    server.ids = ids
    yield server
    server.stop()


def test_a_coordinator_filters_traces_a_number_and_downloads_a_csv(hub_server, chromium, artifacts):
    base = hub_server.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    asked = []
    context.on("request", lambda request: asked.append(request.url))
    page = context.new_page()
    try:
        page.goto(base + "/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))
        page.click("a.lang[lang=en]")
        page.fill("#username", COORDINATOR)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/")
        people = page.locator('.totals [data-metric="people"] .value')
        expect(people).to_have_text("78")
        expect(page.locator("figure.chart svg")).to_have_count(5)

        # the district list applies itself; the dates go with the Apply button
        page.select_option("select[name=district]", "Lucknow")
        expect(page).to_have_url(re.compile(r"district=Lucknow"))
        expect(people).to_have_text("36")
        # a date is picked from lists in the page's language (day, month by name, year)
        for name, (day, month, year) in (("from", ("19", "1", "2027")), ("to", ("31", "1", "2027"))):
            page.select_option(f"select[name={name}_day]", day)
            page.select_option(f"select[name={name}_month]", month)
            page.select_option(f"select[name={name}_year]", year)
        assert "from=" not in page.url                                  # a date part does not submit
        page.click(".filters button[type=submit]")
        expect(page).to_have_url(re.compile(r"from=2027-01-19.*to=2027-01-31"))
        expect(people).to_have_text("22")             # S5's QR summary (19) and S8's taps (3)
        expect(page.locator('.totals [data-metric="held"] .value')).to_have_text("2")
        page.screenshot(path=str(artifacts / "hub-dashboard.png"), full_page=True)

        # a chart's bar is a link too: the women of these screenings
        page.locator("xpath=//*[local-name()='a'][contains(@*[local-name()='href'], 'metric=women')]"
                     "//*[local-name()='rect']").first.click()
        expect(page).to_have_url(re.compile(r"/screenings\?metric=women&from=2027-01-19&to=2027-01-31&district=Lucknow"))
        expect(page.locator(".trace-total")).to_have_text("9")
        page.go_back()

        # the number, and the screenings it adds up from
        page.click('.totals [data-metric="people"]')
        expect(page.locator(".trace-total")).to_have_text("22")
        rows = page.locator("table.trace tbody tr")
        expect(rows).to_have_count(2)
        values = [int(v) for v in rows.locator("td[data-value]").evaluate_all(
            "cells => cells.map(c => c.dataset.value)")]
        assert sorted(values) == [3, 19]
        assert {r.get_attribute("data-screening") for r in rows.all()} == {hub_server.ids["S5"], hub_server.ids["S8"]}

        # one screening, then its records: when each tap happened and when the hub got it
        page.locator(f'tr[data-screening="{hub_server.ids["S8"]}"] td a').first.click()
        expect(page.locator("h2").first).to_contain_text("3")
        page.click(f'a[href="/screenings/{hub_server.ids["S8"]}/records"]')
        taps = page.locator('table.records tr[data-kind="tap"]')
        expect(taps).to_have_count(3)
        first = taps.first.locator("td")
        expect(first.nth(3)).to_have_text("Tue 19 Jan 2027, 18:35")     # tapped, local time
        expect(first.nth(4)).to_have_text("Sun 31 Jan 2027, 18:00")     # received by the hub
        page.screenshot(path=str(artifacts / "hub-records.png"), full_page=True)

        # back on the filtered dashboard, the CSV holds the same two screenings
        page.goto(base + "/?district=Lucknow&from=2027-01-19&to=2027-01-31")
        with page.expect_download() as caught:
            page.click('a[href^="/export/screenings.csv"]')
        download = caught.value
        assert download.suggested_filename.startswith("screenings")
        text = open(download.path(), encoding="utf-8-sig").read()
        lines = list(csv.DictReader(io.StringIO(text)))
        assert {line["screening_id"] for line in lines} == {hub_server.ids["S5"], hub_server.ids["S8"]}
        assert sum(int(line["people"]) for line in lines) == 22

        page.click("a.lang[lang=hi]")
        expect(page.locator("h1")).to_have_text("पहुँच")
        page.screenshot(path=str(artifacts / "hub-dashboard-hi.png"), full_page=True)
    finally:
        context.close()
    outside = [url for url in asked if not url.startswith(base)]
    assert not outside, outside
