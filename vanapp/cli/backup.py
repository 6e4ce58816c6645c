"""`vanapp backup DEST` and `vanapp restore`: a copy of the van's database on a USB stick, and the
newest good copy put back after damage; plus the check `vanapp serve` runs before it starts."""
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import backup, localtime
from .. import db as database
from ..models import Setting, db


def _sqlite_file() -> Path:
    path = database.sqlite_file()
    if path is None:
        raise click.ClickException("the database is PostgreSQL: back it up with pg_dump, not vanapp")
    return path


def _local(copy: backup.Copy) -> str:
    return localtime.text(copy.at, current_app.config["TIMEZONE"])


REASONS = {"finish": "after a Finish", "daily": "daily", "": "by hand"}


def damage_report(found: list[str]) -> str:
    """What `vanapp serve` says when the database fails its check: the problem, the newest copy
    that passes, and the command that puts it back."""
    path = _sqlite_file()
    lines = [f"The database {path} is damaged; SQLite's check says:"]
    lines += [f"  {problem}" for problem in found[:5]]
    good, bad = backup.newest_good(current_app.config["DATA_DIR"])
    for copy, _problems in bad:
        lines.append(f"The copy {copy.path.name} ({_local(copy)}) is damaged too.")
    if good is not None:
        lines.append(f"The newest good copy is {good.path} ({_local(good)}, {REASONS.get(good.reason, good.reason)}).")
        lines.append("Put it back with:  vanapp restore")
        lines.append("(the damaged database is kept aside; records made after that copy and not yet synced "
                     "are in the damaged file only)")
    else:
        lines.append(f"There is no good copy in {backup.backup_dir(current_app.config['DATA_DIR'])}: "
                     "if you have one on a USB stick, put it back with:  vanapp restore FILE")
    return "\n".join(lines)


def check_at_start() -> None:
    """`vanapp serve` and `vanapp init` refuse a damaged database (exit 3) with the way back."""
    found = database.integrity_problems()
    if found:
        click.echo(damage_report(found), err=True)
        sys.exit(3)


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def backup_command(dest, as_json):
    """Write a checked copy of the database to DEST: a folder (a USB stick) or a .db file."""
    source = _sqlite_file()
    with db.connection_context():
        van = Setting.get_value("van_id", "") or ""
    try:
        written = backup.write_to(dest, source, van=van)
    except backup.BackupError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "error": {"code": "backup_failed", "message": str(exc)}}))
            sys.exit(1)
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"ok": True, "path": str(written), "bytes": written.stat().st_size}))
    else:
        click.echo(f"copied and checked: {written} ({written.stat().st_size / 1e6:.1f} MB)")


@click.command("restore")
@click.argument("source", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "listing", is_flag=True, help="List the copies kept in the data dir, newest first.")
@click.option("--yes", is_flag=True, help="Do not ask before putting the copy back.")
@with_appcontext
def restore_command(source, listing, yes):
    """Put back the newest good copy of the database (or SOURCE, e.g. a copy on a USB stick).
    Stop `vanapp serve` first. The database it replaces is moved aside, never deleted."""
    data_dir = current_app.config["DATA_DIR"]
    target = _sqlite_file()
    if listing:
        if not backup.copies(backup.backup_dir(data_dir)):
            click.echo(f"no copies in {backup.backup_dir(data_dir)} yet")
        for copy in backup.copies(backup.backup_dir(data_dir)):
            found = backup.problems(copy.path, thorough=True)
            click.echo(f"{copy.path.name}  {_local(copy)}  {REASONS.get(copy.reason, copy.reason):14} "
                       f"{'good' if not found else 'DAMAGED: ' + found[0]}")
        return
    if source is None:
        good, bad = backup.newest_good(data_dir)
        for copy, found in bad:
            click.echo(f"skipping {copy.path.name}: damaged ({found[0]})", err=True)
        if good is None:
            raise click.ClickException(f"no good copy in {backup.backup_dir(data_dir)}: "
                                       "name one with `vanapp restore FILE`")
        source, when = good.path, f"{_local(good)}, {REASONS.get(good.reason, good.reason)}"
    else:
        when = "the file given"
    if not yes:
        click.confirm(f"Replace {target} with {source} ({when})?", abort=True)
    try:
        aside = backup.restore(target, source)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    # The outbox now ends where the copy did, and the hub may hold later records under the same
    # numbers: a new outbox identity makes the next sync send everything again (stored once).
    from ..sync import state
    with db.connection_context():
        state.new_epoch()
    click.echo(f"restored {target} from {source}")
    click.echo(f"the database it replaced is kept in {aside}")


commands = [backup_command, restore_command]
