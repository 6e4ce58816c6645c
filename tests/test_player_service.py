"""The player service with real libVLC (dummy outputs) on real short clips: the play log must
tell the truth about every item."""
import os
import subprocess
import sys
import time

import pytest

from vanapp.models import Outbox, PlayLog
from vanapp.player import get_player
from vanapp.player.programme import PlayError

from .support.server import ROOT
from .test_player_clips import clips, player, programme, wait_for  # noqa: F401  (fixtures)


def rows(screening):
    return list(PlayLog.for_screening(screening.id))


def summary(screening):
    return [(r.position, r.media_id, r.outcome) for r in rows(screening)]


def finished(snap):
    return snap["state"] == "finished"


def test_a_whole_programme_plays_to_the_end_and_is_logged_in_order(player):
    s = programme("a", "game:bell-quiz", "b")
    service = player()
    service.play(s.id, 0)
    snap = wait_for(service, lambda x: x["state"] == "game", what="the game item")
    assert snap["item"]["kind"] == "game" and snap["item"]["ref"] == "bell-quiz"
    assert snap["next"]["ref"] == "b"
    service.next()          # the crew ends the game
    wait_for(service, finished, what="the end of the programme")
    assert summary(s) == [(0, "a", "completed"), (1, "bell-quiz", "completed"), (2, "b", "completed")]
    log = rows(s)
    for row in (log[0], log[2]):
        assert row.kind == "media" and row.duration_ms == 3000
        assert row.position_ms >= 0.95 * 3000 and row.error == ""
        assert row.ended_at > row.started_at
    assert log[1].kind == "game" and log[0].ended_at <= log[1].started_at <= log[2].started_at
    # proof of play is syncable: every row went through the outbox
    queued = {o.record_id for o in Outbox.select().where(Outbox.model == "PlayLog")}
    assert {r.id for r in log} <= queued


def test_a_garbage_file_in_the_middle_is_logged_as_error_and_the_next_item_plays(player):
    s = programme("a", "garbage", "b")
    service = player()
    service.play(s.id, 0)
    wait_for(service, finished)
    assert summary(s) == [(0, "a", "completed"), (1, "garbage", "error"), (2, "b", "completed")]
    garbage = rows(s)[1]
    assert "zero duration" in garbage.error
    problems = service.snapshot()["problems"]
    assert [p["ref"] for p in problems] == ["garbage"] and problems[0]["code"] == "zero_duration"


def test_a_file_that_ends_far_earlier_than_its_scan_is_an_error_not_completed(player):
    s = programme("early", "cut")
    service = player()
    service.play(s.id, 0)
    wait_for(service, finished)
    early, cut = rows(s)
    assert (early.outcome, cut.outcome) == ("error", "error")
    assert "ended early" in early.error and early.duration_ms == 6000
    assert 0 < early.position_ms < 2000           # 1.5 s of a "6 s" file
    assert "ended early" in cut.error and 0 < cut.position_ms < 3000 and cut.duration_ms == 6000


def test_a_file_that_scans_short_of_the_catalogues_length_is_not_completed(player):
    """A copy cut short that VLC still plays scans short too; the catalogue's `duration` is what
    tells: three seconds of a six-second film are logged as ended early, with the six seconds."""
    from vanapp.models import MediaItem
    s = programme("a", "b")
    MediaItem.update(expected_ms=6000).where(MediaItem.id == "a").execute()
    service = player()
    service.play(s.id, 0)
    wait_for(service, finished)
    a, b = rows(s)
    assert (a.outcome, b.outcome) == ("error", "completed")
    assert "ended early" in a.error and a.duration_ms == 6000 and 2000 < a.position_ms <= 3100


def test_a_missing_file_is_an_error_without_trying_and_the_show_goes_on(player, clips):
    s = programme("missing", "a")
    service = player()
    snap = service.play(s.id, 0)
    assert snap["index"] == 1       # already past the missing file when play answers
    wait_for(service, lambda x: x["state"] == "playing", what="the next item")
    service.stop()
    missing, a = rows(s)
    assert (missing.outcome, missing.error, missing.position_ms) == ("error", "file missing", 0)
    assert a.outcome == "stopped"
    assert service.snapshot()["problems"][0]["code"] == "file_missing"


def test_pause_holds_the_position_and_resume_continues_from_it(player):
    s = programme("long")
    service = player()
    service.play(s.id, 0)
    wait_for(service, lambda x: x["state"] == "playing" and x["position_ms"] > 800, what="progress")
    held = service.pause()["position_ms"]
    time.sleep(1.5)
    snap = service.snapshot()
    assert snap["state"] == "paused" and snap["position_ms"] == held
    service.resume()
    snap = wait_for(service, lambda x: x["position_ms"] > held + 300, what="progress after resume")
    # had libVLC kept playing while paused, it would be at least 1.5 s further on
    assert snap["position_ms"] < held + 1400
    service.stop()
    assert rows(s)[0].outcome == "stopped"


