"""`vanapp schedule ...`: import tour files, list screenings, export a tour's calendar."""
import datetime as dt
import json
import unicodedata
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..models import Screening, Tour, db
from ..tours import ics, identity, queries
from ..tours.importer import import_files


@click.group("schedule", cls=AppGroup)
def schedule():
    """Tours and screenings: import tour files, list, export a calendar."""


def _summary(result) -> str:
    c = result.counts
    t, s, v = c["tours"], c["screenings"], c["villages"]
    verb = "would import" if result.check else "imported"
    return (f"{verb} {len(result.tours)} tour(s) ({t['added']} new, {t['updated']} updated, "
            f"{t['unchanged']} unchanged): screenings {s['added']} added, {s['updated']} updated, "
            f"{s['unchanged']} unchanged, {s['removed']} removed; "
            f"villages {v['added']} added, {v['updated']} updated")


def _load_content_if_empty() -> None:
    """A fresh van has no catalogue in its database yet: read media/catalog.yaml and
    media/games/ first, so that programmes can name them. Nothing is probed here
    (`vanapp media scan` does that); a catalogue with errors is left for the scan to report."""
    from ..games.content import load_games
    from ..media.catalog import load_catalog
    from ..models import Game, MediaItem

    media_dir = Path(current_app.config["MEDIA_DIR"])
    if not MediaItem.select().exists() and (media_dir / "catalog.yaml").is_file():
        loaded = load_catalog(media_dir)
        if loaded.ok and loaded.created:
            click.echo(f"loaded {len(loaded.created)} media item(s) from {media_dir / 'catalog.yaml'}"
                       " (not yet checked: run `vanapp media scan`)", err=True)
    if not Game.select().exists() and (media_dir / "games").is_dir():
        loaded = load_games(media_dir)
        if loaded.ok and loaded.created:
            click.echo(f"loaded {len(loaded.created)} game(s) from {media_dir / 'games'}", err=True)


def _sample_is_another_vans(files) -> bool:
    """A laptop set up as another van (`vanapp init --van`) skips the sample tours, saying so,
    instead of failing `make run` on them."""
    from ..tours.sources import expand, parse_source
    from ..tours.validate import merge_tours
    mine = identity.this_van().van
    if not mine:
        return False
    sources, _problems = expand(files)
    tours, _found = merge_tours([parse_source(name, data) for name, data in sources])
    vans = sorted({t.van for t in tours.values() if t.van and t.van != mine})
    if vans:
        click.echo(f"the sample tours are {' and '.join(vans)}'s and this laptop is {mine}: "
                   "they are not loaded (import your own tour: `vanapp schedule import FILE`)", err=True)
    return bool(vans)


@schedule.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--check", is_flag=True, help="Check everything and write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--sample", is_flag=True,
              help="Sample tours: only on a laptop with no tours yet, and with every date moved by "
                   "the same number of days so that the first screening is tonight (the files "
                   "keep their own dates).")
def import_command(files, check, as_json, sample):
    """Import tour FILES (.yaml, .yml, .csv or folders of them) in one transaction.

    Any error anywhere imports nothing; every error is listed as FILE:LINE: field: message.
    """
    tz = current_app.config["TIMEZONE"]
    with db.connection_context():
        if sample and Tour.select().exists():
            click.echo(f"this laptop already has {Tour.select().count()} tour(s): "
                       "the sample tours are not loaded again", err=True)
            return
        one_van = current_app.config["MODE"] != "hub"   # a van's laptop takes its own tours only
        if sample and one_van and _sample_is_another_vans(files):
            return
        _load_content_if_empty()
        result = import_files(files, tz=tz, check=check, one_van=one_van,
                              first_day=queries.local_now(tz).date() if sample else None)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        for warning in result.warnings:
            click.echo(str(warning), err=True)
        for error in result.errors:
            click.echo(str(error), err=True)
        if result.ok:
            click.echo(("check passed: " if check else "") + _summary(result))
        else:
            n = len(result.errors)
            click.echo(f"{n} error{'s' if n != 1 else ''}: nothing was imported.", err=True)
    click.get_current_context().exit(0 if result.ok else 1)


def _date(_ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: write YYYY-MM-DD", param=param)


def _width(text: str) -> int:
    """Columns a terminal gives `text`: Devanagari vowel signs and viramas take none."""
    return sum(0 if unicodedata.category(ch) in ("Mn", "Me", "Cf") else
               2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _table(rows, headers) -> str:
    widths = [max(_width(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    lines = []
    for row in [headers] + rows:
        cells = [str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per screening).")
@click.option("--tour", "tour_id", help="Only this tour.")
@click.option("--from", "date_from", callback=_date, help="From this local date (YYYY-MM-DD).")
@click.option("--to", "date_to", callback=_date, help="Up to and including this local date.")
def list_command(as_json, tour_id, date_from, date_to):
    """List screenings by time: date, start, village, block, programme, status."""
    with db.connection_context():
        query = queries.screenings(tour_id)
        if date_from:
            query = query.where(Screening.date >= date_from)
        if date_to:
            query = query.where(Screening.date <= date_to)
        items = [queries.screening_dict(s, with_programme=True) for s in query]
    if as_json:
        click.echo(json.dumps({"items": items}, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("no screenings" + (f" in tour {tour_id}" if tour_id else ""))
        return
    rows = [[s["date"], s["start"], s["village"]["name"], s["village"]["name_en"],
             s["village"]["block"], s["programme"] or " ".join(i["label"] for i in s["items"]),
             s["status"]] for s in items]
    click.echo(_table(rows, ["date", "start", "village", "village_en", "block", "programme",
                             "status"]))


@schedule.command("ics")
@click.argument("tour_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def ics_command(tour_id, output):
    """Export TOUR_ID's screenings as an iCalendar (.ics) file for crew phones."""
    with db.connection_context():
        if not Tour.select().where(Tour.id == tour_id).exists():
            raise click.ClickException(f"no tour '{tour_id}' (see `vanapp schedule list`)")
        data = ics.tour_ics(tour_id, current_app.config["TIMEZONE"])
    if output:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(data.decode("utf-8"), nl=False)


commands = [schedule]
