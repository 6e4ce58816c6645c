"""The numbers the hub keeps per screening, on SQLite and on a real PostgreSQL server: after every
kind of arrival (batches, a batch sent again, newer versions, QR summaries, a game or a plan that
comes after what it decides) they equal a recount of the records, and the reports summed from
them equal the hub's numbers as it used to recount them on every request (tests/support/
legacy_report.py). A night belongs to its van. `vanapp hub facts` finds a difference and mends it;
migration 0100 fills the numbers of a hub that holds records already."""
import datetime as dt
import json
import re

import pytest

from vanapp.protocol.summary import encode_summary, summary_key
from vanapp.hub import facts_store, reports
from vanapp.hub.reports import Filters
from vanapp.ids import new_id, to_iso
from vanapp.models import Game, GameRun, Screening, ScreeningFact, db

from .support import legacy_report
from .support.factories import make_screening
from .test_hub_dashboard_scenario import COORDINATOR, PASSWORD, login
from .test_hub_sync_protocol import T0, body, hub, paired, push, sqlite_template  # noqa: F401

FILTERS = [{}, {"van": "van-03"}, {"van": "van-04"}, {"district": "Barabanki"}, {"campaign": "bell-bajao"},
           {"from": "2026-11-24"}, {"to": "2026-11-23"}, {"from": "2026-11-25", "to": "2026-11-30"}]


def agree():
    """The kept numbers equal a recount, and every report equals the old way of counting."""
    with db.connection_context():
        assert [str(d) for d in facts_store.check()] == []
        for args in FILTERS:
            filters = Filters.parse(args)
            assert reports.report(filters, vans=False) == legacy_report.report(filters), args


def rec(van="van-03", version=1, **fields):
    """A van-owned record as it travels (times as on the wire)."""
    fields = {k: to_iso(v) if isinstance(v, dt.datetime) else v for k, v in fields.items()}
    return {"id": new_id(), "van": van, "version": version, "created_at": to_iso(T0), "updated_at": to_iso(T0),
            **fields}


def taps(screening, category, n, delta=1, minute=0):
    return [rec(screening=screening, category=category, delta=delta,
                at=T0 + dt.timedelta(minutes=minute, seconds=i), device="phone-1") for i in range(n)]


def event(screening, kind, minute, **fields):
    return rec(screening=screening, kind=kind, reason=fields.pop("reason", ""), new_date=fields.pop("new_date", ""),
               new_start=fields.pop("new_start", ""), at=T0 + dt.timedelta(minutes=minute), **fields)


def run(screening, game, phase="", minute=30):
    return rec(screening=screening, game_id=game, phase=phase, state="finished", scores={},
               started_at=to_iso(T0 + dt.timedelta(minutes=minute)))


def result(run_row, question, counts, answer=""):
    return rec(run=run_row["id"], question_id=question, counts=counts, answer=answer)


def game(game_id, kind, content=None):
    return {"id": game_id, "van": "", "version": 1, "created_at": to_iso(T0), "updated_at": to_iso(T0),
            "kind": kind, "title_hi": game_id, "title_en": game_id, "campaign": "", "file": "", "sha256": "",
            "content": content or {}}


class Night:
    """Pushes and summaries of one van, numbered like the van's outbox."""

    def __init__(self, hub, van="van-03"):
        self.hub, self.van, self.auth, self.seq = hub, van, paired(hub, van), 0

    def push(self, rows, key=None):
        n = sum(map(len, rows.values()))
        answer = push(self.hub, self.auth, body(rows, van=self.van, key=key, start=self.seq, end=self.seq + n))
        assert answer.status_code == 200, answer.get_json()
        self.seq += n
        return answer.get_json()

    def summary(self, screening, counts, **night):
        secret = bytes.fromhex(self.auth.rsplit(".", 1)[1])
        text = encode_summary(dict({"screening": screening, "date": "2026-11-23", "village": "Rampur",
                                    "counts": counts, "headcounts": {}, "participants": 0, "plays": [],
                                    "pledges": {}}, **night),
                              summary_key(secret), self.van, hub_url="http://hub.example")
        answer = self.hub.test_client().post(text.split("http://hub.example", 1)[1],
                                             headers={"Accept": "application/json"})
        assert answer.status_code in (200, 201), answer.get_json()
        return answer.get_json()


