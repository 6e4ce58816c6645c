"""Importing tour files: valid YAML and CSV, re-import, crew changes kept, every bad input refused
with its file, line and field while the database stays exactly as it was."""
import datetime as dt
import json
import shutil

import pytest

from vanapp.ids import stable_id, utcnow
from vanapp.models import (Game, MediaItem, ProgrammeItem, Screening, ScreeningEvent, TallyEvent,
                           Tour, Village)
from vanapp.tours.importer import import_files, import_sources, village_id

from .test_tours_support import (BROKEN, SCHEDULES, VALID, add_catalog_for, catalog,  # noqa: F401
                                 coordinator_files, dump)

pytestmark = pytest.mark.usefixtures("coordinator_files")   # tours of several vans

TZ = "Asia/Kolkata"
BEFORE_TOURS = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)   # every test tour is after this
SITAPUR = VALID / "sitapur.yaml"
SPREADSHEET = VALID / "spreadsheet.csv"


def run_import(*paths, check=False, now=BEFORE_TOURS):
    return import_files([str(p) for p in paths], tz=TZ, check=check, now=now)


def edited(tmp_path, source, old, new, name=None):
    """A copy of `source` with one text replaced (the test fails if the text is not there)."""
    text = source.read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / (name or source.name)
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


def screening(tour, village_en, date=None):
    q = Screening.select().join(Village).where((Screening.tour == tour) & (Village.name_en == village_en))
    return q.where(Screening.date == date).get() if date else q.get()


# --- valid files ---------------------------------------------------------------------------

def test_yaml_tour_imports_screenings_villages_and_programmes(catalog):
    result = run_import(SITAPUR)
    assert result.ok, result.errors
    assert result.counts["screenings"] == {"added": 4, "updated": 0, "unchanged": 0, "removed": 0}
    tour = Tour.get_by_id("test-sitapur-2027")
    assert (tour.van, tour.title, tour.campaign_id) == ("van-07", "Bell Bajao — Sitapur, February 2027",
                                                        "bell-bajao")
    first = screening("test-sitapur-2027", "Laharpur", "2027-02-01")
    # 18:30 in India is 13:00 UTC; the id is derived from the natural key and that instant.
    assert first.starts_at == dt.datetime(2027, 2, 1, 13, 0, tzinfo=dt.timezone.utc)
    assert first.id == stable_id(first.starts_at, "test-sitapur-2027", "2027-02-01", "Laharpur")
    assert (first.van, first.status, first.programme, first.duration_min) == ("van-07", "planned",
                                                                              "standard", 90)
    assert [i.label for i in first.items.order_by(ProgrammeItem.position)] == [
        "game:attitude@before", "psa:ring-the-bell", "game:bell-quiz", "game:attitude@after",
        "game:pledge"]
    item0 = first.items.where(ProgrammeItem.position == 0).get()
    assert item0.id == stable_id(first.starts_at, first.id, "0") and item0.kind == "game"
    # An unquoted 18:00 is a time, not the YAML 1.1 number 1080.
    assert screening("test-sitapur-2027", "Biswan").start == "18:00"
    assert screening("test-sitapur-2027", "Mahmudabad").duration_min == 150
    inline = screening("test-sitapur-2027", "Laharpur", "2027-02-04")
    assert [i.label for i in inline.items.order_by(ProgrammeItem.position)] == [
        "film:equal-voices", "game:pledge"]
    # Laharpur is visited twice: one village row, with the id its natural key gives.
    laharpur = Village.select().where(Village.name_en == "Laharpur")
    assert laharpur.count() == 1
    assert laharpur.get().id == village_id("Sitapur", "Laharpur", "Laharpur")
    assert laharpur.get().name == "लहरपुर"


