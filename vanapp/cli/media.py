"""`vanapp media scan [--json]` and `vanapp preflight [--days N] [--json]`."""
import datetime as dt
import json

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..models import db


def _length(ms) -> str:
    if not ms:
        return "—"
    return f"{ms // 60000}:{ms // 1000 % 60:02d}"


def _size(n) -> str:
    if n is None:
        return "—"
    return f"{n / 1024:.0f} KB" if n < 10 * 1024 * 1024 else f"{n / 1024 / 1024:.0f} MB"


def _emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group("media", cls=AppGroup)
def media_group():
    """The media library: the catalogue and its files."""


@media_group.command("scan")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def scan_command(as_json):
    """Load media/catalog.yaml, then checksum and play-test every catalogued file.

    Exit status: 0 when every catalogued file is ok, 1 when any is missing, unreadable,
    unplayable, changed since the last scan or damaged (not the length or checksum the catalogue
    gives), 2 when the catalogue itself has errors.
    """
    from ..media.scan import scan_media
    config = current_app.config
    with db.connection_context():
        report = scan_media(config["MEDIA_DIR"], config.get("VLC_ARGS", ""))
    if as_json:
        _emit_json(report.to_dict())
        raise SystemExit(report.exit_code)
    if report.catalog_failed:
        for error in report.catalog.errors:
            click.echo(f"error: {error}", err=True)
        click.echo("The catalogue has errors: nothing was changed.", err=True)
        raise SystemExit(report.exit_code)
    for error in report.errors:
        click.echo(f"error: {error['message']}", err=True)
    if report.items:
        _print_table(report)
    if report.not_in_catalog:
        click.echo("\nNot in the catalogue (add them to catalog.yaml, or remove them):")
        for rel in report.not_in_catalog:
            click.echo(f"  {rel}")
    raise SystemExit(report.exit_code)


def _print_table(report) -> None:
    width = max(len("ID"), *(len(i.id) for i in report.items))
    click.echo(f"{'ID':<{width}}  {'KIND':<5}  {'STATUS':<10}  {'LENGTH':>6}  {'SIZE':>7}  FILE")
    for item in report.items:
        click.echo(f"{item.id:<{width}}  {item.kind:<5}  {item.status:<10}  "
                   f"{_length(item.duration_ms):>6}  {_size(item.size):>7}  {item.file}")
        if item.error:
            click.echo(f"{'':<{width}}  └ {item.error}")
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts().items()))
    click.echo(f"\n{len(report.items)} catalogued: {counts} · scanned in {report.seconds:.1f} s")


@click.command("preflight")
@with_appcontext
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366),
              help="How many days of screenings to check, today included.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def preflight_command(days, as_json):
    """Before the van leaves: is every item of the coming screenings present, intact, playable?

    Exit status 0 only when everything is ready.
    """
    from ..media.preflight import cache_path, run_preflight
    from ..tours import identity
    config = current_app.config
    with db.connection_context():
        van = identity.this_van().van if config.get("MODE") != "hub" else None
        report = run_preflight(config["MEDIA_DIR"], config.get("VLC_ARGS", ""),
                               config.get("TIMEZONE", "Asia/Kolkata"), days, van=van,
                               cache_path=cache_path(config["DATA_DIR"]))
    if as_json:
        _emit_json(report.to_dict())
        raise SystemExit(0 if report.ready else 1)
    span = f"{report.first_day} to {report.last_day} ({days} day{'s' if days != 1 else ''})"
    if not report.screenings:
        click.echo(f"No screenings from {span}: nothing to check.")
        nxt = report.next_screening
        if nxt is not None:
            ahead = (dt.date.fromisoformat(nxt.date) - dt.date.fromisoformat(report.first_day)).days + 1
            click.echo(f"The next screening is {nxt.label()}: check it with `vanapp preflight --days {ahead}`.")
        else:
            click.echo("No screening is planned after these days either.")
        raise SystemExit(0)
    click.echo(f"Pre-flight: {len(report.screenings)} screening(s) from {span}, "
               f"{report.items_checked} item(s).")
    if report.ready:
        click.echo(f"READY TO LEAVE: every item is present, intact and plays "
                   f"(checked in {report.seconds:.1f} s).")
        raise SystemExit(0)
    click.echo(f"NOT READY: {len(report.problems)} problem(s)\n")
    labels = {s.id: s.label() for s in report.screenings}
    for problem in report.problems:
        click.echo(f"✗ {problem.message}")
        if problem.detail and problem.detail not in problem.message:
            click.echo(f"    {problem.detail}")
        click.echo("    affects: " + "; ".join(labels[i] for i in problem.screenings))
    raise SystemExit(1)


commands = [media_group, preflight_command]
