"""Power cut: taps from several phones, SIGKILL at a random moment, restart; every acknowledged tap
is stored exactly once, nothing that was never sent is, and retries after the restart are
stored once. Also: concurrent minus taps cannot take a count below zero."""
import random
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import PIN, csrf_from

pytestmark = pytest.mark.slow

CATEGORIES = ("men", "women", "boys", "girls")


def seed_screening(data_dir, status="planned") -> str:
    """A screening written straight into the server's database (SQLite allows a second process)."""
    from vanapp import create_app
    from vanapp.models import db
    from .support.factories import make_screening
    app = create_app({"DATA_DIR": str(data_dir)})
    with app.app_context(), db.connection_context():
        return make_screening(status=status, village_en=f"V{uuid.uuid4().hex[:6]}").id


def crew_session(base_url: str) -> requests.Session:
    """A phone logged in with the crew PIN, carrying the CSRF header like tally.js does."""
    s = requests.Session()
    token = csrf_from(s.get(base_url + "/login", timeout=10).text)
    r = s.post(base_url + "/login", data={"pin": PIN, "csrf_token": token}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    s.headers["X-CSRFToken"] = csrf_from(s.get(base_url + "/attendance/", timeout=10).text)
    return s


def clone(session: requests.Session) -> requests.Session:
    """Another phone with the same login (the login form is rate-limited per address)."""
    s = requests.Session()
    s.cookies.update(session.cookies)
    s.headers.update(session.headers)
    return s


def stored_taps(data_dir, screening_id):
    """Read the database file directly: (id -> (category, delta, copies), outbox rows per id)."""
    con = sqlite3.connect(f"file:{data_dir / 'vanapp.db'}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT id, category, delta, COUNT(*) FROM tally_event WHERE screening_id = ? "
                           "GROUP BY id", (screening_id,)).fetchall()
        outbox = dict(con.execute("SELECT record_id, COUNT(*) FROM outbox WHERE model = 'TallyEvent' "
                                  "GROUP BY record_id").fetchall())
    finally:
        con.close()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}, outbox


def hammer(url, session, taps_sent, acked, unknown, stop, rng, errors):
    """One phone tapping as fast as it can until the server dies: every tap has its own UUID."""
    while not stop.is_set():
        tap = {"id": str(uuid.uuid4()), "category": rng.choice(CATEGORIES), "delta": 1}
        taps_sent[tap["id"]] = tap          # recorded before it leaves: "sent" includes in-flight
        try:
            r = session.post(url, json=tap, timeout=5)
        except requests.RequestException:
            unknown[tap["id"]] = tap        # no answer: may or may not be stored
            return
        if r.status_code == 201:
            acked[tap["id"]] = tap
        else:
            unknown[tap["id"]] = tap
            if r.status_code < 500:
                errors.append(f"unexpected {r.status_code}: {r.text}")
            return


