"""The hub's van-facing API: pair, sync state, push, pull, the summary QR link, and the
OpenAPI description of it all. Vans authenticate with `Authorization: Bearer <van id>.<secret>`."""
import re

from flask import Blueprint, current_app, g, jsonify, render_template, request

from ...errors import AppError
from ...hub import pairing, pull, receive
from ...hub import set_aside as set_aside_list
from ...ids import to_iso, utcnow
from ...models import Van, db
from ...protocol import records
from ...protocol.openapi import spec
from ...protocol.summary import SummaryError
from ...protocol.summary import verify as verify_summary
from ...protocol.wire import unpack
from ..body import json_body
from ..errors import wants_json
from ..extensions import address_key, csrf, limiter

bp = Blueprint("hubapi", __name__)
csrf.exempt(bp)               # machines with bearer credentials, not browser forms
SEEN_EVERY = 60               # seconds: how stale last_seen_at may get before we write it again
# X-Van-Outbox: "<epoch> <highest outbox seq> <records set aside>[ <records waiting>]" (PROTOCOL.md)
EPOCH = re.compile(r"[A-Za-z0-9_.-]{1,64}")
WHOLE = re.compile(r"[0-9]{1,19}")
OUTBOX_HEADER = re.compile(r"([A-Za-z0-9_.-]{1,64}) ([0-9]{1,12}) ([0-9]{1,9})(?: ([0-9]{1,9}))?")


def _van() -> Van:
    van = pairing.authenticate(request.headers.get("Authorization", ""))
    now = utcnow()
    changes = {}
    if van.last_seen_at is None or (now - van.last_seen_at).total_seconds() > SEEN_EVERY:
        changes["last_seen_at"] = now
    report = OUTBOX_HEADER.fullmatch(request.headers.get("X-Van-Outbox", "").strip())
    if report:
        # what the van says of its own outbox; written when it changes (and at most once a
        # minute otherwise), so a coordinator can see what has not arrived and what the van set aside
        epoch, seq, parked = report.group(1), int(report.group(2)), int(report.group(3))
        waiting = int(report.group(4)) if report.group(4) is not None else None
        if (epoch, seq, parked, waiting) != (van.reported_epoch, van.reported_seq, van.reported_parked,
                                             van.reported_waiting) or "last_seen_at" in changes:
            changes.update(reported_epoch=epoch, reported_seq=seq, reported_parked=parked,
                           reported_waiting=waiting, reported_at=now, last_seen_at=now)
    if changes:
        with db.atomic():
            Van.update(**changes).where(Van.id == van.id).execute()
    g.van = van
    return van


@bp.post("/api/v1/pair")
@limiter.limit("10 per minute", key_func=address_key)
def pair():
    """Exchange a one-time pairing code for the van's id and secret."""
    body = json_body()
    code = body.get("code")
    if not isinstance(code, str) or len(code) > 64:
        raise AppError(400, "malformed", "send JSON {\"code\": \"XXXX-XXXX\"}", field="code")
    proposed = body.get("secret")
    if proposed is not None:
        try:
            proposed = bytes.fromhex(proposed) if isinstance(proposed, str) else b""
        except ValueError:
            proposed = b""
        if len(proposed) != pairing.SECRET_BYTES:
            raise AppError(400, "malformed", f"secret: {pairing.SECRET_BYTES} random bytes as hex", field="secret")
    expect = body.get("van")
    if expect is not None and (not isinstance(expect, str) or len(expect) > 64):
        raise AppError(400, "malformed", "van: the van id this laptop already is, as a string", field="van")
    try:
        van, secret = pairing.redeem(code, secret=proposed, expect_van=expect or None)
    except pairing.PairingError as exc:
        if exc.code == "wrong_van":      # about the laptop's van, and the van the code is for
            raise AppError(409, exc.code, exc.message, field="van", van=exc.van) from None
        raise
    return jsonify(van_id=van.id, name=van.name, secret=secret, paired_at=to_iso(van.paired_at))


@bp.get("/pair")
def pair_hint():
    """Where the pairing QR code leads a phone: how to enter the code on the van (it is not used
    up by looking at it)."""
    code = request.args.get("code", "")[:20]
    return render_template("hub/pair_hint.html", code=code, hub_url=request.host_url.rstrip("/"))


