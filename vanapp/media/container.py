"""A cheap structural check of MP4/MOV/M4A files: is the file cut short?

An MP4 written with its index first ("faststart", as our samples are) still opens and plays
its beginning when its end is missing, e.g. after an interrupted copy to the van's laptop.
Its top-level boxes declare their sizes, so a cut is visible without decoding anything.
"""
import os
import struct
from pathlib import Path

MAX_BOXES = 10000  # a real file has a handful of top-level boxes; stop early on nonsense


def truncation(path: Path) -> str:
    """'' if `path` is not an ISO media file or its boxes fit in it; else what is wrong."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(12)
            if len(head) < 12 or head[4:8] != b"ftyp":
                return ""
            offset = 0
            for _ in range(MAX_BOXES):
                if offset + 8 > size:
                    return ""
                fh.seek(offset)
                box_size, kind = struct.unpack(">I4s", fh.read(8))
                if box_size == 1:  # 64-bit size follows the type
                    large = fh.read(8)
                    if len(large) < 8:
                        break
                    box_size = struct.unpack(">Q", large)[0]
                elif box_size == 0:  # "extends to the end of the file"
                    return ""
                name = kind.decode("latin-1")
                if box_size < 8:
                    return f"the file is damaged: its '{name}' box at byte {offset} has a size of {box_size}"
                if offset + box_size > size:
                    return (f"the file is cut short: its '{name}' box needs {offset + box_size} bytes, "
                            f"the file has {size} (an interrupted copy?)")
                offset += box_size
            return ""
    except OSError:
        return ""  # unreadable files are reported by whoever opened them first
    return ""
