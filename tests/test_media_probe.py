"""The libVLC prober on real files: real libVLC with dummy outputs, real generated media."""
import os
import subprocess
import sys

import pytest

from vanapp.media.probe import VLC_MISSING, Prober

from .support.server import ROOT

VLC_ARGS = os.environ.get("VANAPP_VLC_ARGS", "--vout=dummy --aout=dummy")
SAMPLES = ["psa/ring-the-bell.mp4", "psa/neighbour.mp4", "film/equal-voices.mp4",
           "song/bell-song.mp4", "sound/bell.ogg"]


def ffprobe_ms(path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "csv=p=0", str(path)], capture_output=True, text=True, check=True)
    return round(float(out.stdout) * 1000)


@pytest.fixture(scope="module")
def prober():
    with Prober(VLC_ARGS) as p:
        yield p


@pytest.mark.parametrize("rel", SAMPLES)
def test_every_sample_plays_and_its_duration_matches_ffprobe(prober, rel):
    path = ROOT / "media" / rel
    result = prober.probe(path)
    assert result.playable, result.error
    assert abs(result.duration_ms - ffprobe_ms(path)) <= 200


def test_the_first_tenth_of_an_mp4_is_not_playable(prober, tmp_path):
    good = (ROOT / "media/psa/ring-the-bell.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good[:len(good) // 10])
    result = prober.probe(cut)
    assert not result.playable
    assert "cut short" in result.error


def test_a_cut_matroska_file_is_caught_by_playing_its_end(prober, tmp_path):
    # Matroska has no box sizes to check: only libVLC, asked to play the last seconds, sees it.
    whole = tmp_path / "whole.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(ROOT / "media/psa/ring-the-bell.mp4"),
                    "-c", "copy", str(whole)], check=True)
    assert prober.probe(whole).playable
    half = tmp_path / "half.mkv"
    half.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])
    result = prober.probe(half)
    assert not result.playable
    assert "cannot play its end" in result.error


@pytest.mark.parametrize("name,content", [
    ("garbage.mp4", os.urandom(64 * 1024)),
    ("text.mp4", b"This is a shopping list, not a film.\n" * 40),
    ("empty.mp4", b""),
])
def test_files_that_are_not_media_are_not_playable(prober, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    result = prober.probe(path)
    assert not result.playable and result.error
    assert not result.duration_ms


def test_a_missing_path_is_not_playable(prober, tmp_path):
    result = prober.probe(tmp_path / "nowhere.mp4")
    assert not result.playable and "could not open" in result.error


def test_a_very_short_audio_clip_counts_as_playing(prober, tmp_path):
    clip = tmp_path / "ding.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=880:duration=0.8",
                    "-c:a", "aac", str(clip)], check=True)
    result = prober.probe(clip)
    assert result.playable, result.error
    assert abs(result.duration_ms - ffprobe_ms(clip)) <= 200


def test_without_libvlc_the_scan_says_so_in_one_line(tmp_path, media_dir):
    env = dict(os.environ, VANAPP_DATA_DIR=str(tmp_path / "data"), VANAPP_MEDIA_DIR=str(media_dir),
               PYTHON_VLC_LIB_PATH=str(tmp_path / "no-libvlc.so.5"))
    run = lambda *a: subprocess.run([sys.executable, "-m", "vanapp.cli", *a], env=env,  # noqa: E731
                                    cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert run("init", "--pin", "2468").returncode == 0
    result = run("media", "scan")
    assert result.returncode == 1
    assert f"error: {VLC_MISSING}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
