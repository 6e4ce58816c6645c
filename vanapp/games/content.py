"""Game content: read media/games/*.yaml, validate every file, and store the games as Game
rows in one transaction (all or nothing). Also the lookups the engine and screens use."""
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..models import Game, db
from .schema import Problem, check_document

GAMES_SUBDIR = "games"


@dataclass
class LoadResult:
    """What a load found and did. `ok` is False when any file had a problem (nothing written)."""
    games: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    written: bool = False
    files: dict[str, tuple[str, str]] = field(default_factory=dict)   # id -> (file, sha256)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "written": self.written,
                "games": [g["id"] for g in self.games],
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": [p.as_dict() for p in self.problems]}


def read_games(media_dir) -> LoadResult:
    """Validate every game file under `media_dir`/games; no database access."""
    media = Path(media_dir)
    folder = media / GAMES_SUBDIR
    result = LoadResult()
    if not folder.is_dir():
        result.problems.append(Problem(str(folder), 0, "", "no games folder"))
        return result
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        rel = path.relative_to(media).as_posix()
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            result.problems.append(Problem(rel, 0, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
            continue
        game, problems = check_document(text, rel)
        if problems:
            result.problems.extend(problems)
            continue
        if game["id"] in seen:
            line = next((n for n, text_line in enumerate(text.splitlines(), 1)
                         if re.match(r"id\s*:", text_line)), 1)       # the top-level `id:` line
            result.problems.append(Problem(rel, line, "id", f"{game['id']!r} is already the id of {seen[game['id']]}"))
            continue
        seen[game["id"]] = rel
        result.games.append(game)
        result.files[game["id"]] = (rel, hashlib.sha256(raw).hexdigest())
    return result


def load_games(media_dir, check: bool = False) -> LoadResult:
    """Validate all game files, then upsert their Game rows in one transaction.

    Any problem in any file: nothing is written. Files whose checksum and path are
    unchanged are left alone, so a repeated load queues nothing for sync.
    """
    result = read_games(media_dir)
    if not result.ok or check:
        return result
    with db.atomic():
        for game in result.games:
            rel, sha256 = result.files[game["id"]]
            row = Game.get_or_none(Game.id == game["id"])
            if row is not None and row.sha256 == sha256 and row.file == rel:
                result.unchanged.append(game["id"])
                continue
            if row is None:
                row = Game(id=game["id"])
                result.created.append(game["id"])
                force_insert = True
            else:
                result.updated.append(game["id"])
                force_insert = False
            row.kind = game["kind"]
            row.title_hi = game["title"]["hi"][:200]
            row.title_en = game["title"]["en"][:200]
            row.campaign = game.get("campaign") or ""
            row.file = rel
            row.sha256 = sha256
            row.content = game
            row.save_change(force_insert=force_insert)
    result.written = bool(result.created or result.updated)
    return result


def get_game(game_id: str) -> dict | None:
    """The stored, validated content of a game, or None."""
    row = Game.get_or_none(Game.id == game_id)
    if row is None or not isinstance(row.content, dict) or "kind" not in row.content:
        return None
    return row.content


def all_games():
    return Game.select().order_by(Game.kind, Game.id)
