"""Playback: the player service (one per app process, owning libVLC), its libVLC adapter, the
proof-of-play log and the `vanapp play` command."""
import atexit
import threading

from .programme import PlayError

__all__ = ["PlayError", "get_player"]

_lock = threading.Lock()


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
            atexit.register(service.close)
    return service
