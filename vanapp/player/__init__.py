"""Playback: the player service (one per app process, owning libVLC), its libVLC adapter
(vlc.py), the programme it plays and the proof-of-play log."""
import threading

from .. import parts
from .programme import PlayError

__all__ = ["PlayError", "get_player", "init_app"]

_lock = threading.Lock()


def init_app(app):
    """`vanapp serve` starts the app's player before the first request (libVLC loads once, and a
    play log left "playing" by a power cut is closed as interrupted), so Start is quick; it is
    closed on the way out (the item on screen logged as stopped). Until then it is made when
    first asked for, and app.extensions["player"] holds it once made."""
    parts.register(app, start=get_player, stop=_close)


def get_player(app):
    """This app's player service, started on first use (libVLC loads only when needed)."""
    service = app.extensions.get("player")
    if service is not None:
        return service
    with _lock:
        service = app.extensions.get("player")
        if service is None:
            from .service import PlayerService
            service = PlayerService(
                media_dir=app.config["MEDIA_DIR"], vlc_args=app.config.get("VLC_ARGS", ""),
                stall_seconds=float(app.config.get("PLAYER_STALL_SECONDS", 8)),
                projector_geometry=app.config.get("PROJECTOR_GEOMETRY", ""), recover=True,
                games=app.extensions.get("show"))
            app.extensions["player"] = service
    return service


def _close(app):
    service = app.extensions.get("player")
    if service is not None:
        service.close()
