"""`vanapp hub add-van | rotate-van | revoke-van | import-bundle`: pairing vans and bringing in
USB bundles. These attach to the `hub` group of vanapp/cli/hub.py."""
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..ids import to_iso
from .. import localtime
from ..hub import pairing, receive
from ..hub.bundles import import_bundle
from ..models import db
from ..protocol import bundle
from ..qr import qr_text_art, write_qr_files
from .hub import PORT_FILE, hub_group, require_database


def _local(when) -> str:
    """A stored UTC time as the coordinator's local time (VANAPP_TIMEZONE), for the terminal."""
    zone = current_app.config.get("TIMEZONE") or "Asia/Kolkata"
    return f"{localtime.text(when, zone)} ({zone})"


def _qr_files(van, link) -> list[Path]:
    """The pairing QR as files in the data dir, readable by this account only: until it is
    used, the code in it lets whoever holds it pair as this van."""
    files = write_qr_files(link, Path(current_app.config["DATA_DIR"]) / "pairing", van.id)
    for f in files:
        f.chmod(0o600)
    return files


def _show_code(van, code, as_json, url_option):
    hub_url, guessed = _hub_url(url_option)
    link = pairing.pairing_url(hub_url, code)
    files = _qr_files(van, link)
    out = {"van": van.id, "name": van.name, "code": pairing.format_code(code),
           "expires_at": to_iso(van.pair_expires_at), "pair_url": link, "qr_files": [str(f) for f in files],
           "hub_url": hub_url or "", "hub_url_guessed": guessed}
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(f"van {van.id} ({van.name}): pairing code {out['code']}")
    click.echo(f"it works once, until {_local(van.pair_expires_at)}")
    click.echo(qr_text_art(link))
    click.echo(f"the QR code holds: {link}")
    for f in files:
        click.echo(f"QR code saved as {f.suffix[1:].upper()}: {f}")
    if hub_url:
        click.echo(f"on the van: vanapp pair {hub_url} {out['code']}   (or scan the QR code)")
    else:
        click.echo(f"on the van: vanapp pair http://THIS-HUB:5100 {out['code']}")
    if guessed:
        click.echo(f"note: {hub_url} is this computer's address on the local network, guessed (vans reach "
                   "it when the hub runs with `vanapp hub serve --host 0.0.0.0`); if the vans reach the hub "
                   "elsewhere, run `vanapp hub rotate-van` with --url, or set VANAPP_PUBLIC_URL", err=True)
    elif not hub_url:
        click.echo("note: this computer has no network address, so the QR code holds only the code; "
                   "pass --url http://HUB-ADDRESS:5100 or set VANAPP_PUBLIC_URL", err=True)


HUB_PORT = 5100       # `vanapp hub serve`'s default port, when it has not run here yet


def _hub_url(url) -> tuple[str | None, bool]:
    """(the hub's address as vans reach it, whether it was guessed from the LAN address)."""
    given = (url or current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if given:
        if not given.startswith(("http://", "https://")):
            raise click.BadParameter(f"{given!r}: give the hub's address as http://HOST:PORT",
                                     param_hint="--url")
        return given, False
    from ..games.joinurl import lan_address
    address = lan_address()
    if address == "127.0.0.1":
        return None, False
    try:
        port = int((Path(current_app.config["DATA_DIR"]) / PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        port = HUB_PORT
    return f"http://{address}:{port}", True


@hub_group.command("add-van")
@click.argument("name")
@click.option("--id", "van_id", help="The van's id (default: NAME as a slug, e.g. van-03).")
@click.option("--url", help="The hub's address as the vans reach it, e.g. http://192.168.1.20:5100 "
              "(default: VANAPP_PUBLIC_URL, else this computer's LAN address).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def add_van_command(name, van_id, url, as_json):
    """Add a van and print its one-time pairing code and QR code (also saved as PNG and SVG
    files under the data dir's pairing/ folder)."""
    require_database()
    if not van_id and not pairing.slugify(name):
        raise click.BadParameter(f"{name!r} gives no van id: add --id, e.g. --id van-03",
                                 param_hint="NAME")
    _hub_url(url)                        # a bad --url is refused before anything is stored
    with db.connection_context():
        try:
            van, code = pairing.add_van(name, van_id)
        except pairing.PairingError as exc:
            raise click.ClickException(exc.message)
        _show_code(van, code, as_json, url)


@hub_group.command("rotate-van")
@click.argument("van_id")
@click.option("--url", help="The hub's address as the vans reach it, e.g. http://192.168.1.20:5100 "
              "(default: VANAPP_PUBLIC_URL, else this computer's LAN address).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate_van_command(van_id, url, as_json):
    """New pairing code for VAN_ID; its old key stops working now. Its records stay."""
    require_database()
    _hub_url(url)
    with db.connection_context():
        try:
            van, code = pairing.rotate(van_id)
        except pairing.PairingError as exc:
            raise click.ClickException(exc.message)
        _show_code(van, code, as_json, url)


@hub_group.command("revoke-van")
@click.argument("van_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def revoke_van_command(van_id, as_json):
    """Block VAN_ID (a lost laptop): it can no longer sync. What it synced stays."""
    require_database()
    with db.connection_context():
        try:
            van = pairing.revoke(van_id)
        except pairing.PairingError as exc:
            raise click.ClickException(exc.message)
    for stale in (Path(current_app.config["DATA_DIR"]) / "pairing").glob(f"{van.id}.*"):
        stale.unlink()                   # its pairing code is cancelled: the QR would only mislead
    if as_json:
        click.echo(json.dumps({"van": van.id, "revoked": True, "revoked_at": to_iso(van.revoked_at)}))
    else:
        click.echo(f"van {van.id} revoked: it gets 401 from now on; `vanapp hub rotate-van {van.id}` "
                   "lets it pair again")


@hub_group.command("import-bundle")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def import_bundle_command(file, as_json):
    """Verify a van's export bundle (from a USB stick) and store its records (once)."""
    require_database()
    try:
        data = bundle.read_file(file)
    except bundle.BundleError as exc:
        _fail(as_json, file, str(exc))
    with db.connection_context():
        try:
            totals = import_bundle(data, current_app.config.get("TIMEZONE", "Asia/Kolkata"))
        except bundle.BundleError as exc:
            _fail(as_json, file, str(exc))
        except receive.BatchRefused as exc:
            _fail(as_json, file, f"{exc.message} ({exc.code})", exc.records)
    if as_json:
        click.echo(json.dumps(dict(totals, ok=True)))
    else:
        click.echo(f"{file}: van {totals['van']}, {totals['batches']} batch(es): {totals['stored']} new, "
                   f"{totals['updated']} updated, {totals['duplicates']} already held"
                   + (f", {totals['replayed']} batch(es) imported before" if totals["replayed"] else ""))
        if totals["refused"]:
            click.echo(f"{len(totals['refused'])} record(s) refused and not stored (the van sets them aside "
                       "with the reason at its next sync):", err=True)
            for record in totals["refused"][:20]:
                click.echo(f"  {record['model']} {record['id']}: {record['message']}", err=True)


def _fail(as_json, file, message, at_fault=None):
    if as_json:
        click.echo(json.dumps({"ok": False, "file": file, "error": message, "records": at_fault or []}))
    else:
        click.echo(f"{file}: {message}; nothing more was stored", err=True)
        for record in (at_fault or [])[:20]:
            click.echo(f"  {record.get('model')} {record.get('id')}: {record.get('message')}", err=True)
    sys.exit(1)


commands = []      # everything here attaches to `hub_group`
