"""What each van holds back from sync (its parked records: the hub refused them, or the van would
not send them), as the van last listed them (PUT /api/v1/sync/parked), for the coordinator."""
import re

from .. import jsontext
from ..errors import AppError
from ..ids import from_iso, utcnow
from ..models import Van, VanSetAside, db
from ..protocol.wire import TIME_RE

MAX_LISTED = 1000          # records in one list (the van sends its count whole, in X-Van-Outbox too)
_TEXT = {"model": re.compile(r"[A-Za-z]{1,64}"), "id": re.compile(r"[A-Za-z0-9_.:-]{1,64}"),
         "code": re.compile(r"[a-z_]{1,32}")}


def _refuse(message: str, field: str):
    raise AppError(400, "malformed", message, field=field)


def store(van_id: str, body: dict) -> int:
    """Replace van `van_id`'s list with `body` {"total": n, "records": [{"model", "id", "version",
    "code", "message", "parked_at"?}]}, checked whole first. -> how many records are listed."""
    rows = body.get("records")
    total = jsontext.integer(body.get("total"))
    if not isinstance(rows, list) or len(rows) > MAX_LISTED:
        _refuse(f"records: a list of at most {MAX_LISTED} records set aside", "records")
    if type(total) is not int or not 0 <= total < 10 ** 9:
        _refuse("total: how many records are set aside", "total")
    now, clean = utcnow(), []
    for at, row in enumerate(rows):
        where = f"records[{at}]"
        if not isinstance(row, dict):
            _refuse("each record set aside is an object", where)
        for name, form in _TEXT.items():
            value = row.get(name)
            if not isinstance(value, str) or not form.fullmatch(value):
                _refuse(f"{name}: {form.pattern}", f"{where}.{name}")
        message = row.get("message")
        if not isinstance(message, str) or not 0 < len(message) <= 2000 or "\x00" in message:
            _refuse("message: text of 1 to 2000 characters, without NUL", f"{where}.message")
        version = jsontext.integer(row.get("version"))
        if version is None or not 1 <= version < 2 ** 63:
            _refuse("version: a positive integer", f"{where}.version")
        parked_at = row.get("parked_at")
        if parked_at is not None:
            if not (isinstance(parked_at, str) and TIME_RE.match(parked_at)):
                _refuse("parked_at: a UTC time like 2026-11-23T13:02:22.850466Z", f"{where}.parked_at")
            try:
                parked_at = from_iso(parked_at)
            except ValueError:          # the van's clock's word, for information: not a time, not kept
                parked_at = None
        clean.append(dict(van=van_id, model=row["model"], record_id=row["id"], version=version,
                          code=row["code"], reason=row["message"],
                          parked_at=parked_at, reported_at=now))
    with db.atomic():
        VanSetAside.delete().where(VanSetAside.van == van_id).execute()
        for start in range(0, len(clean), 100):
            VanSetAside.insert_many(clean[start:start + 100]).execute()
        Van.update(reported_parked=max(total, len(clean)), reported_at=now).where(Van.id == van_id).execute()
    return len(clean)


def listed(van_id: str, limit: int = MAX_LISTED) -> list[VanSetAside]:
    return list(VanSetAside.of(van_id).limit(limit))
