"""One van per laptop: the van id set by `vanapp init --van` or the first pairing (else the van its
tours are planned for) is shown in the header; Today, Tour and Run show that van's screenings;
another van's tour file, pairing code or id is refused with a message naming both vans, and
nothing changes."""
import json

import pytest

from vanapp.models import Screening, Setting, Tour, db
from vanapp.tours import identity

from .conftest import PIN
from .support.factories import make_screening
from .support.syncenv import Hub, vanapp
from .test_sync_console import Console
from .test_tours_support import SCHEDULES, dump

TOUR = """tour: {tour}
title: Test tour of {van}
van: {van}
campaign: bell-bajao
programmes:
  short: [psa:ring-the-bell]
screenings:
  - {{date: {date}, start: "18:30", village: "गाँव", village_en: {village}, block: Haidergarh, district: Barabanki, programme: short}}
"""


def tour_file(tmp_path, van, tour=None, date="2031-02-03", village="Gaon"):
    path = tmp_path / f"{tour or 'tour-' + van}.yaml"
    path.write_text(TOUR.format(tour=tour or f"tour-{van}", van=van, date=date, village=village), encoding="utf-8")
    return str(path)


def test_a_tour_for_another_van_is_refused_naming_both_and_nothing_is_imported(app, cli, tmp_path):
    assert cli("init", "--van", "van-03").exit_code == 0
    assert cli("schedule", "import", tour_file(tmp_path, "van-03")).exit_code == 0
    before = dump()
    refused = cli("schedule", "import", tour_file(tmp_path, "van-05"), tour_file(tmp_path, "van-03", "more", village="Gaon2"))
    assert refused.exit_code == 1
    assert "planned for van-05, but this laptop is van-03" in refused.output
    assert "nothing was imported" in refused.output
    assert dump() == before


def test_a_laptop_without_a_van_id_is_the_van_of_its_tours(app, cli, tmp_path):
    assert cli("schedule", "import", tour_file(tmp_path, "van-03")).exit_code == 0
    assert identity.this_van().van == "van-03"
    refused = cli("schedule", "import", "--json", tour_file(tmp_path, "van-05"))
    errors = json.loads(refused.stdout)["errors"]
    assert refused.exit_code == 1 and [(e["field"], e["line"]) for e in errors] == [("van", 3)]
    assert "van-05" in errors[0]["message"] and "the tours on it are van-03's" in errors[0]["message"]
    assert Tour.select().where(Tour.van == "van-05").count() == 0


def test_files_for_two_vans_are_refused_on_a_laptop_that_is_no_van_yet(app, cli, tmp_path):
    refused = cli("schedule", "import", tour_file(tmp_path, "van-03"), tour_file(tmp_path, "van-05"))
    assert refused.exit_code == 1
    assert "planned for van-03, and these files also plan tours for van-05" in refused.output
    assert Tour.select().count() == 0


def test_the_samples_are_one_vans_and_load_on_a_new_laptop(app, cli):
    files = sorted(map(str, SCHEDULES.glob("*.yaml"))) + sorted(map(str, SCHEDULES.glob("*.csv")))
    assert cli("schedule", "import", "--sample", *files).exit_code == 0
    assert {t.van for t in Tour.select()} == {"van-03"}
    assert identity.this_van().van == "van-03"


def test_init_refuses_a_van_id_its_tours_contradict(app, cli, tmp_path):
    assert cli("schedule", "import", tour_file(tmp_path, "van-03")).exit_code == 0
    refused = cli("init", "--van", "van-05")
    assert refused.exit_code == 1 and "van-03" in refused.output and "van-05" in refused.output
    assert Setting.van_id() == ""
    assert cli("init", "--van", "van-03").exit_code == 0 and Setting.van_id() == "van-03"


def test_a_laptop_with_two_vans_tours_shows_one_after_init(app, crew, cli):
    """A laptop loaded before vans were told apart: Today warns until `init --van` says which."""
    mine = make_screening(date="2031-02-03", village_en="Rampur", van="van-03", tour="t3")
    theirs = make_screening(date="2031-02-02", village_en="Kasba", van="van-05", tour="t5")
    today = crew.get("/").get_data(as_text=True)
    assert "van-03, van-05" in today and 'id="van-id"' not in today
    assert cli("init", "--van", "van-03").exit_code == 0
    for url in ("/", "/tour", "/run/"):
        page = crew.get(url + "?lang=en").get_data(as_text=True)     # English: the villages' English names
        assert 'id="van-id"' in page and ">van-03<" in page, url
        assert "Kasba" not in page, url
    assert "Rampur" in crew.get("/tour?lang=en").get_data(as_text=True)
    assert crew.get(f"/run/{mine.id}").status_code == 200
    assert Screening.get_by_id(theirs.id).van == "van-05"        # kept, only not shown


def test_pairing_with_another_vans_code_is_refused_and_the_code_stays_usable(server_factory, tmp_path):
    hub = Hub(server_factory)
    code = hub.add_van("van-05")
    van_dir = tmp_path / "laptop"
    vanapp(van_dir, "init", "--pin", PIN, "--van", "van-03", check=True)
    refused = vanapp(van_dir, "pair", hub.url, code)
    assert refused.returncode == 1
    assert "for van-05" in refused.stderr and "this laptop is van-03" in refused.stderr
    status = json.loads(vanapp(van_dir, "sync", "--json").stdout.strip().splitlines()[-1])
    assert status["ok"] is False and status["error_code"] == "not_paired"
    # the hub did not use the code up: van-05's own laptop pairs with it
    other = tmp_path / "van-05"
    vanapp(other, "init", "--pin", PIN, check=True)
    paired = vanapp(other, "pair", hub.url, code, "--json", check=True)
    assert json.loads(paired.stdout)["van_id"] == "van-05"


def test_the_sync_page_says_which_van_the_code_is_for_in_hindi(server_factory):
    hub = Hub(server_factory)
    code = hub.add_van("van-05")
    van = server_factory("van")
    vanapp(van.data_dir, "init", "--van", "van-03", check=True)
    crew = Console(van, lang="hi")
    page = crew.pair(hub_url=hub.url, code=code)
    assert "पेयरिंग कोड van-05 का है, पर यह लैपटॉप van-03 है" in page
    english = Console(van, lang="en").page()
    assert "Paired" not in english and "not paired" in english.lower()


def test_the_first_pairing_names_the_laptop(server_factory, tmp_path):
    hub = Hub(server_factory)
    van_dir = tmp_path / "laptop"
    vanapp(van_dir, "init", "--pin", PIN, check=True)
    vanapp(van_dir, "pair", hub.url, hub.add_van("van-09"), check=True)
    from vanapp import create_app
    app = create_app({"TESTING": True, "DATA_DIR": str(van_dir)})
    with app.app_context(), db.connection_context():
        assert identity.this_van().van == "van-09" and identity.this_van().source == "setting"


def test_a_van_refuses_a_pairing_answer_for_another_van_itself(app):
    """The van's own guard, for a hub that answers without checking."""
    make_screening(van="van-03")
    with pytest.raises(identity.WrongVan) as refused:
        identity.check_pairing("van-05")
    assert "for van-05" in refused.value.message and "van-03" in refused.value.message
    identity.check_pairing("van-03")
