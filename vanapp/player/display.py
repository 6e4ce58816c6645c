"""Where the video goes. Mirror mode (the default): libVLC's own full-screen window. Extended
desktop (VANAPP_PROJECTOR_GEOMETRY like "1920x1080+1920+0"): libVLC ignores screen-number
options, so the video goes into a borderless window of ours placed on the projector's part of
the desktop. That window is Tk, run by its own thread (Tk is bound to the thread that made it);
if Tk or a display is missing, we say why and fall back to full-screen — never fail the show.
"""
import logging
import queue
import re
import threading

log = logging.getLogger(__name__)

GEOMETRY = re.compile(r"^(\d+)x(\d+)([+-]\d+)([+-]\d+)$")


def parse_geometry(text: str) -> str | None:
    """A validated X geometry string, or None when empty; ValueError names the problem."""
    text = (text or "").strip()
    if not text:
        return None
    if not GEOMETRY.match(text):
        raise ValueError(f"VANAPP_PROJECTOR_GEOMETRY must look like 1920x1080+1920+0, not {text!r}")
    return text


class ProjectorWindow:
    """A borderless black window at `geometry`; show() while video plays, hide() between items
    so the projector page (browser) underneath shows the title card and the games."""

    def __init__(self, geometry: str, timeout: float = 5.0):
        self.geometry = geometry
        self.handle = None
        self.error = ""
        self._commands = queue.Queue()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vanapp-projector-window", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.error = "the projector window did not open in time"
        if self.error:
            raise RuntimeError(self.error)

    def _run(self):
        try:
            import tkinter
            root = tkinter.Tk()
        except Exception as exc:  # no tkinter, or no display ($DISPLAY unset, no X server)
            self.error = f"no projector window ({exc.__class__.__name__}: {exc})"
            self._ready.set()
            return
        try:
            root.title("VanKit video")
            root.overrideredirect(True)
            root.configure(background="black")
            root.geometry(self.geometry)
            frame = tkinter.Frame(root, background="black", cursor="none")
            frame.pack(fill="both", expand=True)
            root.update()
            self.handle = frame.winfo_id()
            root.withdraw()
        except Exception as exc:
            self.error = f"no projector window ({exc})"
            self._ready.set()
            root.destroy()
            return
        self._ready.set()

        def poll():
            try:
                while True:
                    command = self._commands.get_nowait()
                    if command == "show":
                        root.deiconify()
                        root.geometry(self.geometry)
                        root.lift()
                    elif command == "hide":
                        root.withdraw()
                    elif command == "close":
                        root.destroy()
                        return
            except queue.Empty:
                pass
            root.after(50, poll)

        root.after(50, poll)
        root.mainloop()

    def show(self):
        self._commands.put("show")

    def hide(self):
        self._commands.put("hide")

    def close(self):
        self._commands.put("close")


def open_output(geometry_setting: str):
    """(window or None, description) for the configured display setting."""
    try:
        geometry = parse_geometry(geometry_setting)
    except ValueError as exc:
        log.warning("%s; using full-screen", exc)
        return None, f"full-screen ({exc})"
    if geometry is None:
        return None, "full-screen"
    try:
        window = ProjectorWindow(geometry)
    except RuntimeError as exc:
        log.warning("%s; using full-screen instead", exc)
        return None, f"full-screen ({exc})"
    return window, f"window {geometry}"
