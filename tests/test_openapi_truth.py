"""The OpenAPI documents are the truth (issue 12): schemathesis, with all its checks, runs against a
real hub (`vanapp hub serve`) and a real van (`vanapp serve`) on 127.0.0.1, with and without
credentials, and finds nothing; each document lists exactly the routes its server has; PROTOCOL.md
states the server's codes and limits."""
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from vanapp import create_app, jsontext
from vanapp.hub import pull
from vanapp.protocol import wire
from vanapp.protocol.openapi import spec as hub_spec
from vanapp.web.api.openapi import spec as van_spec

from .support.server import ROOT
from .support.syncenv import Hub, vanapp

pytestmark = pytest.mark.slow
EXAMPLES = "15"          # per operation and phase: enough to reach every documented limit


def schemathesis(url: str, *headers: str) -> str:
    """`st run URL --checks all` (the tool's own command line, as anyone would run it); -> its
    output, after asserting it found nothing and tested every operation of the document."""
    args = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(ROOT / "schemathesis.toml"), "run",
            f"{url}/api/v1/openapi.json", "--checks", "all", "--max-examples", EXAMPLES, "--seed", "20261207",
            "--no-color", "--request-timeout", "30", "--warnings", "off"]
    for header in headers:
        args += ["-H", header]
    with tempfile.TemporaryDirectory() as cwd:          # no stray config, no reports in the tree
        done = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=cwd,
                              env=dict(os.environ, SCHEMATHESIS_HOOKS=""))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", out)
    tested = re.search(r"Tested: (\d+)", out)
    assert selected and tested and selected.group(1) == selected.group(2) == tested.group(1), out[-3000:]
    assert "failures" not in out.splitlines()[-1], out[-3000:]
    return out


def operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method != "parameters"}


def served(app, prefixes, endpoint_prefix="") -> set[tuple[str, str]]:
    """(METHOD, path) of every route under `prefixes`, path arguments as {name}; an any() argument
    is expanded into its choices, then folded back into {name} when the document does so."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefixes) or not rule.endpoint.startswith(endpoint_prefix):
            continue
        paths = [rule.rule]
        choices = re.search(r"<any\(([^)]*)\):(\w+)>", rule.rule)
        if choices:
            paths = [rule.rule.replace(choices.group(0), c.strip()) for c in choices.group(1).split(",")]
        for path in paths:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path)
            out |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def expand(document: dict) -> set[tuple[str, str]]:
    """The document's operations with enumerated path parameters spelled out."""
    out = set()
    for path, item in document["paths"].items():
        params = {p["name"]: p for p in item.get("parameters", [])}
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = re.findall(r"{(\w+)}", path)
            concrete = [path]
            for name in names:
                schema = params.get(name, {}).get("schema", {})
                if "enum" in schema:
                    concrete = [c.replace("{" + name + "}", v) for c in concrete for v in schema["enum"]]
            out |= {(method.upper(), c) for c in concrete}
    return out


def test_each_openapi_document_lists_exactly_the_routes_its_server_has(tmp_path):
    van = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "van")})
    assert expand(van_spec()) == served(van, ("/api/v1/",))
    hub = create_app({"TESTING": True, "MODE": "hub", "DATA_DIR": str(tmp_path / "hub")})
    assert operations(hub_spec()) == served(hub, ("/",), "hubapi.")


def test_protocol_md_states_the_servers_codes_and_limits():
    text = (ROOT / "vanapp" / "protocol" / "PROTOCOL.md").read_text()
    for fact in (f"`MAX_BODY` bytes as sent ({wire.MAX_BODY // 2 ** 20} MiB", f"({wire.MAX_JSON // 2 ** 20} MiB)",
                 f"({wire.MAX_RECORDS})", f"deeper than {jsontext.MAX_DEPTH} levels", f"from 1 to {pull.PAGE}",
                 "413 too_large", "405", "Allow", "PUT /api/v1/sync/parked"):
        assert fact in text, fact
    assert "request_entity_too_large" not in text
    document = hub_spec()
    pull_limit = next(p for p in document["paths"]["/api/v1/sync/pull"]["get"]["parameters"] if p["name"] == "limit")
    assert pull_limit["schema"]["maximum"] == pull.PAGE
    push = document["components"]["schemas"]["PushBatch"]
    assert set(push["required"]) == {"format", "van", "epoch", "key", "from", "to", "models"}


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory):
    from .support.server import ServerProcess
    data = tmp_path_factory.mktemp("openapi-hub")
    srv = ServerProcess(data, args=("hub", "serve")).start()
    try:
        hub = Hub.__new__(Hub)
        hub.database_url, hub.env, hub.server, hub.data_dir = "", {}, srv, srv.data_dir
        code = hub.add_van("van-03")
        import requests
        answer = requests.post(f"{srv.url}/api/v1/pair", json={"code": code}, timeout=20).json()
        yield srv, f"Authorization: Bearer {answer['van_id']}.{answer['secret']}"
    finally:
        srv.stop()


@pytest.mark.parametrize("credentials", ["with a van's token", "without credentials"])
def test_schemathesis_finds_nothing_on_the_hub(hub_server, credentials):
    srv, auth = hub_server
    schemathesis(srv.url, *([auth] if credentials == "with a van's token" else []))
    assert "Traceback" not in srv.log(), srv.log()[-3000:]


@pytest.fixture(scope="module")
def van_server(tmp_path_factory):
    from .support.server import ServerProcess
    data = tmp_path_factory.mktemp("openapi-van")
    done = vanapp(data, "init", "--pin", "2468", check=True)
    assert done.returncode == 0
    token = vanapp(data, "token", "create", "schemathesis", check=True).stdout.strip().splitlines()[-1]
    srv = ServerProcess(data, env={"VANAPP_SYNC_INTERVAL": "0"}, args=("serve",)).start()
    try:
        yield srv, f"Authorization: Bearer {token}"
    finally:
        srv.stop()


@pytest.mark.parametrize("credentials", ["with a token", "without credentials"])
def test_schemathesis_finds_nothing_on_the_van(van_server, credentials):
    srv, auth = van_server
    schemathesis(srv.url, *([auth] if credentials == "with a token" else []))
    assert "Traceback" not in srv.log(), srv.log()[-3000:]
