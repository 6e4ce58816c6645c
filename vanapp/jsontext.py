"""JSON from outside (request bodies, sync batches, bundles, summaries, the hub's answers) read
with a nesting limit, so "[[[[…" is a clear refusal and never a RecursionError (a 500, or a crashed
command). The depth is measured on the bytes before parsing, at C speed: strings are cut out with
one regular expression, every byte but the brackets is dropped, and the running sum is taken."""
import itertools
import json
import re

MAX_DEPTH = 32          # objects and arrays inside each other; a batch needs 6, a request body 3

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def integer(value):
    """`value` as an int when JSON says it is one: 7, or 7.0 (JSON Schema's integers include
    numbers with no fraction, and JSON writers may send them so); else None. Never a bool."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer() and abs(value) < 2 ** 63:
        return int(value)
    return None


class TooDeep(ValueError):
    """JSON nested deeper than allowed."""


def depth(raw: bytes | str) -> int:
    """How deep the arrays and objects of this JSON text nest (0 for a scalar)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


class NotText(ValueError):
    """JSON strings that are not Unicode text: half of a surrogate pair (no database encodes it)."""


# an escaped surrogate (a pair is fine, half of one is not text): only then is each string looked at
_SUSPECT = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH):
    """json.loads, refusing nesting deeper than `max_depth` (TooDeep, a ValueError) before parsing,
    and strings with half of a surrogate pair after it (NotText: neither SQLite nor PostgreSQL can
    store one, and no person typed it). A NUL is text: what stores text refuses it where it must."""
    if depth(raw) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        value = json.loads(raw)
    except RecursionError:           # cannot happen within the limit; never a crash if it did
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if _SUSPECT.search(data):
        for text in _strings(value):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise NotText("JSON text with half of a surrogate pair (not Unicode text)") from None
    return value


def _strings(value):
    """Every string in a parsed JSON value, keys included (its depth is bounded by MAX_DEPTH)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
