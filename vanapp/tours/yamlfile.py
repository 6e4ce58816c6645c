"""Read a YAML tour file into a ParsedFile, with the line of every field for error messages."""
import re

import yaml

from .spec import (SCREENING_OPTIONAL, SCREENING_REQUIRED, ParsedFile, Problem, ScreeningSpec,
                   TourClaim, check_slug, clean, parse_duration, parse_refs, screening_fields,
                   split_refs, suggest)

TOUR_FIELDS = ("tour", "title", "van", "campaign", "programmes", "screenings", "duration", "notes")
SCREENING_FIELDS = SCREENING_REQUIRED + SCREENING_OPTIONAL


class LineMap(dict):
    """A YAML mapping that remembers its own line and the line of each key."""
    line = 0
    lines: dict


class LineList(list):
    line = 0
    lines: list


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps plain scalars as text and records lines and duplicate keys.

    YAML 1.1 would turn an unquoted 18:30 into the number 1110 and 2026-12-03 into a date;
    keeping text lets the tour checks give one clear message for every bad value.
    """
    yaml_implicit_resolvers = {}

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates = []


_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                              ["~", "n", "N", ""])


def _construct_map(loader, node):
    data = LineMap()
    data.line, data.lines = node.start_mark.line + 1, {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be plain text", key_node.start_mark)
        if key in data:
            loader.duplicates.append((key_node.start_mark.line + 1, key))
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader, node):
    data = LineList()
    data.line = node.start_mark.line + 1
    data.lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _text(value, name, line, parsed, file):
    """A scalar field as clean text; a list or mapping where text belongs is an error."""
    if isinstance(value, (dict, list)):
        parsed.problems.append(Problem(file, line, name, "should be a single value, not a "
                                       + ("list" if isinstance(value, list) else "mapping")))
        return ""
    return clean(value)


def _unknown_keys(mapping, allowed, file, parsed, where):
    for key in mapping:
        if key not in allowed:
            parsed.problems.append(Problem(
                file, mapping.lines[key], key,
                f"unknown field{where}{suggest(key, allowed)}; allowed: {', '.join(allowed)}"))


def parse_yaml(text: str, filename: str) -> ParsedFile:
    """Parse a YAML tour file (one tour per document) from its text."""
    parsed = ParsedFile(filename)
    loader = _Loader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = f"{exc.problem or exc.context} (column {mark.column + 1})" if mark else str(exc)
        if exc.context and exc.context_mark and exc.problem_mark:
            what += f", {exc.context} that starts on line {exc.context_mark.line + 1}"
        parsed.problems.append(Problem(filename, line, "file", f"not valid YAML: {what}"))
        return parsed
    except yaml.YAMLError as exc:
        parsed.problems.append(Problem(filename, 1, "file", f"not valid YAML: {exc}"))
        return parsed
    finally:
        loader.dispose()
    for line, key in loader.duplicates:
        parsed.problems.append(Problem(filename, line, key, "is given twice in the same mapping"))
    documents = [d for d in documents if d is not None]
    if not documents:
        parsed.problems.append(Problem(filename, 1, "file", "the file is empty: no tour in it"))
    for document in documents:
        _parse_tour(document, filename, parsed)
    return parsed


def _parse_tour(doc, file, parsed):
    if not isinstance(doc, LineMap):
        line = getattr(doc, "line", 1)
        parsed.problems.append(Problem(file, line, "file", "a tour file is a mapping with "
                                       "tour, title, van, campaign, programmes and screenings"))
        return
    _unknown_keys(doc, TOUR_FIELDS, file, parsed, " of the tour")
    values = {k: _text(doc[k], k, doc.lines[k], parsed, file)
              for k in ("tour", "title", "van", "campaign", "duration", "notes") if k in doc}
    tour_line = doc.lines.get("tour", doc.line)
    claim = TourClaim(values.get("tour", ""), file, tour_line, van=values.get("van", ""),
                      title=values.get("title", ""), campaign=values.get("campaign", ""),
                      lines=dict(doc.lines))
    for name, what in (("tour", "tour"), ("van", "van")):
        problem = "is missing" if name not in doc else check_slug(values[name], what)
        if problem:
            parsed.problems.append(Problem(file, doc.lines.get(name, doc.line), name,
                                           "is empty" if problem == "is missing" and name in doc
                                           else problem))
    if claim.campaign:
        problem = check_slug(claim.campaign, "campaign")
        if problem:
            parsed.problems.append(Problem(file, doc.lines["campaign"], "campaign", problem))
    default_duration = values.get("duration", "")
    if default_duration:
        _, problem = parse_duration(default_duration)
        if problem:
            parsed.problems.append(Problem(file, doc.lines["duration"], "duration", problem))
            default_duration = ""
    parsed.claims.append(claim)
    programmes = _parse_programmes(doc, file, parsed)
    screenings = doc.get("screenings")
    if "screenings" not in doc:
        parsed.problems.append(Problem(file, doc.line, "screenings", "is missing"))
        return
    if not isinstance(screenings, LineList) or not screenings:
        parsed.problems.append(Problem(file, doc.lines["screenings"], "screenings",
                                       "should be a list of screenings, one per line starting with '- '"))
        return
    for i, entry in enumerate(screenings):
        _parse_screening(entry, screenings.lines[i], claim.id, programmes, default_duration,
                         file, parsed)


def _parse_programmes(doc, file, parsed):
    """name -> list of ItemRef (None for a programme that had an error, so uses don't cascade)."""
    programmes = {}
    block = doc.get("programmes")
    if block is None:
        return programmes
    if not isinstance(block, LineMap):
        parsed.problems.append(Problem(file, doc.lines["programmes"], "programmes",
                                       "should map a programme name to its list of items"))
        return programmes
    for name, value in block.items():
        line, where = block.lines[name], f"programmes.{name}"
        if isinstance(value, LineList):
            words, lines = [], []
            for i, word in enumerate(value):
                if isinstance(word, (dict, list)) or not clean(word):
                    parsed.problems.append(Problem(file, value.lines[i], where,
                                                   "each item is one ref like psa:ring-the-bell"))
                    continue
                words.append(clean(word))
                lines.append(value.lines[i])
            line_of = lines.__getitem__
        elif isinstance(value, dict):
            parsed.problems.append(Problem(file, line, where, "should be a list of items"))
            programmes[name] = None
            continue
        else:
            words = split_refs(clean(value))
            line_of = lambda _i, line=line: line   # noqa: E731 — one-line text: one line
        if not words:
            parsed.problems.append(Problem(file, line, where, "the programme is empty: list its "
                                           "items, e.g. [psa:ring-the-bell, game:pledge]"))
            programmes[name] = None
            continue
        before = len(parsed.problems)
        items = parse_refs(words, file, line_of, where, parsed)
        programmes[name] = items if len(parsed.problems) == before else None
    return programmes


def _parse_screening(entry, line, tour, programmes, default_duration, file, parsed):
    if not isinstance(entry, LineMap):
        parsed.problems.append(Problem(file, line, "screenings", "each screening is a mapping "
                                       "like {date: 2026-12-03, start: \"18:30\", village: ...}"))
        return
    _unknown_keys(entry, SCREENING_FIELDS, file, parsed, " of a screening")
    spec = ScreeningSpec(tour=tour, file=file, line=entry.line, lines=dict(entry.lines))
    values = {k: _text(v, k, entry.lines[k], parsed, file)
              for k, v in entry.items() if k in SCREENING_FIELDS and k != "programme"}
    if isinstance(entry.get("notes"), str):
        values["notes"] = entry["notes"].strip()   # notes keep their line breaks
    if default_duration and "duration" not in values:
        values["duration"] = default_duration
    screening_fields(values, spec, parsed)
    spec.items = _screening_programme(entry, spec, programmes, file, parsed)
    parsed.screenings.append(spec)


def _screening_programme(entry, spec, programmes, file, parsed):
    line = spec.line_of("programme")
    value = entry.get("programme")
    if "programme" not in entry or value in (None, ""):
        parsed.problems.append(Problem(file, line, "programme",
                                       "is missing" if "programme" not in entry else "is empty"))
        return []
    if isinstance(value, LineList):          # an inline programme for this screening only
        words = [clean(w) for w in value if not isinstance(w, (dict, list)) and clean(w)]
        if not words:
            parsed.problems.append(Problem(file, line, "programme", "the programme is empty"))
        return parse_refs(words, file, lambda _i: line, "programme", parsed)
    if isinstance(value, dict):
        parsed.problems.append(Problem(file, line, "programme", "should be a programme name"))
        return []
    name = clean(value)
    spec.programme = name
    if name not in programmes:
        known = ", ".join(programmes) or "none defined"
        parsed.problems.append(Problem(
            file, line, "programme",
            f"no programme named '{name}' under programmes:{suggest(name, programmes)} "
            f"(defined: {known})"))
        return []
    return list(programmes[name] or [])