def test_csv_with_bom_crlf_quotes_blank_rows_and_two_tours_imports(catalog):
    raw = SPREADSHEET.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b",,,,,,,,,,," in raw
    result = run_import(SPREADSHEET)
    assert result.ok, result.errors
    assert result.tours == ["test-hardoi-2027", "test-unnao-2027"]
    assert result.counts["screenings"]["added"] == 3
    sandila = screening("test-hardoi-2027", "Sandila")
    assert sandila.notes == 'Near the school, by the "big" neem tree'
    assert Tour.get_by_id("test-hardoi-2027").title == "Bell Bajao — Hardoi, March 2027"
    bilgram = screening("test-hardoi-2027", "Bilgram")
    assert bilgram.start == "09:30" and bilgram.notes == "Morning show: school assembly,\nthen the market"
    unnao = screening("test-unnao-2027", "Bangarmau")
    assert unnao.van == "van-09" and Tour.get_by_id("test-unnao-2027").van == "van-09"
    assert [i.label for i in unnao.items.order_by(ProgrammeItem.position)] == [
        "psa:neighbour", "sound:bell-chime", "media:helpline-181"]


def test_reimport_changes_nothing_at_all(catalog):
    assert run_import(SITAPUR, SPREADSHEET).ok
    before = dump()
    again = run_import(SITAPUR, SPREADSHEET)
    assert again.ok
    assert again.counts["screenings"] == {"added": 0, "updated": 0, "unchanged": 7, "removed": 0}
    assert again.counts["tours"] == {"added": 0, "updated": 0, "unchanged": 3}
    assert dump() == before        # no version bump, no outbox row, no new id


def test_reimport_updates_a_changed_time_in_place(catalog, tmp_path):
    assert run_import(SITAPUR).ok
    old = screening("test-sitapur-2027", "Biswan")
    others = {s.id: s.version for s in Screening.select() if s.id != old.id}
    changed = edited(tmp_path, SITAPUR, "start: 18:00", "start: \"17:45\"")
    result = run_import(changed)
    assert result.ok, result.errors
    assert result.counts["screenings"] == {"added": 0, "updated": 1, "unchanged": 3, "removed": 0}
    new = Screening.get_by_id(old.id)           # same record, not a new one
    assert (new.start, new.version) == ("17:45", old.version + 1)
    assert new.starts_at == dt.datetime(2027, 2, 2, 12, 15, tzinfo=dt.timezone.utc)
    assert Screening.select().count() == 4
    assert {s.id: s.version for s in Screening.select() if s.id != old.id} == others


def test_changed_programme_replaces_the_items(catalog, tmp_path):
    assert run_import(SITAPUR).ok
    changed = edited(tmp_path, SITAPUR, "    - psa:helpline-181\n", "    - psa:neighbour\n    - song:bell-song\n")
    result = run_import(changed)
    assert result.ok, result.errors
    biswan = screening("test-sitapur-2027", "Biswan")
    assert [i.label for i in biswan.items.order_by(ProgrammeItem.position)] == [
        "psa:ring-the-bell", "psa:neighbour", "song:bell-song", "game:pledge"]
    assert biswan.version == 2 and result.counts["screenings"]["updated"] == 1


def test_screening_dropped_from_the_file_is_removed_while_planned(catalog, tmp_path):
    assert run_import(SITAPUR).ok
    gone = screening("test-sitapur-2027", "Mahmudabad")
    text = SITAPUR.read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if "Mahmudabad" in l) + "\n"
    shorter = edited(tmp_path, SITAPUR, line, "")
    result = run_import(shorter)
    assert result.ok, result.errors
    assert result.counts["screenings"]["removed"] == 1
    assert Screening.get_or_none(Screening.id == gone.id) is None
    assert not ProgrammeItem.select().where(ProgrammeItem.screening == gone.id).exists()


def test_screening_with_crew_records_cannot_be_dropped_and_nothing_changes(catalog, tmp_path):
    assert run_import(SITAPUR).ok
    kept = screening("test-sitapur-2027", "Mahmudabad")
    TallyEvent.create(screening=kept, category="women", delta=1, at=utcnow(), van="van-07")
    text = SITAPUR.read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if "Mahmudabad" in l) + "\n"
    shorter = edited(tmp_path, SITAPUR.parent / SITAPUR.name, line, "")
    shorter = edited(tmp_path, shorter, 'start: "19:00"', 'start: "19:15"')   # also a change
    before = dump()
    result = run_import(shorter)
    assert not result.ok
    [error] = result.errors
    assert (error.file, error.line, error.field) == (str(shorter), 3, "screenings")
    assert kept.id in error.message and "Mahmudabad" in error.message
    assert dump() == before


