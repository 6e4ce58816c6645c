"""The `vanapp` command: a Flask CLI group (datasette's shape). Every command lives in this package,
one module per part: app (init, serve, token), tours (schedule), media (scan, preflight), player
(play), attendance (report, categories), games, sync (pair, sync, export-bundle), hub and hub_vans."""
import sys

import click
from flask.cli import FlaskGroup

from .. import create_app


def _make_app(*_args, **_kwargs):
    return create_app()


class VanGroup(FlaskGroup):
    """Our commands only: no commands other installed packages register for `flask` (Flask-Limiter's
    `limiter` maintenance group means nothing to a crew, and scanning entry points slows every start)."""

    def _load_plugin_commands(self) -> None:
        self._loaded_plugin_commands = True


@click.group(cls=VanGroup, create_app=_make_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
@click.version_option(package_name="vanapp")
def cli():
    """VanKit: the video van field kit."""


from . import app, attendance, games, hub, hub_vans, media, player, sync, tours  # noqa: E402

for _module in (app, tours, media, player, attendance, games, sync, hub, hub_vans):
    for _command in _module.commands:
        cli.add_command(_command)


def main():
    """Entry point: a crew member sees a plain sentence, never a traceback (set VANAPP_DEBUG=1 for one)."""
    import os
    try:
        cli.main(prog_name="vanapp")
    except Exception as exc:  # noqa: BLE001 - the last line of defence for people at a terminal
        if os.environ.get("VANAPP_DEBUG"):
            raise
        click.echo(f"vanapp: {exc.__class__.__name__}: {exc}", err=True)
        click.echo("(run again with VANAPP_DEBUG=1 to see the details)", err=True)
        sys.exit(1)
