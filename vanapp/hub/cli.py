"""`vanapp hub ...`: the coordinators' hub commands (init, serve, report, add-coordinator).
Other modules add commands to `hub_group` (the sync side: add-van, rotate-van, ...)."""
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo


def _make_hub_app():
    from .. import create_app
    return create_app({"MODE": "hub"})


@click.group("hub", cls=AppGroup)
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
    from .. import db as database
    from ..models import Coordinator, db
    from .auth import CoordinatorError, create_coordinator
    if password_stdin and not name:
        raise click.UsageError("--password-stdin needs --coordinator NAME")
    applied = database.migrate()
    url = current_app.config["DATABASE_URL"]
    click.echo(f"hub database: {_redact(url) if url else current_app.config['DATA_DIR'] + '/vanapp.db'}")
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
    from .auth import CoordinatorError, create_coordinator, set_password
    password = _read_password(password_stdin)
    with db.connection_context():
        try:
            if reset:
                set_password(name, password)
            else:
                create_coordinator(name, password)
        except CoordinatorError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"coordinator {name!r} {'password set' if reset else 'added'}")


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
    from ..cli import serve_command as van_serve   # the one serve path: migrate, hooks, waitress
    ctx.invoke(van_serve, host=host, port=port, threads=threads)


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
    from . import reports
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
    for v in data.get("vans", []):
        click.echo(f"van {v['van']}: last sync {v['last_sync'] or '-'}, records {v['records']}"
                   + (" (revoked)" if v["revoked"] else ""))


commands = [hub_group]