def test_crew_status_and_reschedule_survive_a_reimport(catalog, tmp_path):
    assert run_import(SITAPUR).ok
    cancelled = screening("test-sitapur-2027", "Biswan")
    Screening.update(status="cancelled", status_reason="rain").where(
        Screening.id == cancelled.id).execute()
    ScreeningEvent.create(screening=cancelled, kind="cancelled", reason="rain", at=utcnow())
    moved = screening("test-sitapur-2027", "Mahmudabad")
    new_at = dt.datetime(2027, 2, 3, 14, 30, tzinfo=dt.timezone.utc)      # 20:00 local
    Screening.update(start="20:00", starts_at=new_at).where(Screening.id == moved.id).execute()
    ScreeningEvent.create(screening=moved, kind="rescheduled", new_date="2027-02-03",
                          new_start="20:00", at=utcnow())
    changed = edited(tmp_path, SITAPUR, "Market square, near the tank.", "By the tank.")
    result = run_import(changed)
    assert result.ok, result.errors
    c = Screening.get_by_id(cancelled.id)
    assert (c.status, c.status_reason, c.notes) == ("cancelled", "rain", "Market square, near the tank.")
    m = Screening.get_by_id(moved.id)
    assert (m.start, m.starts_at, m.status) == ("20:00", new_at, "planned")
    assert {(w.field, "cancelled" in w.message or "rescheduled" in w.message)
            for w in result.warnings} == {("screening", True), ("start", True)}


def test_check_writes_nothing_but_reports_what_would_change(catalog, cli):
    before = dump()
    r = cli("schedule", "import", "--check", str(SITAPUR), str(SPREADSHEET))
    assert r.exit_code == 0, r.output
    assert "check passed: would import 3 tour(s)" in r.stdout and "7 added" in r.stdout
    assert dump() == before


def test_the_same_village_in_two_tours_is_one_village(catalog, tmp_path):
    other = edited(tmp_path, SITAPUR, "tour: test-sitapur-2027", "tour: test-sitapur-2027-b",
                   name="second.yaml")
    other = edited(tmp_path, other, "van: van-07", "van: van-11", name="second.yaml")
    result = run_import(SITAPUR, other)
    assert result.ok, result.errors
    assert Village.select().where(Village.name_en == "Laharpur").count() == 1
    assert Screening.select().count() == 8


def test_screening_in_the_past_is_a_warning_not_an_error(catalog):
    text = SITAPUR.read_text(encoding="utf-8")
    result = import_sources([("sitapur.yaml", text)], tz=TZ,
                            now=dt.datetime(2027, 2, 2, 0, 0, tzinfo=dt.timezone.utc))
    assert result.ok
    assert [(w.line, w.field, w.level) for w in result.warnings] == [(15, "date", "warning")]
    assert "in the past" in result.warnings[0].message
    assert Screening.select().count() == 4
    again = import_sources([("sitapur.yaml", text)], tz=TZ,
                           now=dt.datetime(2027, 2, 2, 0, 0, tzinfo=dt.timezone.utc))
    assert again.ok and again.warnings == []     # already imported: not news


def test_spreadsheet_times_with_seconds_or_one_digit_hours_are_accepted(catalog):
    data = ("tour,van,date,start,village,village_en,block,district,programme\n"
            "t-1,van-1,2027-05-01,18:30:00,रामपुर,Rampur,B,D,game:pledge\n"
            "t-1,van-1,2027-05-02,7:05,रामपुर,Rampur,B,D,game:pledge\n")
    result = import_sources([("times.csv", data)], tz=TZ, now=BEFORE_TOURS)
    assert result.ok, result.errors
    assert sorted(s.start for s in Screening.select()) == ["07:05", "18:30"]


