"""The OpenAPI 3.1 description of the hub's van-facing API, served at /api/v1/openapi.json.

It is the truth: every limit it states is the server's (tests run schemathesis with all its
checks against a real hub, with and without a van's token), and a test checks it lists exactly
the routes the hub serves. PROTOCOL.md says what the calls mean."""
from .. import jsontext
from .wire import MAX_BODY, MAX_JSON, MAX_RECORDS

PULL_PAGE = 2000                    # pull documents: at most this many changes a page
ID = "^[A-Za-z0-9_.-]{1,64}$"       # an outbox epoch (the X-Van-Outbox header's too)
UINT = {"type": "integer", "minimum": 0}

ERROR = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "message": {"type": "string", "minLength": 1},
            "field": {"type": "string", "minLength": 1},
            "records": {"type": "array", "description": "the records at fault (a refused batch)",
                        "items": {"type": "object", "required": ["model", "id", "code", "message"],
                                  "properties": {"model": {"type": "string"}, "id": {"type": "string"},
                                                 "code": {"type": "string"}, "message": {"type": "string"}}}},
            "retry_after": {"type": "integer"},
            "van": {"type": "string", "description": "wrong_van: the van the pairing code is for"}}}},
}


def error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _column():
    return {"oneOf": [
        {"type": "array", "description": "plain values, one a row"},
        {"type": "object", "required": ["k"], "additionalProperties": False, "properties": {"k": {}},
         "description": "every row has k"},
        {"type": "object", "required": ["d", "i"], "additionalProperties": False,
         "properties": {"d": {"type": "array"}, "i": {"type": "array", "items": UINT}},
         "description": "dictionary values d, row indexes i"},
        {"type": "object", "required": ["t"], "additionalProperties": False,
         "properties": {"t": {"type": "array", "items": {"type": "integer"}}},
         "description": "UTC times: microseconds since 1970, then differences from the previous row"},
        {"type": "object", "required": ["s"], "additionalProperties": False, "properties": {"s": {"type": "string"}},
         "description": "same values as the named earlier column"},
    ]}


def _models():
    return {"type": "array", "items": {
        "type": "object", "required": ["name", "n", "columns"],
        "properties": {"name": {"type": "string", "examples": ["TallyEvent"]},
                       "n": {"type": "integer", "minimum": 0, "maximum": MAX_RECORDS},
                       "columns": {"type": "object", "additionalProperties": _column()}}}}


def _push_schema():
    return {
        "type": "object", "required": ["format", "van", "epoch", "key", "from", "to", "models"],
        "description": f"At most {MAX_RECORDS} records; each column has `n` values. Values are checked "
                       "against the models beyond what this schema says (types, lengths, ranges, parents): "
                       "a batch that passes this schema may still be refused 400 invalid_records, naming "
                       f"the records. JSON nested deeper than {jsontext.MAX_DEPTH} levels: 400 malformed.",
        "properties": {
            "format": {"const": 1},
            "kind": {"const": "push"},
            "van": {"type": "string", "description": "the authenticated van (another: 403 foreign_van)"},
            "epoch": {"type": "string", "minLength": 1, "maxLength": 64, "description": "the van's outbox identity"},
            "key": {"type": "string", "minLength": 8, "maxLength": 64, "description": "idempotency key"},
            "from": {**UINT, "description": "cursor range (from, to] of the van's outbox"},
            "to": {**UINT, "description": "at least `from`"},
            "waiting": {**UINT, "maximum": 10 ** 9 - 1,
                        "description": "records still waiting on the van once the hub holds everything up to `to`"},
            "models": _models(),
        }}


def _pull_schema():
    return {
        "type": "object", "required": ["format", "kind", "cursor", "more", "models"],
        "properties": {"format": {"const": 1}, "kind": {"const": "pull"}, "cursor": UINT,
                       "more": {"type": "boolean"}, "models": _models()}}


