"""The `vanapp` command as a Flask CLI group (datasette's shape). Every command lives in this package,
one module per part: app (init, serve, token), tours (schedule), media (scan, preflight), player
(play), attendance (report, categories), games, sync (pair, sync, export-bundle), backup (backup,
restore), hub, hub_vans and hub_facts."""
import click
from flask.cli import FlaskGroup

from .. import create_app
from .hub_report import answer_in_json


def _make_app(*_args, **_kwargs):
    return create_app()


class VanGroup(FlaskGroup):
    """Our commands only: no commands other installed packages register for `flask` (Flask-Limiter's
    `limiter` maintenance group means nothing to a crew, and scanning entry points slows every start)."""

    def _load_plugin_commands(self) -> None:
        self._loaded_plugin_commands = True

    def invoke(self, ctx):
        """A command run with `--json` answers in JSON on failure too (hub_report.answer_in_json)."""
        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        return answer_in_json(words, lambda: FlaskGroup.invoke(self, ctx))


@click.group(cls=VanGroup, create_app=_make_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
@click.version_option(package_name="vanapp")
def cli():
    """VanKit: the video van field kit."""


from . import app, attendance, backup, games, hub, hub_facts, hub_vans, media, player, sync, tours  # noqa: E402

for _module in (app, tours, media, player, attendance, games, sync, backup, hub, hub_vans, hub_facts):
    for _command in _module.commands:
        cli.add_command(_command)
