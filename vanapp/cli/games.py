"""`vanapp games ...`: load and check game content, list games and their results."""
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..models import db
from ..games.content import load_games


@click.group("games", cls=AppGroup)
def games_group():
    """Street-theatre games: quiz, poll, pledge, buzzer."""


@games_group.command("load")
@click.option("--check", is_flag=True, help="Only validate the files; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--media-dir", type=click.Path(file_okay=False), default=None,
              help="Media folder (default: VANAPP_MEDIA_DIR).")
def load_command(check, as_json, media_dir):
    """Validate media/games/*.yaml and store the games (all or nothing)."""
    media = media_dir or current_app.config["MEDIA_DIR"]
    with db.connection_context():
        result = load_games(media, check=check)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        if result.ok and check:
            click.echo(f"games: {len(result.games)} valid ({', '.join(g['id'] for g in result.games)})")
        elif result.ok:
            click.echo(f"games: {len(result.games)} loaded — {len(result.created)} new, "
                       f"{len(result.updated)} changed, {len(result.unchanged)} unchanged")
        else:
            click.echo(f"games: {len(result.problems)} problem(s); nothing was loaded", err=True)
    if not result.ok:
        sys.exit(1)


@games_group.command("list")
def list_command():
    """List the loaded games."""
    from ..games.content import all_games
    with db.connection_context():
        for game in all_games():
            click.echo(f"game:{game.id}\t{game.kind}\t{game.title_en}\t{game.file}")


commands = [games_group]
