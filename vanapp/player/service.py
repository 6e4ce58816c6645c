"""The player service: one thread owns libVLC and runs the show from a queue. Commands from web
requests, the CLI and tests, and libVLC's events, all arrive on that queue; a copy of the state
(the snapshot) is kept under a lock so pages read it without waiting for libVLC.

A broken file never stops the show: it is logged and the next item plays. The play log is
written by this thread, each row in its own short transaction, after the next item has been
started (so the gap between items does not wait for the disk).

Game items are run by the game state machine: the service calls `games.enter(screening, item)`
when the programme reaches one (it returns the run's id) and `games.leave(run_id)` when the
item leaves the screen (it says whether the game was played), and the show calls `game_over`
when the crew ended the game, which moves the programme on. Without `games` (the `vanapp play`
command) a game item waits for Next.

The van's player (`recover=True`) keeps where the show stands (screening, item, position) in
a setting, every PROGRESS_MS while it plays: after a power cut the next start finds it, logs
the item on screen as interrupted at that position and offers to resume there.
"""
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field

from peewee import OperationalError

from ..ids import new_id, to_iso, utcnow
from . import playlog
from .vlc import Engine, EngineUnavailable, release_memory
from .outcome import PlayClock, clock_text, judge
from .programme import Item, PlayError, Programme, load

log = logging.getLogger(__name__)

ACTIVE = ("opening", "playing", "paused", "game")
WRITE_TRIES = 3
REPEAT_WINDOW_MS = 3000   # Play of the item on screen this soon after it began keeps it (see _do_play)
PROGRESS_MS = 1000        # how often the position is kept for a resume after a power cut


def _wall() -> float:
    return time.monotonic() * 1000


def _utc_at(wall_ms: float):
    """The UTC time of a monotonic wall-clock reading (event times are taken on libVLC's thread)."""
    import datetime as dt
    return utcnow() - dt.timedelta(milliseconds=max(_wall() - wall_ms, 0))


@dataclass
class Current:
    """The item on screen now."""
    item: Item
    gen: int
    started_wall: float
    started_at: object
    play_id: str = field(default_factory=new_id)
    clock: PlayClock = field(default_factory=PlayClock)
    playing: bool = False          # libVLC said Playing at least once
    vlc_length: int | None = None
    last_progress: float = 0.0
    pause_pending: bool = False
    run_id: str | None = None      # a game item's run
    seek_to: int = 0               # resume: where to go once libVLC plays


