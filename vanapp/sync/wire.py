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
import json
import re
import time
import zlib

FORMAT = 1
MAX_BODY = 2 * 1024 * 1024          # compressed bytes on the wire (Flask's MAX_CONTENT_LENGTH too)
MAX_JSON = 32 * 1024 * 1024         # decompressed: a zip bomb stops here
MAX_RECORDS = 5000                  # records in one batch
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
_MIN_US = calendar.timegm((2000, 1, 1, 0, 0, 0)) * 1_000_000
_MAX_US = calendar.timegm((2100, 1, 1, 0, 0, 0)) * 1_000_000


class WireError(ValueError):
    """A batch that cannot be read: `status` 400 (malformed) or 413 (too large); `where` says
    which model/column/row when known."""

    def __init__(self, message: str, status: int = 400, where: str | None = None):
        super().__init__(message)
        self.status, self.message, self.where = status, message, where


# --- times --------------------------------------------------------------------------------------

class _TimeCodec:
    """Canonical time text <-> integer microseconds, caching whole seconds (taps share them)."""

    def __init__(self):
        self._to_sec, self._to_text = {}, {}

    def to_us(self, text: str) -> int:
        head = text[:19]
        sec = self._to_sec.get(head)
        if sec is None:
            sec = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
            self._to_sec[head] = sec
        return sec * 1_000_000 + int(text[20:26])

    def to_text(self, us: int) -> str:
        sec, micro = divmod(us, 1_000_000)
        head = self._to_text.get(sec)
        if head is None:
            head = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec))
            self._to_text[sec] = head
        return f"{head}{micro:06d}Z"


# --- encoding -----------------------------------------------------------------------------------

_DICT_TYPES = ({str, type(None)}, {int, type(None)}, {bool, type(None)})


def _encode_column(values: list, is_time: bool, earlier: dict, codec: _TimeCodec):
    n = len(values)
    first = values[0]
    kind = type(first)
    if n > 1 and kind is not float and all(type(v) is kind and v == first for v in values):
        return {"k": first}
    if is_time and all(type(v) is str and TIME_RE.match(v) for v in values):
        for name, other in earlier.items():
            if other == values:               # created_at == updated_at, mostly
                return {"s": name}
        us = [codec.to_us(v) for v in values]
        return {"t": [us[0]] + [b - a for a, b in zip(us, us[1:])]}
    if n >= 8 and any(set(map(type, values)) <= allowed for allowed in _DICT_TYPES):
        # keys are compared by value, so a column mixing 1 and True never gets here
        distinct = {}
        for v in values:
            distinct.setdefault(v, len(distinct))
            if len(distinct) * 3 > n:
                return values
        return {"d": list(distinct), "i": [distinct[v] for v in values]}
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


def pack(document: dict, level: int = 6) -> bytes:
    """The document as gzip-compressed JSON bytes."""
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
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"the batch is not JSON: {exc}") from None
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
        if not isinstance(deltas, list) or not all(type(d) is int for d in deltas):
            raise WireError("time column must be a list of integers", where=where)
        values, us = [], 0
        for d in deltas:
            us += d
            if not _MIN_US <= us < _MAX_US:
                raise WireError("time out of range (2000-2100)", where=where)
            values.append(codec.to_text(us))
    elif isinstance(spec, dict) and set(spec) == {"d", "i"}:
        table, idx = spec["d"], spec["i"]
        if not isinstance(table, list) or not isinstance(idx, list):
            raise WireError("dictionary column must have lists d and i", where=where)
        size = len(table)
        if not all(type(i) is int and 0 <= i < size for i in idx):
            raise WireError("dictionary index out of range", where=where)
        values = [table[i] for i in idx]
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
        total += n
        if n < 0 or total > max_records:
            raise WireError(f"a batch holds at most {max_records} records", 413, where=where)
        decoded = {}
        for column, spec in entry["columns"].items():
            decoded[column] = _decode_column(spec, n, decoded, codec, f"{name}.{column}")
        columns = list(decoded)
        out.append((name, columns, list(zip(*(decoded[c] for c in columns))) if columns else []))
    return out


def time_text(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