def _record_set_aside():
    return {"type": "object", "required": ["model", "id", "version", "code", "message"],
            "properties": {
                "model": {"type": "string", "pattern": "^[A-Za-z]{1,64}$"},
                "id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
                "version": {"type": "integer", "minimum": 1, "maximum": 2 ** 63 - 1},
                "code": {"type": "string", "pattern": "^[a-z_]{1,32}$"},
                "message": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "^[^\x00]*$"},
                "parked_at": {"type": ["string", "null"],
                              "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}Z$"}}}


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def spec() -> dict:
    body_limit = f"At most {MAX_BODY} bytes (413 too_large)."
    return {
        "openapi": "3.1.0",
        "info": {"title": "VanKit hub sync API", "version": "1",
                 "description": "How vans pair with the hub, push what happened and pull the plan. "
                                "See vanapp/protocol/PROTOCOL.md. Every refusal is "
                                "{\"error\": {\"code\", \"message\", \"field\"?}}; a method a path does "
                                "not have is 405 with an Allow header."},
        "components": {
            "securitySchemes": {"vanBearer": {"type": "http", "scheme": "bearer",
                                              "description": "<van id>.<secret hex> from pairing"}},
            "schemas": {
                "PushBatch": _push_schema(),
                "PullDocument": _pull_schema(),
                "Ack": {"type": "object",
                        "required": ["key", "epoch", "from", "to", "cursor", "received_at", "records", "stored",
                                     "updated", "duplicates", "older", "plan_inserted"],
                        "properties": {
                            "key": {"type": "string"}, "epoch": {"type": "string"}, "from": UINT, "to": UINT,
                            "cursor": UINT, "received_at": {"type": "string"}, "records": UINT,
                            "stored": UINT, "updated": UINT, "duplicates": UINT, "older": UINT,
                            "plan_inserted": UINT, "replayed": {"type": "boolean"}}},
                "Error": ERROR,
            },
            "responses": {f"E{status}": error_response(words) for status, words in {
                400: "malformed request: nothing was stored", 401: "missing, wrong or revoked credentials",
                403: "another van's records (foreign_van): nothing was stored", 404: "unknown code",
                409: "conflict: nothing was stored", 410: "the pairing code expired",
                413: "body too large", 429: "too many requests (retry_after seconds)"}.items()},
        },
        "paths": {
            "/api/v1/pair": {"post": {
                "summary": "Exchange a one-time pairing code for the van's id and secret",
                "description": "With `secret` (the van's own new secret, 32 random bytes as hex) the request "
                               "is safe to repeat: a repeat after a lost answer gets the same answer. "
                               "10 a minute per client address (429). " + body_limit,
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["code"],
                    "properties": {"code": {"type": "string", "maxLength": 64,
                                            "description": "XXXX-XXXX (Crockford base32; case, spaces and "
                                                           "dashes do not matter)"},
                                   "secret": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                                   "van": {"type": "string", "maxLength": 64,
                                           "description": "the van this laptop already is: a code for another "
                                                          "van is refused (409 wrong_van), unused"}}})},
                "responses": {"200": {"description": "paired", "content": _json({
                    "type": "object", "required": ["van_id", "name", "secret", "paired_at"],
                    "properties": {"van_id": {"type": "string"}, "name": {"type": "string"},
                                   "secret": {"type": "string"}, "paired_at": {"type": "string"}}})},
                    **_refs(400, 404, 409, 410, 413, 429)}}},
            "/pair": {"get": {"summary": "Where the pairing QR code leads a phone (does not use the code)",
                              "parameters": [{"name": "code", "in": "query", "schema": {"type": "string"}}],
                              "responses": {"200": {"description": "HTML instructions",
                                                    "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/api/v1/sync/state": {"get": {
                "summary": "What the hub holds from this van",
                "security": _AUTH,
                "parameters": [
                    {"name": "epoch", "in": "query", "schema": {"type": "string", "pattern": ID}},
                    {"name": "counts", "in": "query", "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}},
                    _OUTBOX_HEADER],
                "responses": {"200": {"description": "cursor, pull_cursor, server_time, counts",
                                      "content": _json({"type": "object",
                                                        "required": ["van", "epoch", "cursor", "pull_cursor", "server_time"],
                                                        "properties": {
                                          "van": {"type": "string"}, "epoch": {"type": "string"},
                                          "cursor": UINT, "pull_cursor": UINT, "server_time": {"type": "string"},
                                          "last_push_at": {"type": ["string", "null"]},
                                          "counts": {"type": "object", "additionalProperties": UINT}}})},
                              **_refs(400, 401)}}},
            "/api/v1/sync/push": {"post": {
                "summary": "Apply one batch in one transaction (idempotent by key and by record version)",
                "security": _AUTH,
                "parameters": [_OUTBOX_HEADER],
                "requestBody": {"required": True, "content": _json({"$ref": "#/components/schemas/PushBatch"}),
                                "description": "gzip-compressed (Content-Encoding: gzip) or plain; at most "
                                               f"{MAX_BODY} bytes as sent, {MAX_JSON} unpacked, {MAX_RECORDS} records"},
                "responses": {"200": {"description": "acknowledged", "content": _json({"$ref": "#/components/schemas/Ack"})},
                              **_refs(400, 401, 403, 409, 413)}}},
            "/api/v1/sync/parked": {"put": {
                "summary": "The van's list of the records it sets aside, and why (replaces the last list)",
                "security": _AUTH,
                "parameters": [_OUTBOX_HEADER],
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["total", "records"],
                    "properties": {"total": {**UINT, "maximum": 10 ** 9 - 1,
                                             "description": "how many records the van sets aside in all"},
                                   "records": {"type": "array", "maxItems": 1000, "items": _record_set_aside()}}})},
                "responses": {"200": {"description": "stored", "content": _json({
                    "type": "object", "required": ["van", "listed"],
                    "properties": {"van": {"type": "string"}, "listed": UINT}})},
                    **_refs(400, 401, 413)}}},
            "/api/v1/sync/pull": {"get": {
                "summary": "Plan and content changed since the cursor, for this van",
                "security": _AUTH,
                "parameters": [{"name": "cursor", "in": "query", "schema": {**UINT, "maximum": 10 ** 18}},
                               {"name": "limit", "in": "query",
                                "schema": {"type": "integer", "minimum": 1, "maximum": PULL_PAGE}},
                               _OUTBOX_HEADER],
                "responses": {"200": {"description": "a pull document (gzip)",
                                      "content": _json({"$ref": "#/components/schemas/PullDocument"})},
                              **_refs(400, 401)}}},
            "/s/{van_id}/{payload}": {
                "parameters": [{"name": "van_id", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "payload", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
                                "description": "base64url: an HMAC tag with the van's summary key, then the "
                                               "night's totals (deflated JSON)"}],
                "get": {"summary": "The night's summary QR code (signed by the van): verify and keep",
                        "responses": {"200": {"description": "HTML confirmation",
                                              "content": {"text/html": {"schema": {"type": "string"}}}},
                                      **{str(status): {"description": words + " (HTML; JSON when asked for)",
                                                       "content": {"text/html": {"schema": {"type": "string"}},
                                                                   "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                                         for status, words in ((400, "not a summary"), (403, "bad signature"),
                                                               (404, "unknown van"))}}},
                "post": {"summary": "The same, for scripts (JSON answer)",
                         "responses": {"201": {"description": "stored", "content": _json({"type": "object"})},
                                       "200": {"description": "replaced", "content": _json({"type": "object"})},
                                       **_refs(400, 403, 404)}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document",
                                             "responses": {"200": {"description": "OpenAPI 3.1",
                                                                   "content": _json({"type": "object"})}}}},
        },
    }


_AUTH = [{"vanBearer": []}]
_OUTBOX_HEADER = {"name": "X-Van-Outbox", "in": "header", "required": False, "schema": {"type": "string"},
                  "description": "<epoch> <highest outbox seq> <records set aside> <records waiting>: what the "
                                 "van says of its outbox (sent on every sync request; informative: a value "
                                 "that is not in this form is ignored)"}


def _refs(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}