@bp.get("/api/v1/sync/state")
def state():
    """What the hub holds from this van: its acknowledged cursor (per outbox epoch), the hub's
    latest plan seq (so a van with nothing to pull can skip pulling) and, on request, counts."""
    van = _van()
    epoch = request.args.get("epoch")
    if epoch is not None and not EPOCH.fullmatch(epoch):
        raise AppError(400, "malformed", "epoch: 1 to 64 letters, digits, '_', '.' or '-'", field="epoch")
    counts = request.args.get("counts", "0")
    if counts not in ("0", "1", "true", "false"):
        raise AppError(400, "malformed", "counts: 1 or 0 (true or false)", field="counts")
    epoch = epoch or ""
    out = {"van": van.id, "epoch": epoch, "cursor": receive.cursor_for(van.id, epoch) if epoch else 0,
           "pull_cursor": pull.latest_seq(), "server_time": to_iso(utcnow()),
           "last_push_at": to_iso(van.last_push_at) if van.last_push_at else None}
    if counts in ("1", "true"):
        out["counts"] = {t.name: t.model.select().where(t.model.van == van.id).count()
                         for t in records.ordered_tables("van")}
    return jsonify(out)


@bp.post("/api/v1/sync/push")
def push():
    """Apply one batch (gzip JSON, see PROTOCOL.md) in one transaction; answer with the ack."""
    van = _van()
    document = unpack(request.get_data(cache=False))
    try:
        ack = receive.apply_batch(van.id, document, "push", current_app.config.get("TIMEZONE", "Asia/Kolkata"))
    except receive.BatchRefused as exc:
        current_app.logger.warning("batch from %s refused: %s %s", van.id, exc.code, exc.message)
        raise
    return jsonify(ack)


@bp.put("/api/v1/sync/parked")
def set_aside():
    """The van's list of the records it holds back and why (it replaces the last list), so a
    coordinator sees them on the Vans page."""
    van = _van()
    listed = set_aside_list.store(van.id, json_body())
    return jsonify(van=van.id, listed=listed)


@bp.get("/api/v1/sync/pull")
def pull_changes():
    """Plan and content changed since `cursor` for this van (gzip JSON, same column format)."""
    van = _van()
    cursor = _whole(request.args.get("cursor", "0"), "cursor", 0, 10 ** 18)
    limit = _whole(request.args.get("limit", str(pull.PAGE)), "limit", 1, pull.PAGE)
    document = pull.changes_for(van.id, cursor, limit)
    with db.atomic():
        Van.update(last_sync_at=utcnow()).where(Van.id == van.id).execute()
    from ...protocol.wire import pack
    response = current_app.response_class(pack(document), mimetype="application/json")
    response.headers["Content-Encoding"] = "gzip"
    return response


def _whole(text: str, name: str, low: int, high: int) -> int:
    """A query parameter that must be a whole number from `low` to `high` (the OpenAPI document's
    limits, refused alike: 400 malformed)."""
    if not WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise AppError(400, "malformed", f"{name} must be a whole number from {low} to {high}", field=name)
    return int(text)


@bp.route("/s/<van_id>/<payload>", methods=["GET", "POST"])
def summary(van_id, payload):
    """The night's summary QR leads here: verify its signature with the van's summary key and
    keep it. The signature is the credential; a forged or damaged code changes nothing."""
    def key_lookup(vid):
        van = Van.get_or_none(Van.id == vid) if pairing.VAN_ID.fullmatch(vid) else None
        if van is None or van.revoked or not van.summary_key:
            return None
        return bytes.fromhex(van.summary_key)
    try:
        night = verify_summary(van_id, payload, key_lookup)
    except SummaryError as exc:
        if wants_json() or request.method == "POST":       # POST: scripts, answered in JSON
            return jsonify(exc.body()), exc.status
        return render_template("hub/summary_received.html", error=str(exc), night=None), exc.status
    row, created = receive.store_summary(night)
    counted = receive.counted(row)       # False: planned for another van, kept for review only
    if wants_json() or request.method == "POST":
        return jsonify(stored=created, replaced=not created, id=row.id, summary=night,
                       counted=counted), 201 if created else 200
    # the code carries the village's English spelling (it keeps the code small); the hub may
    # know the screening and so the village's own name
    from ...models import Screening
    known = Screening.get_or_none(Screening.id == night["screening"])
    return render_template("hub/summary_received.html", error=None, night=night, created=created,
                           counted=counted, village=known.village if known else None)


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(spec())
