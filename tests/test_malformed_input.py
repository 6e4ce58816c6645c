"""Every malformed input is a 4xx in the one error shape, never a 500 and never a crash: JSON nested
too deep on every JSON door (van API, audience, hub pairing and push, bundle headers), bodies
larger than allowed however they arrive (a real server, chunked with no size announced), bundle
files that are not regular files, and every `--json` command answering JSON when it fails."""
import gzip
import json
import os
import socket
import subprocess
import sys

import pytest

from vanapp import jsontext, security
from vanapp.hub import pairing

from .conftest import csrf_from
from .support.factories import make_screening
from .support.server import ROOT
from .test_error_shape import NO_BODY, assert_one_shape, hub, routes  # noqa: F401 - the hub fixture

DEEP = b"[" * 1000 + b"]" * 1000                    # 2 KB, 450 bytes gzipped
DEEP_IN_OBJECT = b'{"code": ' + b"[" * 900 + b"]" * 900 + b', "category": "men"}'
BODIES = {"deep": DEEP, "deep value": DEEP_IN_OBJECT, "very deep": b"[" * 100_000}


def test_depth_is_measured_outside_strings():
    assert jsontext.depth(b'[1, {"a": "[[[[\\"[[["}, [[]]]') == 3
    assert jsontext.depth(b'"[[["') == 0
    with pytest.raises(jsontext.TooDeep):
        jsontext.loads(b"[" * 33 + b"]" * 33)
    assert jsontext.loads(b"[" * 32 + b"]" * 32) is not None


def test_every_van_api_body_refuses_deep_json_in_the_one_shape(app, client):
    auth = {"Authorization": f"Bearer {security.create_token('deep')}", "Content-Type": "application/json"}
    screening = make_screening()
    checked = 0
    for endpoint, method, url in routes(app, "/api/v1/"):
        if method not in ("POST", "PUT"):
            continue
        url = url.replace("nope", screening.id).replace("/games/live/next", "/games/live/judge")
        for name, body in BODIES.items():
            answer = client.open(url, method=method, data=body, headers=auth)
            assert answer.status_code < 500, (endpoint, answer.data)
            if endpoint in NO_BODY | {"api.screening_held"}:         # they read no body at all
                continue
            error = assert_one_shape(answer, f"{name} {method} {url}")
            assert (error["code"], error.get("field")) == ("bad_json", "body"), (endpoint, error)
            checked += 1
    assert checked >= 9 * len(BODIES)


def test_every_audience_write_refuses_deep_json_in_the_one_shape(app, client):
    page = client.get("/a/")
    phone = {"X-CSRFToken": csrf_from(page.data), "Content-Type": "application/json"}
    posts = [r for r in routes(app, "/a/api/") if r[1] == "POST"]
    assert {url.rsplit("/", 1)[1] for _e, _m, url in posts} >= {"join", "vote", "buzz"}
    for _endpoint, method, url in posts:
        for name, body in BODIES.items():
            error = assert_one_shape(client.open(url, method=method, data=body, headers=phone), f"{name} {url}")
            assert error["code"] == "bad_json", (url, error)


def test_hub_pairing_and_push_refuse_deep_json_in_the_one_shape(hub):  # noqa: F811
    client = hub.test_client()
    for name, body in BODIES.items():
        answer = client.post("/api/v1/pair", data=body, content_type="application/json",
                             environ_base={"REMOTE_ADDR": f"127.0.0.{len(name)}"})
        assert assert_one_shape(answer, f"pair {name}")["code"] == "bad_json"
    _van, code = pairing.add_van("Van 03", "van-03")
    paired = client.post("/api/v1/pair", json={"code": code}, environ_base={"REMOTE_ADDR": "127.0.0.99"}).get_json()
    auth = {"Authorization": f"Bearer {paired['van_id']}.{paired['secret']}"}
    batch = b'{"format": 1, "kind": "push", "models": ' + b"[" * 990 + b"]" * 990 + b"}"
    for name, body in dict(BODIES, batch=batch).items():
        for data, headers in [(gzip.compress(body), {"Content-Encoding": "gzip"}), (body, {})]:
            answer = client.post("/api/v1/sync/push", data=data, headers=dict(auth, **headers))
            error = assert_one_shape(answer, f"push {name}")
            assert answer.status_code == 400 and error["code"] == "malformed", error
            assert "nested deeper" in error["message"]


def _raw_request(port: int, head: bytes, chunks, read_limit=65536) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:                        # the server may answer and close before the end
            pass
        answer = b""
        while len(answer) < read_limit:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer and b'"error"' in answer and answer.rstrip().endswith(b"}}"):
                break
    return answer


