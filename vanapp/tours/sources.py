"""Tour files as given: find them, decode them, and hand them to the YAML or CSV reader."""
import codecs
import hashlib
from pathlib import Path

from .csvfile import parse_csv
from .spec import ParsedFile, Problem
from .yamlfile import parse_yaml

SUFFIXES = {".yaml": parse_yaml, ".yml": parse_yaml, ".csv": parse_csv}


def expand(paths) -> tuple[list, list]:
    """(name, bytes) for each path (a folder gives its tour files); unreadable ones are problems."""
    sources, problems = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
            if not found:
                problems.append(Problem(str(raw), 1, "file", "no .yaml, .yml or .csv tour file "
                                        "in this folder"))
            for p in found:
                sources.append((str(p), p.read_bytes()))
            continue
        try:
            sources.append((str(raw), path.read_bytes()))
        except FileNotFoundError:
            problems.append(Problem(str(raw), 1, "file", "no such file"))
        except OSError as exc:
            problems.append(Problem(str(raw), 1, "file", f"cannot read it: {exc.strerror}"))
    return sources, problems


def decode(name: str, data: bytes) -> tuple[str | None, Problem | None]:
    """UTF-8 text (with or without a BOM), or a problem saying how to save the file."""
    how = (" (in a spreadsheet: 'CSV UTF-8')" if Path(name).suffix.lower() == ".csv"
           else " (in a text editor: encoding UTF-8)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, Problem(name, 1, "file", "the file is UTF-16 text: save it as UTF-8" + how)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return None, Problem(name, line, "file", "the file is not UTF-8 text (byte "
                             f"{exc.start + 1}): save it as UTF-8" + how)


def parse_text(text: str, filename: str) -> ParsedFile:
    """Parse a tour file's text; its name's suffix says whether it is YAML or CSV."""
    reader = SUFFIXES.get(Path(filename).suffix.lower())
    if reader is None:
        parsed = ParsedFile(filename)
        parsed.problems.append(Problem(filename, 1, "file", "not a tour file: the name must end "
                                       "in .yaml, .yml or .csv"))
        return parsed
    return reader(text.removeprefix("\ufeff"), filename)


def parse_source(filename: str, data: bytes | str) -> ParsedFile:
    """Parse one tour file given as bytes (as read) or text."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if isinstance(data, str):
        text, problem = data, None
    else:
        text, problem = decode(filename, data)
    if problem:
        parsed = ParsedFile(filename)
        parsed.problems.append(problem)
    else:
        parsed = parse_text(text, filename)
    parsed.sha256 = hashlib.sha256(raw).hexdigest()
    return parsed
