"""The night's summary as one signed QR code: encode on the van, decode and verify on the hub.

Pure functions (no Flask, no database): the hub calls `decode_summary` with a look-up of each
paired van's summary key.

Contract (version 1):
    key     = HMAC-SHA256(van_secret, b"vankit-summary-v1")           (`summary_key`)
    body    = raw DEFLATE of compact JSON (positional fields, see `_pack`)
    tag     = HMAC-SHA256(key, b"vankit-summary-v1\\0" + van_id + b"\\0" + body)[:16]
    payload = base64url(tag + body), no padding
    text    = f"{hub_url}/s/{van_id}/{payload}"   or   f"vankit:s/{van_id}/{payload}"
The van id is inside the MAC, so a payload cannot be replayed under another van's name.
"""
import base64
import hashlib
import hmac
import json
import re
import zlib
from urllib.parse import quote, unquote

from .. import jsontext
from ..errors import AppError

CONTEXT = b"vankit-summary-v1"
FORMAT = 1
TAG_BYTES = 16
MAX_BODY = 64 * 1024          # a decoded summary is a few hundred bytes; refuse zip bombs
OUTCOME_CODES = {"completed": "c", "skipped": "s", "error": "e", "stopped": "x", "playing": "p"}
OUTCOME_NAMES = {v: k for k, v in OUTCOME_CODES.items()}
_TEXT = re.compile(r"(?:^vankit:|/)s/([^/?#]+)/([A-Za-z0-9_-]+)/?$")


class SummaryError(AppError, ValueError):
    """The text is not a VanKit summary, is damaged, or its signature does not verify."""

    def __init__(self, message: str, status: int = 400):
        # 404: no such van; 403: the signature (the summary's credential) does not verify
        super().__init__(status, "bad_summary", message)


def summary_key(van_secret: bytes) -> bytes:
    """The per-van key that signs summaries; the hub stores it when the van pairs."""
    return hmac.new(van_secret, CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(key: bytes, van_id: str, body: bytes) -> bytes:
    message = CONTEXT + b"\0" + van_id.encode("utf-8") + b"\0" + body
    return hmac.new(key, message, hashlib.sha256).digest()[:TAG_BYTES]


def _pack(night: dict) -> list:
    """Positional fields keep the QR small:
    [format, screening, date, village, {category: n}, [start, end], participants,
     [[position, media, outcome code, seconds], ...], [[game, pledges], ...]]"""
    heads = night.get("headcounts") or {}
    plays = [[int(p.get("position", 0)), str(p["media"]), OUTCOME_CODES.get(p.get("outcome"), "?"),
              int(round((p.get("position_ms") or 0) / 1000))] for p in night.get("plays", [])]
    pledges = [[str(g), int(n)] for g, n in (night.get("pledges") or {}).items()]
    return [FORMAT, str(night["screening"]), str(night.get("date", "")), str(night.get("village", "")),
            {str(k): int(v) for k, v in (night.get("counts") or {}).items()},
            [heads.get("start"), heads.get("end")], int(night.get("participants") or 0), plays, pledges]


def encode_summary(night: dict, key: bytes, van_id: str, hub_url: str | None = None) -> str:
    """The QR text for one night.

    `night`: {"screening", "date", "village", "counts": {category: n}, "headcounts": {"start": n|None,
    "end": n|None}, "participants": n, "plays": [{"position", "media", "outcome", "position_ms"}],
    "pledges": {game_id: n}}.
    """
    van_id = van_id or "_"
    body = json.dumps(_pack(night), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(body) + deflate.flush()
    payload = _b64(_tag(key, van_id, body) + body)
    prefix = f"{hub_url.rstrip('/')}/s/" if hub_url else "vankit:s/"
    return f"{prefix}{quote(van_id, safe='')}/{payload}"


def decode_summary(text: str, key_lookup) -> dict:
    """Verify and unpack a summary QR's text. `key_lookup(van_id)` gives that van's summary key
    (bytes) or None for an unknown van. Raises SummaryError with the reason; returns the night with
    its "van" added."""
    if not isinstance(text, str):
        raise SummaryError("summary text must be a string")
    match = _TEXT.search(text.strip())
    if not match:
        raise SummaryError("not a VanKit summary: expected vankit:s/<van>/<payload> or <hub>/s/<van>/<payload>")
    return verify(unquote(match.group(1)), match.group(2), key_lookup)


def verify(van_id: str, payload: str, key_lookup) -> dict:
    """Verify and unpack a summary given as its van id and payload (the two parts of its link)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", payload or ""):
        raise SummaryError("malformed summary: the payload is not base64url")
    key = key_lookup(van_id)
    if not key:
        raise SummaryError(f"unknown van {van_id!r}: no summary key for it", 404)
    try:
        raw = _unb64(payload)
    except (ValueError, TypeError):
        raise SummaryError("malformed summary: the payload is not base64url") from None
    if len(raw) <= TAG_BYTES:
        raise SummaryError("bad signature: the summary is too short to carry one", 403)
    tag, body = raw[:TAG_BYTES], raw[TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(key, van_id, body)):
        raise SummaryError(f"bad signature: this summary was not signed by van {van_id!r} or was changed", 403)
    try:
        inflate = zlib.decompressobj(-15)
        data = inflate.decompress(body, MAX_BODY)
        if inflate.unconsumed_tail or not inflate.eof:
            raise SummaryError("malformed summary: body too large or truncated")
        fields = jsontext.loads(data.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError):
        raise SummaryError("malformed summary: the body does not unpack") from None
    return _unpack(fields, van_id)


def _unpack(fields, van_id: str) -> dict:
    try:
        fmt, screening, date, village, counts, heads, participants, plays, pledges = fields
        if fmt != FORMAT:
            raise SummaryError(f"unsupported summary format {fmt!r}")
        if not isinstance(counts, dict) or not all(isinstance(v, int) for v in counts.values()):
            raise TypeError
        return {
            "van": van_id, "screening": str(screening), "date": str(date), "village": str(village),
            "counts": dict(counts), "total": sum(counts.values()),
            "headcounts": {"start": heads[0], "end": heads[1]}, "participants": int(participants),
            "plays": [{"position": int(p[0]), "media": str(p[1]), "outcome": OUTCOME_NAMES.get(p[2], p[2]),
                       "seconds": int(p[3])} for p in plays],
            "pledges": {str(g): int(n) for g, n in pledges},
        }
    except SummaryError:
        raise
    except (TypeError, ValueError, IndexError, KeyError):
        raise SummaryError("malformed summary: unexpected fields") from None
