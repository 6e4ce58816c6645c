"""A screening's programme as the player needs it: what each item is, its titles, its file and
the duration the media scan measured. Read once, when play starts, in the caller's thread."""
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AppError
from ..models import Game, MediaItem, MediaScan, ProgrammeItem, Screening, Village


class PlayError(AppError):
    """A player command that cannot be done."""


@dataclass
class Item:
    index: int
    kind: str               # media | game
    prefix: str             # psa | film | song | sound | media | game
    ref: str                # MediaItem.id or Game.id
    phase: str = ""
    position: int = 0                # ProgrammeItem.position (the games area keys on it)
    title_hi: str = ""
    title_en: str = ""
    path: str | None = None          # absolute file path; None when not in the catalogue
    scanned_ms: int | None = None    # MediaScan.duration_ms
    expected_ms: int | None = None   # MediaItem.expected_ms: the catalogue's `duration`

    @property
    def length_ms(self) -> int | None:
        """How long the item should play: its scanned length, or the catalogue's if that is longer
        (a copy cut short scans short; the catalogue still knows the film's length)."""
        known = [ms for ms in (self.scanned_ms, self.expected_ms) if ms and ms > 0]
        return max(known) if known else None

    def public(self) -> dict:
        """What pages and the API see (no file paths)."""
        return {"index": self.index, "position": self.position, "kind": self.kind, "prefix": self.prefix, "ref": self.ref,
                "phase": self.phase, "title": {"hi": self.title_hi or self.title_en or self.ref,
                                               "en": self.title_en or self.title_hi or self.ref}}


@dataclass
class Programme:
    screening: str
    village: dict
    items: list[Item] = field(default_factory=list)

    def public(self) -> dict:
        return {"screening": self.screening, "village": self.village,
                "items": [i.public() for i in self.items]}


def load(screening_id: str, media_dir: str) -> Programme:
    """The programme of `screening_id`; PlayError (404) if there is no such screening."""
    screening = (Screening.select(Screening, Village).join(Village)
                 .where(Screening.id == screening_id).first())
    if screening is None:
        raise PlayError(404, "not_found", f"No screening {screening_id}.", field="screening")
    rows = list(ProgrammeItem.select().where(ProgrammeItem.screening == screening_id)
                .order_by(ProgrammeItem.position))
    media_ids = [r.ref for r in rows if r.kind == "media"]
    game_ids = [r.ref for r in rows if r.kind == "game"]
    media = {m.id: m for m in MediaItem.select().where(MediaItem.id.in_(media_ids))} if media_ids else {}
    scans = ({s.media_id: s for s in MediaScan.select().where(MediaScan.media.in_(media_ids))}
             if media_ids else {})
    games = {g.id: g for g in Game.select().where(Game.id.in_(game_ids))} if game_ids else {}
    root = Path(media_dir)
    items = []
    for index, row in enumerate(rows):
        item = Item(index=index, kind=row.kind, prefix=row.prefix, ref=row.ref, phase=row.phase,
                    position=row.position)
        if row.kind == "media" and row.ref in media:
            m = media[row.ref]
            item.title_hi, item.title_en = m.title_hi, m.title_en
            item.path = str((root / m.file).resolve())
            scan = scans.get(row.ref)
            item.scanned_ms = scan.duration_ms if scan and scan.duration_ms else None
            item.expected_ms = m.expected_ms or None
        elif row.kind == "game" and row.ref in games:
            item.title_hi, item.title_en = games[row.ref].title_hi, games[row.ref].title_en
        items.append(item)
    village = {"name": screening.village.name, "name_en": screening.village.name_en}
    return Programme(screening=screening.id, village=village, items=items)
