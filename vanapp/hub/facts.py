"""One screening as the hub reports it (`Facts`): the plan joined with what its van's records and
QR summary add, as read from the kept facts (factsql.py). The rules that make each number are
in recount.py; this module only gives the pages and exports one shape to show.
"""
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from .recount import GENDER_AGE, OTHER, QR, SYNCED, as_time, count_total  # noqa: F401 (re-exported)


@dataclass
class Facts:
    """One screening as the hub knows it, and what it contributes to each total."""
    id: str
    date: str
    start: str
    van: str
    tour: str
    campaign: str
    village_id: str
    village: str
    village_en: str
    block: str
    district: str
    status: str = ""
    status_reason: str = ""
    held: bool = False
    source: str = ""                  # where its attendance comes from: synced | qr_summary | ""
    received_at: dt.datetime | None = None
    buckets: dict = field(default_factory=dict)               # men/women/boys/girls/other -> count
    people: int = 0
    participant_total: int = 0
    qr_participants: int = 0          # sign-ins known only from the QR summary
    pledges: int = 0
    pledge_source: str = ""
    taps_total: int = 0
    corrections_total: int = 0
    for_review: int = 0               # summaries other vans sent about this screening
    headcounts: dict = field(default_factory=dict)            # start|end -> latest count
    # loaded for one screening's page and the attendance export only
    counts: Counter = field(default_factory=Counter)          # category -> net count
    taps: Counter = field(default_factory=Counter)            # category -> +1 taps
    corrections: Counter = field(default_factory=Counter)     # category -> -1 taps
    quiz: dict = field(default_factory=dict)                  # (game, question) -> [answers, correct]
    polls: dict = field(default_factory=dict)                 # (game, question) -> {phase: Counter}
    qr: dict | None = None                                   # the QR summary this screening may count
    review: list = field(default_factory=list)               # summaries other vans sent, not counted

    def bucket(self, name: str) -> int:
        """men / women / boys / girls, or `other` for every other category counted."""
        return self.buckets.get(name, 0)


def poll_shares(counter: Counter) -> dict[str, float]:
    total = sum(counter.values())
    return {c: (n / total if total else 0.0) for c, n in sorted(counter.items())}
