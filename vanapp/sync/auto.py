"""Syncs that run in the background of `vanapp serve`: the console's *Sync now* (in a thread, with
its progress kept for the Sync page) and the automatic sync, which tries when something is
waiting or every SYNC_INTERVAL seconds for new plans, and backs off exponentially (with jitter,
capped) while the hub cannot be reached. One runner per app (sync.init_app); one sync at a time."""
import logging
import random
import threading
import time

from ..ids import to_iso, utcnow
from ..models import db
from . import client, state

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0     # seconds between syncs that only look for new plans
CHECK_EVERY = 15.0           # how often the loop looks for records waiting to go
WAITING_AFTER = 60.0         # new records go at most this long after the last sync (taps come in bursts)
BACKOFF_BASE = 30.0          # first wait after a failure (less when the interval is shorter)
BACKOFF_CAP = 900.0          # never wait longer than 15 minutes between tries
QUIET_CODES = ("busy", "not_paired")   # neither a success nor a failure of the hub

def parse_interval(value) -> float:
    """VANAPP_SYNC_INTERVAL: seconds (0 or less: no automatic sync)."""
    if value in (None, ""):
        return DEFAULT_INTERVAL
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        raise ValueError(f"VANAPP_SYNC_INTERVAL: {value!r} is not a number of seconds "
                         "(0 turns automatic sync off)") from None


class SyncRunner:
    def __init__(self, data_dir: str, interval: float = DEFAULT_INTERVAL, backoff_cap: float = BACKOFF_CAP):
        self.data_dir = data_dir
        self.interval = interval
        self.backoff_cap = backoff_cap
        self.backoff_base = max(0.5, min(BACKOFF_BASE, interval or BACKOFF_BASE))
        self._one = threading.Lock()        # one sync at a time in this process (state.sync_lock: across processes)
        self._guard = threading.Lock()      # the fields below
        self._wake = threading.Event()
        self._auto = None
        self.running, self.trigger, self.phase = False, "", ""
        self.done = self.total = 0
        self.started_at = None
        self.last = None                    # the last finished sync, as a dict
        self.failures = 0                   # failed syncs in a row
        self.backoff = 0.0                  # the current wait after a failure (before jitter)
        self.next_attempt = None            # time.monotonic() before which the loop does not try
        self.last_attempt = None            # time.monotonic() when the last sync finished

    # --- running a sync ---------------------------------------------------------------------------

    def start(self, trigger: str = "web") -> bool:
        """Run a sync in a new thread; False (and nothing started) when one is running."""
        if not self._one.acquire(blocking=False):
            return False
        self._begin(trigger)
        threading.Thread(target=self._run, args=(trigger,), name="vanapp-sync", daemon=True).start()
        return True

    def run(self, trigger: str = "auto"):
        """Run a sync in this thread; None when one is already running."""
        if not self._one.acquire(blocking=False):
            return None
        self._begin(trigger)
        return self._run(trigger)

    def _begin(self, trigger):
        with self._guard:
            self.running, self.trigger, self.phase = True, trigger, "connect"
            self.done, self.total, self.started_at = 0, 0, utcnow()

    def _progress(self, phase, done, total):
        with self._guard:
            self.phase, self.done, self.total = phase, done, total

    def _run(self, trigger):
        result = client.Result()
        try:
            with db.connection_context():
                result = client.sync(self.data_dir, trigger, progress=self._progress)
        except Exception as exc:  # noqa: BLE001 - a background thread must report, not vanish
            log.exception("sync (%s) failed unexpectedly", trigger)
            result.error_code, result.error = "internal", "Something went wrong on this laptop while syncing."
            result.detail = f"{exc.__class__.__name__}: {exc}"
        finally:
            self._finish(trigger, result)
            self._one.release()
        return result

    def _finish(self, trigger, result):
        now = time.monotonic()
        with self._guard:
            self.running, self.phase = False, "done"
            if not (trigger == "auto" and result.error_code == "busy"):   # not news: a sync ran
                self.last = dict(result.as_dict(), trigger=trigger, finished_at=to_iso(utcnow()))
                self.last.pop("skipped", None)
            if result.ok:
                self.failures, self.backoff, self.next_attempt = 0, 0.0, None
            elif result.error_code not in QUIET_CODES:
                self.failures += 1
                self.backoff = min(self.backoff_cap, self.backoff_base * 2 ** (self.failures - 1))
                # "equal jitter": half the wait fixed, half random, so vans that lost the same
                # office wifi do not all come back at the same second
                self.next_attempt = now + self.backoff / 2 + random.uniform(0, self.backoff / 2)
            if result.error_code != "busy":
                self.last_attempt = now
        self._wake.set()

    def snapshot(self) -> dict:
        with self._guard:
            now = time.monotonic()
            return {
                "running": self.running, "trigger": self.trigger, "phase": self.phase,
                "done": self.done, "total": self.total,
                "started_at": to_iso(self.started_at) if self.started_at else None,
                "last": dict(self.last) if self.last else None,
                "auto": {"enabled": self._auto is not None, "interval": self.interval,
                         "failures": self.failures, "backoff_seconds": self.backoff,
                         "next_attempt_in": round(max(0.0, self.next_attempt - now), 1)
                         if self.next_attempt else None},
            }

    # --- automatic sync ---------------------------------------------------------------------------

    def start_auto(self) -> bool:
        """Start the automatic sync loop (once; not when the interval is 0)."""
        if self.interval <= 0 or self._auto is not None:
            return False
        self._auto = threading.Thread(target=self._loop, name="vanapp-auto-sync", daemon=True)
        self._auto.start()
        log.info("automatic sync every %.0f s (sooner when records are waiting)", self.interval)
        return True

    def _loop(self):
        # the first automatic sync comes a while after the server starts (or the van is paired),
        # not at once: a crew pressing Sync now, or running `vanapp sync`, is not raced by it
        self.last_attempt = self.last_attempt or time.monotonic()
        while True:
            try:
                delay = self._tick()
            except Exception:  # noqa: BLE001 - keep trying; the log says why
                log.exception("automatic sync check failed")
                delay = self._check_every()
            self._wake.wait(max(0.05, delay))
            self._wake.clear()

    def _check_every(self) -> float:
        return min(self.interval, CHECK_EVERY)

    def _tick(self) -> float:
        """Sync if it is time; -> seconds until the next look."""
        check, now = self._check_every(), time.monotonic()
        if self.next_attempt is not None and now < self.next_attempt:
            return self.next_attempt - now                  # backing off: the hub was not reachable
        with db.connection_context():
            if state.credentials() is None:
                self.last_attempt = now                     # counts from the pairing, see _loop
                return check
            waiting = sum(state.waiting().values())
        since = None if self.last_attempt is None else now - self.last_attempt
        due = self.interval if not waiting else min(self.interval, WAITING_AFTER)
        retrying = self.next_attempt is not None            # the backoff's wait is over: try again
        if not retrying and since is not None and since < due:
            return min(check, due - since)
        result = self.run("auto")
        if result is None or result.ok or self.next_attempt is None:
            return check
        return self.next_attempt - time.monotonic()
