"""`vanapp init`, `vanapp serve` and `vanapp token create/revoke`: the app's database and crew PIN, its
server (waitress, the long-lived parts started first) and API tokens for scripts."""
import atexit
import logging
import logging.handlers
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import parts
from ..db import migrate
from ..models import Setting, db


def setup_logging(data_dir: str) -> None:
    logs = Path(data_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(logs / "vanapp.log", maxBytes=2_000_000,
                                                   backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.addHandler(logging.StreamHandler(sys.stderr))
    root.setLevel(logging.INFO)


@click.command("init")
@click.option("--pin", help="Set the crew PIN (4 to 12 digits).")
@click.option("--default-pin", help="Set this crew PIN only if none is set yet (used by `make run`).")
@click.option("--van", "van_id", help="This van's id, e.g. van-03 (pairing with a hub sets it too).")
@with_appcontext
def init_command(pin, default_pin, van_id):
    """Create or upgrade the database and set the crew PIN."""
    from .. import security
    from .backup import check_at_start
    check_at_start()            # a damaged database is not migrated: it is restored
    applied = migrate()
    click.echo(f"database: {current_app.config['DATABASE_URL'] or Path(current_app.config['DATA_DIR']) / 'vanapp.db'}")
    click.echo("migrations applied: " + (", ".join(applied) if applied else "none (up to date)"))
    with db.connection_context():
        if van_id:
            _check_van_id(van_id)
        if pin is not None:
            try:
                security.set_pin(pin)
            except security.PinError as exc:
                raise click.BadParameter(str(exc), param_hint="--pin")
            click.echo("crew PIN set")
        if van_id:
            with db.atomic():
                Setting.put("van_id", van_id)
            click.echo(f"van id: {van_id}")
        if default_pin and not security.has_pin():
            security.set_pin(default_pin)
            click.echo(f"crew PIN set to {default_pin}: change it with `vanapp init --pin NNNN`")
        if not security.has_pin():
            click.echo("no crew PIN yet: run `vanapp init --pin NNNN`", err=True)


def _check_van_id(van_id: str) -> None:
    """One van id per laptop: refuse an id its tours or its pairing contradict (nothing changed)."""
    from ..tours import identity
    paired = Setting.get_value("sync_paired") == "1"
    try:
        identity.check_new_id(van_id, paired_as=Setting.van_id() if paired else "")
    except identity.WrongVan as exc:
        raise click.ClickException(exc.message) from None


@click.command("serve")
@click.option("--host", default=None,
              help="Address to listen on. Van: every interface (phones on the hotspot join and count), "
                   "127.0.0.1 for this laptop only. Hub: 127.0.0.1.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=int)
@with_appcontext
def serve_command(host, port, threads):
    """Serve the app with waitress (never the Flask development server)."""
    import waitress
    from ..games.joinurl import join_url_for, open_urls
    app = current_app._get_current_object()
    if host is None:
        # the crew's and the audience's phones reach the van's laptop over its hotspot; crew
        # pages still need the PIN and the audience's pages reach only the live game
        host = "0.0.0.0" if app.config["MODE"] == "van" else "127.0.0.1"
    if app.config["MODE"] == "van":
        # before any thread exists (waitress's 16, the parts'): each thread that allocates gets a
        # malloc arena of its own, kept for ever; the player capped them only when it started,
        # after the server's threads, and a night's programme left the app 60 MB fatter
        from ..player.vlc import limit_malloc_arenas
        limit_malloc_arenas()
    setup_logging(app.config["DATA_DIR"])
    from .backup import check_at_start
    check_at_start()            # before anything writes to it: a damaged database is restored, not used
    applied = migrate()
    if applied:
        click.echo("migrations applied: " + ", ".join(applied))
    # A crowd of phones keeps a connection or two each open: poll(), not select() (which dies
    # on a file descriptor past 1023), and room for the descriptors.
    connection_limit = _raise_open_files(4000)
    # Listen first, then start the parts, one of which asks this server something (the reach check).
    # waitress buffers a whole body before Flask reads it (to a temporary file past 512 KB), up to
    # 1 GiB by default: a body this far past Flask's own cap (MAX_CONTENT_LENGTH, answered in the
    # one error shape) is cut off by waitress itself, so no client fills the disk with one request
    body_cap = 32 * max(app.config.get("MAX_CONTENT_LENGTH") or 0, 2 * 1024 * 1024)
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="vanapp",
                                    channel_timeout=60, connection_limit=connection_limit,
                                    asyncore_use_poll=True, max_request_body_size=body_cap)
    app.config.update(LISTEN_HOST=host, LISTEN_PORT=port)
    parts.start_all(app)                    # the player, the game machine, the automatic sync, reach
    atexit.register(parts.stop_all, app)
    here, phones = open_urls(host, port)
    if app.config.get("PUBLIC_URL"):
        phones = app.config["PUBLIC_URL"].rstrip("/") + "/"      # the address the crew set for phones
    click.echo(f"VanKit ({app.config['MODE']}): open {here} on this laptop", err=True)
    if app.config["MODE"] == "van":
        if phones:
            click.echo(f"phones: {phones} (games: {join_url_for(app.config)})", err=True)
        else:
            click.echo("phones cannot reach this server: it listens on this laptop only"
                       if host not in ("0.0.0.0", "::") else
                       "phones cannot reach this laptop yet: it has no network address (turn on the hotspot)",
                       err=True)
    server.run()


def _raise_open_files(wanted: int) -> int:
    """Lift this process's open-file limit toward `wanted` connections (plus files and the
    database); return how many connections it can then hold."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted + 200 if hard == resource.RLIM_INFINITY else min(hard, wanted + 200)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    except (ImportError, ValueError, OSError):      # Windows, or a limit we may not raise
        return 1000
    return wanted if soft == resource.RLIM_INFINITY else max(100, min(wanted, soft - 200))


@click.group("token")
def token_group():
    """API tokens for scripts."""


@token_group.command("create")
@click.argument("name")
@with_appcontext
def token_create(name):
    """Create a bearer token called NAME and print it (shown once)."""
    from .. import security
    with db.connection_context():
        click.echo(security.create_token(name))


@token_group.command("revoke")
@click.argument("name")
@with_appcontext
def token_revoke(name):
    """Revoke every token called NAME: scripts holding one are refused from their next request."""
    from .. import security
    with db.connection_context():
        count = security.revoke_tokens(name)
    if not count:
        raise click.ClickException(f"no live token called {name!r}")
    click.echo(f"{count} token(s) called {name!r} revoked")


commands = [init_command, serve_command, token_group]