def plan(van="van-03", **kwargs):
    with db.connection_context():
        return make_screening(van=van, **kwargs).id


def test_the_kept_numbers_equal_a_recount_after_each_kind_of_arrival(hub):
    a = plan(date="2026-11-23")
    b = plan(date="2026-11-24", village="सुबेहा", village_en="Subeha")
    c = plan(date="2026-11-25", village="महोली", village_en="Maholi", tour="tour-2")
    van = Night(hub)
    agree()

    # taps with corrections, a headcount, sign-ins and the show starting; then the same batch again
    first = {"ScreeningEvent": [event(a, "started", 0)],
             "TallyEvent": taps(a, "men", 10) + taps(a, "women", 5, minute=1) + taps(a, "men", 2, -1, minute=2)
             + taps(a, "elders", 1, minute=3),
             "Headcount": [rec(screening=a, kind="start", count=20, at=T0)],
             "Participant": [rec(screening=a, name="x", gender=g, age_band=band, village="", phone="",
                                 consent_version="1", consent_at=to_iso(T0))
                             for g, band in (("woman", "18-30"), ("man", "31-45"))]}
    key = new_id()
    van.push(first, key=key)
    agree()
    van.seq -= sum(map(len, first.values()))
    assert van.push(first, key=key)["replayed"] is True
    agree()

    # B known only from its QR summary, with pledges and sign-ins
    van.summary(b, {"men": 7, "women": 9}, date="2026-11-24", participants=4, pledges={"pledge": 11})
    agree()

    # games: a quiz whose game arrives later, a pledge, a poll before and after the film
    quiz, pledge, before, after = run(a, "late-quiz"), run(a, "pledge"), run(a, "attitude", "before"), \
        run(a, "attitude", "after", minute=60)
    q1 = result(quiz, "q1", {"a": {"phones": 3, "hands": 1}, "c": {"phones": 5, "hands": 2}})
    van.push({"Game": [game("pledge", "pledge"), game("attitude", "poll")],
              "GameRun": [quiz, pledge, before, after],
              "GameResult": [q1, result(pledge, "pledge", {"pledged": {"phones": 9, "hands": 4}}),
                             result(before, "private-matter", {"yes": 6, "no": 3, "unsure": 0}),
                             result(after, "private-matter", {"yes": 2, "no": 7})]})
    agree()
    van.push({"Game": [game("late-quiz", "quiz", {"questions": [{"id": "q1", "answer": "c"}]})]})
    with db.connection_context():
        assert reports.report(Filters(), vans=False)["quiz"][0]["correct"] == 7
    agree()

    # newer versions: a corrected headcount, a result recounted, a run moved to "before"
    van.push({"Headcount": [dict(first["Headcount"][0], version=2, count=25)],
              "GameResult": [dict(q1, version=2, counts={"a": 1, "c": 12})],
              "GameRun": [dict(quiz, version=2, phase="before")]})
    agree()

    # C: started, cancelled for rain (its taps do not count), rescheduled, then held
    van.push({"ScreeningEvent": [event(c, "started", 0), event(c, "cancelled", 30, reason="rain")],
              "TallyEvent": taps(c, "women", 3)})
    agree()
    van.push({"ScreeningEvent": [event(c, "rescheduled", 60, new_date="2026-11-27", new_start="19:00"),
                                 event(c, "reopened", 70)]})
    agree()
    van.push({"ScreeningEvent": [event(c, "finished", 200)], "TallyEvent": taps(c, "boys", 2)})
    agree()

    # B's taps arrive: they count instead of its summary, never both
    van.push({"TallyEvent": taps(b, "girls", 4)})
    agree()

    # D: its QR summary first (the hub has no plan: counted as the summary says), then the van's
    # batch brings its plan and its taps
    with db.connection_context():
        template = Screening.get_by_id(a)
        d = {"id": new_id(), "van": "van-03", "version": 1, "created_at": to_iso(T0), "updated_at": to_iso(T0),
             "tour": template.tour_id, "key": "2026-11-28/Rampur", "village": template.village_id,
             "date": "2026-11-28", "start": "18:30", "starts_at": to_iso(T0 + dt.timedelta(days=5)),
             "duration_min": 120, "programme": "", "notes": "", "status": "planned", "status_reason": "",
             "source_line": 0}
    van.summary(d["id"], {"men": 30}, date="2026-11-28", village="Rampur (van)")
    with db.connection_context():
        assert reports.report(Filters(), vans=False)["people"]["from_qr_summary"] == 30
    agree()
    van.push({"Screening": [d], "TallyEvent": taps(d["id"], "men", 3)})
    agree()


