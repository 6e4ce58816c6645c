"""Pairing vans with the hub: one-time pairing codes, the van's long-lived secret (the hub keeps
only its hash and two derived keys), rotation, revocation and request authentication."""
import hashlib
import hmac
import re
import secrets
import datetime as dt

from ..errors import AppError
from ..ids import utcnow
from ..models import Van, db
from ..protocol.bundle import bundle_key
from ..protocol.summary import summary_key

VAN_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"     # Crockford base32: no I, L, O, U
CODE_LENGTH = 8
CODE_LIFETIME = dt.timedelta(hours=24)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class PairingError(AppError, ValueError):
    """`code` for machines (unknown_code, expired, exists, unknown_van...), message for people;
    a pairing code that does not work is about the field `code` (404, or 410 once expired)."""

    def __init__(self, code: str, message: str, van: str = ""):
        status = 410 if code == "expired" else 409 if code == "wrong_van" else 404
        super().__init__(status, code, message, field="code")
        self.van = van      # wrong_van: the van the code is for


class AuthError(PairingError):
    """A sync request without a working van key (401)."""

    def __init__(self, code: str, message: str):
        AppError.__init__(self, 401, code, message)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    """What a person typed -> the code: case, dashes and spaces ignored, O/I/L read as 0/1/1."""
    code = re.sub(r"[\s-]", "", (code or "").upper())
    return code.translate(str.maketrans("OIL", "011"))


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    return slug[:64]


def _new_code(van: Van, now: dt.datetime) -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    van.pair_code_hash = _sha(code)
    van.pair_expires_at = now + CODE_LIFETIME
    return code


def add_van(name: str, van_id: str | None = None, now: dt.datetime | None = None) -> tuple[Van, str]:
    """A new van with a one-time pairing code; returns (van, code). Raises PairingError."""
    now = now or utcnow()
    van_id = van_id or slugify(name)
    if not SLUG.match(van_id or ""):
        raise PairingError("invalid_id", f"van id {van_id!r}: use lower-case letters, digits and dashes, "
                           "e.g. van-03")
    with db.atomic():
        if Van.get_or_none(Van.id == van_id) is not None:
            raise PairingError("exists", f"van {van_id} already exists: use `vanapp hub rotate-van {van_id}` "
                               "for a new pairing code")
        van = Van(id=van_id, name=name.strip() or van_id, created_at=now)
        code = _new_code(van, now)
        van.save(force_insert=True)
    return van, code


def rotate(van_id: str, now: dt.datetime | None = None) -> tuple[Van, str]:
    """A new pairing code; the old secret stops working at once (a lost or swapped laptop) and
    the van is allowed again if it was revoked. What it synced stays."""
    now = now or utcnow()
    with db.atomic():
        van = Van.get_or_none(Van.id == van_id)
        if van is None:
            raise PairingError("unknown_van", f"no van {van_id!r}: `vanapp hub add-van NAME` first")
        code = _new_code(van, now)
        van.secret_hash = van.summary_key = van.bundle_key = None
        van.revoked, van.revoked_at = False, None
        van.save()
    return van, code


def revoke(van_id: str, now: dt.datetime | None = None) -> Van:
    """Block the van (every request 401) and cancel any pairing code; its records stay."""
    with db.atomic():
        van = Van.get_or_none(Van.id == van_id)
        if van is None:
            raise PairingError("unknown_van", f"no van {van_id!r}")
        van.revoked, van.revoked_at = True, now or utcnow()
        van.pair_code_hash = van.pair_expires_at = None
        van.save()
    return van


SECRET_BYTES = 32


def redeem(code: str, now: dt.datetime | None = None, secret: bytes | None = None,
           expect_van: str | None = None) -> tuple[Van, str]:
    """Exchange a pairing code (once, before it expires) for the van's new secret (hex).

    `secret`: the van's own new secret (32 random bytes), proposed with the code. Pairing is
    then safe to repeat: when the answer was lost on the way (the link dropped after the hub
    had paired the van), the same request again finds the van by that secret and gets the same
    answer — only its holder can ask, and it learns nothing it did not have. Without one the
    hub makes the secret (and a repeat finds the code used).

    `expect_van`: the van the laptop already is (its id or its tours'); a code for another van
    is refused and stays unused (one van id per laptop)."""
    now = now or utcnow()
    normal = normalise_code(code)
    if len(normal) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in normal):
        raise PairingError("unknown_code", "that pairing code is not valid: it has 8 letters and digits, "
                           "like 7KQ2-M9XD")
    if secret is not None and len(secret) != SECRET_BYTES:
        raise PairingError("bad_secret", f"the van's proposed secret must be {SECRET_BYTES} bytes")
    with db.atomic():
        van = Van.get_or_none(Van.pair_code_hash == _sha(normal))
        if van is None and secret is not None:
            again = Van.get_or_none(Van.secret_hash == hashlib.sha256(secret).hexdigest())
            if again is not None and not again.revoked and again.paired_at is not None \
                    and now - again.paired_at < CODE_LIFETIME:
                return again, secret.hex()
        if van is None:
            raise PairingError("unknown_code", "that pairing code is not known or was already used")
        if van.pair_expires_at is None or van.pair_expires_at < now:
            raise PairingError("expired", "that pairing code has expired: ask the coordinator for a new one "
                               f"(`vanapp hub rotate-van {van.id}`)")
        if expect_van and expect_van != van.id:
            raise PairingError("wrong_van", f"the pairing code is for {van.id}, but this laptop is "
                               f"{expect_van}: the code was not used. Give this laptop {expect_van}'s code "
                               f"(`vanapp hub rotate-van {expect_van}`), and {van.id}'s code to {van.id}'s laptop",
                               van=van.id)
        secret = secret or secrets.token_bytes(SECRET_BYTES)
        van.secret_hash = hashlib.sha256(secret).hexdigest()
        # the van derives the same two keys from its secret (the protocol's); the hub keeps only them
        van.summary_key = summary_key(secret).hex()
        van.bundle_key = bundle_key(secret).hex()
        van.pair_code_hash = van.pair_expires_at = None
        van.paired_at = now
        van.revoked, van.revoked_at = False, None
        van.save()
    return van, secret.hex()


def authenticate(header: str) -> Van:
    """`Authorization: Bearer <van_id>.<secret hex>` -> the van, or AuthError."""
    if not header or header[:7].lower() != "bearer ":      # the scheme is case-insensitive (RFC 9110)
        raise AuthError("unauthorized", "send 'Authorization: Bearer <van id>.<secret>' (pair the van first)")
    van_id, _, secret = header[7:].strip().rpartition(".")
    try:
        digest = hashlib.sha256(bytes.fromhex(secret)).hexdigest() if secret else ""
    except ValueError:
        digest = ""
    # a van id is a slug: anything else is no van (and never reaches the database's parser)
    van = Van.get_or_none(Van.id == van_id) if VAN_ID.fullmatch(van_id) else None
    if van is None or not van.secret_hash or not digest or not hmac.compare_digest(van.secret_hash, digest):
        raise AuthError("unauthorized", "unknown van or wrong secret: pair this van again")
    if van.revoked:
        raise AuthError("revoked", f"van {van.id} has been revoked by the coordinator")
    return van


def pairing_url(hub_url: str | None, code: str) -> str:
    """What the pairing QR code holds: the hub's /pair page, or a vankit: link without a hub URL."""
    if hub_url:
        return f"{hub_url.rstrip('/')}/pair?code={format_code(code)}"
    return f"vankit:pair?code={format_code(code)}"
