"""The sync wire format: a batch of records as gzip-compressed, column-wise JSON.

A batch document (see PROTOCOL.md):
    {"format": 1, "kind": "push"|"pull", ...header..., "models": [
        {"name": "TallyEvent", "n": 3, "columns": {"id": [...], "van": {"k": "van-03"}, ...}}]}
Each column is one of
    [v0, v1, ...]                 plain values
    {"k": v}                      every row has v
    {"d": [values], "i": [idx]}   dictionary: row i has values[idx[i]]
    {"t": [us0, d1, d2, ...]}     UTC times as microseconds since 1970, each after the first as a
                                  difference from the previous row (times sit close together)
    {"s": "other"}                the same values as the (earlier) column "other"
Columns travel whole, so repeated values compress to almost nothing and a tap costs its id
and its times. Decoding refuses anything malformed with a WireError and never trusts sizes.
"""
import calendar
import datetime as dt
import itertools
import json
import operator
import re
import time
import zlib

from .. import jsontext
from ..errors import AppError

FORMAT = 1
MAX_BODY = 2 * 1024 * 1024          # compressed bytes on the wire (Flask's MAX_CONTENT_LENGTH too)
MAX_JSON = 32 * 1024 * 1024         # decompressed: a zip bomb stops here
MAX_RECORDS = 10000                 # records in one batch (a fast link's batches grow to 9000 rows)
TIME_RE = re.compile(r"[0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]{6}Z\Z")
_MIN_US = calendar.timegm((2000, 1, 1, 0, 0, 0)) * 1_000_000
_MAX_US = calendar.timegm((2100, 1, 1, 0, 0, 0)) * 1_000_000


class WireError(AppError, ValueError):
    """A batch that cannot be read: 400 `malformed` or 413 `too_large`; `where` (its field) says
    which model/column/row when known."""

    def __init__(self, message: str, status: int = 400, where: str | None = None):
        super().__init__(status, "too_large" if status == 413 else "malformed", message, field=where)
        self.where = where


# --- times --------------------------------------------------------------------------------------

_SECONDS = [f"{s:02d}." for s in range(60)]


