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


def bearer_session(srv, name: str) -> requests.Session:
    """A script with its own API token, made by `vanapp token create` as an operator would."""
    import subprocess
    import sys
    from .support.server import ROOT
    made = subprocess.run([sys.executable, "-m", "vanapp.cli", "token", "create", name], env=srv.env, check=True,
                          capture_output=True, text=True, cwd=str(ROOT))
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {made.stdout.strip().splitlines()[-1]}"
    return s


def assert_durable(srv, session):
    """The running server's own connection says WAL and synchronous=FULL (a SIGKILL alone would
    not catch a server that skips the fsync: the kernel still holds its writes)."""
    storage = session.get(f"{srv.url}/api/v1/attendance/storage", timeout=10).json()
    assert storage == {"database": "sqlite", "journal_mode": "wal", "synchronous": 2, "durable": True}, storage


class Phones:
    """Several phones tapping as fast as they can; every tap has its own UUID and is recorded as
    sent before it leaves, as in flight while it is on the wire, and as acknowledged on a 201."""

    def __init__(self, url, sessions, seed):
        self.url, self.sessions, self.seed = url, sessions, seed
        self.sent, self.acked, self.unknown, self.never_sent = {}, {}, {}, {}
        self.in_flight, self.errors = set(), []
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self.phone, args=(s, random.Random(seed + i)), daemon=True)
                        for i, s in enumerate(sessions)]

    def phone(self, session, rng):
        mine = {c: 0 for c in CATEGORIES}            # this phone's own acknowledged net count
        while True:
            category = rng.choice(CATEGORIES)
            # now and then a minus, only where this phone's own taps keep the count above zero
            delta = -1 if mine[category] > 0 and rng.random() < 0.2 else 1
            tap = {"id": str(uuid.uuid4()), "category": category, "delta": delta}
            if self.stop.is_set():
                self.never_sent[tap["id"]] = tap     # made but never sent: must never be stored
                return
            with self.lock:
                self.sent[tap["id"]] = tap           # "sent" includes what is in flight at the kill
                self.in_flight.add(tap["id"])
            try:
                r = session.post(self.url, json=tap, timeout=20)
            except requests.RequestException:
                self.unknown[tap["id"]] = tap        # no answer: may or may not be stored
                return
            finally:
                with self.lock:
                    self.in_flight.discard(tap["id"])
            if r.status_code == 201 and r.json()["duplicate"] is False:
                self.acked[tap["id"]] = tap
                mine[category] += delta
            else:
                self.unknown[tap["id"]] = tap
                self.errors.append(f"unexpected {r.status_code}: {r.text[:200]}")
                return

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
            assert not t.is_alive(), "a phone hung after the server died"


def test_tally_survives_sigkill_at_random_moments(server_factory):
    srv = server_factory("van")
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    print(f"seed {seed}")
    screening_id = seed_screening(srv.data_dir)
    url = f"{srv.url}/api/v1/screenings/{screening_id}/attendance"
    login = crew_session(srv.url)
    # phones with the crew's login (as tally.js sends) and scripts with their own bearer tokens
    scripts = [bearer_session(srv, f"script-{i}") for i in range(2)]
    all_sent, all_acked, never_sent, in_flight_at_kills = {}, {}, {}, []

    for round_no in range(3):
        assert_durable(srv, scripts[0])
        phones = Phones(url, [clone(login) for _ in range(4)] + [clone(s) for s in scripts], seed + 100 * round_no)
        phones.start()
        # The generator coughs at a random moment of the tapping: after a random number of
        # acknowledged taps (so the kill lands mid-stream however slow the machine is), plus jitter.
        target, deadline = rng.randint(5, 120), time.monotonic() + 60
        while len(phones.acked) < target and time.monotonic() < deadline and not phones.errors:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.05))
        assert (srv.data_dir / "vanapp.db-wal").exists(), "the server does not write through a WAL"
        with phones.lock:
            in_flight_at_kills.append(len(phones.in_flight))
        srv.kill9()
        phones.join()
        assert not phones.errors, phones.errors
        assert phones.acked, "no tap was acknowledged before the kill: the test proved nothing"
        all_sent.update(phones.sent)
        all_acked.update(phones.acked)
        never_sent.update(phones.never_sent)

        srv.start()
        rows, outbox = stored_taps(srv.data_dir, screening_id)
        print(f"round {round_no}: sent {len(phones.sent)}, acknowledged {len(phones.acked)}, "
              f"no answer {len(phones.unknown)}, in flight at the kill {in_flight_at_kills[-1]}, "
              f"stored in all {len(rows)}")
        missing = [i for i in all_acked if i not in rows]
        assert not missing, f"round {round_no}: {len(missing)} acknowledged taps lost"
        assert all(copies == 1 for _c, _d, copies in rows.values())
        assert set(rows) <= set(all_sent), "a tap that was never sent is stored"
        assert not set(rows) & set(never_sent)
        for tap_id, (category, delta, _n) in rows.items():
            assert (category, delta) == (all_sent[tap_id]["category"], all_sent[tap_id]["delta"])
            assert outbox.get(tap_id) == 1, "a stored tap without exactly one outbox row"

        # The API agrees with the file, for the crew's phones and for scripts.
        expected = {c: 0 for c in CATEGORIES}
        for category, delta, _n in rows.values():
            expected[category] += delta
        assert login.get(url, timeout=10).json()["counts"] == expected
        assert scripts[1].get(url, timeout=10).json()["counts"] == expected

        # Phones retry what they never heard back about, and (wrongly) some acknowledged taps too:
        # each is stored once, whatever happened before the kill, and answered like the first try.
        retry = list(phones.unknown.values()) + rng.sample(list(phones.acked.values()), min(5, len(phones.acked)))
        for tap in retry:
            r = rng.choice([login] + scripts).post(url, json=tap, timeout=20)
            assert r.status_code == 201, r.text
            assert r.json()["duplicate"] is (tap["id"] in rows), r.text
            all_acked[tap["id"]] = tap
        rows, outbox = stored_taps(srv.data_dir, screening_id)
        assert set(all_acked) <= set(rows) <= set(all_sent)
        assert all(copies == 1 for _c, _d, copies in rows.values())
        assert all(outbox.get(i) == 1 for i in rows)
        again = login.get(url, timeout=10).json()["counts"]
        assert again == {c: sum(d for cat, d, _n in rows.values() if cat == c) for c in CATEGORIES}
        assert all(n >= 0 for n in again.values())

    # Across the rounds the kill found taps on the wire (each round has 6 phones that are
    # almost always waiting on the server): the "random moment" really was mid-tap.
    assert sum(in_flight_at_kills) > 0, in_flight_at_kills


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
