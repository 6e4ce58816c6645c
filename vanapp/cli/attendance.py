"""`vanapp report` (audience totals per screening and in all) and `vanapp attendance categories`."""
import json
import sys

import click
from flask.cli import AppGroup, with_appcontext

from ..models import db
from ..attendance import report as reports
from ..attendance import tally
from ..qr import qr_code


@click.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--screening", "screening_id", help="Only this screening (its id).")
@click.option("--qr", is_flag=True, help="With --screening: print the signed summary QR text and its size.")
@with_appcontext
def report_command(as_json, screening_id, qr):
    """Audience by category, headcounts, participants, plays and pledges: per screening and in all."""
    if qr and not screening_id:
        raise click.UsageError("--qr needs --screening ID")
    with db.connection_context():
        try:
            data = reports.all_report(screening_id)
        except tally.AttendanceError as exc:
            if as_json:                  # a script reading JSON gets JSON when it fails too
                click.echo(json.dumps({"ok": False, "error": exc.message, "code": exc.code}))
            else:
                click.echo(f"report: {exc.message}", err=True)
            sys.exit(1)
        if qr:
            text = reports.summary_qr_text(data["screenings"][0])
            data["qr"] = {"text": text, "version": qr_code(text).version, "error_correction": "M"}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    cats = sorted({c for r in data["screenings"] for c in r["counts"]} | set(data["totals"]["counts"]))
    head = ["date", "village"] + cats + ["total", "start", "end", "signed-in", "plays", "pledges"]
    rows = [[r["date"], r["village"]] + [r["counts"].get(c, 0) for c in cats] +
            [r["total"], r["headcounts"]["start"] if r["headcounts"]["start"] is not None else "-",
             r["headcounts"]["end"] if r["headcounts"]["end"] is not None else "-",
             r["participants"], len(r["plays"]), sum(r["pledges"].values())] for r in data["screenings"]]
    t = data["totals"]
    rows.append(["ALL", f"{t['villages']} villages"] + [t["counts"].get(c, 0) for c in cats] +
                [t["audience"], "", "", t["participants"], t["plays"], t["pledges"]])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    for line in [head] + rows:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(line, widths)).rstrip())
    if qr:
        click.echo(f"\nQR (version {data['qr']['version']}, error correction M, {len(data['qr']['text'])} chars):")
        click.echo(data["qr"]["text"])


@click.group("attendance", cls=AppGroup)
def attendance_group():
    """Counting the audience."""


@attendance_group.command("categories")
@click.argument("names", nargs=-1)
@click.option("--reset", is_flag=True, help="Back to the default: men women boys girls.")
def categories_command(names, reset):
    """Show the tally categories, or set them: `vanapp attendance categories men women elders`."""
    with db.connection_context():
        try:
            if reset:
                current = tally.reset_categories()
            elif names:
                parts = [p for n in names for p in n.split(",") if p.strip()]
                current = tally.set_categories(parts)
            else:
                current = tally.categories()
        except tally.AttendanceError as exc:
            raise click.BadParameter(exc.message, param_hint="NAMES")
    click.echo(" ".join(current))


commands = [report_command, attendance_group]
