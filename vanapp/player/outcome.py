"""How far an item got and what that means: the position clock and the outcome rules of the
play log. Pure Python (no libVLC, no database), so the rules are tested on their own.

libVLC 3 reports a missing, unreadable or truncated file as *Ended*, just like a good one, and
its time reports come every 250–500 ms and stop ~100 ms before the end of a stream. So
"completed" is decided from the position reached, never from the Ended event.
"""
from dataclasses import dataclass

COMPLETE_FRACTION = 0.95
# Between libVLC's time reports the position is extrapolated by the wall clock, but never
# further than this past the last report: a stalled decoder must not look like progress.
EXTRAPOLATE_MAX_MS = 1000


def clock_text(ms: int | None) -> str:
    """0:07.5 — minutes, seconds and tenths, for messages and the terminal."""
    ms = max(int(ms or 0), 0)
    return f"{ms // 60000}:{ms // 1000 % 60:02d}.{ms // 100 % 10}"


class PlayClock:
    """The position of the item playing now, from libVLC's time reports and the wall clock.

    Each report (media time t at monotonic wall time w) gives an offset w - t; the smallest
    offset seen since the last discontinuity (pause, resume, seek) is the least delayed report,
    so `now - offset` is the best estimate of the position between reports.
    """

    def __init__(self):
        self.reported = 0        # the furthest position libVLC reported since the last seek
        self._offset = None      # min(wall_ms - media_ms) since the last discontinuity
        self._base = 0           # position at the last discontinuity
        self._base_wall = None   # wall ms of it; None while not running
        self._last_report_wall = None

    def run(self, wall_ms: float, position: int | None = None):
        """Playback runs (Playing, or resumed) from `position` (default: where it stood)."""
        if position is None:
            self._base = max(self._base, self.reported)
        else:
            self._base = self.reported = position
        self._base_wall, self._offset, self._last_report_wall = wall_ms, None, wall_ms

    def hold(self, wall_ms: float):
        """Playback holds (paused): freeze the estimate where it is now."""
        self._base = self.estimate(wall_ms)
        self._base_wall = self._offset = None

    def seek(self, wall_ms: float, position: int, running: bool):
        self.reported = position
        self._base = position
        self._offset = None
        self._base_wall = wall_ms if running else None
        self._last_report_wall = wall_ms

    def report(self, wall_ms: float, media_ms: int) -> bool:
        """A time report from libVLC; True if it is progress."""
        if media_ms is None or media_ms <= 0:
            return False
        progress = media_ms > self.reported
        self.reported = max(self.reported, media_ms) if progress else self.reported
        if self._base_wall is not None:
            offset = wall_ms - media_ms
            self._offset = offset if self._offset is None else min(self._offset, offset)
        if progress:
            self._last_report_wall = wall_ms
        return progress

    def estimate(self, wall_ms: float) -> int:
        if self._base_wall is None:
            return int(max(self._base, self.reported))
        if self._offset is not None:
            guess = wall_ms - self._offset
        else:
            guess = self._base + (wall_ms - self._base_wall)
        ceiling = max(self.reported, self._base) + EXTRAPOLATE_MAX_MS
        return int(max(self.reported, self._base, min(guess, ceiling)))


@dataclass
class Verdict:
    outcome: str          # completed | skipped | error | stopped
    error: str = ""
    code: str = ""        # for pages to say it in Hindi or English: see templates/run/_strings.html


def judge(how: str, reached: int, scanned_ms: int | None, vlc_length_ms: int | None,
          detail: str = "") -> Verdict:
    """The outcome of a media item that left the screen.

    `how`: ended (libVLC's Ended), error (libVLC's error event), stalled (the watchdog),
    skipped (next/previous/jump), stopped (stop). `reached` is the position in ms.
    """
    if how == "stopped":
        return Verdict("stopped")
    if how == "skipped":
        return Verdict("skipped")
    if how == "stalled":
        return Verdict("error", f"stalled: {detail} (at {clock_text(reached)})", "stalled")
    if how == "error":
        return Verdict("error", detail or "libVLC could not play it (it reported an error)",
                       "vlc_error")
    duration = scanned_ms if scanned_ms and scanned_ms > 0 else vlc_length_ms
    if not duration or duration <= 0 or vlc_length_ms == 0:
        return Verdict("error", "libVLC found nothing it can play in it "
                                "(zero duration: not a media file, or damaged)", "zero_duration")
    if reached >= COMPLETE_FRACTION * duration:
        return Verdict("completed")
    if reached <= 0:
        return Verdict("error", f"ended without playing anything (length {clock_text(duration)}; "
                                f"libVLC reported no progress)", "no_progress")
    return Verdict("error", f"ended early, at {clock_text(reached)} of {clock_text(duration)}",
                   "ended_early")


# The play log keeps its problems in English (it syncs, scripts read it); pages say them in their
# own language by this code (see templates/run/_strings.html "problems").
_PROBLEMS = (("interrupted:", "interrupted"), ("file missing", "file_missing"),
             ("not in the media catalogue", "not_catalogued"), ("zero duration", "zero_duration"),
             ("ended without playing", "no_progress"), ("ended early", "ended_early"),
             ("stalled", "stalled"), ("the game could not start", "game_missing"),
             ("libvlc", "vlc_error"))


def problem_code(error: str | None) -> str:
    """The code of a play-log row's problem ("" when it had none, "other" when unknown)."""
    text = (error or "").strip().lower()
    if not text:
        return ""
    return next((code for start, code in _PROBLEMS if start in text), "other")
