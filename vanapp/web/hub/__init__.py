"""Hub mode's blueprints: the van-facing sync API, the coordinators' login and pages, and error
pages with the hub's own header (the van's crew navigation does not exist here)."""
import logging

from flask import request, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def register(app):
    from ...hub import accounts as auth
    from . import api, dashboard, vans
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(vans.bp)

    @app.context_processor
    def _hub():
        try:
            return {"coordinator": auth.current_coordinator()}
        except Exception:  # noqa: BLE001 - the database is down: the error page still renders
            log.exception("cannot read the coordinator for %s", request.path)
            return {"coordinator": None}

    _error_pages(app)


def _error_pages(app):
    """Same codes and JSON shape as web/errors.py, but pages rendered in the hub's frame.
    Registered after errors.init_app, so these replace its page handlers in hub mode."""
    from ..errors import json_error, wants_json

    messages = {
        401: _l("Please log in."),
        403: _l("This page is not for this device."),
        400: _l("The request was not understood. Go back and try again."),
        404: _l("There is no such page."),
        405: _l("This page cannot be used that way. Go back and use its buttons."),
        413: _l("That file is too large."),
        429: _l("Too many tries. Wait a minute and try again."),
    }

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if wants_json():
            return json_error(400, "csrf", "The form's security token is missing or expired: reload the page.")
        return render_template("hub/error.html", status=400,
                               message=_("The page was open too long. Go back, reload and try again.")), 400

    @app.errorhandler(HTTPException)
    def _http(exc):
        if wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            return json_error(exc.code, code, exc.description or exc.name)
        text = messages.get(exc.code)
        return render_template("hub/error.html", status=exc.code,
                               message=str(text or _l("That did not work. Go back and try again."))), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc):
        # the details go to the log; the coordinator gets a sentence, never a traceback
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal", "Something went wrong; it has been logged.")
        message = _("Something went wrong. It has been written to the hub's log; nothing was lost.")
        try:
            return render_template("hub/error.html", status=500, message=message), 500
        except Exception:  # noqa: BLE001 - e.g. the database is down: a page without the frame
            log.exception("the error page failed too")
            return f"<!doctype html><title>500</title><p>{message}</p>", 500, {"Content-Type": "text/html; charset=utf-8"}
