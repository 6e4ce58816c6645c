"""Which blueprints a van app or a hub app serves, and the crew's navigation.

Areas add their blueprint here once; a nav entry shows only when its endpoint exists.
"""
from flask import current_app, jsonify, session
from flask_babel import lazy_gettext as _l

# (endpoint, label) in the order the crew sees them.
VAN_NAV = [
    ("console.today", _l("Today")),
    ("console.tour", _l("Tour")),
    ("run.console", _l("Run")),
    ("attendance.tally_index", _l("Count")),
    ("games.index", _l("Games")),
    ("console.media", _l("Media")),
    ("console.preflight", _l("Pre-flight")),
    ("sync.status", _l("Sync")),
]
# The night's four: always in the bar, on a phone too; the others go under "More" there.
NIGHT_NAV = ("console.today", "run.console", "attendance.tally_index", "games.index")


def register(app):
    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.context_processor
    def _nav():
        shown = [(e, label) for e, label in VAN_NAV if e in current_app.view_functions]
        # the night's four first, in the bar on every screen; then the others
        out = {"nav_items": [(e, label, True) for e, label in shown if e in NIGHT_NAV] +
                            [(e, label, False) for e, label in shown if e not in NIGHT_NAV]}
        if current_app.config.get("MODE") != "hub" and session.get("crew"):
            from ..tours import identity
            out["this_van"] = identity.this_van()     # shown in the header: one laptop, one van
        return out

    if app.config.get("MODE") == "hub":
        from .hub import api as hub_api, auth as hub_auth, dashboard, vans as hub_vans
        app.register_blueprint(hub_api.bp)
        app.register_blueprint(hub_auth.bp)
        app.register_blueprint(dashboard.bp)
        app.register_blueprint(hub_vans.bp)
        return

    from . import auth, console, run, attendance, games, audience, sync
    from .api import bp as api_bp
    app.register_blueprint(auth.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(run.bp)
    app.register_blueprint(attendance.bp)
    app.register_blueprint(games.bp)
    app.register_blueprint(audience.bp)
    app.register_blueprint(sync.bp)
    from .calendar import bp as calendar_bp
    app.register_blueprint(calendar_bp)
    app.register_blueprint(api_bp)
