"""The `vanapp` command: a Flask CLI group (datasette's shape). Every command lives in this package,
one module per part: app (init, serve, token), tours (schedule), media (scan, preflight), player
(play), attendance (report, categories), games, sync (pair, sync, export-bundle), backup (backup,
restore), hub, hub_vans and hub_facts."""
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

    def invoke(self, ctx):
        """A command run with `--json` answers in JSON on failure too (a script reading its output
        gets `{"ok": false, "error", "code"}`, never a usage text or a traceback on stdout)."""
        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        if "--json" not in words:
            return super().invoke(ctx)
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            code = "usage" if isinstance(exc, click.UsageError) else "error"
            _json_failure(exc.format_message(), code, exc.exit_code)
        except click.exceptions.Abort:
            _json_failure("aborted", "aborted", 1)
        except (click.exceptions.Exit, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the script still gets JSON, and the log the details
            import logging
            import os
            logging.getLogger("vanapp.cli").exception("command failed")
            if os.environ.get("VANAPP_DEBUG"):
                raise
            _json_failure(f"{exc.__class__.__name__}: {exc}", "internal", 1)


def _json_failure(message: str, code: str, status: int):
    import json
    click.echo(json.dumps({"ok": False, "error": message, "code": code}))
    sys.exit(status)


@click.group(cls=VanGroup, create_app=_make_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
@click.version_option(package_name="vanapp")
def cli():
    """VanKit: the video van field kit."""


from . import app, attendance, backup, games, hub, hub_facts, hub_vans, media, player, sync, tours  # noqa: E402

for _module in (app, tours, media, player, attendance, games, sync, backup, hub, hub_vans, hub_facts):
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
