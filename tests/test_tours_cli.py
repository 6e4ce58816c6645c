"""`vanapp schedule import | list | ics` as the coordinator types them."""
import json

import icalendar
import pytest

from vanapp.models import Screening
from vanapp.tours import queries

from .test_tours_support import SPREADSHEET_PATH, VALID, catalog, coordinator_files  # noqa: F401

SITAPUR = VALID / "sitapur.yaml"


@pytest.mark.usefixtures("coordinator_files")   # tours of several vans
def test_import_prints_a_summary_and_reimport_says_unchanged(catalog, cli):
    r = cli("schedule", "import", str(SITAPUR), str(SPREADSHEET_PATH))
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == ("imported 3 tour(s) (3 new, 0 updated, 0 unchanged): screenings 7 "
                                "added, 0 updated, 0 unchanged, 0 removed; villages 6 added, 0 updated")
    r = cli("schedule", "import", str(SITAPUR), str(SPREADSHEET_PATH))
    assert "screenings 0 added, 0 updated, 7 unchanged, 0 removed" in r.stdout


def test_import_json_reports_counts_and_warnings(catalog, cli):
    r = cli("schedule", "import", "--json", str(SITAPUR))
    out = json.loads(r.stdout)
    assert r.exit_code == 0
    assert out["ok"] is True and out["check"] is False and out["tours"] == ["test-sitapur-2027"]
    assert out["counts"]["screenings"]["added"] == 4 and "errors" not in out
    assert isinstance(out["warnings"], list)


def test_import_without_files_is_a_usage_error(cli):
    r = cli("schedule", "import")
    assert r.exit_code == 2 and "FILES" in r.output


@pytest.mark.usefixtures("coordinator_files")   # tours of several vans
def test_list_shows_a_table_in_time_order_with_both_names(catalog, cli):
    assert cli("schedule", "import", str(SITAPUR), str(SPREADSHEET_PATH)).exit_code == 0
    r = cli("schedule", "list")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["date", "start", "village", "village_en", "block", "programme", "status"]
    assert len(lines) == 1 + Screening.select().count()
    dates = [line.split()[0] for line in lines[1:]]
    assert dates == sorted(dates)
    assert any("लहरपुर" in line and "Laharpur" in line and "standard" in line for line in lines)
    assert any("media:helpline-181" in line for line in lines)   # a CSV row lists its items


@pytest.mark.usefixtures("coordinator_files")   # tours of several vans
def test_list_filters_by_tour_and_dates(catalog, cli):
    assert cli("schedule", "import", str(SITAPUR), str(SPREADSHEET_PATH)).exit_code == 0
    r = cli("schedule", "list", "--json", "--tour", "test-sitapur-2027", "--from", "2027-02-02",
            "--to", "2027-02-03")
    items = json.loads(r.stdout)["items"]
    assert [(i["date"], i["village"]["name_en"]) for i in items] == [
        ("2027-02-02", "Biswan"), ("2027-02-03", "Mahmudabad")]
    first = Screening.get_by_id(items[0]["id"])
    assert items[0] == queries.screening_dict(first, with_programme=True)
    assert [i["label"] for i in items[0]["items"]] == ["psa:ring-the-bell", "psa:helpline-181",
                                                       "game:pledge"]


def test_list_refuses_a_bad_date_and_says_when_empty(cli):
    r = cli("schedule", "list", "--from", "3/12/2026")
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    r = cli("schedule", "list")
    assert r.exit_code == 0 and r.stdout.strip() == "no screenings"


def test_ics_writes_a_calendar_file(catalog, cli, tmp_path):
    assert cli("schedule", "import", str(SITAPUR)).exit_code == 0
    target = tmp_path / "tour.ics"
    r = cli("schedule", "ics", "test-sitapur-2027", "-o", str(target))
    assert r.exit_code == 0, r.output
    cal = icalendar.Calendar.from_ical(target.read_bytes())
    assert len(cal.walk("VEVENT")) == 4
    r = cli("schedule", "ics", "test-sitapur-2027")
    assert r.stdout.startswith("BEGIN:VCALENDAR") and "Laharpur" in r.stdout


def test_ics_of_an_unknown_tour_fails_plainly(cli):
    r = cli("schedule", "ics", "no-such-tour")
    assert r.exit_code == 1 and "no tour 'no-such-tour'" in r.output


def test_a_fresh_van_reads_the_catalogue_and_games_before_importing(cli, app):
    """No `media scan` yet: the import reads media/catalog.yaml and media/games/ itself."""
    from pathlib import Path
    from vanapp.models import Game, MediaItem
    tour = Path(__file__).resolve().parents[1] / "schedules" / "barabanki-2026-12.yaml"
    r = cli("schedule", "import", str(tour))
    assert r.exit_code == 0, r.output
    assert "not yet checked: run `vanapp media scan`" in r.stderr
    assert MediaItem.select().count() >= 5 and Game.select().count() >= 4
    assert Screening.select().count() == 13


@pytest.mark.parametrize("moment", ["2026-02-10 09:00+05:30", "2027-08-15 23:30+05:30",
                                    "2031-01-01 00:10+05:30"])
def test_sample_tours_start_tonight_on_any_day_and_load_once(cli, clock, moment):
    """`make run` loads the samples with `--sample`: tonight's show is the tour's first, whatever
    the date; the files keep their own dates; a second `make run` leaves the crew's tours alone."""
    import datetime as dt
    from pathlib import Path
    schedules = Path(__file__).resolve().parents[1] / "schedules"
    files = [str(p) for p in sorted(schedules.glob("*.yaml")) + sorted(schedules.glob("*.csv"))]
    clock(moment)
    today = dt.datetime.fromisoformat(moment).date()
    r = cli("schedule", "import", "--sample", *files)
    assert r.exit_code == 0, r.output
    dates = sorted(s.date for s in Screening.select())
    assert dates[0] == today.isoformat() and len(dates) == 18
    assert {s.van for s in Screening.select()} == {"van-03"}      # one laptop, one van
    # the shape of the tour is kept: the Barabanki tour's 13 nights, then Lucknow's 5
    first_file = sorted(set(dates))
    assert dt.date.fromisoformat(first_file[-1]) - today == dt.date(2027, 1, 22) - dt.date(2026, 11, 23)
    again = cli("schedule", "import", "--sample", *files)
    assert again.exit_code == 0 and "not loaded again" in again.stderr
    assert sorted(s.date for s in Screening.select()) == dates
