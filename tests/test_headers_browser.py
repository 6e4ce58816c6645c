"""Hardening headers, in real Chromium against real servers: every page of the van (crew,
projector, audience) and of the hub carries a Content-Security-Policy with no 'unsafe-inline',
frame-ancestors 'none', nosniff and a Referrer-Policy, and renders with no CSP violation at all
(every page is crawled from the console's and the dashboard's own links). The policy is enforced:
an injected inline script does not run, and another site cannot frame a page."""
import json
import re
import subprocess
import sys
from collections import deque
from urllib.parse import urljoin, urlparse

import pytest
import requests

from vanapp.models import db

from .conftest import PIN, csrf_from
from .support.server import ROOT, ServerProcess
from .test_hub_dashboard_scenario import COORDINATOR, PASSWORD, build, make_hub_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every violation the page's policy reports, from the first script on (Playwright's init script
# is added by the browser itself, outside the page's policy).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    {directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile}));
"""
SKIP = re.compile(r"\.(ics|csv|png)$|^/(logout|lang/|static/)")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check_headers(url: str, headers: dict) -> None:
    h = {k.lower(): v for k, v in headers.items()}
    csp = h.get("content-security-policy", "")
    assert csp, f"{url}: no Content-Security-Policy"
    directives = {d.strip().split()[0]: d.strip().split()[1:] for d in csp.split(";") if d.strip()}
    for name in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in directives.get(name, []) and "'unsafe-eval'" not in directives.get(name, []), (url, csp)
    assert "script-src" in directives and "style-src" in directives, (url, csp)
    assert directives.get("frame-ancestors") == ["'none'"], (url, csp)
    assert directives.get("object-src") == ["'none'"], (url, csp)
    assert h.get("x-content-type-options") == "nosniff", url
    assert h.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), url


def crawl(context, base: str, start: list[str], limit: int = 80) -> dict:
    """Open each same-origin page reachable by links from `start`; return url -> violations."""
    seen, found, queue, shapes = set(), {}, deque(base + p for p in start), {}
    page = context.new_page()
    while queue and len(found) < limit:
        url = queue.popleft().split("#")[0]
        if url in seen or SKIP.search(urlparse(url).path):
            continue
        seen.add(url)
        shape = UUID.sub("ID", urlparse(url).path)      # two pages of each kind are enough
        shapes[shape] = shapes.get(shape, 0) + 1
        if shapes[shape] > 2:
            continue
        response = page.goto(url)
        assert response is not None, url
        check_headers(url, response.headers)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        page.wait_for_timeout(400)          # the page's own scripts run and draw
        found[url] = page.evaluate("window.__csp")
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urljoin(url, href)
            if target.startswith(base) and target.split("#")[0] not in seen:
                queue.append(target)
        for href in page.eval_on_selector_all(
                "svg a", "els => els.map(e => e.getAttribute('xlink:href') || e.getAttribute('href'))"):
            if href:
                queue.append(urljoin(url, href))
    page.close()
    return found


def vanapp(data, *args, check=True):
    env = dict(__import__("os").environ, VANAPP_DATA_DIR=str(data), VANAPP_MEDIA_DIR=str(ROOT / "media"))
    done = subprocess.run([sys.executable, "-m", "vanapp.cli", *args], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=300)
    assert not check or done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def busy_van(tmp_path):
    """A van with the sample tours and games, tonight's show started, a game on the projector,
    a participant signed in: every page has something to show."""
    data = tmp_path / "van"
    vanapp(data, "init", "--pin", PIN)
    vanapp(data, "games", "load")
    vanapp(data, "schedule", "import", "--sample", *map(str, sorted((ROOT / "schedules").glob("*.yaml"))),
           *map(str, sorted((ROOT / "schedules").glob("*.csv"))))
    token = vanapp(data, "token", "create", "headers-test").stdout.strip()
    srv = ServerProcess(data).start()
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    tonight = api.get(srv.url + "/api/v1/screenings").json()["items"]
    first = next(s for s in tonight if s["status"] == "planned")
    assert api.post(srv.url + f"/api/v1/screenings/{first['id']}/start", json={"play": False}).status_code == 200
    full = api.get(srv.url + f"/api/v1/screenings/{first['id']}").json()
    game = next((i for i in full.get("items", []) if i["kind"] == "game"), None)
    if game is not None:
        r = api.post(srv.url + "/api/v1/games/runs", json={"screening": first["id"], "game": game["ref"]})
        assert r.status_code == 201, r.text
    r = api.post(srv.url + f"/api/v1/screenings/{first['id']}/participants",
                 json={"name": "Sunita", "consent": True, "gender": "woman", "age_band": "18-30", "village": "Rampur"})
    assert r.status_code == 201, r.text
    srv.participant = r.json()["participant"]["id"]
    srv.screening = first["id"]
    yield srv
    srv.stop()


def test_every_van_page_has_the_headers_and_renders_with_no_policy_violation(busy_van, chromium):
    base = busy_van.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    login = context.new_page()
    login.goto(base + "/login")
    check_headers(base + "/login", login.context.request.get(base + "/login").headers)
    login.fill("#pin", PIN)
    login.click("button[type=submit]")
    login.wait_for_url(base + "/")
    start = ["/", "/run/projector", "/run/remote", "/games/projector", "/a/",
             f"/attendance/screenings/{busy_van.screening}", f"/attendance/screenings/{busy_van.screening}/summary",
             f"/attendance/screenings/{busy_van.screening}/sign-in", "/no-such-page",
             f"/attendance/participants/{busy_van.participant}"]
    found = crawl(context, base, start)
    assert len(found) >= 15, sorted(found)
    assert {base + p for p in ("/run/projector", "/a/", "/sync/", "/preflight", "/tour", "/media", "/run/",
                               "/games/", f"/attendance/participants/{busy_van.participant}")} <= set(found), sorted(found)
    bad = {url: v for url, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)[:3000]

    # the participant card's Print button works without its inline onclick
    card = context.new_page()
    card.add_init_script("window.print = () => { window.__printed = true; };")
    card.goto(base + f"/attendance/participants/{busy_van.participant}")
    card.click("[data-print]")
    assert card.evaluate("window.__printed === true")

    # the JSON API, the audience's fast poll (answered before Flask) and static files too
    for path in ("/api/v1/screenings", "/a/api/state", "/static/js/tally.js", "/healthz"):
        check_headers(path, context.request.get(base + path).headers)
    context.close()


def test_the_policy_is_enforced_inline_script_blocked_and_no_framing(busy_van, chromium):
    base = busy_van.url
    context = chromium.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(base + "/a/")
    ran = page.evaluate("""() => new Promise(done => {
        window.__ran = false;
        const s = document.createElement('script');
        s.textContent = 'window.__ran = true';
        document.body.appendChild(s);
        const img = document.createElement('img');
        img.src = 'http://198.51.100.7/x.png';            // nothing from outside the van
        document.body.appendChild(img);
        setTimeout(() => done(window.__ran), 300);
    })""")
    assert ran is False
    directives = {v["directive"] for v in page.evaluate("window.__csp")}
    assert {"script-src-elem", "img-src"} <= directives, directives
    # two responses, two nonces: a nonce seen once cannot be reused by an injected script
    one = requests.get(base + "/login").headers["Content-Security-Policy"]
    two = requests.get(base + "/login").headers["Content-Security-Policy"]
    assert "'nonce-" not in one or one != two

    # another site (a data: page here) frames the console's login and the projector: refused
    framer = context.new_page()
    framer.set_content(f'<iframe id="f1" src="{base}/login"></iframe><iframe id="f2" src="{base}/run/projector"></iframe>')
    framer.wait_for_timeout(1500)
    for frame in framer.frames[1:]:
        assert frame.url.startswith("chrome-error://") or frame.url in ("", "about:blank"), frame.url
        assert frame.evaluate("document.querySelector('form, main') === null")
    context.close()


@pytest.fixture
def hub_server(tmp_path):
    data = tmp_path / "hub"
    app = make_hub_app(data)
    from vanapp.hub.accounts import create_coordinator
    with app.app_context(), db.connection_context():
        create_coordinator(COORDINATOR, PASSWORD)
        build()
    server = ServerProcess(data, args=("hub", "serve")).start()
    yield server
    server.stop()


def test_every_hub_page_has_the_headers_and_renders_with_no_policy_violation(hub_server, chromium):
    base = hub_server.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(base + "/login")
    check_headers(base + "/login", context.request.get(base + "/login").headers)
    page.fill("#username", COORDINATOR)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.locator("figure.chart svg").count() >= 3
    found = crawl(context, base, ["/", "/vans", "/screenings", "/pair", "/s/van-03/not-a-summary", "/no-such-page"])
    assert {base + p for p in ("/", "/vans", "/screenings", "/pair")} <= set(found), sorted(found)
    assert len([u for u in found if "/records" in u]) >= 1 and len(found) >= 8, sorted(found)
    bad = {url: v for url, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)[:3000]
    # the charts' own styles apply (by nonce): pygal's font-size rule reaches the axis labels
    page.goto(base + "/")
    size = page.evaluate("getComputedStyle(document.querySelector('figure.chart svg .axis text')).fontSize")
    assert size == "13px", size
    for path in ("/api/v1/openapi.json", "/healthz", "/static/css/hub.css"):
        check_headers(path, context.request.get(base + path).headers)
    session = requests.Session()
    token = csrf_from(session.get(base + "/login").text)
    r = session.post(base + "/login", data={"username": COORDINATOR, "password": "wrong-password", "csrf_token": token})
    check_headers("/login (refused)", r.headers)
    context.close()
