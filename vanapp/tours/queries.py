"""Reusable reads of the plan for pages, the API and the CLI."""
import datetime as dt

from .. import localtime
from ..errors import get_or_404
from ..models import ProgrammeItem, Screening, Tour, Village


def local_now(tz: str) -> dt.datetime:
    return localtime.now(tz)


def screenings(tour_id: str | None = None, van: str | None = None):
    """Screenings by time; `van`: only that van's (the crew's pages pass this laptop's van)."""
    query = (Screening.select(Screening, Village, Tour).join(Village).switch(Screening).join(Tour)
             .order_by(Screening.starts_at))
    if tour_id:
        query = query.where(Screening.tour == tour_id)
    if van:
        query = query.where(Screening.van == van)
    return query


def screening(screening_id: str, field: str = "id") -> Screening:
    """One screening with its village and tour, or a 404 refusal naming `field` (where the id came from)."""
    return get_or_404(screenings().where(Screening.id == screening_id), f"No screening {screening_id}.", field)


def on_date(day: str):
    return screenings().where(Screening.date == day)


def next_screening(tz: str, van: str | None = None):
    """Tonight's screening if there is one, else the next one not done or cancelled."""
    today = local_now(tz).date().isoformat()
    active = screenings(van=van).where(Screening.status == "in_progress").first()
    if active:
        return active
    return (screenings(van=van).where((Screening.date >= today) &
                                      (Screening.status.not_in(["done", "cancelled"]))).first())


def run_choices(tz: str, van: str | None = None) -> dict:
    """What the Run page offers before a show is chosen: tonight's screenings, earlier ones not
    held yet (to mark held or cancel), and the coming ones, each by time."""
    today = local_now(tz).date().isoformat()
    tonight, earlier, coming = [], [], []
    for s in screenings(van=van).where(Screening.status.in_(["planned", "in_progress"])
                                       | (Screening.date == today)):
        if s.date == today:
            tonight.append(s)
        elif s.date < today:
            earlier.append(s)
        else:
            coming.append(s)
    return {"today": today, "tonight": tonight, "earlier": earlier, "coming": coming}


def programme(screening_id: str):
    return (ProgrammeItem.select().where(ProgrammeItem.screening == screening_id)
            .order_by(ProgrammeItem.position))


def screening_dict(s: Screening, with_programme: bool = False) -> dict:
    out = {
        "id": s.id, "tour": s.tour_id, "date": s.date, "start": s.start,
        "starts_at": s.to_wire()["starts_at"], "status": s.status, "status_reason": s.status_reason,
        "programme": s.programme, "notes": s.notes,
        "village": {"id": s.village.id, "name": s.village.name, "name_en": s.village.name_en,
                    "block": s.village.block, "district": s.village.district},
        "van": s.van, "version": s.version,
    }
    if with_programme:
        out["items"] = [{"position": i.position, "kind": i.kind, "ref": i.ref, "prefix": i.prefix,
                         "phase": i.phase, "label": i.label} for i in programme(s.id)]
    return out