def test_a_night_belongs_to_its_van(hub):
    """van-04 signs a summary for a screening the hub planned for van-03: kept for review, shown
    with the van that sent it, never counted over van-03's own night."""
    a = plan(date="2026-11-23")
    b = plan(date="2026-11-24", village="सुबेहा", village_en="Subeha")
    van03, van04 = Night(hub, "van-03"), Night(hub, "van-04")
    van03.summary(a, {"men": 2, "women": 4})
    answer = van04.summary(a, {"men": 60, "women": 40})
    assert answer["stored"] is True and answer["counted"] is False
    van04.summary(b, {"men": 50})               # van-03 said nothing of B
    with db.connection_context():
        data = reports.report(Filters())
        assert (data["people"]["total"], data["screenings"]["held"]) == (6, 1)
        vans = {v["van"]: v for v in data["vans"]}
        assert (vans["van-04"]["summaries_for_review"], vans["van-04"]["qr_only_nights"]) == (2, 0)
        assert (vans["van-03"]["summaries_for_review"], vans["van-03"]["qr_only_nights"]) == (0, 1)
        assert reports.report(Filters(van="van-04"))["people"]["total"] == 0
        from vanapp.hub.accounts import create_coordinator
        create_coordinator(COORDINATOR, PASSWORD)
    agree()
    coordinator = hub.test_client()
    login(coordinator)
    page = coordinator.get(f"/screenings/{a}?lang=en").get_data(as_text=True)
    assert 'data-review-van="van-04"' in page and "Total 100" in page
    assert "Attendance: 6</h2>" in page
    vans_page = coordinator.get("/vans?lang=en").get_data(as_text=True)
    assert 'data-for-review="2"' in vans_page
    # the summary of van-03 sent after van-04's still counts: the order does not decide
    van03.summary(b, {"girls": 3})
    with db.connection_context():
        assert reports.report(Filters(), vans=False)["people"]["total"] == 9
    agree()


def test_hub_facts_finds_a_difference_and_rebuild_mends_it(hub):
    from flask.cli import ScriptInfo
    from click.testing import CliRunner
    from vanapp.cli import cli
    a = plan(date="2026-11-23")
    Night(hub).push({"TallyEvent": taps(a, "men", 4)})
    runner = CliRunner()

    def facts(*args):
        return runner.invoke(cli, ["hub", "facts", *args], obj=ScriptInfo(create_app=lambda: hub))
    ok = facts()
    assert ok.exit_code == 0 and "equal a recount" in ok.output, ok.output
    with db.connection_context():
        ScreeningFact.update(men=ScreeningFact.men + 1).execute()
        Game.create(id="stray", kind="quiz", content={})          # content alone changes nothing
    bad = facts("--json")
    assert bad.exit_code == 1
    found = json.loads(bad.output)["differences"]
    assert [(d["key"], d["field"], d["stored"], d["recounted"]) for d in found] == [(a, "men", 5, 4)]
    mended = facts("--rebuild")
    assert mended.exit_code == 0 and "rebuilt the numbers of 1 screenings" in mended.output
    assert facts().exit_code == 0


