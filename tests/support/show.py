"""A van for the show's tests: a media folder with short clips and the sample games, a screening
of tonight seeded into a real server's database, and the phones' and crew's HTTP sessions."""
import json
import shutil
import subprocess
import sys

import requests

from .server import ROOT

SEED = """
import sys
from vanapp import create_app
from vanapp.models import db
from vanapp.games.content import load_games
from tests.test_player_clips import programme
app = create_app()
with app.app_context(), db.connection_context():
    result = load_games(app.config["MEDIA_DIR"])
    assert result.ok, [str(p) for p in result.problems]
    print(programme(*sys.argv[1:]).id)
"""


def show_media(root, clips):
    """`root`: psa/a.mp4, b (3 s), long (10 s) from the clips, and media/games."""
    (root / "psa").mkdir(parents=True)
    for name in ("a", "b", "long"):
        shutil.copy(clips / "psa" / f"{name}.mp4", root / "psa")
    shutil.copytree(ROOT / "media" / "games", root / "games")
    return root


def seed_show(srv, *refs) -> str:
    """A screening of today whose programme is `refs` (clip ids, game:ID[@phase]), written into
    `srv`'s database with the games loaded; returns its id."""
    out = subprocess.run([sys.executable, "-c", SEED, *refs], env=srv.env, cwd=str(ROOT),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


class Phone(requests.Session):
    """An audience phone: its own cookie, the page's CSRF token, JSON posts."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        page = self.get(base + "/a/", timeout=20)
        page.raise_for_status()
        self.headers["X-CSRFToken"] = page.text.split('name="csrf-token" content="')[1].split('"')[0]

    def api(self, method, path, body=None):
        return self.request(method, self.base + path, data=json.dumps(body or {}) if method != "GET" else None,
                            headers={"Content-Type": "application/json"}, timeout=20)
