"""The one pagination style of the API: `?limit=&offset=`, answered as {"items": [...], "next": url|null}."""
import re

from flask import request, url_for

from ...errors import AppError

MAX_LIMIT = 500
MAX_OFFSET = 10 ** 12
WHOLE = re.compile(r"[0-9]{1,13}")


def page(query, serialize, endpoint: str, **values):
    limit, offset = request.args.get("limit", "100"), request.args.get("offset", "0")
    if not WHOLE.fullmatch(limit) or not 1 <= int(limit) <= MAX_LIMIT:
        raise AppError(400, "bad_request", f"limit must be a whole number 1..{MAX_LIMIT}.", field="limit")
    if not WHOLE.fullmatch(offset) or int(offset) > MAX_OFFSET:
        raise AppError(400, "bad_request", f"offset must be a whole number 0..{MAX_OFFSET}.", field="offset")
    limit, offset = int(limit), int(offset)
    rows = list(query.limit(limit + 1).offset(offset))
    more = len(rows) > limit
    args = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}
    nxt = url_for(endpoint, limit=limit, offset=offset + limit, **args, **values) if more else None
    return {"items": [serialize(r) for r in rows[:limit]], "next": nxt}