def test_the_trace_of_a_total_is_paged(hub):
    ids = [plan(date=f"2026-11-{day:02d}", village_en=f"V{day}", village=f"V{day}") for day in range(1, 8)]
    van = Night(hub)
    van.push({"TallyEvent": [t for i, s in enumerate(ids) for t in taps(s, "women", i + 1)]})
    with db.connection_context():
        from vanapp.hub.accounts import create_coordinator
        create_coordinator(COORDINATOR, PASSWORD)
    coordinator = hub.test_client()
    login(coordinator)
    page = coordinator.get("/screenings?metric=people&limit=3&offset=3&lang=en").get_data(as_text=True)
    assert re.findall(r'<tr data-screening="([^"]+)">', page) == ids[3:6]
    assert 'data-count="7"' in page and '<span class="trace-total">28</span>' in page
    assert "offset=0" in page and "offset=6" in page             # previous and next
    assert coordinator.get("/screenings?metric=people&limit=0").status_code == 400
    assert coordinator.get("/screenings?metric=people&offset=x").status_code == 400


def test_a_batch_leaving_out_a_column_with_a_default_stores_the_default_and_keeps_the_facts(hub):
    """A batch may omit a column whose default the model knows (a game run's scores): the hub
    stores the default (it was a 500: NOT NULL), and the kept numbers still equal a recount."""
    a = plan(date="2026-11-23")
    van = Night(hub)
    bare = run(a, "quiz")
    del bare["scores"]
    answer = push(hub, van.auth, body({"GameRun": [bare]}))
    assert answer.status_code == 200, answer.get_json()
    with hub.app_context(), db.connection_context():
        assert GameRun.get_by_id(bare["id"]).scores == {}
    agree()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0100_counts_what_an_existing_hub_holds(backend, tmp_path, request):
    """A hub upgraded with records already stored reports the same numbers at once."""
    from playhouse.migrations import Runner
    from vanapp import create_app, db as database
    from vanapp.db import MIGRATIONS_DIR
    from .test_hub_dashboard_scenario import EXPECTED, build
    url = request.getfixturevalue("pg_fresh_url") if backend == "postgres" else ""
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "hub"), "MODE": "hub", "DATABASE_URL": url})
    with app.app_context(), db.connection_context():
        Runner(db.obj, directory=str(MIGRATIONS_DIR)).up(target="0090_media_expected")
        build(recount=False)
    assert database.migrate()[0] == "0100_hub_facts"       # and the later ones
    with app.app_context(), db.connection_context():
        assert ScreeningFact.select().count() == 8              # every planned screening, S7 with nothing yet
        assert facts_store.check() == []
        data = reports.report(Filters())
        for key, value in EXPECTED.items():
            assert data[key] == value, key


def test_exports_stream_more_screenings_than_fit_in_one_chunk(hub):
    """The CSVs come from a server-side cursor, a chunk of screenings at a time: over several
    chunks they still carry every screening once, and add up to the dashboard."""
    import csv
    import io
    from vanapp.hub import exports
    from vanapp.models import GameResult, GameRun, Screening, TallyEvent, Tour, Village
    n = exports.CHUNK * 2 + 37
    now = to_iso(T0)
    with db.connection_context():
        first = make_screening(date="2026-01-01", van="van-03")
        village, tour = Village.get(), Tour.get()
        plan = [{"id": f"s-{i:05d}", "tour": tour.id, "key": f"k{i}", "village": village.id,
                 "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", "start": "18:30", "starts_at": now,
                 "van": "van-03"} for i in range(n)]
        with db.atomic():
            for k in range(0, n, 200):
                Screening.insert_many(plan[k:k + 200]).execute()
            taps_rows = [{"id": new_id(), "screening": p["id"], "category": ("men", "women")[j], "delta": 1,
                          "at": now, "van": "van-03", "received_at": now, "created_at": now, "updated_at": now}
                         for p in plan for j in range(2)]
            for k in range(0, len(taps_rows), 500):
                TallyEvent.insert_many(taps_rows[k:k + 500]).execute()
            for p in plan[::2]:
                run_row = GameRun.create(van="van-03", screening=p["id"], game_id="pledge", started_at=T0,
                                         received_at=T0)
                GameResult.create(van="van-03", run=run_row, question_id="pledge",
                                  counts={"pledged": {"phones": 1, "hands": 2}}, received_at=T0)
        facts_store.rebuild()
        data = reports.report(Filters(), vans=False)
        from vanapp.hub.accounts import create_coordinator
        create_coordinator(COORDINATOR, PASSWORD)
    assert first.id and data["screenings"]["held"] == n
    coordinator = hub.test_client()
    login(coordinator)
    got = {}
    for name in ("screenings", "attendance", "game_results"):
        answer = coordinator.get(f"/export/{name}.csv")
        assert answer.status_code == 200 and answer.is_streamed
        got[name] = list(csv.DictReader(io.StringIO(answer.get_data().decode("utf-8-sig"), newline="")))
    ids = [r["screening_id"] for r in got["screenings"]]
    assert len(ids) == len(set(ids)) == n + 1
    assert [r["date"] for r in got["screenings"]] == sorted(r["date"] for r in got["screenings"])
    assert sum(int(r["count"]) for r in got["attendance"]) == data["people"]["total"] == 2 * n
    assert len(got["game_results"]) == len(plan[::2])


