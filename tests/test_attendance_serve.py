"""The attendance API as a script or a phone meets it: a real `vanapp serve`, a bearer token from
`vanapp token create`, bad input that writes nothing, `vanapp report` in a subprocess, and the
summary QR read off the page's PNG by zbar and verified by a real hub."""
import io
import json
import sqlite3
import subprocess
import sys
import uuid

import pytest
import requests

from vanapp.qr import qr_code

from .conftest import need_zbarimg
from .support.server import ROOT
from .support.syncenv import Hub, vanapp
from .test_attendance_crash import assert_durable, bearer_session, crew_session, seed_screening, stored_taps

pytestmark = pytest.mark.slow

ZERO = {"men": 0, "women": 0, "boys": 0, "girls": 0}


def everything_written(data_dir):
    con = sqlite3.connect(f"file:{data_dir / 'vanapp.db'}?mode=ro", uri=True)
    try:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("tally_event", "headcount", "participant", "outbox"))
    finally:
        con.close()


def van_secret(data_dir) -> bytes:
    con = sqlite3.connect(f"file:{data_dir / 'vanapp.db'}?mode=ro", uri=True)
    try:
        return bytes.fromhex(con.execute("SELECT value FROM setting WHERE key = 'van_secret'").fetchone()[0])
    finally:
        con.close()


