"""The login cookie and cookies with a lifetime: Max-Age, never an absolute Expires, and a login
that is only as good as its row on the server (vanapp/logins.py).

A phone in a village may have a clock months off. An `Expires` date is read on the phone's clock,
so a phone set later than it drops the cookie at once (the crew "cannot stay logged in"); Max-Age
counts from when the phone got the cookie, whatever its clock says. Whether a login still works is
decided on the server: the session cookie names a login row, and every request checks it."""
import threading

from flask import request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.http import dump_cookie

from .. import logins
from ..hub.shared import session_key
from ..models import db

SECRET = "login"     # the session key holding the login's secret


def set_cookie(response, key: str, value: str, max_age: int, **options) -> None:
    """Set a cookie that lasts `max_age` seconds on the browser's own count: Max-Age and no
    Expires (werkzeug's set_cookie adds an Expires computed on the server's clock)."""
    response.headers.add("Set-Cookie", dump_cookie(
        key, value, max_age=max_age, sync_expires=False, path=options.pop("path", "/"),
        max_size=response.max_cookie_size, **options))


class MaxAgeSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, sent with Max-Age instead of Expires."""

    def save_session(self, app, session, response):
        name = self.get_cookie_name(app)
        options = dict(domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
                       secure=self.get_cookie_secure(app), partitioned=self.get_cookie_partitioned(app),
                       samesite=self.get_cookie_samesite(app), httponly=self.get_cookie_httponly(app))
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.modified:
                response.delete_cookie(name, **options)
                response.vary.add("Cookie")
            return
        if not self.should_set_cookie(app, session):
            return
        # A browser-session cookie unless the login asked to outlive the browser; either way no
        # date in it: the server ends the login (logins.IDLE, logins.LIFETIME), not the phone.
        max_age = int(app.permanent_session_lifetime.total_seconds()) if session.permanent else None
        value = self.get_signing_serializer(app).dumps(dict(session))
        response.headers.add("Set-Cookie", dump_cookie(
            name, value, max_age=max_age, sync_expires=False, max_size=response.max_cookie_size,
            **options))
        response.vary.add("Cookie")


class HubSessionInterface(MaxAgeSessionInterface):
    """The same cookies, signed with the hub's key kept in its database (hub/shared.py), so a login
    made through one `vanapp hub serve` holds on every other one. The key is read the first time a
    session is opened: the database may not be migrated when the app is made, and Flask opens the
    session before any before_request hook runs."""

    def get_signing_serializer(self, app):
        if not app.secret_key:
            with _key_lock:
                if not app.secret_key:
                    opened = db.is_closed()
                    if opened:
                        db.connect()
                    try:
                        app.secret_key = session_key(app.config["DATA_DIR"])
                    finally:
                        if opened:
                            db.close()
        return super().get_signing_serializer(app)


_key_lock = threading.Lock()


def begin(kind: str, subject: str = "") -> None:
    """Log this browser in as `kind`: a fresh session (no fixation) naming a new login row."""
    logins.end(session.get(SECRET))
    session.clear()
    session[SECRET] = logins.open_login(kind, subject, address=request.remote_addr or "")
    if kind == "crew":
        session["crew"] = True
    else:
        session["coordinator"] = subject
    session.permanent = True


def finish() -> None:
    """Log this browser out: its login row goes, so every copy of the cookie stops working."""
    logins.end(session.get(SECRET))
    session.clear()


def _kind_and_subject():
    if session.get("crew") is True:
        return "crew", ""
    if session.get("coordinator"):
        return "coordinator", str(session["coordinator"])
    return None, ""


def init_app(app):
    # a hub signs with the key all its processes share, unless VANAPP_SECRET_KEY names one
    shared = app.config.get("MODE") == "hub" and not app.config.get("SECRET_KEY")
    app.session_interface = HubSessionInterface() if shared else MaxAgeSessionInterface()
    app.config["PERMANENT_SESSION_LIFETIME"] = logins.LIFETIME

    @app.before_request
    def _check_login():
        # Static files need no login; every other request's login is checked on the server, so
        # a logout, a PIN change or a password reset elsewhere ends this cookie's login too.
        if request.endpoint == "static":
            return
        kind, subject = _kind_and_subject()
        if kind is None:
            return
        if logins.check(session.get(SECRET), kind, subject) is None:
            session.clear()
