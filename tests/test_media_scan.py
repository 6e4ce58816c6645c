"""`vanapp media scan`: checksums, durations and playability through real libVLC, and what it
says about missing, cut, garbage, changed and uncatalogued files."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest
import yaml

from vanapp.models import MediaItem, MediaScan

from .support.server import ROOT


def ffprobe_ms(path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "csv=p=0", str(path)], capture_output=True, text=True, check=True)
    return round(float(out.stdout) * 1000)


def scan(cli, *args):
    result = cli("media", "scan", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def catalogue(folder, files):
    """Write a catalogue listing `files` ({id: relative file}) as PSAs."""
    items = [{"id": i, "file": f, "title": {"hi": f"शीर्षक {i}", "en": f"Title {i}"},
              "language": "hi", "kind": "psa", "campaign": "bell-bajao"} for i, f in files.items()]
    (folder / "catalog.yaml").write_text(yaml.safe_dump({"items": items}, allow_unicode=True),
                                         encoding="utf-8")


@pytest.fixture
def broken_dir(tmp_path):
    """A media folder with one good file and every way a file goes wrong in a van."""
    folder = tmp_path / "media"
    (folder / "psa").mkdir(parents=True)
    good = (ROOT / "media/psa/ring-the-bell.mp4").read_bytes()
    (folder / "psa/good.mp4").write_bytes(good)
    (folder / "psa/cut.mp4").write_bytes(good[:len(good) // 10])
    (folder / "psa/garbage.mp4").write_bytes(os.urandom(80 * 1024))
    (folder / "psa/notes.mp4").write_text("Remember to buy diesel.\n" * 30)
    (folder / "psa/folder.mp4").mkdir()
    os.mkfifo(folder / "psa/pipe.mp4")  # reading it would block forever
    # Not catalogued: one stray film, and things a scan must not call strays.
    (folder / "psa/stray.mp4").write_bytes(good)
    (folder / "games").mkdir()
    (folder / "games/quiz.yaml").write_text("id: quiz\n")
    (folder / "README.md").write_text("notes")
    (folder / "generate_samples.sh").write_text("#!/bin/sh\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    catalogue(folder, {"good": "psa/good.mp4", "cut": "psa/cut.mp4", "garbage": "psa/garbage.mp4",
                       "notes": "psa/notes.mp4", "gone": "psa/gone.mp4", "folder": "psa/folder.mp4",
                       "pipe": "psa/pipe.mp4"})
    return folder


def test_the_samples_all_play_with_their_real_durations(app, cli, media_dir):
    app.config["MEDIA_DIR"] = str(media_dir)
    code, report = scan(cli)
    print(f"\nscan of {len(report['items'])} sample files: {report['seconds']} s")
    assert code == 0 and report["ok"] is True
    assert set(report) >= {"ok", "items", "not_in_catalog", "errors"}
    assert report["not_in_catalog"] == [] and report["errors"] == []
    for item in report["items"]:
        assert set(item) >= {"id", "file", "status", "duration_ms", "sha256", "size", "error"}
        path = media_dir / item["file"]
        assert item["status"] == "ok", item
        assert item["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert item["size"] == path.stat().st_size
        assert abs(item["duration_ms"] - ffprobe_ms(path)) <= 200
        row = MediaScan.get_by_id(item["id"])
        assert (row.status, row.playable, row.sha256, row.duration_ms) == \
            ("ok", True, item["sha256"], item["duration_ms"])
    assert MediaItem.select().where(MediaItem.in_catalog).count() == len(report["items"])


@pytest.mark.timeout(120)
def test_missing_cut_garbage_and_text_files_are_each_reported_and_nothing_hangs(app, cli, broken_dir):
    app.config["MEDIA_DIR"] = str(broken_dir)
    code, report = scan(cli)
    assert code == 1 and report["ok"] is False
    items = {i["id"]: i for i in report["items"]}
    assert {k: v["status"] for k, v in items.items()} == {
        "good": "ok", "cut": "unplayable", "garbage": "unplayable", "notes": "unplayable",
        "gone": "missing", "folder": "unreadable", "pipe": "unreadable"}
    assert "cut short" in items["cut"]["error"]
    assert "is a folder" in items["folder"]["error"]
    assert "not a regular file" in items["pipe"]["error"]
    assert "nothing it can play" in items["garbage"]["error"]
    assert "nothing it can play" in items["notes"]["error"]
    assert items["gone"]["sha256"] == "" and items["gone"]["size"] is None
    assert items["good"]["error"] == "" and items["good"]["duration_ms"] > 0
    assert report["not_in_catalog"] == ["psa/stray.mp4"]
    rows = {r.media_id: r for r in MediaScan.select()}
    assert rows["garbage"].playable is False and rows["garbage"].status == "unplayable"
    assert rows["gone"].status == "missing" and rows["good"].playable is True


def test_the_table_shows_each_problem_under_its_file(app, cli, broken_dir):
    app.config["MEDIA_DIR"] = str(broken_dir)
    result = cli("media", "scan")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "KIND", "STATUS"]
    row = next(i for i, line in enumerate(lines) if line.startswith("cut "))
    assert "unplayable" in lines[row] and "cut short" in lines[row + 1]
    assert "psa/stray.mp4" in result.stdout and "Not in the catalogue" in result.stdout


def test_a_file_changed_since_the_last_scan_is_reported_once(app, cli, tmp_path):
    folder = tmp_path / "media"
    (folder / "psa").mkdir(parents=True)
    shutil.copy(ROOT / "media/psa/ring-the-bell.mp4", folder / "psa/a.mp4")
    catalogue(folder, {"a": "psa/a.mp4"})
    app.config["MEDIA_DIR"] = str(folder)
    assert scan(cli)[0] == 0
    first_sha = MediaScan.get_by_id("a").sha256

    shutil.copy(ROOT / "media/psa/neighbour.mp4", folder / "psa/a.mp4")  # another film, same name
    code, report = scan(cli)
    item = report["items"][0]
    assert code == 1 and item["status"] == "changed"
    assert first_sha[:12] in item["error"] and item["sha256"] != first_sha
    assert abs(item["duration_ms"] - ffprobe_ms(folder / "psa/a.mp4")) <= 200  # re-probed
    assert MediaScan.get_by_id("a").status == "changed"

    code, report = scan(cli)  # the new file is now the reference
    assert code == 0 and report["items"][0]["status"] == "ok"


def test_a_file_that_goes_missing_and_comes_back_different_is_still_changed(app, cli, tmp_path):
    folder = tmp_path / "media"
    (folder / "psa").mkdir(parents=True)
    shutil.copy(ROOT / "media/psa/ring-the-bell.mp4", folder / "psa/a.mp4")
    catalogue(folder, {"a": "psa/a.mp4"})
    app.config["MEDIA_DIR"] = str(folder)
    assert scan(cli)[0] == 0
    (folder / "psa/a.mp4").unlink()
    assert scan(cli)[1]["items"][0]["status"] == "missing"
    shutil.copy(ROOT / "media/psa/neighbour.mp4", folder / "psa/a.mp4")
    assert scan(cli)[1]["items"][0]["status"] == "changed"


def test_a_catalogue_error_exits_2_and_records_nothing(app, cli, broken_dir):
    text = (broken_dir / "catalog.yaml").read_text(encoding="utf-8")
    (broken_dir / "catalog.yaml").write_text(text.replace("kind: psa", "kind: movie", 1), encoding="utf-8")
    app.config["MEDIA_DIR"] = str(broken_dir)
    code, report = scan(cli)
    assert code == 2 and report["ok"] is False and report["items"] == []
    error = report["errors"][0]
    assert error["file"].endswith("catalog.yaml") and error["line"] and error["field"].endswith(".kind")
    assert MediaItem.select().count() == 0 and MediaScan.select().count() == 0

    human = cli("media", "scan")
    assert human.exit_code == 2
    assert "catalog.yaml:" in human.stderr and "nothing was changed" in human.stderr


def test_a_copy_not_as_the_catalogue_describes_is_caught_on_its_first_scan(app, cli, tmp_path):
    """An interrupted copy of a file VLC still opens scans as a shorter, playable file; only the
    catalogue's `duration` or `sha256` can tell. Pre-flight says so, and so does the player."""
    folder = tmp_path / "media"
    (folder / "psa").mkdir(parents=True)
    good = ROOT / "media/psa/ring-the-bell.mp4"                     # plays 6 s
    for name in ("short", "other", "fine"):
        shutil.copy(good, folder / f"psa/{name}.mp4")
    catalogue(folder, {"short": "psa/short.mp4", "other": "psa/other.mp4", "fine": "psa/fine.mp4"})
    text = (folder / "catalog.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    real_sha = hashlib.sha256(good.read_bytes()).hexdigest()
    data["items"][0]["duration"] = "0:12"                           # the master plays 12 s
    data["items"][1]["sha256"] = "0" * 64                           # the master's checksum
    data["items"][2].update(duration="6", sha256=real_sha)           # right on both counts
    (folder / "catalog.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    app.config["MEDIA_DIR"] = str(folder)
    code, report = scan(cli)
    assert code == 1
    by_id = {i["id"]: i for i in report["items"]}
    assert by_id["fine"]["status"] == "ok"
    assert by_id["short"]["status"] == "damaged" and by_id["short"]["playable"] is True
    assert "plays 0:06.0, the catalogue says 0:12.0" in by_id["short"]["error"]
    assert by_id["other"]["status"] == "damaged" and "checksum is not the catalogue's" in by_id["other"]["error"]
    assert MediaScan.get_by_id("short").status == "damaged"

    from .support.factories import make_screening
    make_screening(items=(("psa", "fine"), ("psa", "short"), ("psa", "other")))
    result = cli("preflight", "--json")
    assert result.exit_code == 1
    problems = {(p["ref"], p["problem"]) for p in json.loads(result.stdout)["problems"]}
    assert problems == {("psa:short", "damaged"), ("psa:other", "damaged")}

    # the player judges against the catalogue's length: all six seconds of a twelve-second film
    # is half of it, never "completed"
    from vanapp.player.outcome import judge
    from vanapp.player.programme import Item
    item = Item(index=0, kind="media", prefix="psa", ref="short", scanned_ms=6000, expected_ms=12000)
    assert item.length_ms == 12000
    verdict = judge("ended", 6000, item.length_ms, 6000)
    assert (verdict.outcome, verdict.code) == ("error", "ended_early")
    assert judge("ended", 6000, Item(index=0, kind="media", prefix="psa", ref="fine", scanned_ms=6000,
                                     expected_ms=6000).length_ms, 6000).outcome == "completed"
