"""`vanapp hub facts [--check | --rebuild]`: recount the hub's kept numbers from the raw records,
and compare (or rewrite). Attaches to the `hub` group of vanapp/cli/hub.py."""
import json
import sys

import click
from flask.cli import with_appcontext

from ..hub import facts_store
from ..models import db
from .hub import hub_group, require_database


@hub_group.command("facts")
@click.option("--check", "mode", flag_value="check", default=True,
              help="Recount every screening and van from the records and list any difference (default).")
@click.option("--rebuild", "mode", flag_value="rebuild",
              help="Recount and rewrite the kept numbers, then check them.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def facts_command(mode, as_json):
    """Check the numbers the hub keeps per screening against a recount of its records (exit 1
    when they differ), or rebuild them from the records."""
    require_database()
    show = None if as_json or not sys.stderr.isatty() else \
        (lambda done, total: click.echo(f"\r{done} of {total} screenings", nl=False, err=True))
    out = {"mode": mode}
    with db.connection_context():
        if mode == "rebuild":
            out["rebuilt"] = facts_store.rebuild(show)
        differences = facts_store.check(show)
        out["screenings"] = len(facts_store.all_ids())
    if show:
        click.echo("", err=True)
    out["differences"] = [vars(d) | {"stored": _plain(d.stored), "recounted": _plain(d.recounted)}
                          for d in differences]
    out["ok"] = not differences
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, default=str))
    else:
        if mode == "rebuild":
            click.echo(f"rebuilt the numbers of {out['rebuilt']['screenings']} screenings from their records")
        if differences:
            for d in differences:
                click.echo(str(d))
            click.echo(f"{len(differences)} difference(s) between the kept numbers and a recount of the records"
                       + ("; `vanapp hub facts --rebuild` rewrites them" if mode == "check" else ""))
        else:
            click.echo(f"checked {out['screenings']} screenings, every van and the month sums: the kept "
                       "numbers equal a recount of the records")
    if differences:
        sys.exit(1)


def _plain(value):
    return value if isinstance(value, (str, int, float, type(None))) else repr(value)


commands = []      # everything here attaches to `hub_group`