def test_sample_schedules_import_cleanly_once_media_and_games_exist(app):
    samples = sorted(SCHEDULES.glob("*.yaml")) + sorted(SCHEDULES.glob("*.csv"))
    assert len(samples) >= 2
    media, games = add_catalog_for(samples)
    assert media and games
    result = import_files([str(p) for p in samples], tz=TZ)
    assert result.ok, [str(e) for e in result.errors]
    assert Screening.select().count() == result.counts["screenings"]["added"] >= 12
    again = import_files([str(p) for p in samples], tz=TZ)
    assert again.ok and again.counts["screenings"]["added"] == 0
    assert Screening.select().where(Screening.van == "").count() == 0


def test_sample_schedules_import_after_the_real_catalogue_and_games_load(app):
    """The `make run` order: media catalogue, games, then every tour file in schedules/."""
    from vanapp.games.content import load_games
    from vanapp.media.catalog import load_catalog
    media_dir = SCHEDULES.parent / "media"
    assert load_catalog(media_dir).ok and load_games(media_dir).ok
    result = import_files([str(SCHEDULES)], tz=TZ)
    assert result.ok, [str(e) for e in result.errors]
    assert result.counts["screenings"]["added"] >= 12


# --- bad input: every error named, nothing written -------------------------------------------

# file -> the exact errors expected, as (line, field, a piece of the message)
BROKEN_FILES = {
    "yaml-syntax.yaml": [(5, "file", "not valid YAML")],
    "missing-field.yaml": [(7, "village_en", "is missing")],
    "unknown-field.yaml": [(7, "village", "is missing"), (9, "vilage", "did you mean 'village'")],
    "impossible-date.yaml": [(8, "date", "'2027-02-30' is not a real date")],
    "slashed-date.yaml": [(7, "date", "YYYY-MM-DD")],
    "hour-25.yaml": [(7, "start", "'25:00' is not a time of day")],
    "six-pm.yaml": [(8, "start", "'6pm' is not a time")],
    "duplicate.yaml": [(9, "screening", "already listed at")],
    "overlap.yaml": [(8, "start", "at the same time")],
    "unknown-programme.yaml": [(7, "programme", "no programme named 'standrd'")],
    "bad-refs.yaml": [(6, "programmes.standard", "'psa ring-the-bell' is not a programme item"),
                      (7, "programmes.standard", "unknown kind 'video'"),
                      (8, "programmes.standard", "only for games"),
                      (9, "programmes.standard", "@before or @after")],
    "unknown-refs.yaml": [(4, "programmes.standard", "no media item 'ring-the-bel'"),
                          (4, "programmes.standard", "'equal-voices' is a film, not a psa"),
                          (4, "programmes.standard", "no game 'bell-quizz'"),
                          (4, "programmes.standard", "'ring-the-bell' is a psa, not a game"),
                          (4, "programmes.standard", "'pledge' is a game")],
    "empty-programme.yaml": [(4, "programmes.standard", "the programme is empty")],
    "missing-van.yaml": [(1, "van", "is missing")],
    "tour-not-slug.yaml": [(1, "tour", "not a valid tour id")],
    "empty.yaml": [(1, "file", "empty")],
    "comment-only.yaml": [(1, "file", "empty")],
    "missing-column.csv": [(1, "header", "missing column village_en")],
    "extra-column.csv": [(1, "header", "unknown column 'budget'")],
    "renamed-column.csv": [(1, "header", "unknown column 'village_hi'"),
                           (1, "header", "missing column village")],
    "bad-quoting.csv": [(3, "file", "not valid CSV")],
    "bad-date-time.csv": [(3, "date", "'3/12/2027' is not a date"), (3, "start", "'6pm' is not a time")],
    "conflicting-van.csv": [(3, "van", "has van 'van-19' here but 'van-18'")],
    "empty-programme.csv": [(3, "programme", "is empty")],
    "extra-cell.csv": [(3, "row", "has 10 cells but the header has 9")],
    "empty.csv": [(1, "file", "empty")],
    "header-only.csv": [(1, "file", "no screenings")],
    "not-utf8.csv": [(2, "file", "not UTF-8")],
}


