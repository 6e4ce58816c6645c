"""Test data made straight through the models (the import paths have their own tests)."""
import datetime as dt
from zoneinfo import ZoneInfo

from vanapp.ids import stable_id
from vanapp.models import (Campaign, Game, MediaItem, ProgrammeItem, Screening, Tour, Village, db)

TZ = ZoneInfo("Asia/Kolkata")


def make_screening(date=None, start="18:30", village="रामपुर", village_en="Rampur",
                   tour="test-tour", items=(("psa", "ring-the-bell"),), van="van-03", status="planned"):
    date = date or dt.datetime.now(TZ).date().isoformat()
    starts = dt.datetime.fromisoformat(f"{date}T{start}").replace(tzinfo=TZ)
    with db.atomic():
        Campaign.insert(id="bell-bajao", title_en="Bell Bajao").on_conflict_ignore().execute()
        Tour.insert(id=tour, title="Test tour", campaign="bell-bajao", van=van).on_conflict_ignore().execute()
        v = Village.get_or_none(Village.name_en == village_en)
        if v is None:
            v = Village.create(id=stable_id(starts, village_en), name=village, name_en=village_en,
                               block="Haidergarh", district="Barabanki")
        s = Screening.create(id=stable_id(starts, tour, date, village_en), tour=tour,
                             key=f"{date}/{village_en}", village=v, date=date, start=start,
                             starts_at=starts, programme="test", van=van, status=status)
        for pos, (prefix, ref) in enumerate(items):
            ref, _, phase = ref.partition("@")
            kind = "game" if prefix == "game" else "media"
            if kind == "media":
                MediaItem.insert(id=ref, file=f"psa/{ref}.mp4", title_hi=ref, title_en=ref,
                                 kind=prefix if prefix != "media" else "psa").on_conflict_ignore().execute()
            else:
                Game.insert(id=ref, kind="quiz", title_hi=ref, title_en=ref,
                            content={"id": ref}).on_conflict_ignore().execute()
            ProgrammeItem.create(id=stable_id(starts, s.id, str(pos)), screening=s, position=pos,
                                 kind=kind, prefix=prefix, ref=ref, phase=phase)
    return s
