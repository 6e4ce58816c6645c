"""The media catalogue: read and validate media/catalog.yaml, then store it as MediaItem rows.

Errors name the file, the line and the field. Any error means nothing is written; otherwise
all rows change in one transaction, and items dropped from the catalogue are only marked
`in_catalog = False` (play logs refer to them).
"""
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import yaml

from ..db import write_transaction
from ..models import MEDIA_KINDS, MediaItem

CATALOG_NAME = "catalog.yaml"
FIELDS = ("id", "file", "title", "language", "kind", "campaign", "duration", "sha256")
REQUIRED = ("id", "file", "title", "language", "kind")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE = re.compile(r"^(?:none|[a-z]{2,3}(?:-[a-z]{2,3})?)$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# a length: seconds (95, 95.5) or minutes and seconds (1:35), or hours too (1:02:03)
DURATION = re.compile(r"^(?:(?P<s>\d{1,6}(?:\.\d{1,3})?)|(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,3}):(?P<ss>[0-5]\d(?:\.\d{1,3})?))$")


def parse_duration(text: str) -> int | None:
    """'95', '95.5', '1:35' or '1:02:03' -> milliseconds; None if it is not a length."""
    match = DURATION.match(text.strip())
    if not match:
        return None
    if match.group("s") is not None:
        seconds = float(match.group("s"))
    else:
        seconds = int(match.group("h") or 0) * 3600 + int(match.group("m")) * 60 + float(match.group("ss"))
    return round(seconds * 1000) if seconds > 0 else None


@dataclass
class CatalogError:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def to_dict(self):
        return asdict(self)


@dataclass
class CatalogEntry:
    id: str
    file: str
    title_hi: str
    title_en: str
    language: str
    kind: str
    campaign: str
    line: int
    expected_ms: int | None = None     # `duration:` in the catalogue
    expected_sha256: str = ""          # `sha256:` in the catalogue

    def values(self) -> dict:
        return {"file": self.file, "title_hi": self.title_hi, "title_en": self.title_en,
                "language": self.language, "kind": self.kind, "campaign": self.campaign,
                "in_catalog": True, "expected_ms": self.expected_ms,
                "expected_sha256": self.expected_sha256}


@dataclass
class LoadResult:
    path: str
    entries: list[CatalogEntry] = field(default_factory=list)
    errors: list[CatalogError] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _line(node) -> int:
    return node.start_mark.line + 1


def _text(node) -> str | None:
    """A scalar's source text (so `yes`, `0123` or `1e3` stay as written); None if not a scalar."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    return "" if node.tag == "tag:yaml.org,2002:null" else node.value.strip()


def _mapping(node, where: str, path: str, errors: list, allowed,
             expected="a mapping of fields") -> dict | None:
    """key -> (key node, value node) of a YAML mapping; unknown and repeated keys are errors."""
    if not isinstance(node, yaml.MappingNode):
        errors.append(CatalogError(path, _line(node), where, f"expected {expected}"))
        return None
    out = {}
    for key_node, value_node in node.value:
        key = _text(key_node)
        name = f"{where}.{key}" if where else str(key)
        if key not in allowed:
            errors.append(CatalogError(path, _line(key_node), name,
                                       f"unknown field (allowed: {', '.join(allowed)})"))
        elif key in out:
            errors.append(CatalogError(path, _line(key_node), name,
                                       f"given twice (first on line {_line(out[key][0])})"))
        else:
            out[key] = (key_node, value_node)
    return out


def _entry(node, index: int, path: str, errors: list) -> CatalogEntry | None:
    where = f"items[{index}]"
    fields = _mapping(node, where, path, errors, FIELDS)
    if fields is None:
        return None
    before = len(errors)
    for name in REQUIRED:
        if name not in fields:
            errors.append(CatalogError(path, _line(node), f"{where}.{name}", "missing field"))

    def text(name, limit):
        if name not in fields:
            return ""
        value_node = fields[name][1]
        value = _text(value_node)
        if value is None:
            errors.append(CatalogError(path, _line(value_node), f"{where}.{name}", "must be text"))
            return ""
        if name in REQUIRED and not value:
            errors.append(CatalogError(path, _line(value_node), f"{where}.{name}", "is empty"))
        elif len(value) > limit:
            errors.append(CatalogError(path, _line(value_node), f"{where}.{name}",
                                       f"is longer than {limit} characters"))
        return value

    def fail(name, message):
        errors.append(CatalogError(path, _line(fields[name][1]), f"{where}.{name}", message))

    item_id, file, language = text("id", 64), text("file", 255), text("language", 8)
    kind, campaign = text("kind", 8), text("campaign", 64)
    if item_id and not SLUG.match(item_id):
        fail("id", f"{item_id!r} is not a slug: lower-case letters, digits and single hyphens "
                   "(e.g. ring-the-bell)")
    if file:
        problem = _file_problem(file)
        if problem:
            fail("file", f"{file!r} {problem}")
    if language and not LANGUAGE.match(language):
        fail("language", f"{language!r} is not a language code (hi, en, hi-en or none)")
    if kind and kind not in MEDIA_KINDS:
        fail("kind", f"unknown kind {kind!r} (use {', '.join(MEDIA_KINDS)})")
    if campaign and not SLUG.match(campaign):
        fail("campaign", f"{campaign!r} is not a slug (e.g. bell-bajao)")
    expected_ms, sha256 = None, text("sha256", 64).lower()
    if "duration" in fields:
        raw = _text(fields["duration"][1])
        expected_ms = parse_duration(raw) if raw else None
        if expected_ms is None:
            fail("duration", f"{raw!r} is not a length: seconds (95) or minutes:seconds (1:35)")
    if sha256 and not SHA256.match(sha256):
        fail("sha256", "is not a SHA-256 checksum (64 hexadecimal characters, as `sha256sum` prints)")
    titles = {"hi": "", "en": ""}
    if "title" in fields:
        title_node = fields["title"][1]
        title = _mapping(title_node, f"{where}.title", path, errors, ("hi", "en"),
                         'both titles: {hi: "...", en: "..."}')
        if title is not None:
            for lang in ("hi", "en"):
                name = f"{where}.title.{lang}"
                if lang not in title:
                    errors.append(CatalogError(path, _line(title_node), name, "missing field"))
                    continue
                value = _text(title[lang][1])
                if not value:
                    errors.append(CatalogError(path, _line(title[lang][1]), name,
                                               "must be non-empty text"))
                elif len(value) > 200:
                    errors.append(CatalogError(path, _line(title[lang][1]), name,
                                               "is longer than 200 characters"))
                else:
                    titles[lang] = value
    if len(errors) > before:
        return None
    return CatalogEntry(item_id, file, titles["hi"], titles["en"], language, kind, campaign,
                        _line(node), expected_ms, sha256)


def _file_problem(file: str) -> str:
    """Why `file` cannot name a file inside the media folder ('' when it can)."""
    if "\\" in file:
        return "uses backslashes: write folders with / (e.g. psa/ring-the-bell.mp4)"
    if PurePosixPath(file).is_absolute() or PureWindowsPath(file).is_absolute() or \
            PureWindowsPath(file).drive:
        return "is an absolute path: give it relative to the media folder (e.g. psa/x.mp4)"
    parts = PurePosixPath(file).parts
    if ".." in parts:
        return "leaves the media folder (..): give it relative to the media folder"
    if not parts or parts[-1] in (".", ""):
        return "is not a file name"
    return ""


def read_catalog(media_dir) -> LoadResult:
    """Parse and validate the catalogue; no database access."""
    path = Path(media_dir) / CATALOG_NAME
    result = LoadResult(path=str(path))
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        result.errors.append(CatalogError(shown, None, "", "the catalogue file is missing"))
        return result
    except (OSError, UnicodeDecodeError) as exc:
        result.errors.append(CatalogError(shown, None, "", f"cannot be read: {exc}"))
        return result
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        message = " ".join(p for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p)
        result.errors.append(CatalogError(shown, mark.line + 1 if mark else None, "",
                                          f"not valid YAML: {message or exc}"))
        return result
    finally:
        loader.dispose()
    if root is None:
        result.errors.append(CatalogError(shown, None, "items", "the catalogue is empty: "
                                          "expected `items:` and a list of media"))
        return result
    top = _mapping(root, "", shown, result.errors, ("items",))
    if top is None:
        return result
    if "items" not in top:
        result.errors.append(CatalogError(shown, _line(root), "items", "missing field"))
        return result
    items = top["items"][1]
    if not isinstance(items, yaml.SequenceNode):
        if _text(items) != "":  # `items:` with nothing under it is an empty catalogue
            result.errors.append(CatalogError(shown, _line(items), "items", "expected a list of media"))
        return result
    seen = {}
    for index, node in enumerate(items.value):
        entry = _entry(node, index, shown, result.errors)
        if entry is None:
            continue
        if entry.id in seen:
            result.errors.append(CatalogError(shown, entry.line, f"items[{index}].id",
                                              f"duplicate id {entry.id!r} (first on line {seen[entry.id]})"))
            continue
        seen[entry.id] = entry.line
        result.entries.append(entry)
    return result


def load_catalog(media_dir) -> LoadResult:
    """Read the catalogue and, if it is valid, upsert it into MediaItem rows in one transaction."""
    result = read_catalog(media_dir)
    if result.errors:
        result.entries = []
        return result
    listed = {e.id for e in result.entries}
    with write_transaction():   # the read-compare-write below is one step
        existing = {m.id: m for m in MediaItem.select()}
        for entry in result.entries:
            row, values = existing.get(entry.id), entry.values()
            if row is None:
                MediaItem(id=entry.id, **values).save_change(force_insert=True)
                result.created.append(entry.id)
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                row.save_change()
                result.updated.append(entry.id)
            else:
                result.unchanged.append(entry.id)
        for item_id, row in existing.items():
            if item_id not in listed and row.in_catalog:
                row.in_catalog = False
                row.save_change()
                result.removed.append(item_id)
    return result