def report(srv, *args):
    done = subprocess.run([sys.executable, "-m", "vanapp.cli", "report", *args], env=srv.env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


BAD = [
    ({"category": "elders", "delta": 1}, 400, "category"),
    ({"category": "Women", "delta": 1}, 400, "category"),
    ({"category": ["men"], "delta": 1}, 400, "category"),
    ({"delta": 1}, 400, "category"),
    ({"category": "men", "delta": 2}, 400, "delta"),
    ({"category": "men", "delta": 0}, 400, "delta"),
    ({"category": "men", "delta": -2}, 400, "delta"),
    ({"category": "men", "delta": "1"}, 400, "delta"),
    ({"category": "men", "delta": True}, 400, "delta"),
    ({"category": "men", "delta": 1.0}, 400, "delta"),
    ({"category": "men"}, 400, "delta"),
    ({"category": "girls", "delta": -1}, 409, "delta"),       # the count would go below zero
    ({"category": "men", "delta": 1, "id": "tap-1"}, 400, "id"),
    ({"category": "men", "delta": 1, "at": "tonight"}, 400, "at"),
]


def test_attendance_api_on_vanapp_serve_with_a_bearer_token(server_factory):
    srv = server_factory("van")
    screening = seed_screening(srv.data_dir)
    api = bearer_session(srv, "tally-script")
    url = f"{srv.url}/api/v1/screenings/{screening}/attendance"
    assert_durable(srv, api)

    r = api.post(url, json={"category": "women", "delta": 1}, timeout=20)
    assert r.status_code == 201, r.text
    assert r.json()["counts"] == {**ZERO, "women": 1} and r.json()["total"] == 1

    # A retried tap (same id) is stored once and answered like the first try.
    tap_id = str(uuid.uuid4())
    first = api.post(url, json={"id": tap_id, "category": "men", "delta": 1}, timeout=20)
    again = api.post(url, json={"id": tap_id, "category": "men", "delta": 1}, timeout=20)
    assert first.status_code == again.status_code == 201
    assert again.json()["counts"] == first.json()["counts"] == {**ZERO, "women": 1, "men": 1}
    assert again.json()["duplicate"] is True
    rows, outbox = stored_taps(srv.data_dir, screening)
    assert rows[tap_id] == ("men", 1, 1) and outbox[tap_id] == 1

    before = everything_written(srv.data_dir)
    clash = api.post(url, json={"id": tap_id, "category": "men", "delta": -1}, timeout=20)
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "id"
    for body, status, field in BAD:
        r = api.post(url, json=body, timeout=20)
        assert (r.status_code, r.json()["error"]["field"]) == (status, field), (body, r.text)
        assert r.json()["error"]["message"]
    for raw, ctype in [(b"", "application/json"), (b"category=men&delta=1", "application/x-www-form-urlencoded"),
                       (b'{"category": "men", "delta": 1', "application/json"), (b"[1]", "application/json"),
                       (b"\xff\xfe", "application/json")]:
        r = api.post(url, data=raw, headers={"Content-Type": ctype}, timeout=20)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_json", r.text
        assert r.json()["error"]["field"] == "body"
    for method in (api.get, api.post):
        r = method(f"{srv.url}/api/v1/screenings/{uuid.uuid4()}/attendance", json={"category": "men", "delta": 1},
                   timeout=20)
        assert r.status_code == 404 and r.json()["error"]["field"] == "screening"
    r = requests.post(url, json={"category": "men", "delta": 1}, timeout=20)         # no token
    assert r.status_code == 401
    assert everything_written(srv.data_dir) == before
    assert api.get(url, timeout=20).json()["counts"] == {**ZERO, "women": 1, "men": 1}

    # Headcounts and participants: no consent, no record; the code finds the card.
    heads = f"{srv.url}/api/v1/screenings/{screening}/headcounts"
    assert api.post(heads, json={"kind": "start", "count": 40}, timeout=20).status_code == 201
    assert api.post(heads, json={"kind": "end", "count": 75}, timeout=20).status_code == 201
    people = f"{srv.url}/api/v1/screenings/{screening}/participants"
    person = {"name": "Sunita Devi", "gender": "woman", "age_band": "31-45", "village": "Rampur"}
    before = everything_written(srv.data_dir)
    r = api.post(people, json=person, timeout=20)
    assert r.status_code == 400 and r.json()["error"]["field"] == "consent"
    assert everything_written(srv.data_dir) == before
    r = api.post(people, json={**person, "consent": True}, timeout=20)
    assert r.status_code == 201, r.text
    card = r.json()["participant"]
    found = api.get(f"{srv.url}/api/v1/participants/{card['code']}", timeout=20).json()["items"]
    assert [p["id"] for p in found] == [card["id"]]
    state = api.get(url, timeout=20).json()
    assert state["headcounts"]["start"]["count"] == 40 and state["headcounts"]["end"]["count"] == 75
    assert state["participants"] == 1

    # `vanapp report [--json]` while the server runs: per screening and in all.
    other = seed_screening(srv.data_dir)
    for category in ("boys", "boys", "girls"):
        assert api.post(f"{srv.url}/api/v1/screenings/{other}/attendance",
                        json={"category": category, "delta": 1}, timeout=20).status_code == 201
    data = json.loads(report(srv, "--json"))
    per = {r["screening"]: r for r in data["screenings"]}
    assert per[screening]["counts"] == {**ZERO, "women": 1, "men": 1} and per[screening]["participants"] == 1
    assert per[screening]["headcounts"] == {"start": 40, "end": 75}
    assert per[other]["counts"] == {**ZERO, "boys": 2, "girls": 1}
    assert data["totals"]["counts"] == {"men": 1, "women": 1, "boys": 2, "girls": 1}
    assert data["totals"]["audience"] == 5 and data["totals"]["screenings"] == 2
    table = report(srv).splitlines()
    assert table[0].split()[:2] == ["date", "village"] and table[-1].split()[0] == "ALL"
    assert "5" in table[-1].split()

    # The summary's QR text verifies with this van's secret.
    from vanapp.protocol import summary
    text = api.get(f"{srv.url}/api/v1/screenings/{screening}/summary", timeout=20).json()["qr"]["text"]
    night = summary.decode_summary(text, lambda van: summary.summary_key(van_secret(srv.data_dir)))
    assert night["counts"] == {**ZERO, "women": 1, "men": 1} and night["participants"] == 1


def test_summary_png_of_the_page_is_read_by_zbarimg_and_verified_by_the_hub(server_factory, tmp_path):
    need_zbarimg()
    from PIL import Image
    from pyzbar import pyzbar
    from vanapp.protocol import summary
    hub = Hub(server_factory)
    code = hub.add_van("van-03")
    srv = server_factory("van")
    vanapp(srv.data_dir, "pair", hub.url, code, "--json", check=True)
    screening = seed_screening(srv.data_dir)
    phone = crew_session(srv.url)
    url = f"{srv.url}/api/v1/screenings/{screening}/attendance"
    for category in ("women", "women", "men", "girls"):
        assert phone.post(url, json={"category": category, "delta": 1}, timeout=20).status_code == 201

    page = phone.get(f"{srv.url}/attendance/screenings/{screening}/summary", timeout=20)
    assert page.status_code == 200
    png_path = page.text.split('id="summary-png" href="')[1].split('"')[0]
    png = phone.get(srv.url + png_path, timeout=20)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    (tmp_path / "summary.png").write_bytes(png.content)
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "summary.png")], capture_output=True,
                         check=True, timeout=60)
    text = out.stdout.decode("utf-8").strip()
    assert text.startswith(f"{hub.url}/s/van-03/"), text
    assert [d.data.decode() for d in pyzbar.decode(Image.open(io.BytesIO(png.content)).convert("L"))] == [text]
    version = qr_code(text).version
    print(f"\nsummary QR from the page: {len(text)} characters, version {version}")

    # The van's own secret verifies it …
    night = summary.decode_summary(text, lambda van: summary.summary_key(van_secret(srv.data_dir)))
    assert night["van"] == "van-03" and night["screening"] == screening
    assert night["counts"] == {**ZERO, "women": 2, "men": 1, "girls": 1}
    # … and so does the hub, with the key it kept when the van paired; a changed code does not.
    r = requests.get(text, headers={"Accept": "application/json"}, timeout=20)
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["counts"] == night["counts"] and r.json()["summary"]["screening"] == screening
    head, payload = text.rsplit("/", 1)
    forged = f"{head}/{payload[:-6]}{'A' if payload[-6] != 'A' else 'B'}{payload[-5:]}"
    # a changed code fails its signature (403), another van's id names no van the hub knows (404)
    assert requests.get(forged, headers={"Accept": "application/json"}, timeout=20).status_code == 403
    assert requests.get(text.replace("/van-03/", "/van-99/"), headers={"Accept": "application/json"},
                        timeout=20).status_code == 404