def test_a_body_sent_in_chunks_without_its_size_is_read_with_a_cap(server_factory):
    """No Content-Length: the server must not trust a size it was not told; it stops at the cap
    (2 MiB) and answers 413 in the one shape."""
    hub_server = server_factory("hub", args=("hub", "serve"), init=False)
    head = (b"POST /api/v1/pair HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    answer = _raw_request(hub_server.port, head, [b" " * 65536] * 64)        # 4 MiB of spaces
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, answer[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "too_large", body


def vanapp(data_dir, *args, timeout=60):
    env = dict(os.environ, VANAPP_DATA_DIR=str(data_dir), VANAPP_MEDIA_DIR=str(ROOT / "media"))
    env.pop("VANAPP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "vanapp.cli", *map(str, args)], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def hub_dir(tmp_path):
    data = tmp_path / "hubdata"
    assert vanapp(data, "hub", "init").returncode == 0
    return data


def test_import_bundle_reads_only_regular_files_with_a_cap_and_answers_json(hub_dir, tmp_path):
    zero = tmp_path / "zero.vkb"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.vkb"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.vkb"
    deep.write_bytes(b"VANKIT-BUNDLE 1\n" + DEEP * 3 + b"\n\nSIG 00\n")
    for path, words in [(zero, "not a regular file"), (fifo, "not a regular file"), (deep, "header"),
                        (tmp_path / "missing.vkb", "cannot read"), (tmp_path, "directory")]:
        done = vanapp(hub_dir, "hub", "import-bundle", path, "--json", timeout=30)  # never reads for ever
        assert done.returncode != 0, path
        answer = json.loads(done.stdout)
        assert answer["ok"] is False and words in answer["error"], (path, answer)
        assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("args", [
    ("hub", "import-bundle", "--json"),                         # a missing argument
    ("hub", "report", "--json", "--from", "yesterday"),         # a bad option value
    ("hub", "revoke-van", "van-99", "--json"),                  # a refusal of the service
    ("hub", "rotate-van", "van-99", "--json", "--url", "ftp://x"),
    ("sync", "--json", "--batch-size", "0"),
    ("export-bundle", "/nonexistent/dir/x.vkb", "--json"),
    ("pair", "http://127.0.0.1:9", "AAAA-AAAA", "--json"),
    ("report", "--json", "--screening", "nope"),
    ("schedule", "list", "--json", "--from", "someday"),
])
def test_every_json_command_prints_json_when_it_fails(hub_dir, args):
    done = vanapp(hub_dir, *args)
    assert done.returncode != 0, (args, done.stdout)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["ok"] is False and answer["error"], (args, answer)
    assert "Traceback" not in done.stderr, done.stderr


def test_text_no_database_column_takes_is_refused_by_the_hub(hub):  # noqa: F811
    """Half of a surrogate pair (no database encodes it) in any JSON string is bad JSON; a NUL
    (PostgreSQL refuses it) in a record's text is an invalid record: 400s, never a 500 when the row
    is written."""
    hub_client = hub.test_client()
    for at, body in enumerate([b'{"code": "\\ud800"}', b'{"\\udfff": 1, "code": "x"}']):
        answer = hub_client.post("/api/v1/pair", data=body, content_type="application/json",
                                 environ_base={"REMOTE_ADDR": f"127.0.1.{at}"})
        assert assert_one_shape(answer, body)["code"] == "bad_json"
    from .test_hub_sync_protocol import body as batch, paired, push, tap
    auth = paired(hub, "van-03")
    screening = make_screening(date="2026-11-23", van="van-03").id
    answer = push(hub, auth, batch({"TallyEvent": [tap(screening=screening, device="phone\x001")]}))
    error = assert_one_shape(answer, "NUL in a tap")
    assert error["code"] == "invalid_records" and "NUL" in error["records"][0]["message"], error
    parked = {"total": 1, "records": [{"model": "TallyEvent", "id": "x", "version": 1, "code": "conflict",
                                       "message": "a\x00b"}]}
    answer = hub_client.put("/api/v1/sync/parked", json=parked, headers={"Authorization": auth})
    assert assert_one_shape(answer, "NUL in a reason")["field"] == "records[0].message"


def test_text_no_database_column_takes_is_refused_by_the_van(app, client):
    auth = {"Authorization": f"Bearer {security.create_token('text')}", "Content-Type": "application/json"}
    screening = make_screening()
    for device, code in (("\\u0000", "invalid"), ("\\udbff", "bad_json")):
        body = ('{"category": "men", "delta": 1, "device": "phone' + device + '"}').encode()
        answer = client.post(f"/api/v1/screenings/{screening.id}/attendance", data=body, headers=auth)
        assert assert_one_shape(answer, device)["code"] == code
    assert client.get(f"/api/v1/screenings/{screening.id}/attendance", headers=auth).json["total"] == 0


def test_a_bundle_larger_than_allowed_is_refused_without_being_read(hub_dir, tmp_path):
    from vanapp.protocol import bundle
    huge = tmp_path / "sparse.vkb"
    with open(huge, "wb") as handle:                     # a sparse file: no disk used
        handle.truncate(bundle.MAX_BUNDLE + 1)
    done = vanapp(hub_dir, "hub", "import-bundle", huge, "--json", timeout=30)
    assert done.returncode == 1 and json.loads(done.stdout)["error"] == "the bundle is too large"