def test_every_broken_fixture_is_in_the_table():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(BROKEN_FILES)


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_file_is_refused_with_file_line_field_and_changes_nothing(name, catalog, cli):
    assert cli("schedule", "import", str(SITAPUR)).exit_code == 0   # something to keep safe
    before = dump()
    path = str(BROKEN / name)
    r = cli("schedule", "import", "--json", path)
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    assert out["ok"] is False
    got = [(e["file"], e["line"], e["field"], e["message"]) for e in out["errors"]]
    expected = BROKEN_FILES[name]
    assert len(got) == len(expected), got
    for (file, line, field, message), (want_line, want_field, fragment) in zip(got, expected):
        assert (file, line, field) == (path, want_line, want_field), got
        assert fragment in message, got
    assert dump() == before


def test_text_errors_read_file_line_field_message(catalog, cli, clock):
    clock("2026-12-01 12:00+05:30")             # before the file's dates: no "in the past" warning
    path = str(BROKEN / "bad-date-time.csv")
    r = cli("schedule", "import", path)
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"{path}:3: date: '3/12/2027' is not a date: write YYYY-MM-DD, e.g. 2026-12-03",
        f"{path}:3: start: '6pm' is not a time: write HH:MM on the 24-hour clock, e.g. 18:30",
        "2 errors: nothing was imported."]
    assert Screening.select().count() == 0


def test_one_broken_file_blocks_the_valid_ones_and_all_errors_are_listed(catalog, cli):
    before = dump()
    files = [str(SITAPUR), str(BROKEN / "hour-25.yaml"), str(SPREADSHEET),
             str(BROKEN / "bad-date-time.csv")]
    r = cli("schedule", "import", "--json", *files)
    assert r.exit_code == 1
    errors = json.loads(r.stdout)["errors"]
    assert [(e["file"], e["line"], e["field"]) for e in errors] == [
        (files[1], 7, "start"), (files[3], 3, "date"), (files[3], 3, "start")]
    assert dump() == before


def test_overlap_with_another_tour_of_the_same_van_in_the_database(catalog, tmp_path):
    assert run_import(SITAPUR).ok
    before = dump()
    other = tmp_path / "other.csv"
    other.write_text("tour,van,date,start,village,village_en,block,district,programme\n"
                     "test-other-2027,van-07,2027-02-03,19:30,सिधौली,Sidhauli,Sidhauli,Sitapur,"
                     "psa:ring-the-bell\n", encoding="utf-8")
    result = run_import(other)
    assert [(e.line, e.field) for e in result.errors] == [(2, "start")]
    assert "test-sitapur-2027" in result.errors[0].message and "Mahmudabad" in result.errors[0].message
    assert dump() == before
    # Another van that evening is fine.
    other.write_text(other.read_text(encoding="utf-8").replace("van-07", "van-12"), encoding="utf-8")
    assert run_import(other).ok


def test_cancelled_screening_does_not_block_its_evening(catalog, tmp_path):
    assert run_import(SITAPUR).ok
    Screening.update(status="cancelled").where(
        Screening.id == screening("test-sitapur-2027", "Mahmudabad").id).execute()
    other = tmp_path / "other.csv"
    other.write_text("tour,van,date,start,village,village_en,block,district,programme\n"
                     "test-other-2027,van-07,2027-02-03,19:30,सिधौली,Sidhauli,Sidhauli,Sitapur,"
                     "psa:ring-the-bell\n", encoding="utf-8")
    assert run_import(other).ok


def test_one_tour_with_two_vans_or_titles_across_files_is_refused(catalog, tmp_path):
    csv_file = tmp_path / "more.csv"
    csv_file.write_text(
        "tour,van,date,start,village,village_en,block,district,programme,title\n"
        "test-sitapur-2027,van-08,2027-02-10,18:00,सिधौली,Sidhauli,Sidhauli,Sitapur,psa:ring-the-bell,\n"
        "test-sitapur-2027,van-07,2027-02-11,18:00,हरगांव,Hargaon,Hargaon,Sitapur,psa:ring-the-bell,Another title\n",
        encoding="utf-8")
    result = run_import(SITAPUR, csv_file)
    assert [(e.file, e.line, e.field) for e in result.errors] == [
        (str(csv_file), 2, "van"), (str(csv_file), 3, "title")]
    assert Screening.select().count() == 0


