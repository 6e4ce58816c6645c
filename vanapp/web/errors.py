"""Errors as each surface answers them, one handler per kind: a refusal (vanapp.errors.AppError,
raised by services and views alike), a CSRF failure, an HTTP error, anything unexpected. The
APIs (/api/, /a/api/, the hub's /api/v1) and clients asking for JSON get the one JSON shape
`{"error": {"code", "message", "field"}}`; people get a page in their language, never a traceback."""
import logging

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import AppError

log = logging.getLogger(__name__)

# What a page says for each status (a refusal's own message is English, for scripts).
PAGE_MESSAGES = {
    401: _l("Please log in."),
    403: _l("This page is not for this device."),
    400: _l("The request was not understood. Go back and try again."),
    404: _l("There is no such page."),
    405: _l("This page cannot be used that way. Go back and use its buttons."),
    413: _l("That file is too large."),
    429: _l("Too many tries. Wait a minute and try again."),
}
OTHER = _l("That did not work. Go back and try again.")
CSRF_PAGE = _l("The page was open too long. Go back, reload and try again.")
CRASH_PAGE = _l("Something went wrong. It has been written to the log; nothing was lost.")
HUB_CRASH_PAGE = _l("Something went wrong. It has been written to the hub's log; nothing was lost.")


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/hub/api/", "/a/api/")) or \
        request.accept_mimetypes.best == "application/json"


def json_error(status, code, message, field=None):
    return jsonify(AppError(status, code, message, field).body()), status


def init_app(app, page: str = "error.html", crash=CRASH_PAGE):
    """`page`: the template error pages render in (the hub's has its own frame); `crash`: what
    a person reads when something unexpected went wrong."""

    def render(status, message):
        try:
            return render_template(page, status=status, message=str(message)), status
        except Exception:  # noqa: BLE001 - e.g. the database is down: a page without the frame
            log.exception("the error page failed too")
            return (f"<!doctype html><title>{status}</title><p>{message}</p>", status,
                    {"Content-Type": "text/html; charset=utf-8"})

    @app.errorhandler(AppError)
    def _refused(exc):
        if wants_json():
            return jsonify(exc.body()), exc.status
        return render(exc.status, PAGE_MESSAGES.get(exc.status, OTHER))

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if wants_json():
            return json_error(400, "csrf", "The form's security token is missing or expired: reload the page.")
        return render(400, CSRF_PAGE)

    @app.errorhandler(HTTPException)
    def _http(exc):
        # what the exception says besides its body: a 405's Allow (RFC 9110 wants it), a 401's
        # WWW-Authenticate, a 429's Retry-After
        headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
        if wants_json():
            # one name for one refusal: a body too large is `too_large` wherever it is refused
            code = "too_large" if exc.code == 413 else (exc.name or "error").lower().replace(" ", "_")
            response, status = json_error(exc.code, code, exc.description or exc.name)
        else:
            response, status, *_rest = render(exc.code, PAGE_MESSAGES.get(exc.code, OTHER))
            response = app.make_response((response, status, *_rest))
        response = app.make_response(response)
        response.headers.extend(headers)
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal", "Something went wrong; it has been logged.")
        return render(500, crash)
