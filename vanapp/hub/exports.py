"""CSV exports of the hub's data under the dashboard's filters: screenings, attendance, game
results. UTF-8 with a byte-order mark (so Excel shows Devanagari) and formula-injection-safe
text cells. Pure functions over reports/facts (no Flask)."""
import csv
import io

from ..ids import to_iso
from ..models import Game, GameResult, GameRun
from .facts import GENDER_AGE, OTHER, QR, SYNCED, Facts, count_total
from .game_texts import game_texts, labels

BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel/LibreOffice (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: list[str], rows) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def _when(value):
    return to_iso(value) if value is not None else ""


def _place(f: Facts) -> list:
    return [f.id, f.date, f.start, f.van, f.tour, f.campaign, f.district, f.block, f.village, f.village_en]


PLACE = ["screening_id", "date", "start", "van", "tour", "campaign", "district", "block",
         "village", "village_en"]


def screenings_csv(rows: list[Facts]) -> bytes:
    """Every screening under the filters, held or not, with what it adds to the totals."""
    header = PLACE + ["status", "status_reason", "held", "source", *GENDER_AGE, OTHER, "people",
                      "participants", "pledges", "received_at_utc"]
    return to_csv(header, (
        _place(f) + [f.status, f.status_reason, "yes" if f.held else "no", f.source,
                     *(f.bucket(c) for c in GENDER_AGE + (OTHER,)), f.people, f.participant_total,
                     f.pledges, _when(f.received_at)]
        for f in rows))


def attendance_csv(rows: list[Facts]) -> bytes:
    """Held screenings x category: net count, +1 taps, -1 corrections, and the source."""
    header = PLACE + ["category", "count", "taps", "corrections", "source", "received_at_utc"]

    def lines():
        for f in rows:
            if not f.held:
                continue
            for category in sorted(set(f.counts) | set(f.taps) | set(f.corrections)):
                synced = f.source == SYNCED
                yield _place(f) + [category, f.counts.get(category, 0),
                                   f.taps.get(category, 0) if synced else "",
                                   f.corrections.get(category, 0) if synced else "",
                                   f.source, _when(f.received_at)]
    return to_csv(header, lines())


def game_results_csv(rows: list[Facts]) -> bytes:
    """Held screenings' game results, one line per question and choice (phones, raised hands);
    pledges known only from a QR summary appear as one line each."""
    header = PLACE + ["game", "kind", "phase", "question", "choice", "phones", "hands", "total",
                      "correct_answer", "is_correct", "source", "received_at_utc"] + TEXT_COLUMNS
    held = {f.id: f for f in rows if f.held}
    kinds = {g.id: g.kind for g in Game.select(Game.id, Game.kind)}
    texts = game_texts()

    def lines():
        ids = list(held)
        for start in range(0, len(ids), 500):
            query = (GameResult.select(GameResult, GameRun).join(GameRun)
                     .where(GameRun.screening.in_(ids[start:start + 500]))
                     .order_by(GameRun.screening, GameRun.started_at, GameRun.id, GameResult.question_id))
            for r in query:
                f, run = held[r.run.screening_id], r.run
                for choice, value in sorted((r.counts or {}).items()):
                    phones = value.get("phones", 0) if isinstance(value, dict) else ""
                    hands = value.get("hands", 0) if isinstance(value, dict) else ""
                    correct = ("yes" if choice == r.answer else "no") if r.answer else ""
                    yield _place(f) + [run.game_id, kinds.get(run.game_id, ""), run.phase, r.question_id,
                                       choice, phones, hands, count_total(value), r.answer, correct,
                                       SYNCED, _when(r.received_at)] + labels(texts, run.game_id, r.question_id, choice)
        for f in held.values():
            if f.pledge_source == QR:
                for game, n in sorted((f.qr or {}).get("pledges", {}).items()):
                    yield _place(f) + [game, kinds.get(game, "pledge"), "", "", "", "", "", n, "", "",
                                       QR, _when((f.qr or {}).get("received_at"))] + labels(texts, game, "", "")
    return to_csv(header, lines())


# The words beside the ids: a spreadsheet reads "What is the number of the women's helpline?"
# and "181", in both languages, not q2 and b.
TEXT_COLUMNS = ["game_title_hi", "game_title_en", "question_hi", "question_en", "choice_hi", "choice_en"]

EXPORTS = {"screenings": screenings_csv, "attendance": attendance_csv, "game_results": game_results_csv}
