"""The van's side of sync: pairing with the hub, pushing the outbox and pulling the plan (client.py,
outbox.py, incoming.py, state.py), in the background of `vanapp serve` (auto.py), and the USB
bundle for a van with no network (bundle.py). The format on the wire is vanapp/protocol/."""
from .. import parts


def init_app(app):
    """The app's sync runner, in app.extensions["sync"]: *Sync now* runs through it, and
    `vanapp serve` starts its automatic sync (VANAPP_SYNC_INTERVAL; 0 turns it off)."""
    from .auto import SyncRunner, parse_interval
    app.extensions["sync"] = SyncRunner(app.config["DATA_DIR"], parse_interval(app.config.get("SYNC_INTERVAL")))
    parts.register(app, start=lambda app: runner(app).start_auto())


def runner(app):
    """The app's sync runner (see init_app)."""
    return app.extensions["sync"]