class PlayerService:
    def __init__(self, *, media_dir: str, vlc_args: str = "", stall_seconds: float = 8.0,
                 projector_geometry: str = "", recover: bool = False, tick_s: float = 0.1,
                 command_timeout: float = 5.0, games=None):
        self.media_dir = media_dir
        self.vlc_args = vlc_args
        self.stall_ms = float(stall_seconds) * 1000
        self.geometry = projector_geometry
        self.recover = recover
        self.games = games
        self.interrupted = None     # where a show stopped by a power cut stood (see playlog)
        self._kept = (None, 0.0, None)  # the progress marker: (where, wall ms written, position)
        self.tick_s = tick_s
        self.command_timeout = command_timeout
        self.unavailable = ""
        self.display = ""
        self.engine = None
        self.window = None
        self._queue = queue.Queue()
        self._lock = threading.Lock()
        self._writes = []           # play-log writes, flushed after each message
        self._trim = False          # an item left the screen: give its memory back when idle
        self.prog: Programme | None = None
        self.index = 0
        self.state = "idle"
        self.cur: Current | None = None
        self.volume = 100
        self.message = {"code": "", "text": "", "item": None}
        self.problems = []          # this run's skipped-with-error items, for the console
        self._snapshot = {}
        self._publish()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="vanapp-player", daemon=True)
        self._thread.start()
        self._ready.wait(command_timeout * 2)

    # == the API other threads call ========================================================
    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._snapshot)

    def play(self, screening_id: str, from_index: int = 0, at_ms: int = 0) -> dict:
        """Play `screening_id`'s programme from item `from_index`, `at_ms` into it (a resume),
        reading the programme with the caller's DB connection."""
        self._check_available()
        programme = load(screening_id, self.media_dir)
        if not programme.items:
            raise PlayError(409, "empty_programme", "This screening has no programme items.",
                            field="screening")
        if not isinstance(from_index, int) or not 0 <= from_index < len(programme.items):
            raise PlayError(400, "bad_request", f"from must be 0..{len(programme.items) - 1}.",
                            field="from")
        if isinstance(at_ms, bool) or not isinstance(at_ms, int) or at_ms < 0:
            raise PlayError(400, "bad_request", "ms must be a whole number of milliseconds, 0 or more.",
                            field="ms")
        return self._call("play", programme, from_index, at_ms)

    def pause(self):
        return self._call("pause")

    def resume(self):
        return self._call("resume")

    def next(self, game_done: bool = True):
        """The next item. Leaving a game by Next logs it completed (the crew ran it), unless
        `game_done` is False (a rehearsal passing over games logs them skipped)."""
        return self._call("next", game_done)

    def previous(self):
        return self._call("previous")

    def game_over(self, run_id: str):
        """The crew ended game run `run_id`: if the programme is on it, go on to the next item."""
        return self._call("game_over", run_id)

    def stop(self):
        return self._call("stop")

    def seek(self, ms: int):
        if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
            raise PlayError(400, "bad_request", "ms must be a whole number of milliseconds, 0 or more.",
                            field="ms")
        return self._call("seek", ms)

    def set_volume(self, level: int):
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 100:
            raise PlayError(400, "bad_request", "level must be a whole number 0..100.", field="level")
        return self._call("volume", level)

    def close(self, timeout: float = 5.0):
        """Stop (logging the item on screen as stopped) and release libVLC."""
        if self._thread.is_alive():
            self._queue.put(("quit",))
            self._thread.join(timeout)

    def _check_available(self):
        if self.unavailable:
            raise PlayError(503, "player_unavailable", self.unavailable)
        if not self._thread.is_alive():
            raise PlayError(503, "player_unavailable", "The player has been closed.")

    def _call(self, name, *args):
        self._check_available()
        reply = {"done": threading.Event(), "error": None}
        self._queue.put(("cmd", name, args, reply))
        if not reply["done"].wait(self.command_timeout):
            raise PlayError(503, "player_busy",
                            f"The player did not answer within {self.command_timeout:g} s.")
        if reply["error"] is not None:
            raise reply["error"]
        return self.snapshot()

    def _post(self, name, value, gen, wall):
        """libVLC's callbacks end here: queue and return."""
        self._queue.put(("vlc", name, value, gen, wall))

    # == the player thread ==================================================================
    def _main(self):
        try:
            self.engine = Engine(self.vlc_args, self._post)
        except EngineUnavailable as exc:
            log.error("player: %s", exc)
            self.unavailable = str(exc)
            self.state = "unavailable"
            self._say("unavailable", str(exc))
            self._publish()
            self._ready.set()
            return
        self._open_display()
        if self.recover:
            try:
                self.interrupted = playlog.take_progress()
            except Exception:
                log.exception("player: reading where the last show stood")
            self._write(playlog.close_interrupted, self.interrupted)
            self._flush()       # before the first command can open a row of its own
        self._publish()
        self._ready.set()
        while True:
            try:
                message = self._queue.get(timeout=self.tick_s)
            except queue.Empty:
                message = None
            if message and message[0] == "quit":
                break
            try:
                if message and message[0] == "cmd":
                    self._command(*message[1:])
                elif message and message[0] == "vlc":
                    self._event(*message[1:])
                self._watchdog()
            except Exception:  # the show goes on: log it, keep the thread alive
                log.exception("player: handling %r", message[:2] if message else "tick")
            self._flush()       # after the next item started; before the snapshot says so
            self._keep_progress()
            self._publish()
            if self._trim:      # last: the show and the log come first
                self._trim = False
                release_memory()
        self._shutdown()

    def _open_display(self):
        from .display import open_output
        self.window, self.display = open_output(self.geometry)
        try:
            if self.window is not None:
                self.engine.into_window(self.window.handle)
            else:
                self.engine.fullscreen(True)
        except Exception as exc:
            log.warning("player: display setup failed: %s", exc)

    def _shutdown(self):
        try:
            if self.cur is not None:
                # the app is going away, not the show: a game goes on after the restart, and
                # the progress marker stays for the resume
                self._finish("stopped", leave_game=False)
                self.state = "stopped"
            self._flush()
            self._publish()
        finally:
            self.engine.close()
            if self.window is not None:
                self.window.close()

    def _command(self, name, args, reply):
        try:
            getattr(self, "_do_" + name)(*args)
        except PlayError as exc:
            reply["error"] = exc
        except Exception as exc:
            log.exception("player: command %s", name)
            reply["error"] = PlayError(500, "internal", f"The player failed: {exc}")
        finally:
            # The answer goes out after the play log is committed (and after the next item
            # has started: a write never delays the show).
            self._flush()
            self._publish()
            reply["done"].set()

    # -- commands (player thread) ----------------------------------------------------------
    def _need(self, *states, what="do that"):
        if self.state not in states:
            raise PlayError(409, "bad_state", f"Cannot {what} while the player is {self.state}.")

    def _do_play(self, programme: Programme, from_index: int, at_ms: int = 0):
        cur = self.cur
        if (cur is not None and self.prog is not None and self.prog.screening == programme.screening
                and self.index == from_index and self.state in ("opening", "playing")
                and _wall() - cur.started_wall < REPEAT_WINDOW_MS):
            # the item on screen asked for again as it begins (a double press; Start screening,
            # which plays, then Play): keep it rather than log a skip and start it over
            return
        if self.cur is not None:
            same = self.prog is not None and self.prog.screening == programme.screening
            self._finish("skipped" if same else "stopped")
        self.prog = programme
        self.problems = []
        self._say("", "")
        if self.interrupted and self.interrupted.get("screening") == programme.screening:
            self.interrupted = None         # resumed (or started over): the offer is taken
            self._progress_write(playlog.drop_interrupted)
        self._start(from_index, at_ms)

    def _do_pause(self):
        self._need("opening", "playing", "paused", what="pause")
        if self.state == "paused":
            return
        if self.state == "opening":
            self.cur.pause_pending = True
        else:
            self.engine.pause()
            self.cur.clock.hold(_wall())
        self.state = "paused"

    def _do_resume(self):
        self._need("paused", "playing", what="resume")
        if self.state == "playing":
            return
        if self.cur.pause_pending:
            self.cur.pause_pending = False
            self.state = "opening"
            return
        self.engine.resume()
        now = _wall()
        self.cur.clock.run(now)
        self.cur.last_progress = now
        self.state = "playing"

    def _do_next(self, game_done: bool):
        self._need(*ACTIVE, what="go to the next item")
        self._finish("completed" if self.cur.item.kind == "game" and game_done else "skipped")
        self._start(self.index + 1)

    def _do_game_over(self, run_id: str):
        cur = self.cur
        if cur is None or cur.item.kind != "game" or cur.run_id != run_id:
            return          # the programme has already left that game
        self._finish("completed")
        self._start(self.index + 1)

    def _do_previous(self):
        self._need(*ACTIVE, "finished", what="go back")
        if self.state == "finished":
            target = len(self.prog.items) - 1
        else:
            target = max(self.index - 1, 0)
            self._finish("skipped")
        self._start(target)

    def _do_stop(self):
        if self.cur is not None:
            self._finish("stopped")
        self.engine.stop()
        self._hide_video()
        if self.prog is not None:
            self.state = "stopped"
            self._say("stopped", "Stopped.")
        self._progress_write(playlog.clear_progress)
        self._kept = (None, 0.0, None)

    def _do_seek(self, ms: int):
        self._need("playing", "paused", what="seek")
        if self.cur.item.kind != "media":
            raise PlayError(409, "bad_state", "Cannot seek in a game.")
        length = self._duration(self.cur)
        if length and ms > length:
            raise PlayError(400, "bad_request", f"ms must be at most {length} (the item's length).",
                            field="ms")
        self.engine.seek(ms)
        now = _wall()
        self.cur.clock.seek(now, ms, running=self.state == "playing")
        self.cur.last_progress = now

    def _do_volume(self, level: int):
        self.volume = level
        self.engine.set_volume(level)

    # -- the show --------------------------------------------------------------------------
    def _start(self, index: int, at_ms: int = 0):
        """Put item `index` on screen (`at_ms` into it: a resume); items that cannot even be
        tried are logged and passed."""
        items = self.prog.items
        while index < len(items):
            item = items[index]
            self.index = index
            now = utcnow()
            if item.kind == "game":
                # The game state machine takes the screens (projector, phones); the video hides.
                self.engine.stop()
                self._hide_video()
                run_id, problem = self._enter_game(item)
                if problem:
                    self._write(playlog.close_play, None, screening_id=self.prog.screening, index=index,
                                kind="game", ref=item.ref, started_at=now, position_ms=0,
                                duration_ms=None, outcome="error", error=problem, ended_at=now)
                    self._say("game_missing", f"{self._title(item)}: {problem}", item, problem)
                    index, at_ms = index + 1, 0
                    continue
                self.cur = Current(item=item, gen=self.engine.gen, started_wall=_wall(), started_at=now,
                                   run_id=run_id)
                self._write(playlog.open_play, self.prog.screening, index, "game", item.ref, now, None,
                            play_id=self.cur.play_id)
                self.state = "game"
                self._prepare_after(index)
                return
            problem = ("not in the media catalogue" if item.path is None
                       else "file missing" if not os.path.exists(item.path) else "")
            if problem:
                self._write(playlog.close_play, None, screening_id=self.prog.screening, index=index,
                            kind="media", ref=item.ref, started_at=now, position_ms=0,
                            duration_ms=item.length_ms, outcome="error", error=problem, ended_at=now)
                self._say("file_missing" if item.path else "not_catalogued",
                          f"{self._title(item)}: {problem}", item, problem)
                index += 1
                continue
            self._show_video()
            started = self.engine.open(item.path)
            self.cur = Current(item=item, gen=self.engine.gen, started_wall=_wall(), started_at=now,
                               last_progress=_wall(), seek_to=at_ms)
            self.state = "opening"
            if not started:
                self._finish("error", "libVLC refused to start it")
                index, at_ms = index + 1, 0
                continue
            self._prepare_after(index)
            return
        self._end_of_programme()

    def _enter_game(self, item: Item) -> tuple[str | None, str]:
        """(run id, problem): the game state machine starts this item's game (or keeps its live
        run, on a resume). No games part (the CLI): no run, the crew presses Next."""
        if self.games is None:
            return None, ""
        try:
            return self.games.enter(self.prog.screening, item), ""
        except Exception as exc:    # a game that cannot start is passed, like a broken file
            log.exception("player: starting game %s", item.ref)
            return None, f"the game could not start: {getattr(exc, 'message', exc)}"

    def _end_of_programme(self):
        self.engine.stop()
        self._hide_video()
        self.cur = None
        self.index = len(self.prog.items)
        self.state = "finished"
        self._progress_write(playlog.clear_progress)
        self._kept = (None, 0.0, None)
        if not self.message["code"] or self.message["code"] in ("stopped",):
            self._say("finished", "Programme finished.")

    def _prepare_after(self, index: int):
        for item in self.prog.items[index + 1:]:
            if item.kind == "media" and item.path and os.path.exists(item.path):
                try:
                    self.engine.prepare(item.path)
                except Exception:
                    log.exception("player: preparing %s", item.path)
                return

    def _event(self, name, value, gen, wall):
        cur = self.cur
        if cur is None or gen != self.engine.gen or cur.gen != gen or cur.item.kind != "media":
            return  # a late event of an item that has already left the screen
        if name == "playing" and not cur.playing:
            cur.playing = True
            cur.started_at = _utc_at(wall)
            cur.clock.run(wall, 0)
            cur.last_progress = wall
            self.engine.set_volume(self.volume)
            if cur.seek_to:
                # a resume: libVLC seeks only once the input runs
                self.engine.seek(cur.seek_to)
                cur.clock.seek(_wall(), cur.seek_to, running=True)
                cur.seek_to = 0
            self._write(playlog.open_play, self.prog.screening, self.index, "media", cur.item.ref,
                        cur.started_at, self._duration(cur), play_id=cur.play_id)
            if cur.pause_pending:
                cur.pause_pending = False
                self.engine.pause()
                cur.clock.hold(_wall())
            else:
                self.state = "playing"
        elif name == "time":
            if cur.clock.report(wall, value):
                cur.last_progress = wall
        elif name == "length":
            cur.vlc_length = value
        elif name in ("ended", "error"):
            self._finish(name, wall=wall)
            self._start(self.index + 1)

    def _watchdog(self):
        cur = self.cur
        if cur is None or cur.item.kind != "media" or self.state not in ("opening", "playing"):
            return
        now = _wall()
        if now - cur.last_progress > self.stall_ms:
            self._finish("stalled", f"no progress for {self.stall_ms / 1000:g} s", wall=now)
            self._start(self.index + 1)

    def _finish(self, how: str, detail: str = "", wall: float | None = None, leave_game: bool = True):
        """The item on screen leaves it: decide its outcome and queue the play-log write."""
        cur, self.cur = self.cur, None
        if cur is None:
            return
        self._trim = True
        wall = _wall() if wall is None else wall
        ended_at = _utc_at(wall)
        item = cur.item
        if item.kind == "game":
            if cur.run_id and self.games is not None and leave_game:
                # played or not is the game's to say: a game left in its lobby was skipped,
                # whatever button left it
                try:
                    played = self.games.leave(cur.run_id)
                except Exception:
                    log.exception("player: leaving game run %s", cur.run_id)
                    played = False
                outcome = "stopped" if how == "stopped" else "completed" if played else "skipped"
            else:
                outcome = {"completed": "completed", "stopped": "stopped"}.get(how, "skipped")
            self._write(playlog.close_play, cur.play_id, screening_id=self.prog.screening,
                        index=item.index, kind="game", ref=item.ref, started_at=cur.started_at,
                        position_ms=int(wall - cur.started_wall), duration_ms=None,
                        outcome=outcome, ended_at=ended_at)
            return
        reached = cur.clock.estimate(wall) if cur.playing else 0
        if cur.vlc_length and cur.vlc_length > 0:
            reached = min(reached, cur.vlc_length)
        verdict = judge(how, reached, item.length_ms, cur.vlc_length, detail)
        self._write(playlog.close_play, cur.play_id, screening_id=self.prog.screening,
                    index=item.index, kind="media", ref=item.ref, started_at=cur.started_at,
                    position_ms=reached, duration_ms=self._duration(cur), outcome=verdict.outcome,
                    error=verdict.error, ended_at=ended_at)
        if verdict.outcome == "error":
            log.warning("player: %s (%s): %s", item.ref, item.path, verdict.error)
            self._say(verdict.code, f"{self._title(item)}: {verdict.error}", item, verdict.error)

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _duration(cur: Current) -> int | None:
        if cur.item.length_ms:
            return cur.item.length_ms
        return cur.vlc_length if cur.vlc_length and cur.vlc_length > 0 else None

    @staticmethod
    def _title(item: Item) -> str:
        return item.title_en or item.title_hi or item.ref

    def _say(self, code: str, text: str, item: Item | None = None, error: str = ""):
        self.message = {"code": code, "text": text, "item": item.public() if item else None}
        if error and item is not None:
            self.problems = (self.problems + [{"index": item.index, "ref": item.ref, "code": code,
                                               "error": error, "title": item.public()["title"]}])[-20:]

    def _show_video(self):
        if self.window is not None:
            self.window.show()

    def _hide_video(self):
        if self.window is not None:
            self.window.hide()

    def _write(self, fn, *args, **kwargs):
        self._writes.append((fn, args, kwargs, 0))

    def _progress_write(self, fn, *args):
        """A write of the resume marker: best effort, never retried (the next one follows soon)."""
        if not self.recover:
            return
        try:
            fn(*args)
        except Exception:
            log.warning("player: could not keep the show's position", exc_info=True)

    def _keep_progress(self):
        """Keep where the show stands (for a resume after a power cut): at each new item, and
        every PROGRESS_MS while it moves."""
        cur = self.cur
        if not self.recover or cur is None or self.prog is None:
            return
        position = cur.clock.estimate(_wall()) if cur.item.kind == "media" and cur.playing else cur.seek_to
        where = (self.prog.screening, self.index, cur.play_id)
        now = _wall()
        kept_where, kept_wall, kept_position = self._kept
        if where == kept_where and (now - kept_wall < PROGRESS_MS or position == kept_position):
            return
        self._kept = (where, now, position)
        self._progress_write(playlog.keep_progress, {
            "screening": self.prog.screening, "index": self.index, "ms": int(position or 0),
            "play": cur.play_id, "kind": cur.item.kind, "ref": cur.item.ref, "run": cur.run_id})

    def _flush(self):
        """Commit the queued play-log writes in order. A database still locked after its busy
        timeout keeps this write and the ones after it for the next turn (a dropped write
        would leave the log saying "playing" for an item long gone); anything else, or the
        third failure, is logged and dropped: a full disk must not stop the show."""
        writes, self._writes = self._writes, []
        for n, (fn, args, kwargs, tries) in enumerate(writes):
            try:
                fn(*args, **kwargs)
            except OperationalError:
                if tries + 1 < WRITE_TRIES:
                    log.warning("player: play-log write %s failed (try %d), will retry",
                                fn.__name__, tries + 1, exc_info=True)
                    self._writes[:0] = [(fn, args, kwargs, tries + 1)] + writes[n + 1:]
                    return
                log.exception("player: play-log write %s failed %d times", fn.__name__, WRITE_TRIES)
            except Exception:
                log.exception("player: play-log write %s failed", fn.__name__)

    def _publish(self):
        prog, cur = self.prog, self.cur
        items = prog.items if prog else []
        item = items[self.index] if prog and self.index < len(items) else None
        upcoming = items[self.index + 1] if prog and self.index + 1 < len(items) else None
        position = duration = None
        if cur is not None and cur.item.kind == "media":
            duration = self._duration(cur)
            position = cur.clock.estimate(_wall()) if cur.playing else 0
            if duration:
                position = min(position, duration)
        elif cur is not None:
            position = int(_wall() - cur.started_wall)
        snap = {
            "screening": prog.screening if prog else None,
            "village": prog.village if prog else None,
            "index": self.index if prog else None,
            "count": len(items),
            "item": dict(item.public(), run=cur.run_id if cur is not None and cur.item is item else None)
            if item and self.state != "finished" else None,
            "next": upcoming.public() if upcoming and self.state != "finished" else None,
            "media_id": item.ref if item and item.kind == "media" and self.state != "finished" else None,
            "state": self.state,
            "position_ms": position,
            "duration_ms": duration,
            "position_text": f"{clock_text(position)} / {clock_text(duration)}" if duration else "",
            "volume": self.volume,
            "message": self.message["text"],
            "message_code": self.message["code"],
            "message_item": self.message["item"],
            "problems": list(self.problems),
            "run": cur.run_id if cur is not None and cur.item.kind == "game" else None,
            "interrupted": dict(self.interrupted) if self.interrupted else None,
            "display": self.display,
            "updated_at": to_iso(utcnow()),
        }
        with self._lock:
            self._snapshot = snap
