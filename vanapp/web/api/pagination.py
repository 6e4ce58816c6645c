"""The one pagination style of the API: `?limit=&offset=`, answered as {"items": [...], "next": url|null}."""
from flask import request, url_for

from ...errors import AppError

MAX_LIMIT = 500


def page(query, serialize, endpoint: str, **values):
    try:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise AppError(400, "bad_request", "limit and offset must be whole numbers.", field="limit")
    if not (1 <= limit <= MAX_LIMIT) or offset < 0:
        raise AppError(400, "bad_request", f"limit must be 1..{MAX_LIMIT} and offset at least 0.", field="limit")
    rows = list(query.limit(limit + 1).offset(offset))
    more = len(rows) > limit
    args = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}
    nxt = url_for(endpoint, limit=limit, offset=offset + limit, **args, **values) if more else None
    return {"items": [serialize(r) for r in rows[:limit]], "next": nxt}
