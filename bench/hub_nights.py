"""Fill a hub with nights shaped like the campaign's: for bench/hub_scale.py.

Screening i is van i % VANS's, on day i // VANS of the campaign (so 75,000 screenings are 750
nights of 100 vans, two years). The plan (campaign, tours, villages, screenings, games) is written
as a tour import writes it; what happened is stored the way sync stores it: each van's records
in its outbox order, cut into batches of 2,000 and applied with `receive.apply_batch` (checks,
idempotency, facts and all); QR summaries through `receive.store_summary`. Deterministic: the
same index gives the same night, so a hub grows from one size to the next.

A night: started and finished events; about 200 tally taps over four categories (1 % in a crew
category of its own; about 3 % are -1 corrections); start and end headcounts; 0-6 sign-ins;
four plays; a quiz (two questions), a poll asked before and after the film, a pledge. Some
nights are different: 3 % cancelled (rain or generator; a few taps before), 2 % rescheduled to
the next day and held, 2 % known only from their QR summary, 5 % with a summary and the sync,
2 % (the newest) still planned, nothing received.
"""
import datetime as dt
import random
import uuid

VANS = 100
DISTRICTS = 40
VILLAGES_PER_DISTRICT = 500
FIRST_DAY = dt.date(2025, 1, 1)
BATCH = 2000
CATEGORIES = ("men", "women", "boys", "girls")
WEIGHTS = (30, 34, 17, 18)
UTC = dt.timezone.utc


def van_id(n: int) -> str:
    return f"van-{n:03d}"


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def screening_id(i: int) -> str:
    return str(uuid.UUID(int=(0x51 << 120) | i))


