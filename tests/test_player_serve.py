"""The player through a real `vanapp serve` and a bearer token made with `vanapp token create`,
as a script (or the issue's check) drives it: the play log tells the truth about every item,
while the crew counts the audience into the same database."""
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

from .support.server import ROOT
from .test_player_clips import clips, seed_programme  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_broken_files_played_over_http_with_a_token_are_logged_truthfully(server_factory, clips):
    srv = server_factory("van", env={"VANAPP_MEDIA_DIR": str(clips)})
    sid = seed_programme(srv.data_dir, "a", "garbage", "missing", "early", "cut", "b")
    made = subprocess.run([sys.executable, "-m", "vanapp.cli", "token", "create", "checker"],
                          env=srv.env, cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {made.stdout.strip().splitlines()[-1]}"
    api = srv.url + "/api/v1"

    # The crew taps the tally all through the show: the player's writes meet these writers.
    counting, taps = threading.Event(), []

    def count():
        tapper = requests.Session()
        tapper.headers.update(http.headers)
        while not counting.is_set():
            taps.append(tapper.post(api + f"/screenings/{sid}/attendance", timeout=20, json={
                "id": str(uuid.uuid4()), "category": "women", "delta": 1}).status_code)
            time.sleep(0.02)

    counter = threading.Thread(target=count, daemon=True)
    answer = http.post(api + "/player/play", json={"screening": sid, "from": 0}, timeout=20)
    assert answer.status_code == 200, answer.text
    counter.start()
    try:
        deadline = time.monotonic() + 90
        while (state := http.get(api + "/player", timeout=10).json())["state"] != "finished":
            assert time.monotonic() < deadline, f"the programme did not finish: {state}"
            time.sleep(0.2)
    finally:
        counting.set()
        counter.join(30)
    assert taps and set(taps) == {201}, (taps, srv.log()[-3000:])

    plays = http.get(api + f"/screenings/{sid}/plays", timeout=10).json()["items"]
    told = f"plays: {plays}\nserver log:\n{srv.log()[-3000:]}"
    assert [(p["position"], p["media_id"], p["outcome"]) for p in plays] == [
        (0, "a", "completed"), (1, "garbage", "error"), (2, "missing", "error"),
        (3, "early", "error"), (4, "cut", "error"), (5, "b", "completed")], told
    assert [p["ref"] for p in state["problems"]] == ["garbage", "missing", "early", "cut"], told
    by_ref = {p["media_id"]: p for p in plays}
    assert "zero duration" in by_ref["garbage"]["error"]
    assert by_ref["missing"]["error"] == "file missing" and by_ref["missing"]["position_ms"] == 0
    for ref in ("early", "cut"):
        assert "ended early" in by_ref[ref]["error"] and 0 < by_ref[ref]["position_ms"] < 3000, told
        assert by_ref[ref]["duration_ms"] == 6000
    for ref in ("a", "b"):
        assert by_ref[ref]["position_ms"] >= 0.95 * 3000 and by_ref[ref]["error"] == "", told
    for p in plays:
        assert p["started_at"] and p["ended_at"] and p["started_at"] <= p["ended_at"]
    assert "Traceback" not in srv.log(), srv.log()
