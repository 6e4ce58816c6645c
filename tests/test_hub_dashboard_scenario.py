"""A hub holding records from three vans, with totals counted by hand; shared by the hub dashboard
and CLI tests. The `hub_app` fixture runs every test that uses it on SQLite and on PostgreSQL."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from vanapp import create_app
from vanapp.db import migrate
from vanapp.ids import UTC, new_id
from vanapp.models import (Campaign, Coordinator, Game, GameResult, GameRun, Participant, Screening,
                           ScreeningEvent, SummaryReport, TallyEvent, Tour, Van, Village, db)

TZ = ZoneInfo("Asia/Kolkata")
COORDINATOR, PASSWORD = "asha", "bell-bajao-2026"
RECEIVED = {"van-03": dt.datetime(2027, 1, 30, 9, 0, tzinfo=UTC),
            "van-05": dt.datetime(2027, 1, 31, 12, 30, tzinfo=UTC),
            "van-07": dt.datetime(2027, 2, 1, 6, 15, tzinfo=UTC)}
INJECTION = "=HYPERLINK(\"http://x.example\",\"click\")"

# Hand-counted totals of `build()` (see the comments there for each screening's numbers).
EXPECTED = {
    "screenings": {"total": 8, "held": 6, "cancelled": 1, "not_held": 1, "held_from_qr_summary": 1},
    "villages_reached": 4,          # Rampur (S1, S3), Rahimabad (S4, S8), Nagram (S5), Maholi (S6)
    "districts_reached": 3,
    "people": {"men": 24, "women": 37, "boys": 7, "girls": 8, "other": 2, "total": 78,
               "male": 31, "female": 45, "adults": 61, "under_18": 15, "from_qr_summary": 19},
    "participants": {"total": 7, "from_qr_summary": 4,
                     "by_age_band": {"18-30": 1, "31-45": 1, "under-18": 1},
                     "by_gender": {"man": 1, "woman": 2}},
    "pledges": {"total": 38, "from_qr_summary": 11},
    "quiz": [
        {"game": "bell-quiz", "question": "q1", "answers": 14, "correct": 10, "screenings": 2,
         "correct_share": round(10 / 14, 4)},
        {"game": "bell-quiz", "question": "q2", "answers": 10, "correct": 5, "screenings": 1,
         "correct_share": 0.5},
    ],
    "polls": [{
        "game": "attitude", "question": "private-matter", "screenings": 2,
        "before": {"answers": 20, "shares": {"no": 0.4, "unsure": 0.05, "yes": 0.55}},
        "after": {"answers": 20, "shares": {"no": 0.8, "unsure": 0.05, "yes": 0.15}},
        "shift": {"no": 0.4, "unsure": 0.0, "yes": -0.4},
    }],
    "by_district": [{"name": "Barabanki", "held": 2, "villages": 1, "people": 35},
                    {"name": "Lucknow", "held": 3, "villages": 2, "people": 36},
                    {"name": "Sitapur", "held": 1, "villages": 1, "people": 7}],
}
# Which screenings each total comes from (keys of build()'s return value).
TRACE = {"held": {"S1", "S3", "S4", "S5", "S6", "S8"}, "cancelled": {"S2"},
         "screenings": {"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"},
         "qr_summary": {"S5"}, "pledges": {"S1", "S3", "S5"}, "participants": {"S1", "S5"},
         "quiz:bell-quiz:q1": {"S1", "S3"}, "poll:attitude:private-matter": {"S1", "S4"}}


def _starts(date, start):
    return dt.datetime.fromisoformat(f"{date}T{start}").replace(tzinfo=TZ)


def _screening(tour, van, village, date, status="planned", start="18:30"):
    return Screening.create(id=new_id(), tour=tour, key=f"{date}/{village.name_en}", village=village,
                            date=date, start=start, starts_at=_starts(date, start), van=van,
                            status=status, programme="standard")


def _van_record(model, van, **fields):
    return model.create(van=van, received_at=RECEIVED[van], **fields)


def _taps(s, van, category, n, delta=1):
    at = _starts(s.date, s.start) + dt.timedelta(minutes=5)
    TallyEvent.insert_many([{"id": new_id(), "screening": s.id, "category": category, "delta": delta,
                             "at": at, "van": van, "received_at": RECEIVED[van],
                             "created_at": at, "updated_at": at} for _ in range(n)]).execute()


def _event(s, van, kind, minutes=0, **fields):
    _van_record(ScreeningEvent, van, screening=s, kind=kind,
                at=_starts(s.date, s.start) + dt.timedelta(minutes=minutes), **fields)


def _game(s, van, game_id, results, phase=""):
    run = _van_record(GameRun, van, screening=s, game_id=game_id, phase=phase, state="finished",
                      started_at=_starts(s.date, s.start) + dt.timedelta(minutes=20 if phase != "after" else 60))
    for question, counts, answer in results:
        _van_record(GameResult, van, run=run, question_id=question, counts=counts, answer=answer)


def _participant(s, van, gender, band):
    _van_record(Participant, van, screening=s, name="x", gender=gender, age_band=band,
                consent_version="1", consent_at=_starts(s.date, s.start))


def build() -> dict:
    """Three vans, three districts, two campaigns; returns {"S1": screening id, ...}."""
    with db.atomic():
        Campaign.create(id="bell-bajao", title_hi="बेल बजाओ", title_en="Bell Bajao")
        Campaign.create(id="helpline", title_hi="हेल्पलाइन 181", title_en="Helpline 181")
        Game.create(id="bell-quiz", kind="quiz", title_hi="घंटी बजाओ क्विज़", title_en="Ring the Bell quiz",
                    content={"questions": [
                        {"id": "q1", "text": {"hi": "क़ानून", "en": "The law"},
                         "choices": [{"id": c, "text": {"hi": c, "en": c}} for c in "abc"], "answer": "c"},
                        {"id": "q2", "text": {"hi": "हेल्पलाइन", "en": "Helpline"},
                         "choices": [{"id": c, "text": {"hi": c, "en": c}} for c in "abc"], "answer": "b"}]})
        Game.create(id="attitude", kind="poll", title_hi="आपकी राय", title_en="What do you think?",
                    content={"questions": [{"id": "private-matter", "text": {"hi": "निजी मामला?", "en": "Private matter?"},
                                            "choices": [{"id": "yes", "text": {"hi": "हाँ", "en": "Yes"}},
                                                        {"id": "no", "text": {"hi": "नहीं", "en": "No"}},
                                                        {"id": "unsure", "text": {"hi": "पता नहीं", "en": "Not sure"}}]}]})
        Game.create(id="pledge", kind="pledge", title_hi="प्रतिज्ञा", title_en="Pledge", content={})
        Tour.create(id="barabanki-t", title="Barabanki", campaign="bell-bajao", van="van-03")
        Tour.create(id="lucknow-t", title="Lucknow", campaign="bell-bajao", van="van-05")
        Tour.create(id="sitapur-t", title="Sitapur", campaign="helpline", van="van-07")
        v1 = Village.create(name="रामपुर", name_en="Rampur", block="Haidergarh", district="Barabanki")
        v2 = Village.create(name="सुबेहा", name_en="Subeha", block="Haidergarh", district="Barabanki")
        v3 = Village.create(name="रहीमाबाद", name_en="Rahimabad", block="Mal", district="Lucknow")
        v4 = Village.create(name="नगराम", name_en=INJECTION, block="Mohanlalganj", district="Lucknow")
        v5 = Village.create(name="महोली", name_en="Maholi", block="Maholi", district="Sitapur")
        Van.create(id="van-03", name="Van 3", paired_at=RECEIVED["van-03"], last_sync_at=RECEIVED["van-03"])
        Van.create(id="van-05", name="Van 5", paired_at=RECEIVED["van-05"], last_sync_at=RECEIVED["van-05"])
        Van.create(id="van-07", name="Van 7", paired_at=RECEIVED["van-07"], revoked=True,
                   revoked_at=RECEIVED["van-07"])

        # S1 van-03 Rampur, done: men 10-2 = 8, women 8, boys 5, girls 4 (25); 3 sign-ins;
        # poll before yes 6 / no 3 / unsure 1, after 2 / 7 / 1; quiz q1 7 of 10, q2 5 of 10; pledge 22.
        s1 = _screening("barabanki-t", "van-03", v1, "2026-11-23", status="done")
        _event(s1, "van-03", "started")
        _event(s1, "van-03", "finished", 110)
        for category, n in (("men", 10), ("women", 8), ("boys", 5), ("girls", 4)):
            _taps(s1, "van-03", category, n)
        _taps(s1, "van-03", "men", 2, delta=-1)
        _participant(s1, "van-03", "woman", "18-30")
        _participant(s1, "van-03", "man", "31-45")
        _participant(s1, "van-03", "woman", "under-18")
        _game(s1, "van-03", "attitude", [("private-matter", {"yes": {"phones": 4, "hands": 2},
                                                             "no": {"phones": 1, "hands": 2},
                                                             "unsure": {"phones": 1, "hands": 0}}, "")], "before")
        _game(s1, "van-03", "attitude", [("private-matter", {"yes": {"phones": 2, "hands": 0},
                                                             "no": {"phones": 3, "hands": 4},
                                                             "unsure": {"phones": 0, "hands": 1}}, "")], "after")
        _game(s1, "van-03", "bell-quiz", [("q1", {"a": {"phones": 2, "hands": 0}, "b": {"phones": 1, "hands": 0},
                                                  "c": {"phones": 4, "hands": 3}}, "c"),
                                          ("q2", {"a": {"phones": 5, "hands": 0}, "b": {"phones": 2, "hands": 3}}, "b")])
        _game(s1, "van-03", "pledge", [("pledge", {"pledged": {"phones": 10, "hands": 12}}, "")])

        # S2 van-03 Subeha: cancelled for rain after 3 men were tapped, a quiz answer and a sign-in:
        # none of it counts.
        s2 = _screening("barabanki-t", "van-03", v2, "2026-11-24", status="cancelled")
        _taps(s2, "van-03", "men", 3)
        _participant(s2, "van-03", "man", "46-60")
        _game(s2, "van-03", "bell-quiz", [("q1", {"a": {"phones": 9, "hands": 0}}, "c")])
        _event(s2, "van-03", "cancelled", 30, reason="rain")

        # S3 van-03 Rampur again, planned 5 Dec, rescheduled to 6 Dec and held: men 4, women 6;
        # quiz q1 3 of 4 (answer from the game's content); poll asked only before (no shift); pledge 5.
        s3 = _screening("barabanki-t", "van-03", v1, "2026-12-05")
        _event(s3, "van-03", "rescheduled", -600, reason="generator", new_date="2026-12-06", new_start="18:30")
        _event(s3, "van-03", "started", 1500)
        _event(s3, "van-03", "finished", 1600)
        _taps(s3, "van-03", "men", 4)
        _taps(s3, "van-03", "women", 6)
        _game(s3, "van-03", "bell-quiz", [("q1", {"c": 3, "a": 1}, "")])
        _game(s3, "van-03", "attitude", [("private-matter", {"yes": 9}, "")], "before")
        _game(s3, "van-03", "pledge", [("pledge", {"pledged": 5}, "")])

        # S4 van-05 Rahimabad, started only: women 12-1 = 11, girls 3 (14); poll before 5/5, after 1/9.
        s4 = _screening("lucknow-t", "van-05", v3, "2027-01-18", status="in_progress")
        _event(s4, "van-05", "started")
        _taps(s4, "van-05", "women", 12)
        _taps(s4, "van-05", "women", 1, delta=-1)
        _taps(s4, "van-05", "girls", 3)
        _game(s4, "van-05", "attitude", [("private-matter", {"yes": {"phones": 5}, "no": {"phones": 5}}, "")], "before")
        _game(s4, "van-05", "attitude", [("private-matter", {"yes": {"phones": 1}, "no": {"phones": 9}}, "")], "after")

        # S5 van-05 Nagram (a village name that is a spreadsheet formula): only its QR summary
        # arrived: men 7, women 9, boys 2, girls 1 (19), 4 sign-ins, 11 pledges.
        s5 = _screening("lucknow-t", "van-05", v4, "2027-01-21")
        SummaryReport.create(van="van-05", screening=s5.id, date=s5.date, village="नगराम",
                             counts={"men": 7, "women": 9, "boys": 2, "girls": 1}, total=19,
                             participants=4, pledges={"pledge": 11}, received_at=RECEIVED["van-05"],
                             updated_at=RECEIVED["van-05"])

        # S6 van-07 Maholi (helpline campaign), done: men 2, women 3, and 2 in a crew's own category.
        s6 = _screening("sitapur-t", "van-07", v5, "2027-01-20", status="done")
        _taps(s6, "van-07", "men", 2)
        _taps(s6, "van-07", "women", 3)
        _taps(s6, "van-07", "elders", 2)

        # S7 van-07 Maholi, still planned, nothing recorded: not held.
        s7 = _screening("sitapur-t", "van-07", v5, "2027-02-10")

        # S8 van-05 Rahimabad, done: 3 men synced; its QR summary said 50 men (synced records win).
        s8 = _screening("lucknow-t", "van-05", v3, "2027-01-19", status="done")
        _taps(s8, "van-05", "men", 3)
        SummaryReport.create(van="van-05", screening=s8.id, date=s8.date, village="रहीमाबाद",
                             counts={"men": 50}, total=50, participants=0, pledges={},
                             received_at=RECEIVED["van-05"], updated_at=RECEIVED["van-05"])
    return {"S1": s1.id, "S2": s2.id, "S3": s3.id, "S4": s4.id, "S5": s5.id, "S6": s6.id,
            "S7": s7.id, "S8": s8.id}


def make_hub_app(data_dir, url=""):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "MODE": "hub", "DATABASE_URL": url})
    migrate()
    return app


def _hub(request, data_dir):
    """A hub app with the scenario on SQLite or on a new database of the test PostgreSQL."""
    url, server = "", None
    if request.param == "postgres":
        server = request.getfixturevalue("pg_server")
        url = server.create_database()
    app = make_hub_app(data_dir, url)
    from vanapp.hub.accounts import create_coordinator
    with app.app_context(), db.connection_context():
        create_coordinator(COORDINATOR, PASSWORD)
        app.ids = build()
    return app, (lambda: server.drop_database(url.rsplit("/", 1)[1])) if server else (lambda: None)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hub_app(request, tmp_path_factory):
    """The scenario hub, shared by a module's tests that only read (SQLite, then PostgreSQL);
    `app.ids` maps S1..S8 to screening ids. No app context is left pushed: each test-client
    request gets its own, as under a real server."""
    app, drop = _hub(request, tmp_path_factory.mktemp("hub"))
    yield app
    if not db.is_closed():
        db.close()
    drop()


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_hub_app(request, tmp_path):
    """The scenario hub for one test that changes it (logins, rate limits)."""
    app, drop = _hub(request, tmp_path / "hub")
    yield app
    if not db.is_closed():
        db.close()
    drop()


@pytest.fixture
def hub_db(hub_app):
    """An app context and a connection, for tests that call the reports directly."""
    with hub_app.app_context(), db.connection_context():
        yield hub_app


def login(client):
    """Log a test client in as the coordinator; returns the CSRF token of its session."""
    import re
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": COORDINATOR, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    # the login starts a new session, and with it a new CSRF token
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/vans").get_data(as_text=True)).group(1)


@pytest.fixture(scope="module")
def coordinator(hub_app):
    """A test client logged in to the module's hub (one login: the login is rate-limited)."""
    client = hub_app.test_client()
    client.csrf = login(client)
    return client


def test_scenario_has_no_coordinator_but_asha(hub_db):
    assert [c.username for c in Coordinator.select()] == [COORDINATOR]
