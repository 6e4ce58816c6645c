"""Phones can reach the show: `vanapp serve` listens on every interface by default (PIN and
audience isolation as before), prints an address a browser can open (never 0.0.0.0), shows a
join address it answers on, and warns on Run and Games, in Hindi and English, when the join
address does not answer as this server. Every request goes to 127.0.0.0/8."""
import os
import re
import subprocess
import sys
import time

import pytest
import requests

from vanapp.games.joinurl import join_url, open_urls

from .conftest import PIN, csrf_from
from .support.server import ROOT, ServerProcess, free_port


def wait_for(check, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        time.sleep(0.1)


def crew_session(url: str, lang: str = "en") -> requests.Session:
    http = requests.Session()
    http.cookies.set("vk_lang", lang)
    login = http.get(url + "/login")
    answer = http.post(url + "/login", data={"pin": PIN, "csrf_token": csrf_from(login.text)})
    assert answer.status_code == 200, answer.text
    return http


def join_check(http, url: str) -> str:
    """What the Run page says of the join check: pending, ok, or the problem."""
    found = re.search(r'name="vankit-join-check" content="([^"]+)"', http.get(url + "/run/").text)
    return found.group(1) if found else ""


def settled(http, url: str) -> str:
    return wait_for(lambda: (lambda v: v if v not in ("", "pending") else None)(join_check(http, url)),
                    what="the join check")


def test_serve_listens_for_phones_by_default_and_prints_an_address_to_open(tmp_path):
    port = free_port()
    env = dict(os.environ, VANAPP_DATA_DIR=str(tmp_path / "van"), VANAPP_MEDIA_DIR=str(ROOT / "media"),
               VANAPP_PUBLIC_URL=f"http://127.0.0.1:{port}")    # the reach check stays on loopback
    subprocess.run([sys.executable, "-m", "vanapp.cli", "init", "--pin", PIN], env=env, check=True,
                   capture_output=True, cwd=str(ROOT))
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "vanapp.cli", "serve", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT))
    try:
        # 127.0.0.2 is this machine too, but a server bound to 127.0.0.1 alone does not answer
        # there: an answer proves it listens on every interface, as the hotspot needs
        other = f"http://127.0.0.2:{port}"

        def answers():
            try:
                return requests.get(other + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                assert proc.poll() is None, log.read_text()
                return False
        wait_for(answers, what="the server on 127.0.0.2")
        printed = log.read_text()
        assert f"open http://127.0.0.1:{port}/ on this laptop" in printed
        assert "0.0.0.0" not in printed
        # as before: crew pages behind the PIN, the audience's page open to all
        assert requests.get(other + "/run/", allow_redirects=False).status_code == 302
        assert requests.get(other + "/api/v1/screenings").status_code == 401
        assert requests.get(other + "/a/").status_code == 200
        assert settled(crew_session(other), other) == "ok"
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_join_address_that_does_not_answer_is_a_warning_on_run_and_games(server_factory):
    nowhere = f"http://127.0.0.1:{free_port()}"
    srv = server_factory("van", env={"VANAPP_PUBLIC_URL": nowhere})
    crew = crew_session(srv.url)
    assert settled(crew, srv.url) == "no_answer"
    for page in ("/run/", "/games/"):
        html = crew.get(srv.url + page).text
        assert 'id="join-warning"' in html and f"{nowhere}/a/ does not answer" in html, page
    hindi = crew_session(srv.url, "hi")
    assert "जवाब नहीं देता" in hindi.get(srv.url + "/run/").text
    for page in ("/", "/games/projector", "/run/projector"):     # not on the projector, nor Today
        assert 'id="join-warning"' not in crew.get(srv.url + page).text, page


def test_a_join_address_answered_by_another_server_is_a_warning(server_factory):
    other = server_factory("other")
    srv = server_factory("van", env={"VANAPP_PUBLIC_URL": other.url})
    crew = crew_session(srv.url)
    assert settled(crew, srv.url) == "other_server"
    assert "it is not this VanKit" in crew.get(srv.url + "/games/").text


def test_a_join_address_that_answers_as_this_server_gives_no_warning(tmp_path):
    srv = ServerProcess(tmp_path / "van")
    srv.env["VANAPP_PUBLIC_URL"] = srv.url          # as the tests of the phones' pages set it
    subprocess.run([sys.executable, "-m", "vanapp.cli", "init", "--pin", PIN], env=srv.env, check=True,
                   capture_output=True, cwd=str(ROOT))
    srv.start()
    try:
        _no_warning(srv)
    finally:
        srv.stop()


def _no_warning(srv):
    crew = crew_session(srv.url)
    assert settled(crew, srv.url) == "ok"
    assert 'id="join-warning"' not in crew.get(srv.url + "/run/").text
    assert f"{srv.url}/a/" in crew.get(srv.url + "/games/").text


def test_a_server_for_this_laptop_only_shows_a_join_address_it_answers_on_and_says_phones_cannot(server_factory):
    srv = server_factory("van", env={"VANAPP_PUBLIC_URL": ""})    # --host 127.0.0.1
    crew = crew_session(srv.url)
    assert settled(crew, srv.url) == "loopback"
    games = crew.get(srv.url + "/games/").text
    assert f"{srv.url}/a/" in games and "listens on this laptop only" in games
    assert requests.get(f"{srv.url}/a/").status_code == 200
    assert "phones cannot reach this server" in srv.log()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "127.0.0.1", "192.168.137.1"])
def test_the_address_to_open_is_never_the_wildcard(host):
    here, phones = open_urls(host, 5000)
    assert "0.0.0.0" not in here + phones and "[::]" not in here + phones
    assert here.startswith("http://") and here.endswith(":5000/")


def test_the_join_address_follows_where_the_server_listens():
    assert join_url("", "127.0.0.1:5000", listen_host="192.168.137.1", listen_port=5000) == \
        "http://192.168.137.1:5000/a/"
    assert join_url("", "localhost:5000", listen_host="127.0.0.1", listen_port=5000) == "http://127.0.0.1:5000/a/"
    assert join_url("http://van.local:8080", "x", listen_host="127.0.0.1", listen_port=5000) == \
        "http://van.local:8080/a/"
