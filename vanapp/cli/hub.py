"""`vanapp hub ...`: the coordinators' hub commands (init, serve, report, add-coordinator).
Other modules add commands to `hub_group` (the sync side: add-van, rotate-van, ...).

A coordinator at a terminal gets plain sentences, never a traceback: an unreachable or
unprepared database is said in words (HubGroup), with the command that fixes it."""
import sys
from pathlib import Path

import click
import peewee
from flask import current_app
from flask.cli import AppGroup, ScriptInfo

from .hub_report import database_problem, environment_place, report_options, show_report, where
from .hub_report import require_database as plain_require_database


PORT_FILE = "hub-port"        # in the data dir: the port `vanapp hub serve` last listened on


def _make_hub_app():
    from .. import create_app
    try:
        return create_app({"MODE": "hub"})
    except ValueError as exc:            # VANAPP_DATABASE_URL with a scheme we cannot use
        raise click.ClickException(str(exc)) from None


def database_name() -> str:
    """Where the hub's data lives, for messages (a PostgreSQL URL without its password)."""
    return where(current_app.config.get("DATABASE_URL"), current_app.config["DATA_DIR"])


def require_database() -> None:
    """Refuse, in words, to work on a database `vanapp hub init` has not prepared (or upgraded)."""
    plain_require_database(database_name())


class HubGroup(AppGroup):
    """`vanapp hub`: turns the database's own errors into a sentence and a way out."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            raise click.ClickException(_database_problem(exc)) from None


def _database_problem(exc) -> str:
    try:
        place = database_name()
    except RuntimeError:                 # the app context is gone by now: read the same settings
        place = environment_place()
    return database_problem(exc, place)


@click.group("hub", cls=HubGroup)
@click.pass_context
def hub_group(ctx):
    """The coordinators' hub (the same package in hub mode)."""
    # FlaskGroup makes the app lazily, when a subcommand runs (AppGroup's with_appcontext), so
    # swapping the factory here makes it a hub app. Unlike setting VANAPP_MODE in os.environ,
    # this does not leak into later apps of the same process (tests); an app that is already
    # there (tests pass their own) is used as it is.
    from flask import current_app as app
    if not app:
        info = ctx.ensure_object(ScriptInfo)
        info.create_app = _make_hub_app


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: no password on standard input")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@hub_group.command("init")
@click.option("--coordinator", "name", help="Also create this coordinator login (if missing).")
@click.option("--password-stdin", is_flag=True, help="Read the coordinator's password from stdin.")
def init_command(name, password_stdin):
    """Create or upgrade the hub's database (SQLite, or VANAPP_DATABASE_URL=postgresql://...)."""
    from ..db import migrate
    from ..models import Coordinator, db
    from ..hub.accounts import CoordinatorError, create_coordinator
    if password_stdin and not name:
        raise click.UsageError("--password-stdin needs --coordinator NAME")
    applied = migrate()
    click.echo(f"hub database: {database_name()}")
    click.echo("migrations applied: " + (", ".join(applied) if applied else "none (up to date)"))
    with db.connection_context():
        if name:
            if Coordinator.by_username(name.strip()) is not None:
                click.echo(f"coordinator {name!r} exists (password unchanged)")
            else:
                try:
                    create_coordinator(name, _read_password(password_stdin))
                except CoordinatorError as exc:
                    raise click.BadParameter(str(exc), param_hint="--coordinator") from None
                click.echo(f"coordinator {name!r} created")
        if Coordinator.select().count() == 0:
            click.echo("no coordinator yet: run `vanapp hub add-coordinator NAME`", err=True)
    click.echo("next: `vanapp hub serve` (add --host 0.0.0.0 for the office network), then "
               "`vanapp hub add-van NAME` for each van")


@hub_group.command("add-coordinator")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (one line).")
@click.option("--reset", is_flag=True, help="Set a new password for an existing coordinator.")
def add_coordinator_command(name, password_stdin, reset):
    """Add a coordinator login NAME (asks for the password, at least 8 characters)."""
    from ..models import db
    from ..hub.accounts import CoordinatorError, create_coordinator, set_password
    require_database()
    password = _read_password(password_stdin)
    with db.connection_context():
        try:
            if reset:
                set_password(name, password)
            else:
                create_coordinator(name, password)
        except CoordinatorError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"coordinator {name!r} {'password set (every login they had is ended)' if reset else 'added'}")


@hub_group.command("disable-coordinator")
@click.argument("name")
def disable_coordinator_command(name):
    """Stop coordinator NAME from logging in (at once, even mid-session); `add-coordinator NAME
    --reset` lets them in again with a new password."""
    from ..models import db
    from ..hub.accounts import CoordinatorError, disable
    require_database()
    with db.connection_context():
        try:
            ended = disable(name)
        except CoordinatorError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"coordinator {name!r} can no longer log in ({ended} login(s) ended)")


@hub_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 for the office network and the vans.")
@click.option("--port", default=5100, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=int)
@click.pass_context
def serve_command(ctx, host, port, threads):
    """Serve the hub with waitress (migrates the database first)."""
    if current_app.config.get("MODE") != "hub":
        raise click.ClickException("this app is not in hub mode (VANAPP_MODE)")
    from ..db import migrate
    from .app import serve_command as van_serve   # the one serve path: migrate, parts, waitress
    from ..models import Coordinator, db
    migrate()
    with db.connection_context():
        if Coordinator.select().count() == 0:
            click.echo("no coordinator can log in yet: run `vanapp hub add-coordinator NAME`", err=True)
    from ..games.joinurl import open_urls
    here, others = open_urls(host, port)          # never http://0.0.0.0/, which no browser opens
    click.echo(f"hub database: {database_name()}; coordinators open {others or here} "
               "in a browser", err=True)
    # `vanapp hub add-van` puts this port in the pairing QR when it has to guess the address
    (Path(current_app.config["DATA_DIR"]) / PORT_FILE).write_text(f"{port}\n")
    try:
        ctx.invoke(van_serve, host=host, port=port, threads=threads)
    except OSError as exc:           # the port is taken, or the address is not this machine's
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}. "
                                   "Is another hub running? Try --port.") from None


@hub_group.command("report")
@report_options
def report_command(**options):
    """The dashboard's totals in the terminal (the same numbers, from the same queries)."""
    show_report(database_name(), **options)


commands = [hub_group]
