"""VanKit: the video van field kit. `create_app` is the only place that wires things together."""
import secrets
from pathlib import Path

from . import config as config_module

__version__ = "0.1.0"


def _secret_key(data_dir: str) -> str:
    """A session key kept in the data dir, made once, so logins survive a restart."""
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config=None):
    from flask import Flask       # here, not at the top: `vanapp hub report` runs without Flask (cli/)
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(config_module.from_environment())
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,      # uploads and sync batches are size-limited
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,                 # a console left open all evening still posts
        RATELIMIT_STORAGE_URI="vankit://",         # a van's memory, a hub's database (web/limits_store.py)
        RATELIMIT_HEADERS_ENABLED=True,
    )
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    from . import db
    db.bind(app.config["DATABASE_URL"], app.config["DATA_DIR"], hub=app.config.get("MODE") == "hub")
    db.init_app(app)
    # VANAPP_SECRET_KEY unset: a van keeps its key in the data dir, a hub in its database
    if app.config.get("MODE") != "hub" and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.config["DATA_DIR"])

    from .web import extensions, i18n, errors, sessions
    sessions.init_app(app)          # a hub's session key is shared by its processes (hub/shared.py)
    extensions.init_app(app)
    i18n.init_app(app)
    if app.config.get("MODE") == "hub":     # the hub's pages have their own frame
        errors.init_app(app, page="hub/error.html", crash=errors.HUB_CRASH_PAGE)
    else:
        errors.init_app(app)
        # the van's long-lived parts: each keeps its object in app.extensions and registers how
        # it starts and stops (vanapp/parts.py); `vanapp serve` starts them
        from . import games, player, show, sync
        from .web import audience
        player.init_app(app)
        games.init_app(app)
        show.init_app(app)              # the programme and the games as one show
        sync.init_app(app)
        audience.init_app(app)
        # the audience's poll, its one hot URL, is answered before Flask (web/audience.py)
        app.wsgi_app = audience.FastPoll(app, app.wsgi_app)

    from .web import blueprints, headers, storage
    blueprints.register(app)
    if app.config.get("MODE") != "hub":
        from .web import reach
        reach.init_app(app)             # can phones reach the show? (checked once serving)
    storage.init_app(app)       # after the error pages: a full disk is 507 in words, anything else theirs
    headers.init_app(app)       # last: its layer wraps every other, so every answer has the headers
    return app
