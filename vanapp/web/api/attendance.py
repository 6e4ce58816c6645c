"""/api/v1 attendance: taps, counts, headcounts, participants and a screening's summary.

Every write answers only after its commit; every refusal is the one JSON error shape and
writes nothing."""
from flask import Response, jsonify, url_for
from peewee import SqliteDatabase

from ...attendance import participants, report, tally
from ...errors import AppError
from ...models import db
from ...qr import qr_code, qr_png
from ..body import json_body
from . import bp
from .pagination import page


def _require(data: dict, *names):
    for name in names:
        if name not in data or data[name] is None:
            raise AppError(400, "missing", f"{name} is required.", field=name)


@bp.post("/screenings/<screening_id>/attendance")
def post_tap(screening_id):
    tally.get_screening(screening_id)            # no such screening: 404 before the body
    data = json_body()
    done = tally.record_tap(screening_id, data.get("category"), data.get("delta"), tap_id=data.get("id"),
                            at=data.get("at"), device=data.get("device"))
    # "taps": how many taps the screening had stored when these counts were read; it only grows,
    # so a phone keeps whichever answer has more and ignores a late, older one.
    body = {"id": done.id, "duplicate": done.duplicate, "counts": done.counts,
            "total": sum(done.counts.values()), "taps": done.taps}
    # A retry of a stored tap gets the answer the first try would have had (201, the counts),
    # flagged "duplicate": a phone that never heard the first answer treats both alike.
    return jsonify(body), 201


@bp.get("/screenings/<screening_id>/attendance")
def get_attendance(screening_id):
    tally.get_screening(screening_id)
    return jsonify(tally.state(screening_id))


@bp.post("/screenings/<screening_id>/headcounts")
def post_headcount(screening_id):
    tally.get_screening(screening_id)
    data = json_body()
    _require(data, "kind", "count")
    done = tally.record_headcount(screening_id, data["kind"], data["count"], record_id=data.get("id"),
                                  at=data.get("at"))
    return jsonify({"id": done.id, "duplicate": done.duplicate, "headcounts": done.headcounts}), 201


@bp.post("/screenings/<screening_id>/participants")
def post_participant(screening_id):
    tally.get_screening(screening_id)
    data = json_body()
    person, duplicate = participants.sign_in(screening_id, data)
    return jsonify({"participant": participants.wire(person), "duplicate": duplicate}), 201


@bp.get("/screenings/<screening_id>/participants")
def list_participants(screening_id):
    tally.get_screening(screening_id)
    return jsonify(page(participants.for_screening(screening_id), participants.wire,
                        "api.list_participants", screening_id=screening_id))


@bp.get("/participants/<code>")
def find_participant(code):
    found = participants.find(code)
    if not found:
        raise AppError(404, "not_found", f"No participant with the code {code[:40]!r}.", field="code")
    return jsonify({"items": [participants.wire(p) for p in found], "next": None})


def _summary(screening_id) -> tuple[dict, str]:
    """The screening's report and its signed QR text, or the API's refusal."""
    data = report.screening_report(screening_id)
    return data, report.summary_qr_text(data)


@bp.get("/screenings/<screening_id>/summary")
def get_summary(screening_id):
    """The screening's report and its signed QR text (what the summary page shows)."""
    data, text = _summary(screening_id)
    data["qr"] = {"text": text, "version": qr_code(text).version, "error_correction": "M",
                  "png": url_for("api.get_summary_png", screening_id=screening_id)}
    return jsonify(data)


@bp.get("/screenings/<screening_id>/summary.png")
def get_summary_png(screening_id):
    """The signed summary QR code as a PNG (the same text as "qr"."text" above)."""
    _data, text = _summary(screening_id)
    return Response(qr_png(text), mimetype="image/png", headers={"Cache-Control": "no-store"})


@bp.get("/attendance/storage")
def storage():
    """How this server stores taps, read from the very connection a request uses: on SQLite,
    journal_mode must be "wal" and synchronous 2 (FULL) for an acknowledged tap to survive a power cut."""
    if not isinstance(db.obj, SqliteDatabase):
        fsync = db.execute_sql("SHOW fsync").fetchone()[0]
        commit = db.execute_sql("SHOW synchronous_commit").fetchone()[0]
        return jsonify({"database": "postgresql", "fsync": fsync, "synchronous_commit": commit,
                        "durable": fsync == "on" and commit != "off"})
    journal = db.execute_sql("PRAGMA journal_mode").fetchone()[0]
    synchronous = db.execute_sql("PRAGMA synchronous").fetchone()[0]
    return jsonify({"database": "sqlite", "journal_mode": journal, "synchronous": synchronous,
                    "durable": journal == "wal" and synchronous >= 2})