def test_tally_survives_sigkill_at_random_moments(server_factory):
    srv = server_factory("van")
    rng = random.Random()
    screening_id = seed_screening(srv.data_dir)
    url = f"{srv.url}/api/v1/screenings/{screening_id}/attendance"
    login = crew_session(srv.url)
    all_sent, all_acked = {}, {}

    for round_no in range(2):
        taps_sent, acked, unknown, stop, errors = {}, {}, {}, threading.Event(), []
        phones = [clone(login) for _ in range(6)]
        threads = [threading.Thread(target=hammer, args=(url, p, taps_sent, acked, unknown, stop,
                                                         random.Random(rng.random()), errors), daemon=True)
                   for p in phones]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.4, 1.6))          # the generator coughs somewhere in here
        srv.kill9()
        stop.set()
        for t in threads:
            t.join(15)
            assert not t.is_alive()
        assert not errors, errors
        assert acked, "no tap was acknowledged before the kill: the test proved nothing"
        all_sent.update(taps_sent)
        all_acked.update(acked)

        srv.start()
        rows, outbox = stored_taps(srv.data_dir, screening_id)
        print(f"round {round_no}: sent {len(taps_sent)}, acknowledged {len(acked)}, no answer {len(unknown)}, "
              f"stored in all {len(rows)}")
        missing = [i for i in all_acked if i not in rows]
        assert not missing, f"round {round_no}: {len(missing)} acknowledged taps lost"
        assert all(copies == 1 for _c, _d, copies in rows.values())
        assert set(rows) <= set(all_sent), "a tap that was never sent is stored"
        for tap_id, (category, delta, _n) in rows.items():
            assert (category, delta) == (all_sent[tap_id]["category"], all_sent[tap_id]["delta"])
            assert outbox.get(tap_id) == 1, "a stored tap without exactly one outbox row"

        # The API agrees with the file.
        counts = login.get(url, timeout=10).json()["counts"]
        expected = {c: 0 for c in CATEGORIES}
        for category, delta, _n in rows.values():
            expected[category] += delta
        assert counts == expected

        # Phones retry what they never heard back about, and (wrongly) some acknowledged taps too:
        # each is stored once, whatever happened before the kill.
        retry = list(unknown.values()) + rng.sample(list(acked.values()), min(5, len(acked)))
        for tap in retry:
            r = login.post(url, json=tap, timeout=10)
            if tap["id"] in rows:
                assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
            else:
                assert r.status_code == 201, r.text
                all_acked[tap["id"]] = tap
        rows, outbox = stored_taps(srv.data_dir, screening_id)
        assert set(all_acked) <= set(rows) <= set(all_sent)
        assert all(copies == 1 for _c, _d, copies in rows.values())
        assert all(outbox.get(i) == 1 for i in rows)
        again = login.get(url, timeout=10).json()["counts"]
        assert sum(again.values()) == len(rows)


def test_concurrent_minus_taps_never_go_below_zero(server_factory):
    srv = server_factory("van")
    screening_id = seed_screening(srv.data_dir)
    url = f"{srv.url}/api/v1/screenings/{screening_id}/attendance"
    login = crew_session(srv.url)
    start = 5
    for _ in range(start):
        assert login.post(url, json={"category": "boys", "delta": 1}, timeout=10).status_code == 201
    phones = [clone(login) for _ in range(16)]
    barrier = threading.Barrier(len(phones))

    def minus(phone):
        barrier.wait()
        return phone.post(url, json={"category": "boys", "delta": -1}, timeout=20)

    with ThreadPoolExecutor(len(phones)) as pool:
        answers = list(pool.map(minus, phones))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == start and codes.count(409) == len(phones) - start, codes
    assert all(r.json()["error"]["code"] == "negative_count" for r in answers if r.status_code == 409)
    assert login.get(url, timeout=10).json()["counts"]["boys"] == 0
    rows, _ = stored_taps(srv.data_dir, screening_id)
    assert sum(d for _c, d, _n in rows.values()) == 0 and len(rows) == 2 * start


def test_many_phones_at_once_are_all_kept(server_factory):
    srv = server_factory("van")
    screening_id = seed_screening(srv.data_dir)
    url = f"{srv.url}/api/v1/screenings/{screening_id}/attendance"
    login = crew_session(srv.url)
    phones = [clone(login) for _ in range(12)]
    per_phone = 15

    def tap_many(phone):
        ids = []
        for i in range(per_phone):
            tap_id = str(uuid.uuid4())
            r = phone.post(url, json={"id": tap_id, "category": CATEGORIES[i % 4], "delta": 1}, timeout=20)
            assert r.status_code == 201, r.text
            ids.append(tap_id)
        return ids

    with ThreadPoolExecutor(len(phones)) as pool:
        ids = [i for chunk in pool.map(tap_many, phones) for i in chunk]
    rows, _ = stored_taps(srv.data_dir, screening_id)
    assert set(rows) == set(ids)
    assert sum(login.get(url, timeout=10).json()["counts"].values()) == len(phones) * per_phone
