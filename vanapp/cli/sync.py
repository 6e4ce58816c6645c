"""`vanapp pair`, `vanapp sync` and `vanapp export-bundle`: the van's sync from the terminal."""
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..ids import to_iso
from ..models import db
from ..sync import bundle, client, state


@click.command("pair")
@click.argument("hub_url")
@click.argument("code", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def pair_command(hub_url, code, as_json):
    """Pair this van with the hub at HUB_URL using the one-time CODE from `vanapp hub add-van`.

    HUB_URL may also be the pairing link from the QR code (…/pair?code=XXXX-XXXX)."""
    if code is None:
        hub_url, code = client.parse_pair_link(hub_url)
        if not hub_url or not code:
            raise click.UsageError("give HUB_URL and CODE, or the pairing link from the QR code")
    with db.connection_context():
        try:
            outcome = client.pair(hub_url, code)
        except client.SyncError as exc:
            if as_json:
                click.echo(json.dumps({"ok": False, "error": exc.message, "detail": exc.detail}))
            else:
                click.echo(f"pairing failed: {exc.detail or exc.message}", err=True)
            sys.exit(1)
    if as_json:
        click.echo(json.dumps(dict(outcome, ok=True)))
        return
    click.echo(f"paired: this laptop is {outcome['van_id']} on {outcome['hub_url']}")
    click.echo("next: `vanapp sync` (or the Sync page's Sync now button)")


def _ago(value):
    return to_iso(value) if value else "never"


@click.command("sync")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON (no progress bar).")
@click.option("--status", "only_status", is_flag=True, help="Only show the sync status; send nothing.")
@click.option("--retry-parked", is_flag=True, help="Queue the records set aside (parked) again before syncing.")
@click.option("--discard-parked", is_flag=True,
              help="Give up on the records set aside: they stay on this laptop but are never sent.")
@click.option("--timeout", default=30.0, show_default=True, help="Network timeout in seconds.")
@click.option("--wait", default=120.0, show_default=True,
              help="Seconds to wait for a sync already running (e.g. the console's automatic sync).")
@click.option("--batch-size", default=client.outbox.BATCH_ROWS, show_default=True, type=click.IntRange(1, 100_000),
              help="Changes per request: smaller on a link that keeps dropping (a drop costs one request).")
@with_appcontext
def sync_command(as_json, only_status, retry_parked, discard_parked, timeout, wait, batch_size):
    """Send everything new to the hub and fetch new tours and content. A record the hub refuses
    is set aside (parked) with the hub's reason and never holds back the others."""
    data_dir = current_app.config["DATA_DIR"]
    if retry_parked and discard_parked:
        raise click.UsageError("--retry-parked or --discard-parked, not both")
    with db.connection_context():
        if only_status:
            _print_status(as_json)
            return
        if retry_parked:
            click.echo(f"{state.retry_parked()} parked record(s) queued again", err=True)
        if discard_parked:
            click.echo(f"{state.discard_parked()} parked record(s) discarded (kept here, never sent)", err=True)
        if as_json:
            result = client.sync(data_dir, "cli", timeout=timeout, wait=wait, batch_rows=batch_size)
        else:
            result = _sync_with_bar(data_dir, timeout, wait, batch_size)
        waiting = state.waiting_total()
        parked = state.parked_count()
        set_aside = _set_aside_list()
    if as_json:
        click.echo(json.dumps(dict(result.as_dict(), waiting=waiting, parked_total=parked, set_aside=set_aside)))
    elif result.ok:
        click.echo(f"sync done in {result.seconds:.1f} s: {result.pushed} record(s) sent ({result.stored} new to "
                   f"the hub), {result.pulled} received, {parked} parked, {waiting} waiting, "
                   f"{result.bytes_sent} bytes sent")
    else:
        click.echo(f"sync failed: {result.error}", err=True)
        if result.detail:
            click.echo(f"  ({result.detail})", err=True)
        click.echo(f"{result.pushed} record(s) sent before that; {waiting} still waiting (they are kept "
                   "and go next time)", err=True)
    if result.parked:
        click.echo(f"{result.parked} record(s) parked: see `vanapp sync --status`", err=True)
    sys.exit(0 if result.ok else 1)


def _sync_with_bar(data_dir, timeout, wait=0.0, batch_size=client.outbox.BATCH_ROWS):
    bars = {}

    def progress(phase, done, total):
        if phase not in ("push", "pull") or total <= 0:
            return
        bar = bars.get(phase)
        if bar is None:
            label = "sending " if phase == "push" else "receiving"
            bar = bars[phase] = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            bar.done = 0
        bar.update(done - bar.done)
        bar.done = done

    try:
        return client.sync(data_dir, "cli", progress=progress, timeout=timeout, wait=wait, batch_rows=batch_size)
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)


def _set_aside_list(limit: int = 200) -> list[dict]:
    """The records set aside (not discarded), newest first, with the hub's (or the van's) reason."""
    from ..models import SyncParked
    return [{"parked": p.id, "model": p.model, "id": p.record_id, "version": p.version, "code": p.code,
             "reason": p.reason, "parked_at": to_iso(p.parked_at)}
            for p in SyncParked.active().order_by(SyncParked.parked_at.desc()).limit(limit)]


def _print_status(as_json):
    info = state.status()
    if as_json:
        info = dict(info, last_success=_ago(info["last_success"]), last_run=None,
                    parked=[{"model": p.model, "id": p.record_id, "version": p.version, "code": p.code,
                             "reason": p.reason} for p in info["parked"]])
        click.echo(json.dumps(info))
        return
    if info["paired"]:
        click.echo(f"paired as {info['van_id']} with {info['hub_url']}")
    else:
        click.echo("not paired: run `vanapp pair HUB_URL CODE`")
    click.echo(f"last successful sync: {_ago(info['last_success'])}")
    if info["last_error"]:
        click.echo(f"last attempt failed: {info['last_error']}")
    waiting = info["waiting"]
    click.echo("waiting: " + (", ".join(f"{n} {m}" for m, n in sorted(waiting.items())) or "nothing"))
    click.echo(f"parked: {info['parked_count']}")
    for p in info["parked"]:
        click.echo(f"  {p.model} {p.record_id} v{p.version}: {p.reason}")


@click.command("export-bundle")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--all", "everything", is_flag=True, help="Every record, not only those the hub has not acknowledged.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def export_bundle_command(file, everything, as_json):
    """Write the records the hub has not yet received to FILE (signed), for a USB stick."""
    with db.connection_context():
        try:
            outcome = bundle.export(file, everything)
        except bundle.BundleError as exc:
            raise click.ClickException(str(exc))
    if as_json:
        click.echo(json.dumps(outcome))
    else:
        click.echo(f"bundle written: {outcome['file']} — {outcome['records']} record(s) in {outcome['batches']} "
                   f"batch(es), {outcome['bytes']} bytes; the hub imports it with "
                   "`vanapp hub import-bundle FILE`")


commands = [pair_command, sync_command, export_bundle_command]
