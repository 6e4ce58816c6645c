"""Read a CSV tour file (as a spreadsheet exports it) into a ParsedFile; one row, one screening."""
import csv
import io

from .spec import (ParsedFile, Problem, ScreeningSpec, TourClaim, check_slug, clean,
                   parse_refs, screening_fields, split_refs, suggest)

REQUIRED = ("tour", "van", "date", "start", "village", "village_en", "block", "district",
            "programme")
OPTIONAL = ("title", "campaign", "notes", "duration")
COLUMNS = REQUIRED + OPTIONAL


def _delimiter(first_line: str) -> str:
    """Comma, unless the header plainly uses ';' or tab (spreadsheets in some locales do)."""
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                return candidate
    return ","


def parse_csv(text: str, filename: str) -> ParsedFile:
    """Parse a CSV tour file from its text (BOM already removed or not)."""
    parsed = ParsedFile(filename)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        parsed.problems.append(Problem(filename, 1, "file", "the file is empty: it needs a header "
                                       "row (" + ",".join(REQUIRED) + ") and one row per screening"))
        return parsed
    first = next(line for line in text.splitlines() if line.strip())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    header, rows = None, 0
    try:
        previous_end = 0
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue                      # blank rows, e.g. a spreadsheet's trailing ones
            if header is None:
                header = _header(cells, line, filename, parsed)
                if header is None:
                    return parsed
                continue
            rows += 1
            _row(cells, header, line, filename, parsed)
    except csv.Error as exc:
        parsed.problems.append(Problem(filename, reader.line_num, "file",
                                       f"not valid CSV: {exc} (check the quotes on this line)"))
        return parsed
    if header is not None and rows == 0:
        parsed.problems.append(Problem(filename, 1, "file", "no screenings: the file has a header "
                                       "but no rows"))
    return parsed


def _header(cells, line, file, parsed):
    """Column name per position (None: an unnamed, ignorable column), or None if unusable."""
    names = [clean(c).lower() for c in cells]
    ok = True
    seen = set()
    for position, name in enumerate(names, start=1):
        if not name:
            continue
        if name not in COLUMNS:
            parsed.problems.append(Problem(file, line, "header", (
                f"unknown column '{cells[position - 1].strip()}' (column {position})"
                f"{suggest(name, COLUMNS)}; the columns are {','.join(REQUIRED)}"
                f" and optionally {','.join(OPTIONAL)}")))
            ok = False
        elif name in seen:
            parsed.problems.append(Problem(file, line, "header",
                                           f"column '{name}' is given twice"))
            ok = False
        seen.add(name)
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        parsed.problems.append(Problem(file, line, "header", "missing column"
                                       + ("s " if len(missing) > 1 else " ") + ", ".join(missing)
                                       + "; the header must be " + ",".join(REQUIRED)))
        ok = False
    return [n or None for n in names] if ok else None


def _row(cells, header, line, file, parsed):
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        parsed.problems.append(Problem(file, line, "row", (
            f"has {len(cells)} cells but the header has {len(header)} columns "
            "(a comma inside a value needs double quotes around the value)")))
        return
    if len(cells) < len(header):
        parsed.problems.append(Problem(file, line, "row", (
            f"has {len(cells)} cells but the header has {len(header)} columns")))
        return
    values, stray = {}, []
    for name, cell in zip(header, cells):
        if name is None:
            if cell.strip():
                stray.append(cell.strip())
            continue
        values[name] = cell.strip() if name == "notes" else clean(cell)
    if stray:
        parsed.problems.append(Problem(file, line, "row", f"value '{stray[0]}' is in a column "
                                       "with no name in the header"))
    tour = values.get("tour", "")
    claim = TourClaim(tour, file, line, van=values.get("van", ""),
                      title=values.get("title", ""), campaign=values.get("campaign", ""))
    bad = set()
    for name in ("tour", "van") + (("campaign",) if claim.campaign else ()):
        problem = check_slug(values.get(name, ""), name)
        if problem:
            parsed.problems.append(Problem(file, line, name,
                                           "is empty" if problem == "is missing" else problem))
            bad.add(name)
    if "tour" not in bad:
        # A bad van or campaign is reported here once, not again as a disagreement.
        claim.van = "" if "van" in bad else claim.van
        claim.campaign = "" if "campaign" in bad else claim.campaign
        parsed.claims.append(claim)
    spec = ScreeningSpec(tour=tour, file=file, line=line, complete="tour" not in bad)
    screening_fields(values, spec, parsed)
    words = split_refs(values.get("programme", ""))
    if not words:
        parsed.problems.append(Problem(file, line, "programme", "is empty: list the items "
                                       "separated by spaces, e.g. psa:ring-the-bell game:pledge"))
    spec.items = parse_refs(words, file, lambda _i: line, "programme", parsed)
    parsed.screenings.append(spec)