def test_next_and_previous_skip_and_log_the_position(player):
    s = programme("long", "a", "b")
    service = player()
    service.play(s.id, 0)
    wait_for(service, lambda x: x["state"] == "playing" and x["position_ms"] > 500)
    assert service.next()["index"] == 1
    wait_for(service, lambda x: x["state"] == "playing" and x["index"] == 1)
    assert service.previous()["index"] == 0
    wait_for(service, lambda x: x["state"] == "playing" and x["index"] == 0)
    service.stop()
    assert summary(s) == [(0, "long", "skipped"), (1, "a", "skipped"), (0, "long", "stopped")]
    assert rows(s)[0].position_ms > 400


def test_stop_mid_item_logs_stopped_with_the_position(player):
    s = programme("long", "a")
    service = player()
    service.play(s.id, 0)
    wait_for(service, lambda x: x["state"] == "playing" and x["position_ms"] > 1200)
    snap = service.stop()
    assert snap["state"] == "stopped"
    (row,) = rows(s)       # the answer comes after the log is committed
    assert row.outcome == "stopped" and 1200 <= row.position_ms < 10000
    assert row.ended_at is not None
    with pytest.raises(PlayError) as refused:
        service.next()
    assert refused.value.status == 409


def test_a_stalled_item_is_ended_by_the_watchdog_and_the_next_plays(player):
    s = programme("stuck", "a")
    service = player(stall_seconds=1.5)
    service.play(s.id, 0)
    wait_for(service, lambda x: x["index"] == 1 and x["state"] == "playing", what="the watchdog")
    service.stop()
    stuck, a = rows(s)
    assert stuck.outcome == "error" and stuck.error.startswith("stalled: no progress for 1.5 s")
    assert a.outcome == "stopped"


def test_seek_volume_and_bad_commands(player):
    s = programme("long")
    service = player()
    with pytest.raises(PlayError) as idle:
        service.pause()
    assert idle.value.status == 409
    with pytest.raises(PlayError) as bad_from:
        service.play(s.id, 5)
    assert (bad_from.value.status, bad_from.value.field) == (400, "from")
    with pytest.raises(PlayError) as unknown:
        service.play("no-such-screening", 0)
    assert unknown.value.status == 404
    service.play(s.id, 0)
    wait_for(service, lambda x: x["state"] == "playing")
    service.seek(7000)
    wait_for(service, lambda x: x["position_ms"] >= 7000, what="the seek")
    assert service.set_volume(40)["volume"] == 40
    for bad in (101, -1, "loud"):
        with pytest.raises(PlayError) as refused:
            service.set_volume(bad)
        assert refused.value.field == "level"
    service.stop()
    assert rows(s)[0].position_ms >= 7000


def test_a_projector_window_that_cannot_open_falls_back_to_full_screen(player, monkeypatch):
    # No X server here: Tk cannot open a window, and the show must not care.
    monkeypatch.delenv("DISPLAY", raising=False)
    s = programme("a")
    service = player(projector_geometry="1920x1080+1920+0")
    assert service.snapshot()["display"].startswith("full-screen (no projector window")
    service.play(s.id, 0)
    wait_for(service, finished)
    assert summary(s) == [(0, "a", "completed")]
    assert player(projector_geometry="big").snapshot()["display"].startswith("full-screen (VANAPP_PROJECTOR")


def test_plays_left_playing_by_a_dead_process_are_closed_as_interrupted(app, clips):
    s = programme("a")
    from vanapp.ids import utcnow
    PlayLog.create(screening=s.id, position=0, media_id="a", started_at=utcnow(), outcome="playing")
    app.config["MEDIA_DIR"] = str(clips)
    service = get_player(app)
    try:
        (row,) = rows(s)
        assert row.outcome == "error" and row.error.startswith("interrupted")
    finally:
        service.close()


def test_without_libvlc_the_player_says_so_and_nothing_hangs(tmp_path):
    script = ("from vanapp.player.service import PlayerService\n"
              "from vanapp.player.programme import PlayError\n"
              f"s = PlayerService(media_dir={str(tmp_path)!r})\n"
              "print(s.snapshot()['state'], '|', s.snapshot()['message'])\n"
              "try:\n    s.pause()\nexcept PlayError as e:\n    print(e.status, e.code)\n")
    env = dict(os.environ, PYTHON_VLC_LIB_PATH=str(tmp_path / "no-libvlc.so"))
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=str(ROOT),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first.startswith("unavailable | libVLC is not installed")
    assert second == "503 player_unavailable"
