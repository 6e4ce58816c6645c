"""Street-theatre games: content (YAML files, checked and stored), the game state machine that
runs one live game with the crew and the audience's phones, and the results people read."""
from .. import parts


def init_app(app):
    """The app's game state machine, in app.extensions["games"]: `vanapp serve` restores a live
    run from the database before the first phone polls, and stops its timer on the way out."""
    from .machine import GameMachine
    app.extensions["games"] = GameMachine()
    parts.register(app, start=lambda app: machine_of(app).ensure_loaded(),
                   stop=lambda app: machine_of(app).shutdown())


def machine_of(app):
    """The app's game state machine (see init_app)."""
    return app.extensions["games"]