def kind_of(i: int, size: int) -> str:
    """What happened at screening i (the newest 2 % of a hub of `size` have not happened yet)."""
    if i >= size - max(1, size // 50):
        return "future"
    roll = random.Random(i * 7919).random()
    for kind, share in (("cancelled", 0.03), ("rescheduled", 0.02), ("qr_only", 0.02), ("qr_and_sync", 0.05)):
        if roll < share:
            return kind
        roll -= share
    return "night"


def setup_plan(start: int, end: int) -> None:
    """The hub's plan for screenings start..end-1 (with campaigns, games, vans the first time)."""
    from vanapp.models import Campaign, Game, Screening, Tour, Van, Village, db
    with db.atomic():
        if start == 0:
            Campaign.insert(id="bell-bajao", title_hi="बेल बजाओ", title_en="Bell Bajao").execute()
            Campaign.insert(id="helpline", title_hi="हेल्पलाइन 181", title_en="Helpline 181").execute()
            Game.insert_many([
                {"id": "bell-quiz", "kind": "quiz", "title_hi": "क्विज़", "title_en": "Quiz",
                 "content": {"questions": [{"id": "q1", "answer": "c"}, {"id": "q2", "answer": "b"}]}},
                {"id": "attitude", "kind": "poll", "title_hi": "राय", "title_en": "Poll", "content": {}},
                {"id": "pledge", "kind": "pledge", "title_hi": "प्रतिज्ञा", "title_en": "Pledge", "content": {}},
            ]).execute()
            for v in range(VANS):
                Van.insert(id=van_id(v), name=f"Van {v}", paired_at=dt.datetime(2025, 1, 1, tzinfo=UTC),
                           secret_hash="x" * 64).execute()
            villages = [{"id": f"village-{d}-{n}", "name": f"गाँव {d}-{n}", "name_en": f"Village {d}-{n}",
                         "block": f"Block {d}-{n % 8}", "district": f"District {d:02d}"}
                        for d in range(DISTRICTS) for n in range(VILLAGES_PER_DISTRICT)]
            for chunk in range(0, len(villages), 1000):
                Village.insert_many(villages[chunk:chunk + 1000]).execute()
            tours = [{"id": f"tour-{van_id(v)}", "title": f"Tour of {van_id(v)}",
                      "campaign": "helpline" if v % 5 == 0 else "bell-bajao", "van": van_id(v)} for v in range(VANS)]
            Tour.insert_many(tours).execute()
        rows = []
        for i in range(start, end):
            van, day = i % VANS, i // VANS
            district = (van * 2 + day % 2) % DISTRICTS
            village = f"village-{district}-{(day * 7 + van) % VILLAGES_PER_DISTRICT}"
            date = FIRST_DAY + dt.timedelta(days=day)
            rows.append({"id": screening_id(i), "tour": f"tour-{van_id(van)}", "key": f"{date}/{i}",
                         "village": village, "date": date.isoformat(), "start": "18:30",
                         "starts_at": dt.datetime.combine(date, dt.time(13, 0), tzinfo=UTC),
                         "van": van_id(van), "programme": "standard"})
            if len(rows) == 1000:
                Screening.insert_many(rows).execute()
                rows = []
        if rows:
            Screening.insert_many(rows).execute()


def _record(van: str, when: dt.datetime, **fields) -> dict:
    stamp = iso(when)
    return {"id": str(uuid.uuid4()), "van": van, "version": 1, "created_at": stamp, "updated_at": stamp, **fields}


def night_records(i: int, size: int) -> tuple[list[tuple[str, dict]], dict | None]:
    """(the van's records of screening i in outbox order as (model, row), its QR summary or None)."""
    kind = kind_of(i, size)
    if kind == "future":
        return [], None
    rng = random.Random(i)
    van, day = van_id(i % VANS), i // VANS
    sid = screening_id(i)
    start = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(13, 0), tzinfo=UTC)
    out: list[tuple[str, dict]] = []

    def event(kind_name, minutes, **more):
        out.append(("ScreeningEvent", _record(van, start, screening=sid, kind=kind_name, reason=more.pop("reason", ""),
                                              new_date=more.pop("new_date", ""), new_start=more.pop("new_start", ""),
                                              at=iso(start + dt.timedelta(minutes=minutes)))))

    def taps(n):
        for k in range(n):
            at = start + dt.timedelta(seconds=30 + k * 9)
            category = "elders" if rng.random() < 0.01 else rng.choices(CATEGORIES, WEIGHTS)[0]
            delta = -1 if rng.random() < 0.03 else 1
            out.append(("TallyEvent", _record(van, at, screening=sid, category=category, delta=delta, at=iso(at),
                                              device=f"phone-{k % 4}")))
    counts = {}
    if kind == "cancelled":
        event("started", 0)
        taps(rng.randrange(0, 10))
        event("cancelled", 20, reason=rng.choice(("rain", "generator")))
        return out, None
    if kind == "rescheduled":
        moved = FIRST_DAY + dt.timedelta(days=day + 1)
        event("rescheduled", -600, reason="generator", new_date=moved.isoformat(), new_start="18:30")
        start += dt.timedelta(days=1)
    n = rng.randrange(120, 280)
    if kind in ("qr_only", "qr_and_sync"):
        for _ in range(n):
            c = rng.choices(CATEGORIES, WEIGHTS)[0]
            counts[c] = counts.get(c, 0) + 1
        summary = {"van": van, "screening": sid, "date": (start.date()).isoformat(), "village": f"Village {i}",
                   "counts": counts, "total": n, "headcounts": {"start": n // 2, "end": n},
                   "participants": rng.randrange(0, 5), "plays": [], "pledges": {"pledge": n // 3}}
        if kind == "qr_only":
            return [], summary
    else:
        summary = None
    event("started", 0)
    taps(n)
    out.append(("Headcount", _record(van, start, screening=sid, kind="start", count=n // 2, at=iso(start))))
    out.append(("Headcount", _record(van, start, screening=sid, kind="end", count=n,
                                     at=iso(start + dt.timedelta(hours=2)))))
    for _ in range(rng.randrange(0, 7)):
        out.append(("Participant", _record(van, start, screening=sid, name="x",
                                           gender=rng.choice(("woman", "man", "unsaid")),
                                           age_band=rng.choice(("under-18", "18-30", "31-45", "46-60")),
                                           village="", phone="", consent_version="1", consent_at=iso(start))))
    for pos in range(4):
        out.append(("PlayLog", _record(van, start, screening=sid, position=pos, kind="media", media_id="ring-the-bell",
                                       started_at=iso(start), ended_at=iso(start + dt.timedelta(minutes=3)),
                                       position_ms=180000, duration_ms=180000, outcome="completed", error="")))

    def game(game_id, phase, minutes, results):
        run = _record(van, start, screening=sid, game_id=game_id, phase=phase, position=None, state="finished",
                      started_at=iso(start + dt.timedelta(minutes=minutes)),
                      finished_at=iso(start + dt.timedelta(minutes=minutes + 5)), scores={})
        out.append(("GameRun", run))
        for question, result_counts, answer in results:
            out.append(("GameResult", _record(van, start, run=run["id"], question_id=question, counts=result_counts,
                                              answer=answer, closed_at=iso(start))))

    def hands(choices):
        return {c: {"phones": rng.randrange(0, 20), "hands": rng.randrange(0, 30)} for c in choices}
    game("attitude", "before", 10, [("private-matter", hands(("yes", "no", "unsure")), "")])
    game("bell-quiz", "", 40, [("q1", hands("abc"), "c"), ("q2", hands("abc"), "")])
    game("attitude", "after", 70, [("private-matter", hands(("yes", "no", "unsure")), "")])
    game("pledge", "", 90, [("pledge", {"pledged": {"phones": rng.randrange(0, 40), "hands": rng.randrange(0, 60)}}, "")])
    event("finished", 120)
    return out, summary


def document(van: str, seq: int, records: list[tuple[str, dict]]) -> dict:
    """A push batch as the van's outbox makes it (column lists per model, in the wire format)."""
    from vanapp.protocol import records as tables
    from vanapp.protocol.wire import FORMAT, encode_models
    by_model: dict[str, list[dict]] = {}
    for model, row in records:
        by_model.setdefault(model, []).append(row)
    encoded = []
    for table in tables.ordered_tables("van"):
        rows = by_model.get(table.name)
        if not rows:
            continue
        columns = [c for c in table.columns if c in rows[0]]
        encoded.append((table.name, columns, table.time_columns, [[r[c] for r in rows] for c in columns]))
    return {"format": FORMAT, "kind": "push", "van": van, "epoch": f"epoch-{van}", "key": uuid.uuid4().hex,
            "from": seq, "to": seq + len(records), "models": encode_models(encoded)}


class Filler:
    """Grows a hub from `done` screenings to more, night by night, as the vans would sync them."""

    def __init__(self):
        self.done = 0
        self.seq = {van_id(v): 0 for v in range(VANS)}
        self.pending = {van_id(v): [] for v in range(VANS)}
        self.stored = 0
        self.batches = 0
        self.apply_seconds = 0.0

    def grow(self, size: int) -> None:
        import time
        from vanapp.hub import receive
        setup_plan(self.done, size)
        # the nights that had not happened yet at the last size have now, and sync late
        late = self.done - max(1, self.done // 50) if self.done else 0
        for i in range(late, size):
            recs, summary = night_records(i, size)
            van = van_id(i % VANS)
            self.pending[van].extend(recs)
            if summary is not None:
                receive.store_summary(summary)
            if len(self.pending[van]) >= BATCH:
                self._flush(van, receive, time)
        for van in self.pending:
            if self.pending[van]:
                self._flush(van, receive, time)
        self.done = size

    def _flush(self, van, receive, time):
        batch, self.pending[van] = self.pending[van], []
        doc = document(van, self.seq[van], batch)
        began = time.perf_counter()
        ack = receive.apply_batch(van, doc, "push")
        self.apply_seconds += time.perf_counter() - began
        self.seq[van] += len(batch)
        self.stored += ack["stored"]
        self.batches += 1
