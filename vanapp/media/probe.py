"""Does this file play? Duration and playability of one file, proved by libVLC decoding it.

One `Prober` holds one libVLC instance; probe files one after the other with it. libVLC's
event callbacks only put a message on a queue (a libVLC call from inside its own callback
freezes it: python-vlc issue #77); every wait here is bounded, so a bad file never hangs a scan.
"""
import queue
import shlex
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .container import truncation

VLC_MISSING = "libVLC is not installed: apt-get install vlc"

# Always decode into dummy outputs: a scan must not open windows on the projector or sound
# out of the speakers while the crew sets up. Decoding, which is what we prove, still happens.
FORCED_ARGS = ["--vout=dummy", "--aout=dummy", "--no-video-title-show", "--quiet"]

WAIT_S = 5.0            # the longest any single wait may take
END_MARGIN_MS = 1500    # the end check seeks this far before the end ...
END_CHECK_MIN_MS = 3000  # ... of videos at least this long
SHORT_MS = 3000         # a clip this short may end before libVLC reports any time

# One probe at a time in this process: web requests and the CLI may ask at once, and two
# decoders side by side on a 2-core laptop only make both slow.
_LOCK = threading.Lock()


class ProbeUnavailable(RuntimeError):
    """libVLC cannot be loaded or started: nothing can be probed."""


@dataclass
class ProbeResult:
    playable: bool
    duration_ms: int | None
    error: str = ""


def _clock(ms: int | None) -> str:
    ms = max(ms or 0, 0)
    return f"{ms // 60000}:{ms // 1000 % 60:02d}.{ms // 100 % 10}"


def _put(event, events, name):
    """libVLC callback: read the event struct (plain memory) and queue it; call nothing in libVLC."""
    value = None
    if name == "time":
        value = event.u.new_time
    elif name == "parsed":
        value = event.u.new_status
    elif name == "es":
        # python-vlc's Event.u is its old EventUnion, which lacks es_changed; the track type
        # (libvlc_track_type_t: 0 audio, 1 video) is that struct's first int, like new_status.
        value = event.u.new_status
    events.put((name, value))


class Prober:
    """A libVLC instance that probes files; use as a context manager, or call close()."""

    def __init__(self, vlc_args: str = "", wait_s: float = WAIT_S):
        try:
            import vlc
        except (ImportError, OSError, NotImplementedError, SystemExit):
            # python-vlc raises NotImplementedError, or even sys.exit(1), when libvlc is absent.
            raise ProbeUnavailable(VLC_MISSING) from None
        self.vlc = vlc
        self.wait_s = wait_s
        try:
            self.instance = vlc.Instance(shlex.split(vlc_args or "") + FORCED_ARGS)
        except Exception:
            self.instance = None
        if self.instance is None:
            raise ProbeUnavailable(VLC_MISSING)

    def close(self):
        if self.instance is not None:
            self.instance.release()
            self.instance = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def probe(self, path) -> ProbeResult:
        """Parse `path` for its duration, then play it briefly to prove it decodes."""
        path = Path(path)
        cut = truncation(path)
        with _LOCK:
            result = self._probe(path)
        if cut:
            return ProbeResult(False, result.duration_ms, cut)
        return result

    def _probe(self, path: Path) -> ProbeResult:
        vlc = self.vlc
        events = queue.Queue()
        media = self.instance.media_new_path(str(path))
        media_events = media.event_manager()
        media_events.event_attach(vlc.EventType.MediaParsedChanged, _put, events, "parsed")
        player = None
        try:
            media.parse_with_options(vlc.MediaParseFlag.local, int(self.wait_s * 1000))
            if self._next(events, {"parsed"}, self.wait_s + 0.5) is None:
                media.parse_stop()
            status = media.get_parsed_status()
            duration = media.get_duration()
            if status != vlc.MediaParsedStatus.done:
                return ProbeResult(False, None, "libVLC could not open it (parsing "
                                   f"{'timed out' if status == vlc.MediaParsedStatus.timeout else 'failed'})")
            player = self.instance.media_player_new()
            player.set_media(media)
            player_events = player.event_manager()
            for name, kind in (("playing", vlc.EventType.MediaPlayerPlaying),
                               ("time", vlc.EventType.MediaPlayerTimeChanged),
                               ("es", vlc.EventType.MediaPlayerESAdded),
                               ("ended", vlc.EventType.MediaPlayerEndReached),
                               ("error", vlc.EventType.MediaPlayerEncounteredError)):
                player_events.event_attach(kind, _put, events, name)
            result = self._play(player, events, duration if duration and duration > 0 else None)
            player.stop()
            return result
        finally:
            if player is not None:
                player.release()
            media.release()

    def _next(self, events, names, timeout):
        """The next queued event whose name is in `names`, or None when `timeout` runs out."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                name, value = events.get(timeout=left)
            except queue.Empty:
                return None
            if name in names:
                return name, value
        return None

    def _play(self, player, events, duration) -> ProbeResult:
        """Play until time advances (and, for longer videos, until the last seconds play too)."""
        playing, has_video, seek_to, reached = False, False, None, 0
        streams = 0
        player.play()
        deadline = time.monotonic() + self.wait_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                name, value = events.get(timeout=left)
            except queue.Empty:
                break
            if name == "playing":
                playing = True
            elif name == "es":
                streams += 1
                has_video = has_video or value == 1
            elif name == "error":
                return ProbeResult(False, duration, "libVLC could not play it (it reported an error)")
            elif name == "time" and playing and value > 0:
                reached = max(reached, value)
                duration = duration or (player.get_length() if player.get_length() > 0 else None)
                if seek_to is None:
                    if has_video and duration and duration >= END_CHECK_MIN_MS:
                        # A file cut short keeps its index (MP4 "faststart") and plays its
                        # beginning; only its last seconds show it is incomplete.
                        seek_to = duration - END_MARGIN_MS
                        player.set_time(seek_to)
                        deadline = time.monotonic() + self.wait_s
                        continue
                    return self._verdict(duration)
                if value > seek_to + 150:
                    return self._verdict(duration)
            elif name == "ended":
                if seek_to is not None:
                    return ProbeResult(False, duration, "libVLC cannot play its end (it stopped at "
                                       f"{_clock(max(reached, seek_to))} of {_clock(duration)}): "
                                       "the file is cut short or damaged")
                if reached > 0 or (streams and duration and duration <= SHORT_MS):
                    # Very short clips (audio above all, with the dummy output) can end
                    # before libVLC reports any time: they played from start to end.
                    return self._verdict(duration)
                if not duration:
                    return ProbeResult(False, None, "libVLC found nothing it can play in it "
                                       "(zero duration: not a media file, or damaged)")
                return ProbeResult(False, duration, f"libVLC stopped at {_clock(reached)} of "
                                   f"{_clock(duration)}: the file is cut short or damaged")
        if not playing:
            return ProbeResult(False, duration, f"libVLC did not start playing it within {self.wait_s:g} s")
        return ProbeResult(False, duration, f"libVLC started it but playback did not advance "
                           f"within {self.wait_s:g} s")

    @staticmethod
    def _verdict(duration) -> ProbeResult:
        if not duration:
            return ProbeResult(False, None, "libVLC plays it but reports no duration")
        return ProbeResult(True, int(duration))
