"""`vanapp play SCREENING_ID [--from K]`: run a programme from the terminal with a progress line.
Ctrl-C stops (the item on screen is logged as stopped). On a terminal, type n, p, space or q
and Enter for next, previous, pause/resume and stop."""
import sys
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from ..ids import utcnow
from ..models import PlayLog, db
from ..player.programme import PlayError
from ..player.service import PlayerService


def _keys(service: PlayerService, done: threading.Event):
    """Terminal commands, one per line (a thread: input() blocks)."""
    actions = {"n": service.next, "p": service.previous, "q": service.stop, "": None, " ": None}
    while not done.is_set():
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            return
        if not line:
            return
        key = line.strip().lower()[:1] if line.strip() else " "
        try:
            if key in ("", " "):
                (service.resume if service.snapshot()["state"] == "paused" else service.pause)()
            elif key in actions:
                actions[key]()
        except PlayError as exc:
            click.echo(f"\n{exc.message}", err=True)


def _line(snap: dict) -> str:
    item = snap.get("item") or {}
    title = (item.get("title") or {}).get("en", "")
    where = f"[{(snap['index'] or 0) + 1}/{snap['count']}]" if snap.get("count") else ""
    return f"\r{where} {title[:40]:<40} {snap.get('position_text') or '':<17} {snap['state']:<9}"


@click.command("play")
@click.argument("screening_id")
@click.option("--from", "from_index", default=0, show_default=True, type=int,
              help="Start at this programme item (0 is the first).")
@click.option("--skip-games", is_flag=True,
              help="Pass game items at once (for a rehearsal without the game screens).")
@with_appcontext
def play_command(screening_id, from_index, skip_games):
    """Play a screening's programme through libVLC, item after item, logging every play."""
    app = current_app._get_current_object()
    service = PlayerService(media_dir=app.config["MEDIA_DIR"], vlc_args=app.config.get("VLC_ARGS", ""),
                            stall_seconds=float(app.config.get("PLAYER_STALL_SECONDS", 8)),
                            projector_geometry=app.config.get("PROJECTOR_GEOMETRY", ""))
    done = threading.Event()
    since = utcnow()
    try:
        with db.connection_context():
            try:
                service.play(screening_id, from_index)
            except PlayError as exc:
                raise click.ClickException(exc.message)
        if sys.stdin.isatty():
            threading.Thread(target=_keys, args=(service, done), daemon=True).start()
            click.echo("keys + Enter: n next, p previous, space pause/resume, q stop; Ctrl-C stops",
                       err=True)
        shown = None
        while True:
            snap = service.snapshot()
            if snap["message"] and snap["message"] != shown and snap["message_code"] not in ("", "finished"):
                shown = snap["message"]
                click.echo(f"\n{shown}", err=True)
            click.echo(_line(snap), nl=False)
            if snap["state"] in ("finished", "stopped", "unavailable"):
                break
            if snap["state"] == "game" and skip_games:
                service.next(game_done=False)
            time.sleep(0.25)
    except KeyboardInterrupt:
        click.echo("\nstopping", err=True)
    finally:
        done.set()
        service.close()
    click.echo("")
    if service.unavailable:
        raise click.ClickException(service.unavailable)
    with db.connection_context():
        for row in PlayLog.for_screening(screening_id).where(
                PlayLog.started_at >= since):
            click.echo(f"{row.position:>3} {row.kind:<5} {row.media_id:<24} {row.outcome:<9} "
                       f"{row.position_ms / 1000:>6.1f}s {row.error}")


commands = [play_command]
