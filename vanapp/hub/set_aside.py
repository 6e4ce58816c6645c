"""What each van holds back from sync (its parked records: the hub refused them, or the van would
not send them), as the van last listed them (PUT /api/v1/sync/parked), for the coordinator."""
from ..errors import AppError
from ..ids import from_iso, utcnow
from ..models import Van, VanSetAside, db
from ..protocol.wire import TIME_RE

MAX_LISTED = 1000          # records in one list (the van sends its count whole, in X-Van-Outbox too)
_TEXT = {"model": 64, "id": 64, "code": 32, "message": 2000}


def _refuse(message: str, field: str):
    raise AppError(400, "malformed", message, field=field)


def store(van_id: str, body: dict) -> int:
    """Replace van `van_id`'s list with `body` {"total": n, "records": [{"model", "id", "version",
    "code", "message", "parked_at"?}]}, checked whole first. -> how many records are listed."""
    rows = body.get("records")
    total = body.get("total")
    if not isinstance(rows, list) or len(rows) > MAX_LISTED:
        _refuse(f"records: a list of at most {MAX_LISTED} records set aside", "records")
    if type(total) is not int or not len(rows) <= total < 10 ** 9:
        _refuse("total: how many records are set aside (at least as many as listed)", "total")
    now, clean = utcnow(), []
    for at, row in enumerate(rows):
        where = f"records[{at}]"
        if not isinstance(row, dict):
            _refuse("each record set aside is an object", where)
        for name, limit in _TEXT.items():
            value = row.get(name)
            if not isinstance(value, str) or not 0 < len(value) <= limit or (name != "message" and not value.isprintable()):
                _refuse(f"{name}: text of 1 to {limit} characters", f"{where}.{name}")
        version = row.get("version")
        if type(version) is not int or not 1 <= version < 2 ** 63:
            _refuse("version: a positive integer", f"{where}.version")
        parked_at = row.get("parked_at")
        if parked_at is not None:
            try:
                if not (isinstance(parked_at, str) and TIME_RE.match(parked_at)):
                    raise ValueError
                parked_at = from_iso(parked_at)
            except ValueError:
                _refuse("parked_at: a UTC time like 2026-11-23T13:02:22.850466Z", f"{where}.parked_at")
        clean.append(dict(van=van_id, model=row["model"], record_id=row["id"], version=version,
                          code=row["code"], reason=row["message"],
                          parked_at=parked_at, reported_at=now))
    with db.atomic():
        VanSetAside.delete().where(VanSetAside.van == van_id).execute()
        for start in range(0, len(clean), 100):
            VanSetAside.insert_many(clean[start:start + 100]).execute()
        Van.update(reported_parked=total, reported_at=now).where(Van.id == van_id).execute()
    return len(clean)


def listed(van_id: str, limit: int = MAX_LISTED) -> list[VanSetAside]:
    return list(VanSetAside.of(van_id).limit(limit))
