"""Guessing the crew PIN: after three wrong tries every wrong try doubles the wait before the next
one is taken (up to 15 minutes), guesses sent in parallel meet the wait too, and the console says
how many wrong tries there were since the last login, when and from where."""
import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from vanapp import security
from vanapp.ids import UTC

from .conftest import PIN, csrf_from


def test_each_wrong_pin_after_three_doubles_the_wait_up_to_fifteen_minutes(app):
    now = dt.datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    waits = []
    for _ in range(16):
        attempt = security.try_pin("0000", "10.42.0.7", now=now)
        assert not attempt.ok and not attempt.too_soon
        waits.append(attempt.wait)
        if attempt.wait:
            # a second before the wait is over, not even the right PIN is looked at
            early = security.try_pin(PIN, "10.42.0.7", now=now + dt.timedelta(seconds=attempt.wait - 1))
            assert early.too_soon and not early.ok and early.wait == 1
        now += dt.timedelta(seconds=attempt.wait)
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
    assert security.pin_failures()["count"] == 16
    right = security.try_pin(PIN, "10.42.0.9", now=now)
    assert right.ok and right.before["count"] == 16 and right.before["last_from"] == "10.42.0.7"
    assert security.pin_failures() is None           # a login starts the count again


def test_a_clock_set_back_never_locks_the_crew_out_for_longer_than_fifteen_minutes(app):
    now = dt.datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    for _ in range(5):
        now += dt.timedelta(seconds=security.try_pin("0000", "x", now=now).wait)
    back = now - dt.timedelta(days=40)              # the laptop's clock was reset
    assert security.try_pin("0000", "x", now=back).wait <= security.MAX_WAIT
    assert security.try_pin(PIN, "x", now=back + dt.timedelta(seconds=security.MAX_WAIT)).ok


def test_a_new_pin_starts_the_count_again(app):
    now = dt.datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    for _ in range(6):
        security.try_pin("0000", "x", now=now)
    assert security.try_pin("13579", "x", now=now).too_soon
    security.set_pin("13579")
    assert security.try_pin("13579", "x", now=now).ok


def _login_page(base, session):
    return csrf_from(session.get(base + "/login").text)


def test_guesses_sent_at_once_meet_the_wait_and_are_not_all_tried(server_factory):
    van = server_factory()

    def guess(n):
        s = requests.Session()                       # a fresh cookie per guess, as a guesser would
        token = _login_page(van.url, s)
        return s.post(van.url + "/login", data={"pin": f"{n:04d}", "csrf_token": token},
                      allow_redirects=False)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(guess, range(1000, 1020)))
    codes = [a.status_code for a in answers]
    # three are free, then each checked guess sets a wait: a handful at most is looked at
    assert codes.count(401) <= 5 and codes.count(429) >= 15, codes
    # (the address's rate limit, 10 a minute, refuses some of them too: its page says so)
    ours = [a for a in answers if a.status_code == 429 and "बहुत बार गलत पिन" in a.text]
    assert ours and all(int(a.headers["Retry-After"]) >= 1 for a in ours)
    # and the right PIN, sent during the wait, is refused the same way (no login)
    s = requests.Session()
    r = s.post(van.url + "/login", data={"pin": PIN, "csrf_token": _login_page(van.url, s)}, allow_redirects=False)
    assert r.status_code == 429 and "session" not in r.cookies
    assert s.get(van.url + "/", allow_redirects=False).status_code == 302


@pytest.mark.browser
def test_the_console_shows_wrong_pin_tries_before_and_since_the_last_login(server_factory, chromium):
    van = server_factory()
    guesser = requests.Session()
    for pin in ("1111", "2222"):
        r = guesser.post(van.url + "/login", data={"pin": pin, "csrf_token": _login_page(van.url, guesser)})
        assert r.status_code == 401

    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(van.url + "/lang/en")
    page.goto(van.url + "/login")
    page.fill("#pin", PIN)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    notes = page.locator(".login-notice").all_inner_texts()
    assert len(notes) == 1 and "Before the last login" in notes[0] and "2 wrong PIN tries" in notes[0], notes
    assert "127.0.0.1" in notes[0]

    # someone goes on guessing while the crew is logged in: the console says so
    r = guesser.post(van.url + "/login", data={"pin": "3333", "csrf_token": _login_page(van.url, guesser)})
    assert r.status_code == 401
    page.reload()
    notes = page.locator(".login-notice").all_inner_texts()
    assert any("1 wrong PIN try since the last login" in n for n in notes), notes
    page.goto(van.url + "/lang/hi?next=/")
    hindi = page.locator(".login-notice").all_inner_texts()
    assert any("गलत पिन" in n for n in hindi), hindi
    context.close()
