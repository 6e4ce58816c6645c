"""Fixtures: an app over a temp-file database, a logged-in crew client, a real server, real Chromium."""
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

# Tests drive real libVLC with its dummy outputs: no screen, no sound card in CI.
os.environ.setdefault("VANAPP_VLC_ARGS", "--vout=dummy --aout=dummy")
# `vanapp serve` syncs a paired van by itself; tests that want it set VANAPP_SYNC_INTERVAL.
os.environ.setdefault("VANAPP_SYNC_INTERVAL", "0")
os.environ.pop("VANAPP_DATABASE_URL", None)

from vanapp import create_app  # noqa: E402
from vanapp import parts  # noqa: E402
from vanapp.db import migrate  # noqa: E402
from vanapp.models import db  # noqa: E402

from .support.server import ROOT, ServerProcess  # noqa: E402
from .support.postgres import pg_server, pg_url, pg_fresh_url, pg_migrated_url  # noqa: E402,F401

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("VANAPP_CHROMIUM", "/usr/bin/chromium")
PIN = "2468"


@pytest.fixture
def media_dir(tmp_path):
    """A private copy of the repository's media folder, safe to break."""
    target = tmp_path / "media"
    shutil.copytree(ROOT / "media", target)
    return target


@pytest.fixture
def app_media():
    """The media folder the `app` fixture serves (a module overrides this fixture for its own)."""
    return ROOT / "media"


@pytest.fixture
def app(tmp_path, app_media):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "data"),
                      "MEDIA_DIR": str(app_media), "SCHEDULES_DIR": str(ROOT / "schedules")})
    migrate()
    from vanapp import security
    with db.connection_context():
        security.set_pin(PIN)
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield app
        # background threads of this app (game timer, player) must not outlive it: the models'
        # database is global, and the next test binds it to another file
        parts.stop_all(app)
        if not db.is_closed():
            db.close()


@pytest.fixture
def clock():
    """Move this process's wall clock: `clock("2026-12-01 12:00+05:30")` (it keeps ticking)."""
    import time_machine
    travellers = []

    def travel(moment):
        traveller = time_machine.travel(moment, tick=True)
        traveller.start()
        travellers.append(traveller)
    yield travel
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: bytes | str) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    return re.search(r'name="csrf-token" content="([^"]+)"', text).group(1)


@pytest.fixture
def crew(client):
    """A test client logged in with the crew PIN; `crew.csrf` is its CSRF token."""
    page = client.get("/login")
    client.post("/login", data={"pin": PIN, "csrf_token": csrf_from(page.data)})
    # `app` keeps one app context (and so one `g`) across requests: drop the token Flask-WTF
    # cached there before login cleared the session, or the new session never gets one.
    from flask import g
    g.pop("csrf_token", None)
    client.csrf = csrf_from(client.get("/").data)
    return client


@pytest.fixture
def cli(app):
    """Run `vanapp ...` in-process against the test app."""
    from flask.cli import ScriptInfo
    from vanapp.cli import cli as group

    runner = CliRunner()

    def run(*args, **kwargs):
        return runner.invoke(group, list(args), obj=ScriptInfo(create_app=lambda: app), **kwargs)
    return run


@pytest.fixture
def server_factory(tmp_path):
    """Start real `vanapp serve` processes; all are stopped at the end of the test."""
    started = []

    def start(name="van", env=None, args=("serve",), init=True):
        data = tmp_path / name
        srv = ServerProcess(data, env=env, args=args)
        if init:
            import subprocess
            import sys
            subprocess.run([sys.executable, "-m", "vanapp.cli", "init", "--pin", PIN],
                           env=srv.env, check=True, capture_output=True, cwd=str(ROOT))
        started.append(srv)
        return srv.start()
    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def chromium():
    """The distribution's Chromium, headless, through Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def need_zbarimg() -> None:
    """The QR tests read codes with a real reader: without it they fail, never skip."""
    import shutil
    if shutil.which("zbarimg") is None:
        pytest.fail("zbarimg is missing: `make test` installs Debian's zbar-tools package")


@pytest.fixture
def patient_expect():
    """Playwright's `expect` waits up to 45 s in this test (a loaded 2-core box is slow, and a
    show's steps wait on real playback), then back to its default."""
    from playwright.sync_api import expect
    expect.set_options(timeout=45_000)
    yield expect
    expect.set_options(timeout=5_000)
