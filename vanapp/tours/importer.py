"""Import tour files into the plan: check everything, then write all of it in one transaction,
or write nothing and list every problem.

Re-importing updates in place: ids are derived from each record's natural key, records that
did not change are not touched, and what the crew did to a screening (started, finished,
cancelled, rescheduled) is never overwritten by a file.
"""
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from peewee import ForeignKeyField, IntegrityError

from ..db import write_transaction
from ..ids import UTC, stable_id, utcnow
from ..models import (Campaign, Game, MediaItem, ProgrammeItem, Screening, ScreeningEvent,
                      SyncModel, Tour, Village)
from . import identity, validate
from .sources import expand, parse_source
from .spec import Problem
from .validate import Catalog, Window

# Villages are shared by tours, so their id must not depend on any one screening's time.
VILLAGE_EPOCH = dt.datetime(2000, 1, 1, tzinfo=UTC)
SCREENING_FIELDS = ("van", "village_id", "date", "start", "starts_at", "duration_min",
                    "programme", "notes", "source_line")
CREW_TIME_FIELDS = ("date", "start", "starts_at")


@dataclass
class ImportResult:
    ok: bool
    check: bool = False
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    tours: list = field(default_factory=list)

    def as_dict(self):
        out = {"ok": self.ok, "check": self.check, "tours": self.tours, "counts": self.counts,
               "warnings": [w.as_dict() for w in self.warnings]}
        if not self.ok:
            out["errors"] = [e.as_dict() for e in self.errors]
        return out


class _Rollback(Exception):
    """Leave the transaction without writing (errors found, or only checking)."""


def village_id(district, block, name_en) -> str:
    return stable_id(VILLAGE_EPOCH, district, block, name_en)


def import_files(paths, tz="Asia/Kolkata", check=False, now=None, first_day=None,
                 one_van=False) -> ImportResult:
    """Import the tour files at `paths` (folders give their .yaml/.yml/.csv files)."""
    sources, problems = expand(paths)
    return import_sources(sources, tz=tz, check=check, now=now, problems=problems,
                          first_day=first_day, one_van=one_van)


def import_sources(sources, tz="Asia/Kolkata", check=False, now=None, problems=(), first_day=None,
                   one_van=False):
    """Import tour files given as (filename, bytes or text) pairs, all or nothing.

    `first_day` (a date) moves every screening by the same number of days so that the earliest
    falls on it: sample and rehearsal tours keep their shape on whatever day they are loaded.
    `one_van`: this is a van's laptop, which takes only its own van's tours (see identity.py);
    the hub, which holds every van's plan, leaves it False.
    Needs an open database connection; the hub and tests call this directly.
    """
    zone = ZoneInfo(tz)
    now = now or utcnow()
    parsed = [parse_source(name, data) for name, data in sources]
    if first_day is not None:
        shift_dates(parsed, first_day)
    errors = list(problems)
    for p in parsed:
        errors.extend(p.problems)
    tours, found = validate.merge_tours(parsed)
    errors += found + validate.duplicates(tours)
    warnings = []
    result = ImportResult(ok=False, check=check, tours=sorted(tours))
    try:
        with write_transaction():
            errors += validate.check_refs(parsed, _catalog())
            if one_van:
                errors += identity.refuse_other_vans(tours, identity.this_van())
            files_in_error = {e.file for e in errors}
            plan = _Plan(tours, zone, files_in_error)
            errors += plan.errors
            warnings += plan.warnings + validate.in_the_past(plan.new_or_moved(), zone, now)
            errors += validate.overlaps(plan.windows())
            if errors:
                raise _Rollback
            try:
                result.counts = plan.apply({p.name: p.sha256 for p in parsed})
            except IntegrityError as exc:     # a check above should have caught it; say so plainly
                errors.append(Problem(parsed[0].name if parsed else "-", 1, "database",
                                      f"the database refused the import: {exc}"))
                raise _Rollback
            if check:
                raise _Rollback
    except _Rollback:
        pass
    result.errors = _ordered(errors, [p.name for p in parsed])
    result.warnings = _ordered(warnings, [p.name for p in parsed])
    result.ok = not errors
    return result