class _TimeCodec:
    """Canonical time text <-> integer microseconds, whole columns at a time, caching each minute
    (taps share them), so a column costs a slice and an int() per value, not a strptime."""

    def __init__(self):
        self._to_minute, self._to_text = {}, {}

    def _minute(self, head: str) -> int:
        """"YYYY-MM-DDTHH:MM" -> seconds since 1970 (ValueError for a date or time that is not one)."""
        sec = self._to_minute.get(head)
        if sec is None:
            day = dt.date(int(head[:4]), int(head[5:7]), int(head[8:10]))
            hour, minute = int(head[11:13]), int(head[14:16])
            if hour > 23 or minute > 59:
                raise ValueError(f"time {head!r} is out of range")
            sec = calendar.timegm(day.timetuple()) + hour * 3600 + minute * 60
            self._to_minute[head] = sec
        return sec

    def column_to_us(self, values: list) -> list[int]:
        """Texts already matched by TIME_RE -> microseconds."""
        cache, minute = self._to_minute, self._minute
        out = [(cache.get(t[:16]) or minute(t[:16])) * 1_000_000 + int(t[17:19] + t[20:26]) for t in values]
        for t in values:
            if t[17:19] > "61":                 # as strptime: seconds 00-61
                raise ValueError(f"time {t!r} is out of range")
        return out

    def column_to_text(self, us: list[int]) -> list[str]:
        """Microseconds (2000-2100, checked by the caller) -> canonical texts."""
        heads, seconds = self._to_text, _SECONDS
        minutes = [value // 60_000_000 for value in us]
        for minute in set(minutes).difference(heads):
            heads[minute] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
        return ["%s%s%06dZ" % (head, seconds[value // 1_000_000 % 60], value % 1_000_000)
                for head, value in zip(map(heads.__getitem__, minutes), us)]


# --- encoding -----------------------------------------------------------------------------------

_DICT_TYPES = ({str, type(None)}, {int, type(None)}, {bool, type(None)})


def _encode_column(values: list, is_time: bool, earlier: dict, codec: _TimeCodec):
    # whole-column operations (count, set, map) run at C speed: a batch is thousands of rows
    n = len(values)
    first = values[0]
    kind = type(first)
    types = set(map(type, values))
    if n > 1 and kind is not float and types == {kind} and values.count(first) == n:
        return {"k": first}
    if is_time and types == {str} and all(map(TIME_RE.match, values)):
        for name, other in earlier.items():
            if other == values:               # created_at == updated_at, mostly
                return {"s": name}
        us = codec.column_to_us(values)
        return {"t": [us[0]] + list(map(operator.sub, us[1:], us))}
    if n >= 8 and any(types <= allowed for allowed in _DICT_TYPES):
        # keys are compared by value, so a column mixing 1 and True never gets here
        distinct = dict.fromkeys(values)
        if len(distinct) * 3 > n:
            return values
        index = {v: i for i, v in enumerate(distinct)}
        return {"d": list(distinct), "i": list(map(index.__getitem__, values))}
    return values


def encode_models(tables: list[tuple[str, list[str], list[str], list[list]]]) -> list[dict]:
    """[(model name, column names, time column names, column value lists)] -> "models" entries."""
    codec, out = _TimeCodec(), []
    for name, columns, time_columns, values in tables:
        n = len(values[0]) if values else 0
        if n == 0:
            continue
        encoded, earlier = {}, {}
        for column, column_values in zip(columns, values):
            is_time = column in time_columns
            encoded[column] = _encode_column(column_values, is_time, earlier, codec)
            if is_time:
                earlier[column] = column_values
        out.append({"name": name, "n": n, "columns": encoded})
    return out


def pack(document: dict, level: int = 1) -> bytes:
    """The document as gzip-compressed JSON bytes. Level 1: the columns are already compact, so
    level 6 saves only ~5 % of the bytes (a tap: 33.8 -> 32.3 bytes) for 5x the CPU time."""
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(raw) + compressor.flush()


# --- decoding -----------------------------------------------------------------------------------

def unpack(body: bytes, max_json: int = MAX_JSON) -> dict:
    """gzip (or plain) JSON bytes -> the document, refusing bombs and garbage."""
    if len(body) > MAX_BODY * 64:
        raise WireError("batch too large", 413)
    if body[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(31)
        try:
            raw = inflater.decompress(body, max_json + 1)
        except zlib.error as exc:
            raise WireError(f"the body is not valid gzip: {exc}") from None
        if len(raw) > max_json or inflater.unconsumed_tail:
            raise WireError(f"the batch unpacks to more than {max_json} bytes", 413)
        if not inflater.eof:
            raise WireError("the gzip body is truncated")
    else:
        raw = body
        if len(raw) > max_json:
            raise WireError(f"the batch is larger than {max_json} bytes", 413)
    try:
        document = jsontext.loads(raw.decode("utf-8"))
    except jsontext.TooDeep as exc:
        raise WireError(f"the batch is {exc}") from None
    except ValueError as exc:           # not UTF-8, not JSON, or text no column takes (jsontext)
        raise WireError(f"the batch is not JSON text: {exc}") from None
    if not isinstance(document, dict):
        raise WireError("the batch must be a JSON object")
    if document.get("format") != FORMAT:
        raise WireError(f"unsupported batch format {document.get('format')!r} (this hub reads {FORMAT})",
                        where="format")
    return document


def _decode_column(spec, n: int, decoded: dict, codec: _TimeCodec, where: str) -> list:
    if isinstance(spec, list):
        values = spec
    elif isinstance(spec, dict) and len(spec) == 1 and "k" in spec:
        return [spec["k"]] * n
    elif isinstance(spec, dict) and len(spec) == 1 and "s" in spec:
        if spec["s"] not in decoded:
            raise WireError(f"column refers to unknown column {spec['s']!r}", where=where)
        return decoded[spec["s"]]
    elif isinstance(spec, dict) and len(spec) == 1 and "t" in spec:
        deltas = spec["t"]
        if not isinstance(deltas, list) or not set(map(type, deltas)) <= {int}:
            raise WireError("time column must be a list of integers", where=where)
        us = list(itertools.accumulate(deltas))
        if us and not (_MIN_US <= min(us) and max(us) < _MAX_US):
            raise WireError("time out of range (2000-2100)", where=where)
        values = codec.column_to_text(us)
    elif isinstance(spec, dict) and set(spec) == {"d", "i"}:
        table, idx = spec["d"], spec["i"]
        if not isinstance(table, list) or not isinstance(idx, list):
            raise WireError("dictionary column must have lists d and i", where=where)
        size = len(table)
        if idx and not (set(map(type, idx)) <= {int} and min(idx) >= 0 and max(idx) < size):
            raise WireError("dictionary index out of range", where=where)
        values = list(map(table.__getitem__, idx))
    else:
        raise WireError("unknown column encoding", where=where)
    if len(values) != n:
        raise WireError(f"column has {len(values)} values, expected {n}", where=where)
    return values


def decode_models(entries, max_records: int = MAX_RECORDS) -> list[tuple[str, list[str], list[tuple]]]:
    """"models" entries -> [(model name, column names, row tuples)], structure checked (values are
    checked against the models by the receiver)."""
    if not isinstance(entries, list):
        raise WireError("'models' must be a list", where="models")
    codec, out, total, seen = _TimeCodec(), [], 0, set()
    for position, entry in enumerate(entries):
        where = f"models[{position}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or type(entry.get("n")) is not int or not isinstance(entry.get("columns"), dict):
            raise WireError("each model entry needs name, n and columns", where=where)
        name, n = entry["name"], entry["n"]
        if name in seen:
            raise WireError(f"model {name} appears twice", where=where)
        seen.add(name)
        if n < 0:
            raise WireError(f"model {name}: n must be 0 or more", where=where)
        total += n
        if total > max_records:
            raise WireError(f"a batch holds at most {max_records} records", 413, where=where)
        decoded = {}
        for column, spec in entry["columns"].items():
            decoded[column] = _decode_column(spec, n, decoded, codec, f"{name}.{column}")
        columns = list(decoded)
        out.append((name, columns, list(zip(*(decoded[c] for c in columns))) if columns else []))
    return out


def time_text(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
