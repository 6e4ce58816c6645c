"""The media folder on disk: reading a file's size and checksum, and finding files nobody listed."""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
# Not media: the games (their own loader), the catalogue, notes and the sample generator.
IGNORED_DIRS = {"games"}
IGNORED_FILES = {"catalog.yaml", "generate_samples.sh"}


@dataclass
class FileState:
    status: str            # ok | missing | unreadable
    size: int | None = None
    sha256: str = ""
    error: str = ""


def read_state(path: Path, shown: str) -> FileState:
    """Size and SHA-256 of `path`, or why it cannot be read (`shown` is its name in messages)."""
    if not path.exists():
        broken = " (a link to nowhere)" if path.is_symlink() else ""
        return FileState("missing", error=f"{shown}: file not found{broken}")
    if path.is_dir():
        return FileState("unreadable", error=f"{shown}: is a folder, not a file")
    if not path.is_file():  # a pipe or a device would block the read (and libVLC) forever
        return FileState("unreadable", error=f"{shown}: is not a regular file")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        return FileState("unreadable", error=f"{shown}: cannot be read ({exc.strerror or exc})")
    return FileState("ok", size=size, sha256=digest.hexdigest())


def uncatalogued(media_dir, catalogued: set[str]) -> list[str]:
    """Files under the media folder (relative, with /) that the catalogue does not list."""
    root = Path(media_dir)
    found = []
    for here, dirs, files in os.walk(root):
        rel_dir = Path(here).relative_to(root)
        # Prune in place so os.walk does not descend into hidden folders or games/.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not (rel_dir == Path(".") and d in IGNORED_DIRS))
        for name in sorted(files):
            if name.startswith(".") or name.startswith("README"):
                continue
            rel = (rel_dir / name).as_posix()
            if rel in IGNORED_FILES or rel in catalogued:
                continue
            found.append(rel)
    return found
