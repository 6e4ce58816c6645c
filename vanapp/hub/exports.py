"""CSV exports of the hub's data under the dashboard's filters: screenings, attendance, game
results. Streamed: the screenings come from the database through a server-side cursor and a few
hundred at a time are written out, so the hub's memory stays flat whatever the history's size.
UTF-8 with a byte-order mark (so Excel shows Devanagari) and formula-injection-safe text cells.
Pure functions over the kept facts (no Flask)."""
import csv
import io

from ..ids import to_iso
from ..models import Game, GameResult, GameRun, ScreeningFact, SummaryReport
from . import factsql
from .facts import GENDER_AGE, OTHER, QR, SYNCED, Facts, as_time, count_total
from .game_texts import game_texts, labels

BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel/LibreOffice (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 500           # screenings whose details are read and written at a time


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def stream_csv(header: list[str], lines):
    """Yield the CSV as UTF-8 bytes (a byte-order mark first), a few hundred lines at a time."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(BOM)
    writer.writerow(header)
    pending = 0
    for line in lines:
        writer.writerow([safe_cell(v) for v in line])
        pending += 1
        if pending >= 500:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
            pending = 0
    yield out.getvalue().encode("utf-8")


def to_csv(header: list[str], rows) -> bytes:
    return b"".join(stream_csv(header, rows))


def _when(value):
    return to_iso(value) if value is not None else ""


def _place(f: Facts) -> list:
    return [f.id, f.date, f.start, f.van, f.tour, f.campaign, f.district, f.block, f.village, f.village_en]


PLACE = ["screening_id", "date", "start", "van", "tour", "campaign", "district", "block",
         "village", "village_en"]


def _facts(filters, where: str = ""):
    """Facts under `filters` in date order, streamed from the database."""
    sql, params = factsql.rows(filters, where)
    with factsql.streamed(sql + " " + factsql.ORDER, params) as found:
        for row in found:
            yield factsql.as_facts(row)


def _chunks(facts, size: int = CHUNK):
    chunk = []
    for f in facts:
        chunk.append(f)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def screenings_csv(filters):
    """Every screening under the filters, held or not, with what it adds to the totals."""
    header = PLACE + ["status", "status_reason", "held", "source", *GENDER_AGE, OTHER, "people",
                      "participants", "pledges", "received_at_utc"]
    return stream_csv(header, (
        _place(f) + [f.status, f.status_reason, "yes" if f.held else "no", f.source,
                     *(f.bucket(c) for c in GENDER_AGE + (OTHER,)), f.people, f.participant_total,
                     f.pledges, _when(f.received_at)]
        for f in _facts(filters)))


def attendance_csv(filters):
    """Held screenings x category: net count, +1 taps, -1 corrections, and the source."""
    header = PLACE + ["category", "count", "taps", "corrections", "source", "received_at_utc"]

    def lines():
        for chunk in _chunks(_facts(filters, "held = 1")):
            factsql.load_details(chunk)
            for f in chunk:
                synced = f.source == SYNCED
                for category in sorted(set(f.counts) | set(f.taps) | set(f.corrections)):
                    yield _place(f) + [category, f.counts.get(category, 0),
                                       f.taps.get(category, 0) if synced else "",
                                       f.corrections.get(category, 0) if synced else "",
                                       f.source, _when(f.received_at)]
    return stream_csv(header, lines())


def game_results_csv(filters):
    """Held screenings' game results, one line per question and choice (phones, raised hands);
    pledges known only from a QR summary follow, one line each."""
    header = PLACE + ["game", "kind", "phase", "question", "choice", "phones", "hands", "total",
                      "correct_answer", "is_correct", "source", "received_at_utc"] + TEXT_COLUMNS
    kinds = {g: k for g, k in Game.select(Game.id, Game.kind).tuples()}
    texts = game_texts()

    def lines():
        for chunk in _chunks(_facts(filters, "held = 1")):
            results = {}
            query = (GameResult.select(GameRun.screening, GameRun.game_id, GameRun.phase, GameResult.question_id,
                                       GameResult.counts, GameResult.answer, GameResult.received_at)
                     .join(GameRun).where(GameRun.screening.in_([f.id for f in chunk]))
                     .order_by(GameRun.started_at, GameRun.id, GameResult.question_id).tuples())
            for screening, *rest in query:
                results.setdefault(screening, []).append(rest)
            for f in chunk:
                for game, phase, question, counts, answer, received in results.get(f.id, ()):
                    counts = GameResult.counts.python_value(counts) if isinstance(counts, str) else counts
                    for choice, value in sorted((counts or {}).items()):
                        phones = value.get("phones", 0) if isinstance(value, dict) else ""
                        hands = value.get("hands", 0) if isinstance(value, dict) else ""
                        correct = ("yes" if choice == answer else "no") if answer else ""
                        yield (_place(f) + [game, kinds.get(game, ""), phase, question, choice, phones, hands,
                                            count_total(value), answer, correct, SYNCED, _when(as_time(received))]
                               + labels(texts, game, question, choice))
        for chunk in _chunks(_facts(filters, "held = 1 AND pledge_source = 'qr_summary'")):
            pledges = {}
            query = (SummaryReport.select(SummaryReport.screening, SummaryReport.pledges, SummaryReport.updated_at,
                                          SummaryReport.received_at)
                     .join(ScreeningFact, on=((ScreeningFact.screening == SummaryReport.screening) &
                                              (ScreeningFact.qr_van == SummaryReport.van)))
                     .where(SummaryReport.screening.in_([f.id for f in chunk])).tuples())
            for screening, given, updated, received in query:
                pledges[screening] = (given or {}, updated or received)
            for f in chunk:
                given, when = pledges.get(f.id, ({}, None))
                for game, n in sorted(given.items()):
                    yield _place(f) + [game, kinds.get(game, "pledge"), "", "", "", "", "", n, "", "",
                                       QR, _when(as_time(when))] + labels(texts, game, "", "")
    return stream_csv(header, lines())


# The words beside the ids: a spreadsheet reads "What is the number of the women's helpline?"
# and "181", in both languages, not q2 and b.
TEXT_COLUMNS = ["game_title_hi", "game_title_en", "question_hi", "question_en", "choice_hi", "choice_en"]

EXPORTS = {"screenings": screenings_csv, "attendance": attendance_csv, "game_results": game_results_csv}
