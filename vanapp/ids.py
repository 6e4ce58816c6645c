"""Identifiers and timestamps: UUIDv7 ids and UTC ISO 8601 times, the one scheme used everywhere."""
import datetime as dt
import hashlib
import uuid

import uuid6

UTC = dt.timezone.utc


def new_id() -> str:
    """A fresh UUIDv7 as text: sortable by creation time, unique across vans."""
    return str(uuid6.uuid7())


def stable_id(when: dt.datetime, *key: str) -> str:
    """A UUIDv7 derived from a time and a natural key.

    Plan records (screenings, villages) are imported from the same tour file on the
    hub and on the van; deriving the id from the file's natural key lets both sides
    agree on it without talking, while it still sorts by the screening's time.
    """
    ms = int(when.timestamp() * 1000) & ((1 << 48) - 1)
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    rand = int.from_bytes(digest[:10], "big")
    rand_a = rand >> 68 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def to_iso(value: dt.datetime) -> str:
    """Fixed-width UTC ISO 8601 with microseconds, so text order is time order."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: give times in UTC")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
