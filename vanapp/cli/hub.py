"""`vanapp hub ...`: the coordinators' hub commands (init, serve, report, add-coordinator).
Other modules add commands to `hub_group` (the sync side: add-van, rotate-van, ...).

A coordinator at a terminal gets plain sentences, never a traceback: an unreachable or
unprepared database is said in words (HubGroup), with the command that fixes it."""
import json
import sys
from pathlib import Path

import click
import peewee
from flask import current_app
from flask.cli import AppGroup, ScriptInfo


PORT_FILE = "hub-port"        # in the data dir: the port `vanapp hub serve` last listened on


def _make_hub_app():
    from .. import create_app
    try:
        return create_app({"MODE": "hub"})
    except ValueError as exc:            # VANAPP_DATABASE_URL with a scheme we cannot use
        raise click.ClickException(str(exc)) from None


def database_name() -> str:
    """Where the hub's data lives, for messages (a PostgreSQL URL without its password)."""
    url = current_app.config.get("DATABASE_URL")
    return _redact(url) if url else str(current_app.config["DATA_DIR"]) + "/vanapp.db"


def require_database() -> None:
    """Refuse, in words, to work on a database `vanapp hub init` has not prepared (or upgraded)."""
    from ..db import pending_migrations
    pending = pending_migrations()
    if not pending:
        return
    from ..models import db
    with db.connection_context():
        fresh = "coordinator" not in db.get_tables()
    if fresh:
        raise click.ClickException(f"there is no hub database at {database_name()} yet: "
                                   "run `vanapp hub init` first")
    raise click.ClickException(f"the hub database at {database_name()} needs an upgrade "
                               f"({', '.join(pending)}): run `vanapp hub init`")


class HubGroup(AppGroup):
    """`vanapp hub`: turns the database's own errors into a sentence and a way out."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            raise click.ClickException(_database_problem(exc)) from None


def _database_problem(exc) -> str:
    first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    first = first.removeprefix("connection failed: ")
    try:
        where = database_name()
    except RuntimeError:                 # the app context is gone by now: read the same settings
        from ..config import from_environment
        settings = from_environment()
        url = settings["DATABASE_URL"]
        where = _redact(url) if url else settings["DATA_DIR"] + "/vanapp.db"
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return f"the hub database at {where} is not set up ({first}): run `vanapp hub init`"
    return (f"cannot use the hub database at {where}: {first}. Is the database server running, and "
            "is VANAPP_DATABASE_URL right?")


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


def _redact(url: str) -> str:
    """A database URL without its password, fit for a terminal or a log."""
    from urllib.parse import urlparse
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url


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
@click.option("--json", "as_json", is_flag=True, help="Print every total as JSON.")
@click.option("--from", "date_from", help="First date, YYYY-MM-DD (local).")
@click.option("--to", "date_to", help="Last date, YYYY-MM-DD (local).")
@click.option("--district")
@click.option("--van")
@click.option("--campaign")
def report_command(as_json, date_from, date_to, district, van, campaign):
    """The dashboard's totals in the terminal (the same numbers, from the same queries)."""
    from ..models import db
    from ..hub import reports
    require_database()
    try:
        filters = reports.Filters.parse({"from": date_from, "to": date_to, "district": district,
                                         "van": van, "campaign": campaign})
    except reports.FilterError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field}") from None
    with db.connection_context():
        data = reports.report(filters)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print_report(data)


def _print_report(data: dict) -> None:
    s, p = data["screenings"], data["people"]
    if data["filters"]:
        click.echo("filters: " + ", ".join(f"{k}={v}" for k, v in data["filters"].items()))
    click.echo(f"screenings held: {s['held']} of {s['total']} (cancelled {s['cancelled']}, "
               f"from QR summary {s['held_from_qr_summary']})")
    click.echo(f"villages reached: {data['villages_reached']}")
    click.echo(f"people reached: {p['total']} — men {p['men']}, women {p['women']}, boys {p['boys']}, "
               f"girls {p['girls']}" + (f", other {p['other']}" if p["other"] else ""))
    click.echo(f"participants signed in: {data['participants']['total']}")
    click.echo(f"pledges: {data['pledges']['total']}")
    for q in data["quiz"]:
        click.echo(f"quiz {q['game']}/{q['question']}: {q['correct']} of {q['answers']} right "
                   f"({q['correct_share']:.0%})")
    for poll in data["polls"]:
        shifts = ", ".join(f"{c} {v * 100:+.0f} pts" for c, v in poll["shift"].items())
        click.echo(f"poll {poll['game']}/{poll['question']} after vs before ({poll['screenings']} screenings): {shifts}")
    states = {"paired": "paired", "revoked": "REVOKED", "code_waiting": "pairing code waiting",
              "code_expired": "pairing code expired", "unpaired": "not paired",
              "unknown": "not added on this hub"}
    for v in data.get("vans", []):
        click.echo(f"van {v['van']} ({states.get(v['state'], v['state'])}): last sync {v['last_sync'] or 'never'}, "
                   f"records held {v['records']}"
                   + (f", {v['qr_only_nights']} night(s) known only from a QR summary" if v["qr_only_nights"] else "")
                   + (f", {v['summaries_for_review']} summary(ies) about other vans' screenings kept for review"
                      if v.get("summaries_for_review") else "")
                   + (f"; at its last contact ({v['on_van']['reported_at']}) the van had {v['on_van']['not_received']} "
                      f"change(s) the hub has not received and {v['on_van']['parked']} record(s) set aside"
                      if v.get("on_van") and (v["on_van"]["not_received"] or v["on_van"]["parked"]) else ""))


commands = [hub_group]
