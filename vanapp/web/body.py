"""The one request-body parser of every JSON API (van /api/v1, audience /a/api, hub /api/v1):
a JSON object, read whatever the Content-Type says (a script that forgot the header still gets
a clear answer), or a 400 `bad_json` naming the body."""
from flask import request

from .. import jsontext
from ..errors import AppError


def json_body(required: bool = True) -> dict:
    """The request's JSON object. An empty body is `{}` when not `required` (commands such as
    POST /api/v1/player/pause carry none)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if not required:
            return {}
        raise AppError(400, "bad_json", "Send a JSON object body (Content-Type: application/json).",
                       field="body")
    try:
        data = jsontext.loads(raw)
    except jsontext.TooDeep as exc:
        raise AppError(400, "bad_json", f"The body is {exc}.", field="body") from None
    except (ValueError, UnicodeDecodeError):
        raise AppError(400, "bad_json", "The body is not valid JSON.", field="body") from None
    if not isinstance(data, dict):
        raise AppError(400, "bad_json", "The body must be a JSON object.", field="body")
    return data
