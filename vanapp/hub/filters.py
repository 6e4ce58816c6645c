"""What a coordinator narrows the hub's numbers to (dates, district, van, campaign): parsed once
from a query string or the command line, read by the reports and by the SQL over the kept facts."""
import datetime as dt
import re
from dataclasses import asdict, dataclass

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FilterError(ValueError):
    """A filter value that cannot be used; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    date_from: str = ""
    date_to: str = ""
    district: str = ""
    van: str = ""
    campaign: str = ""

    @classmethod
    def parse(cls, mapping) -> "Filters":
        """From query-string-like input ('from', 'to', 'district', 'van', 'campaign')."""
        get = (lambda k: (mapping.get(k) or "").strip())
        values = {"date_from": get("from"), "date_to": get("to"), "district": get("district"),
                  "van": get("van"), "campaign": get("campaign")}
        for name, key in (("date_from", "from"), ("date_to", "to")):
            value = values[name]
            if value:
                try:
                    if not _DATE.match(value):
                        raise ValueError
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise FilterError(key, f"{key}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None
        if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
            raise FilterError("to", "to: the end date is before the start date")
        return cls(**values)

    def date_ok(self, date: str) -> bool:
        return (not self.date_from or date >= self.date_from) and (not self.date_to or date <= self.date_to)

    def as_args(self) -> dict:
        """The filters as query-string arguments (only those set)."""
        names = {"date_from": "from", "date_to": "to"}
        return {names.get(k, k): v for k, v in asdict(self).items() if v}