MONTH_DAYS = ["", "2026-09-01", "2026-09-30", "2026-10-01", "2026-10-15", "2026-10-31", "2026-11-01",
              "2026-11-23", "2026-11-30", "2026-12-01", "2027-01-31"]


def agree_over_months(extra=({},)):
    """Every report under date ranges with whole months and with edges (month_sums.split) equals
    the old way of counting, and the month rows equal a fresh sum of the per-screening rows."""
    from vanapp.hub import month_sums
    assert month_sums.check() == []
    assert [str(d) for d in facts_store.check()] == []
    ranges = [(a, b) for a in MONTH_DAYS for b in MONTH_DAYS if not (a and b and a > b)]
    whole_and_edges = set()
    for first, last in ranges:
        for more in extra:
            filters = Filters.parse({"from": first, "to": last, **more})
            whole, edges = month_sums.split(filters)
            whole_and_edges.add((whole is not None, bool(edges)))
            assert reports.report(filters, vans=False) == legacy_report.report(filters), (first, last, more)
    assert whole_and_edges == {(True, False), (True, True), (False, True)}     # every way a range splits


def test_month_sums_follow_every_change_and_a_report_over_months_equals_its_screenings(hub):
    """The month rows (migration 0130) follow the per-screening rows through plan changes, moves
    across months, cancellations, deletions, a village moved to another district and a tour to
    another campaign; a report over any range equals its screenings; --check finds a month row
    changed by hand and --rebuild mends it."""
    from vanapp.hub import month_sums
    from vanapp.models import Screening, Tour, Village
    from .test_hub_dashboard_scenario import build
    with db.connection_context():
        ids = build()
        for name, day in zip(sorted(ids), ["2026-09-30", "2026-10-01", "2026-10-31", "2026-11-01",
                                           "2026-11-30", "2026-12-01", "2026-10-15", "2027-01-31"]):
            Screening.update(date=day).where(Screening.id == ids[name]).execute()
        agree_over_months(({}, {"van": "van-05"}, {"district": "Barabanki"}, {"campaign": "helpline"}))
        stored = db.execute_sql("SELECT COUNT(*) FROM month_fact").fetchone()[0]
        assert 0 < stored < len(ids)            # fewer month rows than screenings already
        Screening.update(date="2026-12-02").where(Screening.id == ids["S1"]).execute()
        Screening.update(status="cancelled", status_reason="rain").where(Screening.id == ids["S4"]).execute()
        Village.update(district="Sitapur").where(Village.district == "Lucknow").execute()
        Tour.update(campaign="helpline").where(Tour.id == "barabanki-t").execute()
        Screening.delete().where(Screening.id == ids["S7"]).execute()      # a night with nothing yet
        agree_over_months(({}, {"district": "Sitapur"}, {"campaign": "helpline"}))
        db.execute_sql("UPDATE month_fact SET people = people + 3")
        assert any(d.what == "month" and d.field == "people" for d in facts_store.check())
        facts_store.rebuild()
        assert month_sums.check() == [] and facts_store.check() == []
