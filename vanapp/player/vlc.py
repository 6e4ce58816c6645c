"""The libVLC adapter: one instance and one reused media player. Only the player service's own
thread calls it. libVLC's event callbacks run on libVLC's threads and only `post` a message
(plain values, read from the event struct) — calling libVLC from a callback freezes it
(python-vlc #77)."""
import logging
import shlex
import sys
import time

log = logging.getLogger(__name__)

VLC_MISSING = "libVLC is not installed or cannot be loaded (install VLC: apt-get install vlc)"
BASE_ARGS = ["--no-video-title-show", "--quiet", "--no-snapshot-preview"]


class EngineUnavailable(RuntimeError):
    """libVLC cannot be loaded or started."""


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    # musl and other C libraries have neither
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """glibc gives each new thread that allocates its own malloc arena, up to 8 per core, and
    keeps their memory. libVLC starts fresh decoder threads for every item, so a night's
    programme left the app ~70 MB fatter in half-empty arenas (bench/playback.py). Capping
    them costs little on a 2-core laptop. Runs at player start, before most threads exist;
    glibc only, elsewhere it does nothing."""
    return bool(_LIBC and _LIBC.mallopt(-8, int(arenas)))     # -8: M_ARENA_MAX


def release_memory():
    """Hand the freed heap of the item that left the screen back to the system (glibc)."""
    if _LIBC:
        _LIBC.malloc_trim(0)


class Engine:
    """libVLC: one instance, one media player, events handed to `post(kind, value, gen, wall)`.

    `gen` tags every event with the media it belongs to: the service bumps it (after stop(),
    which joins libVLC's input thread) before playing the next item, and drops late events
    of the item before.
    """

    def __init__(self, vlc_args: str, post):
        try:
            import vlc
        except (ImportError, OSError, NotImplementedError, SystemExit) as exc:
            # python-vlc raises NotImplementedError, or even sys.exit(1), when libvlc is absent.
            raise EngineUnavailable(f"{VLC_MISSING}: {exc}") from None
        self.vlc = vlc
        self.gen = 0
        limit_malloc_arenas()
        try:
            self.instance = vlc.Instance(BASE_ARGS + shlex.split(vlc_args or ""))
        except Exception as exc:  # python-vlc wraps a NULL instance in odd ways
            raise EngineUnavailable(f"libVLC did not start with options {vlc_args!r}: {exc}") from None
        if self.instance is None:
            raise EngineUnavailable(f"libVLC did not start with options {vlc_args!r}")
        self.player = self.instance.media_player_new()
        self._prepared = None   # (path, Media) parsed ahead of time
        ev = vlc.EventType
        events = self.player.event_manager()
        for kind, name in ((ev.MediaPlayerPlaying, "playing"), (ev.MediaPlayerPaused, "paused"),
                           (ev.MediaPlayerEndReached, "ended"),
                           (ev.MediaPlayerEncounteredError, "error"),
                           (ev.MediaPlayerTimeChanged, "time"),
                           (ev.MediaPlayerLengthChanged, "length")):
            events.event_attach(kind, self._callback, name, post)

    def _callback(self, event, name, post):
        # Runs on a libVLC thread: read plain memory, queue, return. Nothing else.
        value = None
        if name == "time":
            value = event.u.new_time
        elif name == "length":
            value = event.u.new_length
        post(name, value, self.gen, time.monotonic() * 1000)

    def version(self) -> str:
        return self.vlc.libvlc_get_version().decode(errors="replace")

    # -- media -----------------------------------------------------------------------------
    def prepare(self, path: str):
        """Make and start parsing the next item's media while the current one plays."""
        if self._prepared and self._prepared[0] == path:
            return
        self._drop_prepared()
        media = self.instance.media_new_path(path)
        media.parse_with_options(self.vlc.MediaParseFlag.local, 5000)  # async in libVLC 3
        self._prepared = (path, media)

    def _drop_prepared(self):
        if self._prepared:
            self._prepared[1].release()
            self._prepared = None

    def open(self, path: str):
        """Stop whatever plays, then start `path`; events after this carry a new generation."""
        self.player.stop()      # synchronous: no more events from the item before
        self.gen += 1
        if self._prepared and self._prepared[0] == path:
            media = self._prepared[1]
            self._prepared = None
        else:
            media = self.instance.media_new_path(path)
        self.player.set_media(media)
        media.release()         # the player holds its own reference
        return self.player.play() == 0

    def stop(self):
        self.player.stop()
        self.gen += 1

    # -- controls ------------------------------------------------------------------------
    def pause(self):
        self.player.set_pause(1)

    def resume(self):
        self.player.set_pause(0)

    def seek(self, ms: int):
        self.player.set_time(int(ms))

    def set_volume(self, level: int):
        self.player.audio_set_volume(int(level))

    def time_ms(self) -> int:
        return self.player.get_time()

    def length_ms(self) -> int:
        return self.player.get_length()

    # -- display -------------------------------------------------------------------------
    def fullscreen(self, on: bool):
        self.player.set_fullscreen(bool(on))

    def into_window(self, handle: int):
        """Draw video into a window of ours (the projector window on an extended desktop)."""
        if sys.platform.startswith("win"):
            self.player.set_hwnd(handle)
        elif sys.platform == "darwin":
            self.player.set_nsobject(handle)
        else:
            self.player.set_xwindow(handle)
        self.player.set_fullscreen(False)

    def close(self):
        try:
            self.player.stop()
            self._drop_prepared()
            self.player.release()
            self.instance.release()
        except Exception:  # closing must never raise on the way out
            log.exception("closing libVLC")
