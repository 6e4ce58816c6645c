"""Helpers shared by the tours tests (no tests here): catalogue rows, a content dump, paths."""
from pathlib import Path

import pytest

from vanapp.models import Game, MediaItem, db
from vanapp.tours.sources import parse_source

DATA = Path(__file__).parent / "data" / "tours"
VALID = DATA / "valid"
BROKEN = DATA / "broken"
SITAPUR_PATH = VALID / "sitapur.yaml"
SPREADSHEET_PATH = VALID / "spreadsheet.csv"
SCHEDULES = Path(__file__).resolve().parent.parent / "schedules"

# The ids the sample content ships; tests make the rows themselves (no catalogue loader needed).
MEDIA = {"ring-the-bell": "psa", "neighbour": "psa", "helpline-181": "psa",
         "equal-voices": "film", "bell-song": "song", "bell-chime": "sound"}
GAMES = ("bell-quiz", "attitude", "neighbour-dilemma", "pledge", "bell-buzzer")


def add_catalog(media=None, games=None):
    media = MEDIA if media is None else media
    games = GAMES if games is None else games
    with db.atomic():
        for ref, kind in media.items():
            MediaItem.insert(id=ref, file=f"{kind}/{ref}.mp4", title_hi=f"{ref} (hi)",
                             title_en=ref, kind=kind).on_conflict_ignore().execute()
        for ref in games:
            Game.insert(id=ref, kind="quiz", title_hi=f"{ref} (hi)", title_en=ref,
                        content={"id": ref}).on_conflict_ignore().execute()


def add_catalog_for(paths):
    """MediaItem/Game rows for every ref the files name (a `media:` ref becomes a psa)."""
    media, games = {}, set()
    for path in paths:
        for use in parse_source(str(path), Path(path).read_bytes()).refs:
            if use.item.kind == "game":
                games.add(use.item.ref)
            else:
                media[use.item.ref] = "psa" if use.item.prefix == "media" else use.item.prefix
    add_catalog(media, games)
    return media, games


def dump() -> dict:
    """Every table's rows, sorted: equal dumps mean the database content did not change."""
    out = {}
    for table in sorted(db.get_tables()):
        rows = db.execute_sql(f'SELECT * FROM "{table}"').fetchall()
        out[table] = sorted(rows, key=repr)
    return out


@pytest.fixture
def coordinator_files(app):
    """The test tours are a coordinator's files, for several vans: `vanapp schedule import`
    reads them as the hub does (a van's laptop takes only its own van's tours, which
    test_van_identity.py tests)."""
    app.config["MODE"] = "hub"


@pytest.fixture
def catalog(app):
    add_catalog()
