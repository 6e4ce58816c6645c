"""The OpenAPI 3.1 description of the hub's van-facing API, served at /api/v1/openapi.json.
Kept by hand beside PROTOCOL.md; a test checks it lists exactly the routes the hub serves."""
from .wire import MAX_RECORDS

_ERROR = {"$ref": "#/components/responses/Error"}
_AUTH = [{"vanBearer": []}]


def _batch_schema():
    column = {"oneOf": [
        {"type": "array", "description": "plain values"},
        {"type": "object", "required": ["k"], "description": "every row has k"},
        {"type": "object", "required": ["d", "i"], "description": "dictionary values d, row indexes i"},
        {"type": "object", "required": ["t"], "description": "UTC times: microseconds since 1970, "
                                                             "then differences from the previous row"},
        {"type": "object", "required": ["s"], "description": "same values as the named earlier column"},
    ]}
    return {
        "type": "object", "required": ["format", "models"],
        "properties": {
            "format": {"const": 1},
            "kind": {"enum": ["push", "pull"]},
            "van": {"type": "string"},
            "epoch": {"type": "string", "description": "the van's outbox identity"},
            "key": {"type": "string", "description": "idempotency key of a push batch"},
            "from": {"type": "integer", "description": "cursor range (from, to] of the van's outbox"},
            "to": {"type": "integer"},
            "cursor": {"type": "integer", "description": "pull: the hub's outbox seq reached"},
            "more": {"type": "boolean"},
            "models": {"type": "array", "items": {
                "type": "object", "required": ["name", "n", "columns"],
                "properties": {"name": {"type": "string", "examples": ["TallyEvent"]},
                               "n": {"type": "integer"},
                               "columns": {"type": "object", "additionalProperties": column}}}},
        }}


def spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "VanKit hub sync API", "version": "1",
                 "description": "How vans pair with the hub, push what happened and pull the plan. "
                                "See vanapp/protocol/PROTOCOL.md."},
        "components": {
            "securitySchemes": {"vanBearer": {"type": "http", "scheme": "bearer",
                                              "description": "<van id>.<secret hex> from pairing"}},
            "schemas": {
                "Batch": _batch_schema(),
                "Ack": {"type": "object", "properties": {
                    "key": {"type": "string"}, "epoch": {"type": "string"}, "from": {"type": "integer"},
                    "to": {"type": "integer"}, "cursor": {"type": "integer"}, "received_at": {"type": "string"},
                    "records": {"type": "integer"}, "stored": {"type": "integer"}, "updated": {"type": "integer"},
                    "duplicates": {"type": "integer"}, "older": {"type": "integer"},
                    "plan_inserted": {"type": "integer"}, "replayed": {"type": "boolean"}}},
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"},
                    "records": {"type": "array", "items": {"type": "object", "properties": {
                        "model": {"type": "string"}, "id": {"type": "string"}, "code": {"type": "string"},
                        "message": {"type": "string"}}}}}}}},
            },
            "responses": {"Error": {"description": "refused; nothing was stored",
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
        "paths": {
            "/api/v1/pair": {"post": {
                "summary": "Exchange a one-time pairing code for the van's id and secret",
                "description": "With `secret` (the van's own new secret, 32 random bytes as hex) the request "
                               "is safe to repeat: a repeat after a lost answer gets the same answer. "
                               "A body that is not a JSON object: 400 bad_json (field body).",
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["code"],
                    "properties": {"code": {"type": "string"},
                                   "secret": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                                   "van": {"type": "string", "description": "the van this laptop already "
                                           "is: a code for another van is refused (409 wrong_van), unused"}}}}}},
                "responses": {"200": {"description": "paired", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"van_id": {"type": "string"}, "name": {"type": "string"},
                                                     "secret": {"type": "string"}, "paired_at": {"type": "string"}}}}}},
                    "400": _ERROR, "404": _ERROR, "409": _ERROR, "410": _ERROR, "429": _ERROR}}},
            "/pair": {"get": {"summary": "Where the pairing QR code leads a phone (does not use the code)",
                              "parameters": [{"name": "code", "in": "query", "schema": {"type": "string"}}],
                              "responses": {"200": {"description": "HTML instructions"}}}},
            "/api/v1/sync/state": {"get": {
                "summary": "What the hub holds from this van",
                "security": _AUTH,
                "parameters": [{"name": "epoch", "in": "query", "schema": {"type": "string"}},
                               {"name": "counts", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
                               {"name": "X-Van-Outbox", "in": "header", "required": False,
                                "description": "<epoch> <highest outbox seq> <records parked>: what the van "
                                               "says of its outbox (sent on every sync request)",
                                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64} [0-9]{1,12} [0-9]{1,9}$"}}],
                "responses": {"200": {"description": "cursor, pull_cursor, server_time, counts",
                                      "content": {"application/json": {"schema": {"type": "object", "properties": {
                                          "van": {"type": "string"}, "epoch": {"type": "string"},
                                          "cursor": {"type": "integer"}, "pull_cursor": {"type": "integer"},
                                          "server_time": {"type": "string"},
                                          "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}},
                              "401": _ERROR}}},
            "/api/v1/sync/push": {"post": {
                "summary": "Apply one batch in one transaction (idempotent by key and by record version)",
                "security": _AUTH,
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
                                "description": "gzip-compressed (Content-Encoding: gzip); at most 2 MiB "
                                               f"compressed, 32 MiB unpacked, {MAX_RECORDS} records"},
                "responses": {"200": {"description": "acknowledged",
                                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}}},
                              "400": _ERROR, "401": _ERROR, "403": _ERROR, "409": _ERROR, "413": _ERROR}}},
            "/api/v1/sync/pull": {"get": {
                "summary": "Plan and content changed since the cursor, for this van",
                "security": _AUTH,
                "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "integer"}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 2000}}],
                "responses": {"200": {"description": "a pull document (gzip)",
                                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
                              "400": _ERROR, "401": _ERROR}}},
            "/s/{van_id}/{payload}": {
                "parameters": [{"name": "van_id", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "payload", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"summary": "The night's summary QR code (signed by the van): verify and keep",
                        "responses": {"200": {"description": "HTML confirmation"}, "400": {"description": "bad summary"}}},
                "post": {"summary": "The same, for scripts (JSON answer)",
                         "responses": {"201": {"description": "stored"}, "200": {"description": "replaced"},
                                       "400": _ERROR}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document",
                                             "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
    }
