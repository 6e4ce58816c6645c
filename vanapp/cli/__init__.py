"""The `vanapp` command. Every command lives in this package, one module per part: app (init, serve,
token), tours (schedule), media (scan, preflight), player (play), attendance (report, categories),
games, sync (pair, sync, export-bundle), backup (backup, restore), hub, hub_vans, hub_facts and
hub_report; group.py gathers them into one Flask CLI group, `cli`.

`main` sends the commands that need no web app (PLAIN) straight to their Flask-free group, so they
start without importing Flask or building an app (hub_report.py says why); everything else,
`--help` included, goes through `cli`."""
import sys

# the first words of a command line -> its Flask-free group ("module:attribute", a click group
# named "vanapp" that has the same command under the same words)
PLAIN = {("hub", "report"): "vanapp.cli.hub_report:plain_cli"}


def __getattr__(name):
    """`from vanapp.cli import cli` (tests, the docs) without every `vanapp` importing Flask."""
    if name == "cli":
        from .group import cli
        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _group_for(argv: list[str]):
    for words, target in PLAIN.items():
        if tuple(argv[:len(words)]) == words:
            module, _, attribute = target.partition(":")
            __import__(module)
            return getattr(sys.modules[module], attribute)
    from .group import cli
    return cli


def main():
    """Entry point: a crew member sees a plain sentence, never a traceback (set VANAPP_DEBUG=1 for one)."""
    import os
    import click
    group = _group_for(sys.argv[1:])
    try:
        group.main(prog_name="vanapp")
    except Exception as exc:  # noqa: BLE001 - the last line of defence for people at a terminal
        if os.environ.get("VANAPP_DEBUG"):
            raise
        click.echo(f"vanapp: {exc.__class__.__name__}: {exc}", err=True)
        click.echo("(run again with VANAPP_DEBUG=1 to see the details)", err=True)
        sys.exit(1)
