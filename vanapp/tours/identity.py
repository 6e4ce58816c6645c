"""Which van this laptop is: one van id per laptop, and the refusals that keep it so.

The id is the `van_id` setting (`vanapp init --van ID`, or the first pairing); until one is set,
the van the laptop's tours are planned for stands in. A tour file for another van, a pairing
code for another van, or a second van's id is refused with a message that names both vans.
"""
from dataclasses import dataclass, field

from ..models import Setting, Tour
from .spec import Problem


@dataclass
class Identity:
    van: str = ""                    # "" while nothing says which van this is
    source: str = ""                 # "setting" | "tours" | ""
    tour_vans: list = field(default_factory=list)   # the vans the laptop's tours name

    @property
    def because(self) -> str:
        """Why this laptop is `van`, in a few words for a message."""
        if self.source == "setting":
            return "its van id, set by `vanapp init --van` or by pairing"
        if self.source == "tours":
            return f"the tours on it are {self.van}'s"
        return ""

    @property
    def mixed(self) -> bool:
        """Tours of several vans on one laptop (loaded before vans were told apart)."""
        return len(self.tour_vans) > 1


def this_van() -> Identity:
    """This laptop's van. Needs an open database connection."""
    tour_vans = sorted({t.van for t in Tour.select(Tour.van).distinct() if t.van})
    stored = Setting.van_id()
    if stored:
        return Identity(stored, "setting", tour_vans)
    if len(tour_vans) == 1:
        return Identity(tour_vans[0], "tours", tour_vans)
    return Identity("", "", tour_vans)


def refuse_other_vans(tours, identity: Identity) -> list[Problem]:
    """Problems for merged tours (validate.MergedTour) that are not this laptop's van's.

    A laptop that does not know its van yet takes one van's tours: files planning tours for
    two vans are refused as a whole, naming every van."""
    problems = []
    named = sorted({t.van for t in tours.values() if t.van})
    for tour in tours.values():
        if not tour.van:
            continue                        # a missing van is reported where it was read
        file, line = tour.lines.get("van", (tour.file, tour.line))
        if identity.van and tour.van != identity.van:
            problems.append(Problem(file, line, "van", (
                f"tour '{tour.id}' is planned for {tour.van}, but this laptop is {identity.van} "
                f"({identity.because}): one laptop runs one van's tours; import it on "
                f"{tour.van}'s laptop")))
        elif not identity.van and len(named) > 1:
            problems.append(Problem(file, line, "van", (
                f"tour '{tour.id}' is planned for {tour.van}, and these files also plan tours for "
                f"{', '.join(v for v in named if v != tour.van)}: one laptop runs one van's tours; "
                "import one van's files (or say which van this is: `vanapp init --van ID`)")))
    return problems


class WrongVan(Exception):
    """A van id that is not this laptop's (pairing, `vanapp init --van`)."""

    def __init__(self, mine: str, theirs: str, message: str):
        super().__init__(message)
        self.mine, self.theirs, self.message = mine, theirs, message


def check_pairing(van_id: str, identity: Identity | None = None) -> None:
    """Refuse to pair as `van_id` when this laptop is another van (WrongVan)."""
    identity = identity or this_van()
    if identity.van and identity.van != van_id:
        raise WrongVan(identity.van, van_id, (
            f"the pairing code is for {van_id}, but this laptop is {identity.van} "
            f"({identity.because}): nothing was changed on this laptop. Ask the coordinator for "
            f"{identity.van}'s pairing code (`vanapp hub rotate-van {identity.van}`)"))
    if identity.mixed and van_id not in identity.tour_vans:
        raise WrongVan(", ".join(identity.tour_vans), van_id, (
            f"the pairing code is for {van_id}, but the tours on this laptop are "
            f"{' and '.join(identity.tour_vans)}'s: nothing was changed on this laptop"))


def check_new_id(van_id: str, identity: Identity | None = None, paired_as: str = "") -> None:
    """Refuse `vanapp init --van ID` when the laptop's tours or pairing say it is another van."""
    identity = identity or this_van()
    if paired_as and paired_as != van_id:
        raise WrongVan(paired_as, van_id, (
            f"this laptop is paired with the hub as {paired_as}: it cannot become {van_id} "
            "(nothing was changed)"))
    if identity.tour_vans and van_id not in identity.tour_vans:
        vans = " and ".join(identity.tour_vans)
        raise WrongVan(vans, van_id, (
            f"the tours on this laptop are {vans}'s, not {van_id}'s "
            "(nothing was changed): one laptop runs one van's tours"))
