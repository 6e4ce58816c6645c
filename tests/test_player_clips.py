"""Short test media for the player tests (made once per session with ffmpeg), the helpers the
player tests share, and the outcome rules on their own (no libVLC needed for those)."""
import os
import random
import shutil
import subprocess
import time

import pytest

from vanapp.ids import utcnow
from vanapp.models import MediaScan
from vanapp.player.outcome import PlayClock, judge
from vanapp.player.service import PlayerService

from .support.factories import make_screening

# id -> (seconds of real content, duration the media scan recorded). "early" lies: the scan
# says 6 s, the file holds 1.5 s (a file replaced by a shorter one after the scan).
CLIPS = {"a": (3, 3000), "b": (3, 3000), "long": (10, 10000), "early": (1.5, 6000)}


def _encode(path, seconds, *extra):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=160x120:rate=15", "-f", "lavfi", "-i", "sine", "-t", str(seconds),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *extra, str(path)],
                   check=True, timeout=60)


_made = {}   # the clips dir, made once per session however many modules import the fixture


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """A media dir: psa/a.mp4, b, long, early (see CLIPS); cut.mp4 (a 6 s file cut to 40% of
    its bytes, its index intact, like an interrupted copy); garbage.mp4 (random bytes);
    stuck.mp4 (a FIFO nobody writes to: libVLC waits on it forever)."""
    # Each module that imports this fixture gets its own session-scoped copy of it: cache here.
    if "root" not in _made:
        _made["root"] = make_clips(tmp_path_factory.mktemp("clips"))
    return _made["root"]


def make_clips(root):
    """Encode the clips into `root` (a fresh directory) and return it."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: the player tests make their clips with it "
                    "(`make test` installs Debian's ffmpeg package)")
    psa = root / "psa"
    psa.mkdir()
    for name, (seconds, _scanned) in CLIPS.items():
        _encode(psa / f"{name}.mp4", seconds)
    _encode(root / "full6.mp4", 6, "-movflags", "+faststart")
    data = (root / "full6.mp4").read_bytes()
    (psa / "cut.mp4").write_bytes(data[:int(len(data) * 0.4)])
    (psa / "garbage.mp4").write_bytes(random.Random(7).randbytes(200_000))
    os.mkfifo(psa / "stuck.mp4")
    return root


SCANNED = {name: scanned for name, (_s, scanned) in CLIPS.items()}
SCANNED.update({"cut": 6000, "garbage": None, "stuck": 4000})


def programme(*refs, **kwargs):
    """A screening whose programme is `refs` (clip ids, "game:ID", or ids with no file), with
    the media scan rows a `vanapp media scan` would have left."""
    items = [("game", r[5:]) if r.startswith("game:") else ("psa", r) for r in refs]
    screening = make_screening(items=items, **kwargs)
    for ref in refs:
        if ref in SCANNED:
            MediaScan.insert(media=ref, status="ok" if SCANNED[ref] else "unplayable",
                             duration_ms=SCANNED[ref], playable=bool(SCANNED[ref]),
                             scanned_at=utcnow()).on_conflict_replace().execute()
    return screening


def seed_programme(data_dir, *refs, **kwargs) -> str:
    """programme(*refs) written into the database of a `vanapp serve` using `data_dir` (SQLite
    lets this process write while the server runs); returns the screening id."""
    from vanapp import create_app
    from vanapp.models import db
    app = create_app({"DATA_DIR": str(data_dir)})
    with app.app_context(), db.connection_context():
        return programme(*refs, **kwargs).id


def wait_for(service, predicate, timeout=30.0, what="condition"):
    """Poll the snapshot until `predicate(snapshot)`; fail with the last snapshot."""
    deadline = time.monotonic() + timeout
    snap = service.snapshot()
    while time.monotonic() < deadline:
        snap = service.snapshot()
        if predicate(snap):
            return snap
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last snapshot: {snap}")


@pytest.fixture
def player(app, clips):
    """Start PlayerService instances over the clips (real libVLC, dummy outputs); closed after."""
    started = []

    def start(**kwargs):
        kwargs.setdefault("media_dir", str(clips))
        kwargs.setdefault("vlc_args", os.environ["VANAPP_VLC_ARGS"])
        service = PlayerService(**kwargs)
        started.append(service)
        return service
    yield start
    for service in started:
        service.close()


# -- the outcome rules, alone ------------------------------------------------------------

@pytest.mark.parametrize("how,reached,scanned,length,outcome,words", [
    ("ended", 2950, 3000, 3000, "completed", ""),
    ("ended", 2850, 3000, 3000, "completed", ""),           # exactly the 95% line
    ("ended", 2849, 3000, 3000, "error", "ended early"),
    ("ended", 1400, 6000, 1500, "error", "ended early, at 0:01.4 of 0:06.0"),
    ("ended", 5, None, 0, "error", "zero duration"),        # garbage: libVLC length 0
    ("ended", 0, 3000, 3000, "error", "no progress"),
    ("ended", 2900, None, 3000, "completed", ""),           # no scan: libVLC's length
    ("error", 0, 3000, None, "error", "reported an error"),
    ("stalled", 1200, 3000, 3000, "error", "stalled"),
    ("skipped", 1200, 3000, 3000, "skipped", ""),
    ("stopped", 1200, 3000, 3000, "stopped", ""),
])
def test_outcome_rules_decide_from_the_position_not_the_ended_event(how, reached, scanned, length,
                                                                      outcome, words):
    verdict = judge(how, reached, scanned, length, "no progress for 8 s" if how == "stalled" else "")
    assert verdict.outcome == outcome
    assert words in verdict.error
    assert bool(verdict.error) == (outcome == "error")


def test_clock_extrapolates_between_reports_but_not_past_a_stall():
    clock = PlayClock()
    clock.run(10_000, 0)
    clock.report(10_500, 400)            # 100 ms of delay in this report
    clock.report(10_750, 700)            # the least delayed report sets the offset (10 050)
    assert clock.estimate(11_000) == 950
    assert clock.estimate(20_000) == 1700    # stalled: at most 1 s past the last report
    clock.hold(11_000)
    assert clock.estimate(15_000) == 950     # paused: holds
    clock.run(15_000)
    assert 950 <= clock.estimate(15_100) <= 1050
    clock.seek(15_100, 5000, running=True)
    assert clock.estimate(15_100) == 5000
