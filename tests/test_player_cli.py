"""`vanapp play SCREENING_ID`: a programme from the terminal; Ctrl-C stops and is logged."""
import signal
import subprocess
import sys
import time

from vanapp.models import PlayLog

from .support.server import ROOT
from .test_player_clips import clips, programme  # noqa: F401  (fixtures)


def _env(app, clips):
    import os
    return dict(os.environ, VANAPP_DATA_DIR=app.config["DATA_DIR"], VANAPP_MEDIA_DIR=str(clips))


def test_play_runs_a_programme_to_the_end_with_a_progress_line(cli, app, clips):
    app.config["MEDIA_DIR"] = str(clips)
    s = programme("a", "game:bell-quiz", "garbage")
    result = cli("play", s.id, "--skip-games")
    assert result.exit_code == 0, result.output
    assert "[1/3]" in result.output and "0:03.0" in result.output and "finished" in result.output
    assert [(r.media_id, r.outcome) for r in PlayLog.for_screening(s.id)] == \
        [("a", "completed"), ("bell-quiz", "skipped"), ("garbage", "error")]
    assert "zero duration" in result.output     # the broken file is named, with why


def test_play_refuses_an_unknown_screening_and_a_bad_start(cli, app, clips):
    app.config["MEDIA_DIR"] = str(clips)
    unknown = cli("play", "no-such-screening")
    assert unknown.exit_code == 1 and "No screening no-such-screening" in unknown.output
    s = programme("a")
    bad = cli("play", s.id, "--from", "4")
    assert bad.exit_code == 1 and "from must be 0..0" in bad.output
    assert not PlayLog.select().exists()


def test_ctrl_c_stops_and_logs_stopped_with_the_position(app, clips):
    s = programme("long", "a")
    proc = subprocess.Popen([sys.executable, "-m", "vanapp.cli", "play", s.id], env=_env(app, clips),
                            cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not PlayLog.select().where(
                PlayLog.screening == s.id, PlayLog.outcome == "playing").exists():
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.1)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "stopping" in output and "playing" in output
    (row,) = PlayLog.for_screening(s.id)
    assert row.outcome == "stopped" and 500 < row.position_ms < 10000
