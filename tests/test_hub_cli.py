"""`vanapp hub ...` as a coordinator types it, starting from an empty data dir: on SQLite and on
a real PostgreSQL (VANAPP_DATABASE_URL). Errors come as sentences, never as tracebacks."""
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vanapp import create_app
from vanapp.cli import cli
from vanapp.models import db

from .support.server import ROOT, ServerProcess, free_port
from .support.syncenv import Van, make_night
from .test_hub_dashboard_scenario import EXPECTED, build

PASSWORD = "bell-bajao-2026"
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}\b")


@pytest.fixture(params=["sqlite", "postgres"])
def hub_env(request, tmp_path):
    """The environment of a coordinator's terminal: a new data dir, and for PostgreSQL a new,
    empty database."""
    url = request.getfixturevalue("pg_fresh_url") if request.param == "postgres" else ""
    return {"VANAPP_DATA_DIR": str(tmp_path / "hub"), "VANAPP_DATABASE_URL": url, "VANAPP_PUBLIC_URL": ""}


def hub(env, *args, input=None):
    """Run `vanapp hub ARGS` in-process with this environment."""
    result = CliRunner().invoke(cli, ["hub", *map(str, args)], env=env, input=input)
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def hub_app(env):
    """The same hub as an app in this process (to look at it the way the server would)."""
    return create_app({"TESTING": True, "MODE": "hub", "DATA_DIR": env["VANAPP_DATA_DIR"],
                       "DATABASE_URL": env["VANAPP_DATABASE_URL"]})