def test_a_summary_shown_before_pairing_is_verified_by_the_hub_after_pairing(server_factory):
    """A new van goes on tour before the coordinator pairs it: the QR codes it shows are signed with
    the secret it then proposes when pairing, under the tour's van id, so the hub accepts them."""
    hub = Hub(server_factory)
    code = hub.add_van("van-03")
    srv = server_factory("van")
    screening = seed_screening(srv.data_dir)                      # make_screening: the tour's van-03
    phone = crew_session(srv.url)
    for category in ("women", "men", "men"):
        assert phone.post(f"{srv.url}/api/v1/screenings/{screening}/attendance",
                          json={"category": category, "delta": 1}, timeout=20).status_code == 201
    before = json.loads(report(srv, "--json", "--screening", screening, "--qr"))["qr"]["text"]
    assert before.startswith("vankit:s/van-03/"), before          # no hub known yet: not a link
    secret_before = van_secret(srv.data_dir)

    vanapp(srv.data_dir, "pair", hub.url, code, "--json", check=True)
    assert van_secret(srv.data_dir) == secret_before              # first pairing keeps the secret
    payload = before.rsplit("/", 1)[1]
    r = requests.get(f"{hub.url}/s/van-03/{payload}", headers={"Accept": "application/json"}, timeout=20)
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["counts"]["men"] == 2 and r.json()["summary"]["screening"] == screening

    # a re-pairing (after the coordinator rotated the van's key) gets a new secret: the old
    # one is what a rotation is meant to retire
    new_code = json.loads(hub.cli("rotate-van", "van-03", "--json").stdout)["code"]
    vanapp(srv.data_dir, "pair", hub.url, new_code, "--json", check=True)
    assert van_secret(srv.data_dir) != secret_before