def test_same_screening_in_two_files_is_a_duplicate(catalog, tmp_path):
    csv_file = tmp_path / "again.csv"
    csv_file.write_text(
        "tour,van,date,start,village,village_en,block,district,programme\n"
        "test-sitapur-2027,van-07,2027-02-01,18:30,लहरपुर,Laharpur,Laharpur,Sitapur,psa:ring-the-bell\n",
        encoding="utf-8")
    result = run_import(SITAPUR, csv_file)
    assert [(e.file, e.line, e.field) for e in result.errors] == [(str(csv_file), 2, "screening")]
    assert f"{SITAPUR}:15" in result.errors[0].message


@pytest.mark.parametrize("name, data, line, field, fragment", [
    ("utf16.csv", "tour,van\n".encode("utf-16"), 1, "file", "UTF-16"),
    ("tour.txt", b"tour: x\n", 1, "file", "must end in .yaml"),
    ("dupkey.yaml", "tour: t-1\nvan: van-1\nvan: van-2\nprogrammes: {a: [game:pledge]}\n"
     "screenings:\n  - {date: 2027-05-01, start: '18:00', village: र, village_en: R, block: B, "
     "district: D, programme: a}\n".encode(), 3, "van", "given twice"),
    ("list.yaml", b"- tour: t-1\n", 1, "file", "a tour file is a mapping"),
    ("noscreenings.yaml", b"tour: t-1\nvan: van-1\nprogrammes: {a: [game:pledge]}\n", 1,
     "screenings", "is missing"),
    ("village.csv", "tour,van,date,start,village,village_en,block,district,programme\n"
     "t-1,van-1,2027-05-01,18:00,रामपुर,Rampur,B,D,game:pledge\n"
     "t-1,van-1,2027-05-02,18:00,रामपूर,Rampur,B,D,game:pledge\n".encode(), 3, "village",
     "written 'रामपूर' here but 'रामपुर'"),
    ("semicolon.csv", "tour;van;date;start;village;village_en;block;district;programme\n"
     "t-1;van-1;2027-05-01;18:00;रामपुर;Rampur;B;D;game:nope\n".encode(), 2, "programme",
     "no game 'nope'"),
    ("duration.yaml", "tour: t-1\nvan: van-1\nprogrammes: {a: [game:pledge]}\nscreenings:\n"
     "  - {date: 2027-05-01, start: '18:00', village: र, village_en: R, block: B, district: D, "
     "programme: a, duration: two hours}\n".encode(), 5, "duration", "whole minutes"),
])
def test_more_bad_inputs_are_refused_with_their_place(catalog, name, data, line, field, fragment):
    before = dump()
    result = import_sources([(name, data)], tz=TZ, now=BEFORE_TOURS)
    assert [(e.file, e.line, e.field) for e in result.errors] == [(name, line, field)], result.errors
    assert fragment in result.errors[0].message
    assert dump() == before


def test_missing_file_is_an_error_and_a_folder_imports_its_files(catalog, cli, tmp_path):
    r = cli("schedule", "import", "--json", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 1
    assert json.loads(r.stdout)["errors"][0]["message"] == "no such file"
    folder = tmp_path / "tours"
    folder.mkdir()
    shutil.copy(SITAPUR, folder)
    shutil.copy(SPREADSHEET, folder)
    r = cli("schedule", "import", str(folder))
    assert r.exit_code == 0, r.output
    assert Screening.select().count() == 7


def test_media_that_left_the_catalogue_is_refused(catalog):
    MediaItem.update(in_catalog=False).where(MediaItem.id == "helpline-181").execute()
    result = run_import(SITAPUR)
    assert [(e.line, e.field) for e in result.errors] == [(12, "programmes.short")]
    assert "no longer in the catalogue" in result.errors[0].message


def test_refs_are_errors_when_nothing_is_loaded_yet(app):
    result = run_import(SITAPUR)
    assert not result.ok and all("first" in e.message for e in result.errors)
    assert Game.select().count() == 0 and Screening.select().count() == 0
