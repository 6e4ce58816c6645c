"""`vanapp hub report`: the dashboard's totals in a terminal or a script, and what every hub command
says of its database — without Flask.

A coordinator's script runs `vanapp hub report --json` often, and the report itself is a few sums
over the kept facts; a web app built only to be thrown away cost more than the report (Flask and
every blueprint: 0.6 s of a 1.2 s command at 75,000 screenings, bench/hub_scale.py). So `main`
(cli/__init__.py) runs this command through `plain_cli`, which binds the database from the same
settings `create_app` reads and imports no Flask; `vanapp hub report` inside the Flask group (tests
call it in-process) runs the same `show_report`.
"""
import json
import sys

import click
import peewee


def redact(url: str) -> str:
    """A database URL without its password, fit for a terminal or a log."""
    from urllib.parse import urlparse
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url


def where(url: str, data_dir: str) -> str:
    """Where the hub's data lives, for messages (a PostgreSQL URL without its password)."""
    return redact(url) if url else str(data_dir) + "/vanapp.db"


def require_database(place: str) -> None:
    """Refuse, in words, to work on a database `vanapp hub init` has not prepared (or upgraded)."""
    from ..db import pending_migrations
    pending = pending_migrations()
    if not pending:
        return
    from ..models import db
    with db.connection_context():
        fresh = "coordinator" not in db.get_tables()
    if fresh:
        raise click.ClickException(f"there is no hub database at {place} yet: run `vanapp hub init` first")
    raise click.ClickException(f"the hub database at {place} needs an upgrade "
                               f"({', '.join(pending)}): run `vanapp hub init`")


def database_problem(exc, place: str) -> str:
    """The database's own error as a sentence and a way out."""
    first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    first = first.removeprefix("connection failed: ")
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return f"the hub database at {place} is not set up ({first}): run `vanapp hub init`"
    return (f"cannot use the hub database at {place}: {first}. Is the database server running, and "
            "is VANAPP_DATABASE_URL right?")


def environment_place() -> str:
    """`where` for the database the environment names (when there is no app to ask)."""
    from ..config import from_environment
    settings = from_environment()
    return where(settings["DATABASE_URL"], settings["DATA_DIR"])


def answer_in_json(words, run):
    """Run `run()`. A command line with `--json` answers in JSON on failure too (a script reading its
    output gets `{"ok": false, "error", "code"}`, never a usage text or a traceback on stdout)."""
    if "--json" not in words:
        return run()
    try:
        return run()
    except click.ClickException as exc:
        code = "usage" if isinstance(exc, click.UsageError) else "error"
        json_failure(exc.format_message(), code, exc.exit_code)
    except click.exceptions.Abort:
        json_failure("aborted", "aborted", 1)
    except (click.exceptions.Exit, SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - the script still gets JSON, and the log the details
        import logging
        import os
        logging.getLogger("vanapp.cli").exception("command failed")
        if os.environ.get("VANAPP_DEBUG"):
            raise
        json_failure(f"{exc.__class__.__name__}: {exc}", "internal", 1)


def json_failure(message: str, code: str, status: int):
    click.echo(json.dumps({"ok": False, "error": message, "code": code}))
    sys.exit(status)


def report_options(command):
    """The options of `vanapp hub report` (one list for both ways in)."""
    for option in reversed((
            click.option("--json", "as_json", is_flag=True, help="Print every total as JSON."),
            click.option("--from", "date_from", help="First date, YYYY-MM-DD (local)."),
            click.option("--to", "date_to", help="Last date, YYYY-MM-DD (local)."),
            click.option("--district"), click.option("--van"), click.option("--campaign"))):
        command = option(command)
    return command


def show_report(place: str, as_json, date_from, date_to, district, van, campaign) -> None:
    """The report on the bound database, as JSON or as sentences."""
    from ..hub import reports
    from ..models import db
    require_database(place)
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
    print_report(data)


def print_report(data: dict) -> None:
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


# --- the command without Flask -------------------------------------------------------------------

class PlainGroup(click.Group):
    """`vanapp` and `vanapp hub` for the commands that need no web app: `--json` failures in JSON, the
    database's errors in words (as the Flask group's VanGroup and HubGroup do)."""

    def invoke(self, ctx):
        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        return answer_in_json(words, lambda: self._invoke(ctx))

    def _invoke(self, ctx):
        try:
            return click.Group.invoke(self, ctx)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            raise click.ClickException(database_problem(exc, environment_place())) from None


@click.group("vanapp", cls=PlainGroup)
def plain_cli():
    """VanKit: the video van field kit."""


@plain_cli.group("hub", cls=PlainGroup)
def plain_hub():
    """The coordinators' hub."""


@plain_hub.command("report")
@report_options
def report_command(**options):
    """The dashboard's totals in the terminal (the same numbers, from the same queries)."""
    from .. import db as database
    from ..config import from_environment
    settings = from_environment()
    try:
        database.bind(settings["DATABASE_URL"], settings["DATA_DIR"], hub=True)
    except ValueError as exc:            # VANAPP_DATABASE_URL with a scheme we cannot use
        raise click.ClickException(str(exc)) from None
    show_report(where(settings["DATABASE_URL"], settings["DATA_DIR"]), **options)
