"""The OpenAPI 3.1 description of the van's JSON API (/api/v1), served at /api/v1/openapi.json.

Like the hub's (vanapp/protocol/openapi.py) it is the truth: tests run schemathesis with all its
checks against a real `vanapp serve`, with and without a token, and check that it lists exactly
the routes the van serves. Every refusal is the one error shape; a 405 carries Allow."""
from flask import jsonify

from ...attendance.tally import MAX_HEADCOUNT
from ...protocol.openapi import ERROR
from . import bp
from .pagination import MAX_LIMIT

UUID = {"type": "string", "format": "uuid", "description": "the client's own id: sending it again is safe"}
TIME = {"type": "string", "format": "date-time",
        "description": "when it happened on the phone, RFC 3339 with its offset (2026-11-23T13:05:00Z)"}
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
ANY = {"type": "object"}
PAGE = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10 ** 12}}]
SCREENING = {"name": "screening_id", "in": "path", "required": True, "schema": {"type": "string"}}
WORDS = {400: "malformed request: nothing was changed", 401: "no token and no crew session",
         404: "no such screening, run or participant", 409: "not now (the screening's or the player's "
         "state), or a record sent again with other content", 413: "body too large"}


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _refs(*statuses) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _op(summary, ok="200", ok_schema=ANY, refusals=(401,), body=None, params=(), ok_content=None):
    operation = {"summary": summary,
                 "responses": {ok: {"description": "done", "content": ok_content or _json(ok_schema)},
                               **_refs(*refusals)}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if params:
        operation["parameters"] = list(params)
    return operation


def _object(required=(), **properties) -> dict:
    return {"type": "object", "required": list(required), "properties": properties}


def spec() -> dict:
    lifecycle = (400, 401, 404, 409, 413)
    return {
        "openapi": "3.1.0",
        "info": {"title": "VanKit van API", "version": "1",
                 "description": "The van's JSON API: the plan, attendance, the player and games. "
                                "Authenticate with `Authorization: Bearer <token>` (`vanapp token create "
                                "NAME`) or the crew's browser session (writes then need its CSRF token). "
                                "Every refusal is {\"error\": {\"code\", \"message\", \"field\"?}}; a "
                                "method a path does not have is 405 with an Allow header; JSON nested "
                                "deeper than 32 levels is 400 bad_json."},
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
            "responses": {f"E{s}": {"description": words, "content": _json({"$ref": "#/components/schemas/Error"})}
                          for s, words in WORDS.items()},
        },
        "security": [{"token": []}],
        "paths": {
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                             "responses": {"200": {"description": "OpenAPI 3.1",
                                                                   "content": _json(ANY)}}}},
            "/api/v1/screenings": {"get": _op("Screenings, by date (paginated)", refusals=(400, 401), params=[
                {"name": "tour", "in": "query", "schema": {"type": "string"}},
                {"name": "from", "in": "query", "schema": DATE}, {"name": "to", "in": "query", "schema": DATE},
                {"name": "date", "in": "query", "schema": DATE},
                {"name": "status", "in": "query", "schema": {"type": "string"}}, *PAGE])},
            "/api/v1/screenings/{screening_id}": {"parameters": [SCREENING],
                                                  "get": _op("A screening and its programme", refusals=(401, 404))},
            "/api/v1/screenings/{screening_id}/held": {"parameters": [SCREENING], "post": _op(
                "Mark an earlier screening held (it took place but was not run here)", refusals=lifecycle)},
            "/api/v1/screenings/{screening_id}/start": {"parameters": [SCREENING], "post": _op(
                "Start the screening and (unless play is false) its programme", refusals=lifecycle,
                body=_object(play={"type": "boolean"}))},
            "/api/v1/screenings/{screening_id}/finish": {"parameters": [SCREENING], "post": _op(
                "Finish the screening", refusals=lifecycle)},
            "/api/v1/screenings/{screening_id}/resume": {"parameters": [SCREENING], "post": _op(
                "Go on with a show cut by a power failure, from the item and position it had reached "
                "(the player's `resume`); answers the show's state", refusals=lifecycle)},
            "/api/v1/screenings/{screening_id}/cancel": {"parameters": [SCREENING], "post": _op(
                "Cancel the screening with a reason", refusals=lifecycle,
                body={"oneOf": [
                    _object(["reason"], reason={"enum": ["rain", "generator", "no_audience"]},
                            text={"type": "string", "maxLength": 500}),
                    _object(["reason", "text"], reason={"const": "other"},
                            text={"type": "string", "maxLength": 500, "pattern": "[^\\s]",
                                  "description": "what happened"})]})},
            "/api/v1/screenings/{screening_id}/reschedule": {"parameters": [SCREENING], "post": _op(
                "Move a planned or cancelled screening to another date and time", refusals=lifecycle,
                body=_object(["date", "start"], date=DATE,
                             start={"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}))},
            "/api/v1/screenings/{screening_id}/plays": {"parameters": [SCREENING], "get": _op(
                "Proof of play (paginated)", refusals=(400, 401, 404), params=PAGE)},
            "/api/v1/screenings/{screening_id}/attendance": {
                "parameters": [SCREENING],
                "get": _op("The screening's counts", refusals=(401, 404)),
                "post": _op("One tap: +1 or -1 in a category (answered after its commit)", ok="201",
                            refusals=lifecycle, body=_object(
                                ["category", "delta"], id=UUID, at=TIME,
                                category={"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,31}$"},
                                delta={"enum": [1, -1], "description": "1 or -1 as whole numbers (1.0 and "
                                       "true are refused: a phone sending them is broken)"},
                                device={"type": "string", "maxLength": 64}))},
            "/api/v1/screenings/{screening_id}/headcounts": {"parameters": [SCREENING], "post": _op(
                "A headcount at the start or the end", ok="201", refusals=lifecycle, body=_object(
                    ["kind", "count"], id=UUID, at=TIME, kind={"enum": ["start", "end"]},
                    count={"type": "integer", "minimum": 0, "maximum": MAX_HEADCOUNT}))},
            "/api/v1/screenings/{screening_id}/participants": {
                "parameters": [SCREENING],
                "get": _op("Signed-in participants (paginated)", refusals=(400, 401, 404), params=PAGE),
                "post": _op("Sign a consenting participant in", ok="201", refusals=lifecycle, body=_object(
                    ["consent", "name", "gender", "age_band"], id=UUID, consent={"const": True},
                    consent_version={"type": "string"}, consent_at=TIME,
                    name={"type": "string", "minLength": 1, "maxLength": 120, "pattern": "[^\\s]"},
                    gender={"type": "string"}, age_band={"type": "string"},
                    village={"type": "string", "maxLength": 120}, phone={"type": "string", "maxLength": 32}))},
            "/api/v1/screenings/{screening_id}/summary": {"parameters": [SCREENING], "get": _op(
                "The night's report and its signed QR text", refusals=(401, 404))},
            "/api/v1/screenings/{screening_id}/summary.png": {"parameters": [SCREENING], "get": _op(
                "The signed summary QR code", refusals=(401, 404),
                ok_content={"image/png": {"schema": {"type": "string", "format": "binary"}}})},
            "/api/v1/participants/{code}": {"parameters": [{"name": "code", "in": "path", "required": True,
                                                            "schema": {"type": "string"}}],
                                            "get": _op("Participants by their code", refusals=(401, 404))},
            "/api/v1/attendance/storage": {"get": _op("How taps are stored (durability)")},
            "/api/v1/player": {"get": _op("The player's state")},
            "/api/v1/player/play": {"post": _op(
                "Play a screening's programme from item `from`", refusals=(400, 401, 404, 409, 413),
                body=_object(["screening"], screening={"type": "string", "minLength": 1},
                             **{"from": {"type": "integer", "minimum": 0, "maximum": 10 ** 6}}))},
            "/api/v1/player/{action}": {"parameters": [{"name": "action", "in": "path", "required": True,
                                                         "schema": {"enum": ["pause", "resume", "next",
                                                                             "previous", "stop"]}}],
                                        "post": _op("A player command", refusals=(401, 404, 409))},
            "/api/v1/player/seek": {"post": _op("Seek within the item playing", refusals=(400, 401, 409, 413),
                                                body=_object(["ms"], ms={"type": "integer", "minimum": 0,
                                                                         "maximum": 10 ** 9}))},
            "/api/v1/player/volume": {"post": _op("Set the volume", refusals=(400, 401, 409, 413),
                                                  body=_object(["level"], level={"type": "integer", "minimum": 0,
                                                                                 "maximum": 100}))},
            "/api/v1/games": {"get": _op("Games loaded on this laptop (paginated)", refusals=(400, 401),
                                         params=PAGE)},
            "/api/v1/games/live": {"get": _op("The live game as the crew sees it")},
            "/api/v1/games/runs": {
                "get": _op("Game runs (paginated)", refusals=(400, 401), params=[
                    {"name": "screening", "in": "query", "schema": {"type": "string"}}, *PAGE]),
                "post": _op("Start a game run at a screening", ok="201", refusals=lifecycle, body=_object(
                    ["screening", "game"], screening={"type": "string", "minLength": 1},
                    game={"type": "string", "minLength": 1}, phase={"enum": ["", "before", "after"]},
                    position={"type": "integer", "minimum": 0, "maximum": 10 ** 6}))},
            "/api/v1/games/runs/{run_id}": {"parameters": [{"name": "run_id", "in": "path", "required": True,
                                                             "schema": {"type": "string"}}],
                                            "get": _op("A run's results", refusals=(401, 404))},
            "/api/v1/games/live/{action}": {"parameters": [{"name": "action", "in": "path", "required": True,
                                                             "schema": {"enum": ["next", "close", "reveal",
                                                                                 "finish"]}}],
                                            "post": _op("Drive the live game", refusals=(401, 404, 409))},
            "/api/v1/games/live/judge": {"post": _op("Buzzer: the answer was right or wrong",
                                                     refusals=(400, 401, 409, 413),
                                                     body=_object(["correct"], correct={"type": "boolean"}))},
            "/api/v1/games/live/score": {"post": _op("Buzzer by show of hands: a point more or less",
                                                     refusals=(400, 401, 409, 413), body=_object(
                                                         ["team", "delta"], team={"type": "string"},
                                                         delta={"enum": [1, -1]}))},
            "/api/v1/games/live/hands": {"put": _op(
                "Show-of-hands counts for the question", refusals=(400, 401, 409, 413), body=_object(
                    ["question", "counts"], question={"type": "string"},
                    counts={"type": "object", "additionalProperties": {"type": "integer", "minimum": 0,
                                                                       "maximum": 100_000}}))},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
