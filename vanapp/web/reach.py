"""Can the audience's phones reach the show? Once `vanapp serve` listens, a thread asks the join
address for /healthz and checks that this very server answers (a per-process token), again
every minute; Run and Games warn in the crew's language when it does not, and say what to do."""
import http.client
import secrets
import threading
import time
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import gettext as _

from .. import parts
from ..games import joinurl

TOKEN_HEADER = "X-VanKit-Server"
WARN_ENDPOINTS = {"run.console", "run.screening", "games.index"}
INTERVAL = 60.0                  # seconds between checks once the answer is known
FIRST_TRIES = (0.0, 0.5, 1.0, 2.0, 4.0)   # the first checks, while the server settles


class ReachCheck:
    """Checks `url_fn()` (the join URL, worked out afresh each time: the hotspot may come up
    later) until stopped; `state` is the last answer."""

    def __init__(self, url_fn, token: str, explicit: bool, wildcard: bool, timeout: float = 3.0):
        """`explicit`: VANAPP_PUBLIC_URL names the address; `wildcard`: the server listens on
        every interface (so a loopback join address means the laptop has no network)."""
        self.url_fn, self.token, self.timeout = url_fn, token, timeout
        self.explicit, self.wildcard = explicit, wildcard
        self.state = {"url": "", "ok": None, "problem": "", "detail": "", "checked_at": None}
        self._stop = threading.Event()
        self._thread = None

    def check_once(self) -> dict:
        url = self.url_fn()
        parts = urlsplit(url)
        host = parts.hostname or ""
        problem, detail = "", ""
        if not self.explicit and joinurl.is_loopback(host):
            # it answers, but only here: no phone can open 127.0.0.1 on the laptop
            problem = "no_network" if self.wildcard else "loopback"
        else:
            problem, detail = self._ask(parts)
        self.state = {"url": url, "ok": not problem, "problem": problem, "detail": detail,
                      "checked_at": time.time()}
        return self.state

    def _ask(self, parts) -> tuple[str, str]:
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname, parts.port, timeout=self.timeout)
        try:
            connection.request("GET", "/healthz", headers={"User-Agent": "vankit-reach-check"})
            response = connection.getresponse()
            response.read()
            if response.status == 200 and response.getheader(TOKEN_HEADER) == self.token:
                return "", ""
            return "other_server", f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as exc:
            return "no_answer", str(exc) or exc.__class__.__name__
        finally:
            connection.close()

    def _run(self):
        for delay in FIRST_TRIES:
            if self._stop.wait(delay):
                return
            if self.check_once()["ok"]:
                break
        while not self._stop.wait(INTERVAL):
            self.check_once()

    def start(self) -> "ReachCheck":
        self._thread = threading.Thread(target=self._run, name="vankit-reach-check", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()


def warning(state: dict) -> str:
    """The crew's words for a failed check ("" when phones can reach the show, or not known yet)."""
    problem, url = state.get("problem"), state.get("url", "")
    if state.get("ok") is not False:
        return ""
    if problem == "loopback":
        return _("Phones cannot join: VanKit listens on this laptop only (%(url)s). Stop it and start it "
                 "again with “make run” (or “vanapp serve” without --host 127.0.0.1).", url=url)
    if problem == "no_network":
        return _("Phones cannot join: this laptop has no network address. Turn on its hotspot (or join "
                 "the van's Wi-Fi); this warning goes away within a minute when phones can reach it.")
    if problem == "other_server":
        return _("Phones cannot join: the join address %(url)s answers, but it is not this VanKit. "
                 "Check VANAPP_PUBLIC_URL (it must be this laptop's address) and restart VanKit.", url=url)
    return _("Phones cannot join: the join address %(url)s does not answer. Check that the laptop is on "
             "its hotspot (or the van's Wi-Fi) and that VANAPP_PUBLIC_URL, if set, is this laptop's "
             "address; then restart VanKit.", url=url)


def init_app(app):
    """Van mode: a token that /healthz shows, the check started when `vanapp serve` listens,
    and the warning offered to the Run and Games pages."""
    token = secrets.token_hex(12)
    app.extensions["server_token"] = token

    def start(app):
        config = app.config
        check = ReachCheck(lambda: joinurl.join_url_for(config), token,
                           explicit=bool(config.get("PUBLIC_URL")),
                           wildcard=joinurl.is_wildcard(config.get("LISTEN_HOST", "")))
        app.extensions["reach"] = check.start()

    def stop(app):
        check = app.extensions.pop("reach", None)
        if check is not None:
            check.stop()

    parts.register(app, start=start, stop=stop)

    @app.after_request
    def _tag(response):
        if request.path == "/healthz":
            response.headers[TOKEN_HEADER] = token
        return response

    @app.context_processor
    def _join_warning():
        check = current_app.extensions.get("reach")
        if check is None or request.endpoint not in WARN_ENDPOINTS:
            return {}
        state = check.state
        known = "pending" if state["ok"] is None else ("ok" if state["ok"] else state["problem"])
        return {"join_warning": warning(state), "join_check": known}
