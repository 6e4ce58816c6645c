"""One error shape: JSON `{"error": {"code", "message", "field"}}` for the API, a friendly page
(never a traceback) for people."""
import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal with a status, a machine code, a message and optionally the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.extra = status, code, message, field, extra

    def body(self):
        error = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        error.update(self.extra)
        return {"error": error}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/hub/api/", "/a/api/")) or \
        request.accept_mimetypes.best == "application/json"


def json_error(status, code, message, field=None):
    return jsonify(ApiError(status, code, message, field).body()), status


def init_app(app):
    @app.errorhandler(ApiError)
    def _api_error(exc):
        return jsonify(exc.body()), exc.status

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if wants_json():
            return json_error(400, "csrf", "The form's security token is missing or expired: reload the page.")
        return render_template("error.html", status=400,
                               message=_("The page was open too long. Go back, reload and try again.")), 400

    @app.errorhandler(HTTPException)
    def _http(exc):
        if wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            return json_error(exc.code, code, exc.description or exc.name)
        messages = {
            401: _("Please log in."),
            403: _("This page is not for this device."),
            400: _("The request was not understood. Go back and try again."),
            404: _("There is no such page."),
            405: _("This page cannot be used that way. Go back and use its buttons."),
            413: _("That file is too large."),
            429: _("Too many tries. Wait a minute and try again."),
        }
        return render_template("error.html", status=exc.code,
                               message=messages.get(exc.code, _("That did not work. Go back and try again."))), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal", "Something went wrong; it has been logged.")
        return render_template("error.html", status=500,
                               message=_("Something went wrong. It has been written to the log; nothing was lost.")), 500
