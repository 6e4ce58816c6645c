"""Crew pages for counting: the tally, sign-in with consent, the participant card and look-up,
and a screening's summary with its signed QR code."""
from flask import (Blueprint, Response, current_app, redirect, render_template, request, url_for)
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..attendance import participants, report, tally
from ..qr import qr_png, qr_svg
from ..ids import new_id
from ..games.results import screening_results
from ..models import Game, MediaItem, PlayLog, Screening
from ..player.outcome import problem_code
from ..tours import identity, queries
from .auth import guard_crew_blueprint

bp = Blueprint("attendance", __name__, url_prefix="/attendance")
guard_crew_blueprint(bp)

CATEGORY_LABELS = {"men": _l("Men"), "women": _l("Women"), "boys": _l("Boys"), "girls": _l("Girls")}
GENDER_LABELS = {"woman": _l("Woman"), "man": _l("Man"), "other": _l("Other"), "unsaid": _l("Prefer not to say")}
AGE_LABELS = {"under-18": _l("Under 18"), "18-30": _l("18 to 30"), "31-45": _l("31 to 45"),
              "46-60": _l("46 to 60"), "over-60": _l("Over 60")}


def category_label(name: str) -> str:
    return str(CATEGORY_LABELS.get(name, name.replace("-", " ").replace("_", " ").capitalize()))


@bp.context_processor
def _labels():
    return {"category_label": category_label, "GENDER_LABELS": GENDER_LABELS, "AGE_LABELS": AGE_LABELS}


@bp.get("/")
def tally_index():
    """The tally of tonight's (or the next) screening; a chooser when there is none."""
    s = queries.next_screening(current_app.config["TIMEZONE"], identity.this_van().van)
    if s is not None:
        return redirect(url_for("attendance.tally_page", screening_id=s.id))
    recent = list(queries.screenings().order_by(Screening.starts_at.desc()).limit(12))
    return render_template("attendance/choose.html", screenings=recent)


@bp.get("/screenings/<screening_id>")
def tally_page(screening_id):
    s = queries.screening(screening_id)
    state = tally.state(s.id)
    names = list(state["counts"])
    config = {
        "screening": s.id,
        "cancelled": s.status == "cancelled",
        "attendanceUrl": url_for("api.get_attendance", screening_id=s.id),
        "headcountUrl": url_for("api.post_headcount", screening_id=s.id),
        "loginUrl": url_for("auth.login", next=request.path),
        "state": state,
        "strings": {
            "pending": str(_l("%(n)s waiting to send")), "saved": str(_l("saved")),
            "offline": str(_l("No connection: taps are kept on this phone and sent when it is back.")),
            "online": str(_l("Connected")), "login": str(_l("Logged out: log in again to send the taps.")),
            "refused": str(_l("Not counted:")), "csrf": str(_l("Reload the page to send the taps.")),
            "headcountSaved": str(_l("Headcount saved")), "headcountBad": str(_l("Type a number first.")),
            # the crew's words for what the API refuses (its own message is English, for scripts)
            "errors": {"negative_count": str(_l("That count is already 0: nothing to take away.")),
                       "screening_cancelled": str(_l("This screening was cancelled: no counts can be added.")),
                       "disk_full": str(_l("The laptop's disk is full: taps are kept on this phone and sent "
                                           "once space is freed on the laptop."))},
        },
    }
    return render_template("attendance/tally.html", screening=s, state=state, names=names, config=config)


def _form_data(form) -> dict:
    return {k: form.get(k) for k in ("id", "name", "gender", "age_band", "village", "phone",
                                     "consent", "consent_version")}


@bp.route("/screenings/<screening_id>/sign-in", methods=["GET", "POST"])
def sign_in(screening_id):
    s = queries.screening(screening_id)
    error, values = None, {"id": new_id(), "village": s.village.name}
    if request.method == "POST":
        values = _form_data(request.form)
        try:
            person, _dup = participants.sign_in(s.id, values)
        except tally.AttendanceError as exc:
            error = exc
        else:
            return redirect(url_for("attendance.card", participant_id=person.id))
    return render_template("attendance/sign_in.html", screening=s, values=values, error=error,
                           consent=participants.consent_text(), consent_version=participants.CONSENT_VERSION,
                           genders=participants.GENDERS, age_bands=participants.AGE_BANDS,
                           count=tally.participants_count(s.id)), (400 if error else 200)


@bp.get("/participants/<participant_id>")
def card(participant_id):
    person = participants.get(participant_id)
    s = queries.screening(person.screening_id)
    # our own SVG markup, drawn from the id (no user text inside): safe to inline
    qr = Markup(qr_svg(person.id))
    return render_template("attendance/card.html", person=person, screening=s, qr=qr,
                           code=participants.short_code(person.id))


@bp.get("/lookup")
def lookup():
    code = request.args.get("code", "").strip()
    found = participants.find(code) if code else []
    if len(found) == 1:
        return redirect(url_for("attendance.card", participant_id=found[0].id))
    return render_template("attendance/lookup.html", code=code, found=found,
                           short_code=participants.short_code), (404 if code and not found else 200)


def _played(screening_id: str) -> list[dict]:
    """The play log as a crew member reads it: titles, what happened, how far."""
    rows = list(PlayLog.for_screening(screening_id))
    media = {m.id: (m.title_hi, m.title_en, m.kind) for m in
             MediaItem.select().where(MediaItem.id.in_({r.media_id for r in rows if r.kind == "media"}))}
    games = {g.id: (g.title_hi, g.title_en, "game") for g in
             Game.select().where(Game.id.in_({r.media_id for r in rows if r.kind == "game"}))}
    out = []
    for row in rows:
        hi, en, kind = (games if row.kind == "game" else media).get(row.media_id, (row.media_id, row.media_id, row.kind))
        out.append({"position": row.position, "title_hi": hi, "title_en": en, "kind": kind, "outcome": row.outcome,
                    "problem": problem_code(row.error), "position_ms": row.position_ms or 0,
                    "duration_ms": row.duration_ms, "game": row.kind == "game"})
    return out


@bp.get("/screenings/<screening_id>/summary")
def summary_page(screening_id):
    """The night: who came, what played, the games' results in words, and the coordinator's QR
    code. Finish lands here (?finished=1 says so)."""
    s = queries.screening(screening_id)
    data = report.screening_report(s.id)
    text = report.summary_qr_text(data)
    return render_template("attendance/summary.html", screening=s, report=data, played=_played(s.id),
                           results=screening_results(s.id), finished=request.args.get("finished") == "1",
                           qr=Markup(qr_svg(text)), qr_text=text)


@bp.get("/screenings/<screening_id>/summary.png")
def summary_png(screening_id):
    """The same signed summary QR as a PNG image (what the page shows, for saving or printing)."""
    s = queries.screening(screening_id)
    text = report.summary_qr_text(report.screening_report(s.id))
    return Response(qr_png(text), mimetype="image/png",
                    headers={"Cache-Control": "no-store",
                             "Content-Disposition": f'inline; filename="summary-{s.date}-{s.id[:8]}.png"'})