def shift_dates(parsed, first_day: dt.date) -> int:
    """Move every readable screening date in `parsed` by the days from the earliest to
    `first_day`; return that number of days (incomplete screenings stay as they are, to be reported)."""
    days = {}
    for p in parsed:
        for spec in p.screenings:
            try:
                if spec.complete:
                    days[id(spec)] = dt.date.fromisoformat(spec.date)
            except ValueError:
                pass
    if not days:
        return 0
    delta = first_day - min(days.values())
    for p in parsed:
        for spec in p.screenings:
            if id(spec) in days:
                spec.date = (days[id(spec)] + delta).isoformat()
    return delta.days


def _ordered(problems, names):
    order = {name: i for i, name in enumerate(names)}
    unique = list({(p.file, p.line, p.field, p.message, p.level): p for p in problems}.values())
    return sorted(unique, key=lambda p: (order.get(p.file, -1), p.line))


def _catalog() -> Catalog:
    media = {m.id: m.kind for m in MediaItem.select(MediaItem.id, MediaItem.kind)}
    retired = {m.id for m in MediaItem.select(MediaItem.id).where(MediaItem.in_catalog == False)}  # noqa: E712
    return Catalog(media, {g.id for g in Game.select(Game.id)}, retired)


def _van_owned_references():
    """(model, field) for every van-owned record that points at a screening."""
    for model in SyncModel.registry().values():
        if model._meta.sync_owner != "van":
            continue
        for f in model._meta.fields.values():
            if isinstance(f, ForeignKeyField) and f.rel_model is Screening:
                yield model, f


def _referenced(screening_ids) -> set:
    found = set()
    for model, f in _van_owned_references():
        query = model.select(f).where(f.in_(list(screening_ids))).distinct()
        found.update(getattr(row, f.object_id_name) for row in query)
    return found


