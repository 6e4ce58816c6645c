"""Pre-flight's window: with nothing planned it says so and names the next screening and its date
(never "Ready to leave"); the page offers 7, 14 or 30 days; a file that did not change since the
last check keeps that check (its size, times and inode say so), and a changed one is checked again."""
import json
import os
import re

import pytest

from vanapp.media.preflight import cache_path, run_preflight

from .support.factories import make_screening
from .test_preflight import van  # noqa: F401  (fixture)

ARGS = os.environ.get("VANAPP_VLC_ARGS", "")


@pytest.fixture
def evening(clock):
    """17:00 on 2031-02-10, set before the crew logs in (a login lasts two weeks)."""
    clock("2031-02-10 17:00+05:30")


def test_nothing_planned_in_the_window_names_the_next_screening(evening, crew):
    later = make_screening(date="2031-03-02", start="18:15", village="सुबेहा", village_en="Subeha")
    html = crew.get("/preflight?lang=en").get_data(as_text=True)
    assert 'data-ready="none"' in html and "Ready to leave" not in html
    assert "Nothing planned in these 7 days" in html
    assert re.search(r'id="next-planned">The next screening is in सुबेहा on Sunday 2 March 2031 at 18:15', html)
    assert f'href="/screenings/{later.id}"' in html
    assert 'href="/preflight?days=21"' in html              # 2031-02-10 .. 2031-03-02
    reaching = crew.get("/preflight?days=21&lang=en").get_data(as_text=True)
    assert 'data-ready="none"' not in reaching and "Subeha" in reaching
    hindi = crew.get("/preflight?lang=hi").get_data(as_text=True)
    assert "इन 7 दिनों में कुछ तय नहीं है" in hindi and "रविवार 2 मार्च 2031" in hindi


def test_nothing_planned_at_all_says_import_a_tour(evening, crew):
    html = crew.get("/preflight?lang=en").get_data(as_text=True)
    assert 'data-ready="none"' in html and "Import the next tour first" in html


def test_the_page_offers_7_14_and_30_days(evening, crew):
    html = crew.get("/preflight?days=14&lang=en").get_data(as_text=True)
    windows = re.search(r'<nav[^>]*id="windows".*?</nav>', html, re.S).group(0)
    assert re.findall(r'href="/preflight\?days=(\d+)"', windows) == ["7", "14", "30"]
    assert re.search(r'days=14"\s+aria-current="true"', windows)
    assert "(14 days)" in html


def test_the_cli_names_the_next_screening_too(evening, cli):
    make_screening(date="2031-03-02", village_en="Subeha")
    text = cli("preflight")
    assert text.exit_code == 0 and "nothing to check" in text.stdout
    assert "The next screening is 2031-03-02 18:30" in text.stdout and "--days 21" in text.stdout
    data = json.loads(cli("preflight", "--json").stdout)
    assert data["nothing_planned"] is True and data["next"]["date"] == "2031-03-02"


def _check(app, media_dir):
    return run_preflight(str(media_dir), ARGS, days=60, cache_path=cache_path(app.config["DATA_DIR"]))


def test_an_unchanged_kit_is_not_hashed_or_played_again_but_a_changed_file_is(van, app):
    media = van(["ring-the-bell", "neighbour"])
    make_screening(items=(("psa", "ring-the-bell"), ("psa", "neighbour")))
    first = _check(app, media)
    assert first.ready and first.files_rechecked == 2
    again = _check(app, media)
    assert again.ready and again.files_rechecked == 0

    # the same size, new bytes, and the old modification time put back: its change time says so
    path = media / "psa/neighbour.mp4"
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    edited = _check(app, media)
    assert edited.files_rechecked == 1
    assert [p.problem for p in edited.problems] == ["changed"]

    # a file gone since the last check is missing, whatever the cache says
    path.unlink()
    gone = _check(app, media)
    assert [p.problem for p in gone.problems] == ["missing"]


def test_a_broken_cache_file_only_costs_time(van, app):
    media = van(["ring-the-bell"])
    make_screening(items=(("psa", "ring-the-bell"),))
    cache_path(app.config["DATA_DIR"]).write_text("{not json")
    report = _check(app, media)
    assert report.ready and report.files_rechecked == 1
    assert json.loads(cache_path(app.config["DATA_DIR"]).read_text())["psa/ring-the-bell.mp4"]["playable"]
