"""The hub as two real `vanapp hub serve` processes, each with its own data dir, on one real
PostgreSQL, behind a load balancer that sends each request to the next process in turn: 25 vans
syncing at once store every record exactly once, the same batch delivered to both processes at
the same moment is stored once, a coordinator's login and the login rate limit hold across the
processes, and the kept numbers equal a recount afterwards."""
import re
import threading

import pytest
import requests

from .support.balancer import Balancer
from .support.syncenv import Hub, Van, make_night
from .test_hub_dashboard_scenario import COORDINATOR, PASSWORD
from .test_hub_sync_reliability import (_batch, assert_hub_holds_exactly, assert_ok,  # noqa: F401
                                        sync_25_vans_at_once, template)

pytestmark = pytest.mark.slow


class TwoProcessHub(Hub):
    """Process A (made by Hub) and process B on the same database, and a balancer before both."""

    def __init__(self, server_factory, database_url: str):
        super().__init__(server_factory, database_url, name="hub-a")
        self.other = server_factory("hub-b", env=self.env, args=("hub", "serve"), init=False)
        self.balancer = Balancer([self.server.port, self.other.port])

    @property
    def url(self):
        return self.balancer.url


@pytest.fixture
def hub(server_factory, pg_migrated_url):
    hub = TwoProcessHub(server_factory, pg_migrated_url)
    with hub.db():
        from vanapp.hub.accounts import create_coordinator
        create_coordinator(COORDINATOR, PASSWORD)
    yield hub
    hub.balancer.close()


def test_25_vans_through_two_hub_processes_store_every_record_once(hub, tmp_path, template):
    totals = sync_25_vans_at_once(hub, tmp_path, template)
    # both processes did the work: every van's consecutive requests alternated between them
    served = hub.balancer.served
    assert min(served.values()) > 0.4 * sum(served.values()), served
    assert len(hub.ids("tally_event")) == sum(30 + n for n in range(25))
    report = hub.report()
    assert {v["van"]: v["records"] for v in report["vans"]} == totals
    assert report["screenings"]["held"] == 25
    assert report["people"]["total"] == sum(30 + n - 2 * ((30 + n) // 37) for n in range(25))
    check = hub.cli("facts", check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_one_batch_delivered_to_both_processes_at_once_is_stored_once(hub, tmp_path, template):
    """A balancer that retries on another process after a timeout delivers a batch twice."""
    from vanapp.hub import pairing
    from vanapp.ids import new_id, to_iso, utcnow
    with hub.db():
        from tests.support.factories import make_screening
        screening = make_screening(date="2026-11-23", van="van-03").id
        _row, code = pairing.add_van("Van 03", "van-03")
        secret = pairing.redeem(code)[1]
    now = to_iso(utcnow())
    rows = [{"id": new_id(), "van": "van-03", "version": 1, "created_at": now, "updated_at": now,
             "screening": screening, "category": "women", "delta": 1, "at": now, "device": "p"} for _ in range(300)]
    data = _batch(rows, "van-03", key="same-batch-twice")
    headers = {"Authorization": f"Bearer van-03.{secret}", "Content-Encoding": "gzip"}
    answers = [None, None]
    go = threading.Event()

    def deliver(i, server):
        go.wait()
        answers[i] = requests.post(server.url + "/api/v1/sync/push", data=data, headers=headers, timeout=60)
    threads = [threading.Thread(target=deliver, args=(i, s)) for i, s in enumerate((hub.server, hub.other))]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    acks = [a.json() for a in answers]
    assert sorted(bool(a.get("replayed")) for a in acks) == [False, True]
    assert {a["stored"] for a in acks} == {300}
    assert len(hub.ids("tally_event")) == 300
    assert hub.report()["people"]["total"] == 300
    assert hub.cli("facts", check=False).returncode == 0


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_login_and_the_login_limit_hold_across_the_processes(hub):
    a, b = hub.server.url, hub.other.url
    browser = requests.Session()
    token = _csrf(browser.get(a + "/login").text)
    assert browser.post(a + "/login", data={"username": COORDINATOR, "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False).status_code == 302
    on_b = browser.get(b + "/vans?lang=en", allow_redirects=False)
    assert on_b.status_code == 200 and "Van" in on_b.text            # B honours A's session
    form = re.search(r'name="csrf-token" content="([^"]+)"', on_b.text).group(1)
    assert browser.post(a + "/logout", data={"csrf_token": form}, allow_redirects=False).status_code == 302
    assert browser.get(b + "/", allow_redirects=False).status_code == 302
    # a guesser alternating between the processes: the limit (10 a minute) counts both
    statuses = []
    for n in range(11):
        server = (a, b)[n % 2]
        guesser = requests.Session()
        token = _csrf(guesser.get(server + "/login").text)
        statuses.append(guesser.post(server + "/login", allow_redirects=False, data={
            "username": COORDINATOR, "password": f"guess-{n}", "csrf_token": token}).status_code)
    # the successful login above counted too: the 10th attempt is refused already
    assert statuses[:9] == [401] * 9 and statuses[9:] == [429, 429], statuses


def test_a_van_pairs_through_one_process_and_syncs_through_both(hub, tmp_path, template):
    from .support.syncenv import vanapp
    van = Van(tmp_path, "van-03", template=template)
    with van.db():
        make_night("van-03", taps=60)
    code = hub.add_van("van-03")
    vanapp(van.data_dir, "pair", hub.url, code, check=True)
    result = van.sync("--batch-size", "25")
    assert result["ok"] is True, result
    assert assert_hub_holds_exactly(hub, van) > 60
    assert set(hub.balancer.served) == {hub.server.port, hub.other.port}