class _Plan:
    """What the files ask of the database, with the crew's changes kept: read, then write."""

    def __init__(self, tours, zone, files_in_error):
        self.tours, self.zone = tours, zone
        self.errors, self.warnings = [], []
        ids = list(tours)
        self.existing = {}       # tour id -> {key: Screening}
        for row in Screening.select().where(Screening.tour.in_(ids)) if ids else []:
            self.existing.setdefault(row.tour_id, {})[row.key] = row
        all_ids = [r.id for rows in self.existing.values() for r in rows.values()]
        self.rescheduled = {e.screening_id for e in ScreeningEvent.select(ScreeningEvent.screening)
                            .where(ScreeningEvent.screening.in_(all_ids)
                                   & (ScreeningEvent.kind == "rescheduled"))} if all_ids else set()
        self.removals = []
        for tour in tours.values():
            self._check_tour(tour, files_in_error)

    def _check_tour(self, tour, files_in_error):
        rows = self.existing.get(tour.id, {})
        for spec in tour.screenings:
            row = rows.get(spec.key) if spec.complete else None
            if row is None:
                continue
            if row.status != "planned":
                if self._differs(row, spec, SCREENING_FIELDS) or self._items_differ(row, spec):
                    self.warnings.append(Problem(spec.file, spec.line, "screening", (
                        f"{spec.village_en} {spec.date} is {row.status.replace('_', ' ')}: "
                        "the crew's record is kept and the file's changes are not applied"),
                        "warning"))
            elif row.id in self.rescheduled and self._differs(row, spec, CREW_TIME_FIELDS):
                self.warnings.append(Problem(spec.file, spec.line_of("start"), "start", (
                    f"the crew rescheduled {spec.village_en} to {row.date} {row.start}; "
                    "that time is kept"), "warning"))
        if files_in_error & set(tour.files) or not all(s.complete for s in tour.screenings):
            return                              # keys unknown: removals cannot be judged
        listed = {s.key for s in tour.screenings}
        gone = [row for key, row in rows.items() if key not in listed]
        used = _referenced([r.id for r in gone]) if gone else set()
        for row in gone:
            if row.status == "planned" and row.id not in used:
                self.removals.append(row)
            else:
                reason = (f"it is {row.status.replace('_', ' ')}" if row.status != "planned"
                          else "the crew has already recorded things for it")
                self.errors.append(Problem(tour.file, tour.line, "screenings", (
                    f"the screening {row.date} {row.start} in {row.village.name_en} (id {row.id}) "
                    f"is no longer in tour '{tour.id}' but cannot be removed: {reason}; "
                    "put it back in the file (cancel it from the console if it will not happen)")))

    def new_or_moved(self):
        """Screenings the file adds or gives a new time (a done one is not news)."""
        for tour in self.tours.values():
            rows = self.existing.get(tour.id, {})
            for spec in tour.screenings:
                row = rows.get(spec.key) if spec.complete else None
                if row is None or (row.status == "planned" and row.id not in self.rescheduled
                                   and self._differs(row, spec, CREW_TIME_FIELDS)):
                    yield spec

    def _values(self, spec, van, village):
        return {"van": van, "village_id": village, "date": spec.date, "start": spec.start,
                "starts_at": spec.starts_at(self.zone), "duration_min": spec.duration,
                "programme": spec.programme, "notes": spec.notes, "source_line": spec.line}

    def _differs(self, row, spec, names):
        """Which of `names` the file would change (the village compared by its natural key)."""
        values = self._values(spec, self.tours[spec.tour].van, None)
        diff = [n for n in names if n not in ("village_id", "source_line")
                and getattr(row, n) != values[n]]
        if "village_id" in names and (row.village.name_en, row.village.block,
                                      row.village.district) != (spec.village_en, spec.block,
                                                                spec.district):
            diff.append("village")
        return diff

    @staticmethod
    def _items_differ(row, spec):
        current = [(i.prefix, i.ref, i.phase) for i in
                   ProgrammeItem.select().where(ProgrammeItem.screening == row.id)
                   .order_by(ProgrammeItem.position)]
        return current != [(i.prefix, i.ref, i.phase) for i in spec.items]

    def windows(self):
        """Every show of the vans concerned, as it will be after the import."""
        out, ids, seen = [], list(self.tours), set()
        vans = {t.van for t in self.tours.values() if t.van}
        for tour in self.tours.values():
            rows = self.existing.get(tour.id, {})
            for spec in tour.screenings:
                key = (tour.id, spec.key.casefold())
                if not spec.complete or not tour.van or key in seen:
                    continue                    # a duplicate is reported as such, not as overlap
                seen.add(key)
                row = rows.get(spec.key)
                if row is not None and (row.status != "planned" or row.id in self.rescheduled):
                    if row.status != "cancelled":    # kept as the crew left it
                        out.append(self._db_window(row, f"tour '{tour.id}', kept as the crew left it"))
                    continue
                out.append(validate.window_for(spec, tour.van, self.zone))
        if vans:
            others = (Screening.select(Screening, Village).join(Village)
                      .where(Screening.van.in_(list(vans)) & Screening.tour.not_in(ids)
                             & (Screening.status != "cancelled")))
            out += [self._db_window(row, f"tour '{row.tour_id}', already imported") for row in others]
        return out

    @staticmethod
    def _db_window(row, where):
        return Window(row.van, row.starts_at, row.starts_at + dt.timedelta(minutes=row.duration_min),
                      f"{row.village.name_en} {row.date} {row.start}", where=where)

    def apply(self, shas) -> dict:
        counts = {"tours": {"added": 0, "updated": 0, "unchanged": 0},
                  "screenings": {"added": 0, "updated": 0, "unchanged": 0, "removed": 0},
                  "villages": {"added": 0, "updated": 0}}
        for tour in self.tours.values():
            if tour.campaign and not Campaign.select().where(Campaign.id == tour.campaign).exists():
                Campaign(id=tour.campaign, title_en=tour.campaign).save_change(force_insert=True)
            files = sorted(tour.files)
            sha = (shas[files[0]] if len(files) == 1 else
                   hashlib.sha256("".join(shas[f] for f in files).encode()).hexdigest())
            values = {"title": tour.title, "van": tour.van, "campaign_id": tour.campaign or None,
                      "source_file": ", ".join(Path(f).name for f in files)[:255],
                      "source_sha256": sha}
            counts["tours"][_upsert(Tour, tour.id, values)] += 1
        villages = {}
        for tour in self.tours.values():
            for spec in tour.screenings:
                place = (spec.district, spec.block, spec.village_en)
                if place not in villages:
                    villages[place] = self._village(spec, counts["villages"])
        for row in self.removals:
            ProgrammeItem.delete().where(ProgrammeItem.screening == row.id).execute()
            row.delete_instance()
            counts["screenings"]["removed"] += 1
        for tour in self.tours.values():
            rows = self.existing.get(tour.id, {})
            for spec in tour.screenings:
                place = (spec.district, spec.block, spec.village_en)
                outcome = self._screening(tour, spec, rows.get(spec.key), villages[place])
                counts["screenings"][outcome] += 1
        return counts

    @staticmethod
    def _village(spec, counts):
        row = Village.get_or_none((Village.name_en == spec.village_en) & (Village.block == spec.block)
                                  & (Village.district == spec.district))
        if row is None:
            Village(id=village_id(spec.district, spec.block, spec.village_en), name=spec.village,
                    name_en=spec.village_en, block=spec.block,
                    district=spec.district).save_change(force_insert=True)
            counts["added"] += 1
            return village_id(spec.district, spec.block, spec.village_en)
        if row.name != spec.village:
            row.name = spec.village
            row.save_change()
            counts["updated"] += 1
        return row.id

    def _screening(self, tour, spec, row, village):
        values = self._values(spec, tour.van, village)
        if row is None:
            row = Screening(id=stable_id(values["starts_at"], tour.id, spec.date, spec.village_en),
                            tour=tour.id, key=spec.key, status="planned", **values)
            row.save_change(force_insert=True)
            _sync_items(row, spec.items, tour.van)
            return "added"
        if row.status != "planned":
            return "unchanged"
        if row.id in self.rescheduled:
            for name in CREW_TIME_FIELDS:
                values.pop(name)
        # source_line alone is no change: a line added above would otherwise re-sync the
        # whole tour; it is refreshed whenever the screening really changes.
        changed = [n for n, v in values.items() if n != "source_line" and getattr(row, n) != v]
        for name in changed + ["source_line"]:
            setattr(row, name, values[name])
        items_changed = _sync_items(row, spec.items, tour.van)
        if changed or items_changed:
            row.save_change()
            return "updated"
        return "unchanged"


def _upsert(model, pk, values) -> str:
    row = model.get_or_none(model._meta.primary_key == pk)
    if row is None:
        model(id=pk, **values).save_change(force_insert=True)
        return "added"
    changed = [n for n, v in values.items() if getattr(row, n) != v]
    if not changed:
        return "unchanged"
    for name in changed:
        setattr(row, name, values[name])
    row.save_change()
    return "updated"


def _sync_items(screening, items, van) -> bool:
    """Make the screening's programme items match `items`, position by position."""
    current = {i.position: i for i in
               ProgrammeItem.select().where(ProgrammeItem.screening == screening.id)}
    changed = False
    for position, item in enumerate(items):
        values = {"kind": item.kind, "prefix": item.prefix, "ref": item.ref, "phase": item.phase,
                  "van": van}
        row = current.pop(position, None)
        if row is None:
            ProgrammeItem(id=stable_id(screening.starts_at, screening.id, str(position)),
                          screening=screening.id, position=position, **values
                          ).save_change(force_insert=True)
            changed = True
        elif any(getattr(row, n) != v for n, v in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.save_change()
            changed = True
    for row in current.values():
        row.delete_instance()
        changed = True
    return changed
