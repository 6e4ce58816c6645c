"""`vanapp preflight`: every item of the coming screenings present, intact and playable —
and when not, each problem named with the screenings it hits."""
import datetime as dt
import json
import shutil

import pytest
import yaml

from vanapp.models import Game, MediaItem, MediaScan

from .support.factories import TZ, make_screening
from .support.server import ROOT


def day(offset=0) -> str:
    return (dt.datetime.now(TZ).date() + dt.timedelta(days=offset)).isoformat()


def preflight(cli, *args):
    result = cli("preflight", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def keep_in_catalogue(media_dir, ids):
    """Trim the copied catalogue to `ids`, so each test scans only what it needs."""
    path = media_dir / "catalog.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["items"] = [i for i in data["items"] if i["id"] in ids]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def van(app, cli, media_dir):
    """The sample media scanned and the sample games loaded, as `make run` leaves them."""
    app.config["MEDIA_DIR"] = str(media_dir)

    def prepare(ids=None):
        if ids:
            keep_in_catalogue(media_dir, ids)
        assert cli("media", "scan").exit_code == 0
        assert cli("games", "load").exit_code == 0
        return media_dir
    return prepare


def test_the_sample_kit_is_ready_to_leave(van, cli):
    van()
    tonight = make_screening(date=day(0), items=(
        ("psa", "ring-the-bell"), ("game", "attitude@before"), ("film", "equal-voices"),
        ("game", "attitude@after"), ("song", "bell-song"), ("game", "pledge")))
    tomorrow = make_screening(date=day(1), village="सुबेहा", village_en="Subeha", items=(
        ("psa", "neighbour"), ("game", "bell-quiz"), ("sound", "bell-chime"), ("psa", "helpline-181")))
    code, report = preflight(cli)
    assert code == 0, report["problems"]
    assert report["ready"] is True and report["days"] == 7 and report["problems"] == []
    assert [s["id"] for s in report["screenings"]] == [tonight.id, tomorrow.id]
    first = report["screenings"][0]
    assert set(first) >= {"id", "date", "start", "village", "ready", "problems"}
    assert (first["date"], first["start"], first["village"], first["ready"]) == \
        (day(0), "18:30", "रामपुर", True)

    human = cli("preflight")
    assert human.exit_code == 0 and "READY TO LEAVE" in human.stdout


def test_every_kind_of_problem_names_the_item_and_each_screening_it_hits(van, cli):
    media = van(["ring-the-bell", "neighbour", "helpline-181", "bell-chime"])
    a = make_screening(date=day(0), village_en="Rampur", items=(
        ("psa", "ring-the-bell"), ("psa", "neighbour"), ("game", "pledge"), ("psa", "ghost")))
    b = make_screening(date=day(2), village="सतरिख", village_en="Satrikh", items=(
        ("psa", "neighbour"), ("psa", "helpline-181"), ("game", "attitude@before"),
        ("game", "no-such-game")))
    c = make_screening(date=day(3), village="बेलहरा", village_en="Belhara", items=(
        ("sound", "bell-chime"), ("game", "bell-quiz")))
    # make_screening stubs unknown refs into the tables; take them out again.
    MediaItem.delete().where(MediaItem.id == "ghost").execute()
    Game.delete().where(Game.id == "no-such-game").execute()

    # Break the kit the ways it breaks on the road.
    (media / "psa/neighbour.mp4").unlink()                                          # missing
    cut = (media / "psa/helpline-181.mp4").read_bytes()
    (media / "psa/helpline-181.mp4").write_bytes(cut[:len(cut) // 10])              # truncated
    shutil.copy(ROOT / "media/song/bell-song.mp4", media / "psa/ring-the-bell.mp4")  # changed
    MediaScan.delete().where(MediaScan.media == "bell-chime").execute()             # never scanned
    with open(media / "games/pledge.yaml", "a", encoding="utf-8") as fh:            # game edited
        fh.write("\n# edited on the road\n")
    (media / "games/attitude.yaml").unlink()                                        # game file gone

    code, report = preflight(cli)
    assert code == 1 and report["ready"] is False
    found = {(p["ref"], p["problem"]): p for p in report["problems"]}
    for p in report["problems"]:
        assert set(p) >= {"ref", "kind", "problem", "message", "screenings"}
    expected = {
        ("psa:neighbour", "missing"): [a.id, b.id],
        ("psa:helpline-181", "changed"): [b.id],
        ("psa:helpline-181", "unplayable"): [b.id],
        ("psa:ring-the-bell", "changed"): [a.id],
        ("psa:ghost", "unknown"): [a.id],
        ("game:no-such-game", "unknown"): [b.id],
        ("sound:bell-chime", "not_scanned"): [c.id],
        ("game:pledge", "changed"): [a.id],
        ("game:attitude", "missing"): [b.id],
    }
    assert {k: v["screenings"] for k, v in found.items()} == expected
    assert "cut short" in found[("psa:helpline-181", "unplayable")]["message"]
    assert "psa/neighbour.mp4 is missing" in found[("psa:neighbour", "missing")]["message"]
    assert found[("game:pledge", "changed")]["kind"] == "game"
    assert found[("psa:ring-the-bell", "changed")]["kind"] == "media"
    screenings = {s["id"]: s for s in report["screenings"]}
    assert [s["ready"] for s in screenings.values()] == [False, False, False]
    assert {p["ref"] for p in screenings[c.id]["problems"]} == {"sound:bell-chime"}

    human = cli("preflight")
    assert human.exit_code == 1 and "NOT READY: 9 problem(s)" in human.stdout
    block = human.stdout.split("psa:neighbour (The Neighbour)")[1].split("✗")[0]
    assert f"{day(0)} 18:30 रामपुर (Rampur)" in block and f"{day(2)} 18:30 सतरिख (Satrikh)" in block


def test_cancelled_screenings_and_days_beyond_the_window_are_not_checked(van, cli):
    media = van(["ring-the-bell", "neighbour"])
    make_screening(date=day(0), items=(("psa", "ring-the-bell"),))
    make_screening(date=day(1), village_en="Subeha", items=(("psa", "neighbour"),), status="cancelled")
    later = make_screening(date=day(7), village_en="Satrikh", items=(("psa", "neighbour"),))
    (media / "psa/neighbour.mp4").unlink()
    code, report = preflight(cli)           # today .. today+6
    assert code == 0 and len(report["screenings"]) == 1
    code, report = preflight(cli, "--days", "8")
    assert code == 1 and report["problems"][0]["screenings"] == [later.id]
    code, report = preflight(cli, "--days", "1")
    assert code == 0 and report["days"] == 1 and report["from"] == report["to"] == day(0)


def test_with_nothing_planned_there_is_nothing_to_check(app, cli):
    result = cli("preflight")
    assert result.exit_code == 0 and "nothing to check" in result.stdout
    assert cli("preflight", "--days", "0").exit_code == 2  # refused by the option itself


def test_a_catalogue_broken_after_the_scan_stops_the_van(van, cli):
    """catalog.yaml edited after the scan and broken now: pre-flight says so (the next scan would
    refuse it), naming the file and line, and the van is not ready."""
    media = van(["ring-the-bell"])
    tonight = make_screening(date=day(0), items=(("psa", "ring-the-bell"),))
    assert preflight(cli)[0] == 0
    path = media / "catalog.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - {id: broken, file: x.mp4\n", encoding="utf-8")
    code, report = preflight(cli)
    assert code == 1 and report["ready"] is False
    [problem] = report["problems"]
    assert problem["problem"] == "catalog_broken" and problem["screenings"] == [tonight.id]
    assert "catalog.yaml:" in problem["detail"]
    assert "catalog" in cli("preflight").stdout