def test_a_coordinator_sets_up_a_hub_from_an_empty_data_dir(hub_env):
    for args in (("add-van", "Van 03"), ("report",), ("revoke-van", "van-03")):
        early = hub(hub_env, *args)
        assert early.exit_code == 1
        assert "there is no hub database at" in early.output and "run `vanapp hub init` first" in early.output
    done = hub(hub_env, "init", "--coordinator", "asha", "--password-stdin", input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert "0070_hub_coordinators" in done.output and "coordinator 'asha' created" in done.output
    assert "vanapp hub serve" in done.output
    again = hub(hub_env, "init", "--coordinator", "asha", "--password-stdin", input="whatever1\n")
    assert "none (up to date)" in again.output and "exists (password unchanged)" in again.output

    short = hub(hub_env, "add-coordinator", "ravi", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    bad_name = hub(hub_env, "add-coordinator", "ravi kumar", "--password-stdin", input=PASSWORD + "\n")
    assert bad_name.exit_code == 1 and "use 2 to 64 letters" in bad_name.output
    assert hub(hub_env, "add-coordinator", "ravi", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    taken = hub(hub_env, "add-coordinator", "ravi", "--password-stdin", input=PASSWORD + "\n")
    assert taken.exit_code == 1 and "--reset" in taken.output
    reset = hub(hub_env, "add-coordinator", "ravi", "--reset", "--password-stdin", input="new-password-1\n")
    assert reset.exit_code == 0 and "password set" in reset.output

    # both can log in to the hub those commands prepared
    app = hub_app(hub_env)
    from vanapp.hub.accounts import authenticate
    with app.app_context(), db.connection_context():
        assert authenticate("asha", PASSWORD) and authenticate("ravi", "new-password-1")
        assert authenticate("ravi", PASSWORD) is None
    # ravi leaves the office
    assert "can no longer log in" in hub(hub_env, "disable-coordinator", "ravi").output
    assert hub(hub_env, "disable-coordinator", "nobody").exit_code == 1
    with app.app_context(), db.connection_context():
        assert authenticate("ravi", "new-password-1") is None and authenticate("asha", PASSWORD)


def test_add_van_gives_a_pairing_code_and_its_qr_code_on_screen_and_as_files(hub_env):
    assert hub(hub_env, "init").exit_code == 0
    shown = hub(hub_env, "add-van", "Van 03", "--url", "http://hub.example.org:5100")
    assert shown.exit_code == 0, shown.output
    code = CODE.search(shown.output).group(0)
    assert "▀" in shown.output and "█" in shown.output                   # the QR, drawn in the terminal
    assert f"the QR code holds: http://hub.example.org:5100/pair?code={code}" in shown.output
    assert f"vanapp pair http://hub.example.org:5100 {code}" in shown.output
    assert re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d \(Asia/Kolkata\)", shown.output)
    files = dict(re.findall(r"QR code saved as (PNG|SVG): (\S+)", shown.output))
    png, svg = Path(files["PNG"]), Path(files["SVG"])
    assert png.parent == Path(hub_env["VANAPP_DATA_DIR"]) / "pairing" and png.name == "van-03.png"
    from PIL import Image
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] == image.size[1] >= 200
    assert svg.read_text().lstrip().startswith("<?xml") or "<svg" in svg.read_text()[:300]
    for f in (png, svg):     # the code pairs whoever holds it: readable by the coordinator only
        assert stat.S_IMODE(f.stat().st_mode) == 0o600

    as_json = hub(dict(hub_env, VANAPP_PUBLIC_URL="http://10.1.2.3:5100"), "add-van", "Van 05", "--json")
    out = json.loads(as_json.stdout)
    assert out["van"] == "van-05" and CODE.fullmatch(out["code"])
    assert out["pair_url"] == f"http://10.1.2.3:5100/pair?code={out['code']}" and not out["hub_url_guessed"]
    assert sorted(Path(f).suffix for f in out["qr_files"]) == [".png", ".svg"]
    assert all(Path(f).exists() for f in out["qr_files"])

    # the printed code pairs the van once, through the hub's own API
    client = hub_app(hub_env).test_client()
    first = client.post("/api/v1/pair", json={"code": code.lower()})
    assert first.status_code == 200 and first.get_json()["van_id"] == "van-03"
    assert client.post("/api/v1/pair", json={"code": code}).status_code == 404

    twice = hub(hub_env, "add-van", "Van 03")
    assert twice.exit_code == 1 and "van van-03 already exists" in twice.output and "rotate-van" in twice.output
    nameless = hub(hub_env, "add-van", "!!!")
    assert nameless.exit_code == 2 and "gives no van id: add --id" in nameless.output
    bad_url = hub(hub_env, "add-van", "Van 09", "--url", "hub.example.org")
    assert bad_url.exit_code == 2 and "http://HOST:PORT" in bad_url.output
    assert "van-09" not in hub(hub_env, "report", "--json").stdout      # nothing stored


def test_rotate_and_revoke_a_van_keep_what_it_synced(hub_env):
    hub(hub_env, "init")
    first = CODE.search(hub(hub_env, "add-van", "Van 03", "--url", "http://hub:5100").output).group(0)
    rotated = hub(hub_env, "rotate-van", "van-03", "--json")
    second = json.loads(rotated.stdout)["code"]
    assert second != first
    client = hub_app(hub_env).test_client()
    assert client.post("/api/v1/pair", json={"code": first}).status_code == 404       # the old one is void
    assert client.post("/api/v1/pair", json={"code": second}).status_code == 200

    revoked = hub(hub_env, "revoke-van", "van-03")
    assert revoked.exit_code == 0 and "van van-03 revoked" in revoked.output
    assert not list((Path(hub_env["VANAPP_DATA_DIR"]) / "pairing").glob("van-03.*"))   # no stale QR
    vans = json.loads(hub(hub_env, "report", "--json").stdout)["vans"]
    assert [(v["van"], v["state"], v["revoked"]) for v in vans] == [("van-03", "revoked", True)]
    assert "van van-03 (REVOKED)" in hub(hub_env, "report").output
    for args in (("revoke-van", "van-99"), ("rotate-van", "van-99")):
        unknown = hub(hub_env, *args)
        assert unknown.exit_code == 1 and "no van 'van-99'" in unknown.output


def test_report_prints_the_dashboards_totals_and_names_a_bad_filter(hub_env):
    hub(hub_env, "init")
    app = hub_app(hub_env)
    with app.app_context(), db.connection_context():
        build()
    data = json.loads(hub(hub_env, "report", "--json").stdout)
    for key, value in EXPECTED.items():
        assert data[key] == value, key
    text = hub(hub_env, "report").output
    assert "screenings held: 6 of 8 (cancelled 1, from QR summary 1)" in text
    assert "people reached: 78 — men 24, women 37, boys 7, girls 8, other 2" in text
    assert "van van-05 (paired): last sync 2027-01-31T12:30:00.000000Z" in text
    assert "1 night(s) known only from a QR summary" in text
    lucknow = json.loads(hub(hub_env, "report", "--json", "--district", "Lucknow").stdout)
    assert (lucknow["people"]["total"], lucknow["filters"]) == (36, {"district": "Lucknow"})
    bad = hub(hub_env, "report", "--from", "2026-13-01")
    assert bad.exit_code == 2 and "--from" in bad.output and "is not a date (YYYY-MM-DD)" in bad.output


def test_report_as_a_terminal_runs_it_starts_without_flask_and_says_the_same(hub_env, tmp_path):
    """`vanapp hub report` in its own process takes the Flask-free way in (cli/hub_report.py):
    the same JSON and sentences as the command inside the Flask group, the same failures."""
    env = {k: v for k, v in hub_env.items() if k != "VANAPP_DATA_DIR"}
    data_dir = hub_env["VANAPP_DATA_DIR"]
    missing = _vanapp(data_dir, "hub", "report", env=env)
    assert missing.returncode == 1 and "run `vanapp hub init` first" in missing.stderr
    assert "Traceback" not in missing.stderr + missing.stdout
    hub(hub_env, "init")
    with hub_app(hub_env).app_context(), db.connection_context():
        build()
    for args in (("--json",), (), ("--json", "--district", "Lucknow", "--from", "2027-01-01")):
        alone = _vanapp(data_dir, "hub", "report", *args, env=env)
        assert alone.returncode == 0, alone.stderr
        assert alone.stdout == hub(hub_env, "report", *args).stdout
    assert json.loads(alone.stdout)["people"]["total"] == 36
    bad = _vanapp(data_dir, "hub", "report", "--json", "--to", "2026-02-30", env=env)
    assert bad.returncode == 2
    assert json.loads(bad.stdout) == json.loads(hub(hub_env, "report", "--json", "--to", "2026-02-30").stdout)
    assert json.loads(bad.stdout)["code"] == "usage" and "--to" in json.loads(bad.stdout)["error"]
    # the way in itself: no Flask, no app
    probe = subprocess.run([sys.executable, "-c", "import sys\n"
                            "sys.argv = ['vanapp', 'hub', 'report', '--json']\n"
                            "from vanapp.cli import main\n"
                            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
                            "print('flask loaded' if 'flask' in sys.modules else 'no flask')"],
                           env=dict(__import__("os").environ, VANAPP_DATA_DIR=str(data_dir), **env),
                           capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.rstrip().endswith("no flask")
    if env["VANAPP_DATABASE_URL"]:      # the server gone: a sentence, in JSON for a script
        closed = f"postgresql://vankit@127.0.0.1:{free_port()}/hub"
        down = _vanapp(data_dir, "hub", "report", "--json", env={"VANAPP_DATABASE_URL": closed})
        assert down.returncode == 1 and json.loads(down.stdout)["code"] == "error"
        assert "cannot use the hub database at postgresql://vankit@127.0.0.1" in json.loads(down.stdout)["error"]


def test_import_bundle_stores_a_vans_records_once(hub_env, tmp_path):
    """A van that never gets a connection: its export bundle, carried on a USB stick."""
    hub(hub_env, "init")
    server = ServerProcess(hub_env["VANAPP_DATA_DIR"], env={"VANAPP_DATABASE_URL": hub_env["VANAPP_DATABASE_URL"]},
                           args=("hub", "serve")).start()
    try:
        code = json.loads(hub(hub_env, "add-van", "Van 03", "--id", "van-03", "--json").stdout)["code"]
        van = Van(tmp_path / "vans", "van-03")
        from .support.syncenv import vanapp
        vanapp(van.data_dir, "pair", server.url, code, check=True)
    finally:
        server.stop()         # from here on the van has no connection: only the USB stick
    with van.db():
        make_night("van-03", taps=24)
    stick = tmp_path / "usb" / "van-03.vankit"
    stick.parent.mkdir()
    vanapp(van.data_dir, "export-bundle", stick, check=True)

    first = hub(hub_env, "import-bundle", stick)
    assert first.exit_code == 0, first.output
    stored = int(re.search(r"(\d+) new", first.output).group(1))
    assert stored >= 24 + 1          # the taps, the screening's events, plays, game results...
    data = json.loads(hub(hub_env, "report", "--json").stdout)
    # 24 taps, every 37th a correction: none here, so 24 people in four categories
    assert data["people"]["total"] == 24 and data["screenings"]["held"] == 1
    # the hub never loaded the games: the quiz travelled with its run, so its results count
    assert {q["question"]: (q["answers"], q["correct"]) for q in data["quiz"]} == \
        {f"q{n}": (n + 3, n + 3) for n in range(5)}
    again = hub(hub_env, "import-bundle", stick, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["stored"] == 0
    assert json.loads(hub(hub_env, "report", "--json").stdout)["people"]["total"] == 24

    forged = tmp_path / "usb" / "forged.vankit"
    forged.write_bytes(stick.read_bytes().replace(b'"van-03"', b'"van-04"', 1))
    refused = hub(hub_env, "import-bundle", forged)
    assert refused.exit_code == 1 and "nothing more was stored" in refused.output
    junk = tmp_path / "usb" / "holiday.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0 not a bundle")
    not_bundle = hub(hub_env, "import-bundle", junk)
    assert not_bundle.exit_code == 1 and "not a VanKit bundle" in not_bundle.output
    hub(hub_env, "revoke-van", "van-03")
    lost_laptop = hub(hub_env, "import-bundle", stick)
    assert lost_laptop.exit_code == 1
    assert json.loads(hub(hub_env, "report", "--json").stdout)["people"]["total"] == 24


def _vanapp(data_dir, *args, env=None, timeout=60):
    """`vanapp ARGS` in a subprocess: what the coordinator's terminal shows, main() included."""
    import os
    full = dict(os.environ, VANAPP_DATA_DIR=str(data_dir))
    full.pop("VANAPP_DATABASE_URL", None)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "vanapp.cli", *map(str, args)], env=full,
                          capture_output=True, text=True, cwd=str(ROOT), timeout=timeout)


def test_a_database_that_cannot_be_used_is_said_in_plain_words(tmp_path):
    closed = f"postgresql://vankit:s3cret-pw@127.0.0.1:{free_port()}/hub"
    down = _vanapp(tmp_path, "hub", "init", env={"VANAPP_DATABASE_URL": closed})
    assert down.returncode == 1
    assert "cannot use the hub database at postgresql://vankit:***@127.0.0.1" in down.stderr
    assert "Traceback" not in down.stderr + down.stdout and "s3cret-pw" not in down.stderr
    other = _vanapp(tmp_path, "hub", "report", env={"VANAPP_DATABASE_URL": "mysql://x@127.0.0.1/hub"})
    assert other.returncode == 1 and "unsupported scheme 'mysql'" in other.stderr
    assert "Traceback" not in other.stderr


def test_hub_serve_starts_on_a_new_data_dir_and_says_who_can_log_in(tmp_path):
    server = ServerProcess(tmp_path / "hub", args=("hub", "serve")).start()
    try:
        import requests
        page = requests.get(server.url + "/login?lang=en", timeout=10)
        assert page.status_code == 200 and "No coordinator yet" in page.text
        assert requests.get(server.url + "/", allow_redirects=False, timeout=10).status_code == 302
        assert "no coordinator can log in yet: run `vanapp hub add-coordinator NAME`" in server.log()
        # with no --url, the pairing QR points at this computer and the port the hub serves on
        env = {"VANAPP_DATA_DIR": str(server.data_dir), "VANAPP_DATABASE_URL": "", "VANAPP_PUBLIC_URL": ""}
        out = json.loads(hub(env, "add-van", "Van 03", "--json").stdout)
        if out["hub_url_guessed"]:           # a machine with a LAN address
            assert out["pair_url"].endswith(f":{server.port}/pair?code={out['code']}")
        else:                                # none: the QR holds the code only, and says so
            assert out["pair_url"] == f"vankit:pair?code={out['code']}"
        busy = _vanapp(tmp_path / "hub", "hub", "serve", "--port", server.port, timeout=60)
        assert busy.returncode == 1 and f"cannot listen on 127.0.0.1:{server.port}" in busy.stderr
        assert "Traceback" not in busy.stderr
    finally:
        server.stop()
