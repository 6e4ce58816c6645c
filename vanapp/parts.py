"""The app's long-lived parts: the player, the game state machine, the sync runner. Each area's
`init_app(app)`, called from `create_app`, keeps its part in `app.extensions` and says here how
it starts and stops; `vanapp serve` starts them all before the first request and stops them on
its way out, and a test stops them when its app goes away."""
STARTS = "vanapp_starts"
STOPS = "vanapp_stops"


def register(app, start=None, stop=None) -> None:
    """`start(app)` runs when the server starts; `stop(app)` when it stops (in reverse order)."""
    if start is not None:
        app.extensions.setdefault(STARTS, []).append(start)
    if stop is not None:
        app.extensions.setdefault(STOPS, []).append(stop)


def start_all(app) -> None:
    for start in app.extensions.get(STARTS, []):
        start(app)


def stop_all(app) -> None:
    for stop in reversed(app.extensions.get(STOPS, [])):
        stop(app)
