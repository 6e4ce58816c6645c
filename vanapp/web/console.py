"""The crew console: Today, Tour, a screening's page, Media and Pre-flight."""
import datetime as dt

from flask import (Blueprint, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _

from .. import clock
from ..ids import from_iso
from ..models import MediaItem, MediaScan, ProgrammeItem
from ..tours import identity, queries
from . import storage
from .auth import guard_crew_blueprint, login_notices

bp = Blueprint("console", __name__)
guard_crew_blueprint(bp)


@bp.get("/")
def today():
    tz = current_app.config["TIMEZONE"]
    screening = queries.next_screening(tz, identity.this_van().van)
    items = list(queries.programme(screening.id)) if screening else []
    return render_template("console/today.html", screening=screening, items=items,
                           titles=ProgrammeItem.titles(), today=queries.local_now(tz).date().isoformat(),
                           clock_warnings=clock_warnings(), login_notices=login_notices(),
                           backup_warning=backup_warning())


def backup_warning() -> str | None:
    """The last automatic copy of the database failed (a full disk, usually): say so."""
    runner = storage.runner_for(current_app)
    if runner is None or not runner.last_error:
        return None
    return _("The automatic copy of the database could not be made (%(reason)s). Free some space on the "
             "laptop: the next copy is tried within a minute.", reason=runner.last_error)


def clock_warnings() -> list[str]:
    """The clock's problems (see vanapp/clock.py) in the crew's words."""
    out = []
    try:
        found = clock.problems()
    except Exception:               # a warning must never cost the crew their Today page
        current_app.logger.exception("clock check failed")
        found = []
    for p in found:
        if p["kind"] == "reset":
            out.append(_("The laptop's clock says %(now)s: it has been reset. Set the date and time "
                         "before the show, or every tap and play will carry the wrong day.",
                         now=_local(from_iso(p["now"]))))
        elif p["kind"] == "behind_records":
            out.append(_("The laptop's clock (%(now)s) is earlier than records this van has already made "
                         "(%(newest)s): it went backwards. Set the date and time right.",
                         now=_local(from_iso(p["now"])), newest=_local(from_iso(p["newest"]))))
        elif p["kind"] == "off_hub":
            minutes = abs(p["minutes"])
            if p["minutes"] > 0:
                out.append(_("At the last sync the laptop's clock was %(minutes)s minutes behind the hub's. "
                             "Set it right, so that tonight's records carry the right time.", minutes=minutes))
            else:
                out.append(_("At the last sync the laptop's clock was %(minutes)s minutes ahead of the hub's. "
                             "Set it right, so that tonight's records carry the right time.", minutes=minutes))
    return out


@bp.get("/tour")
def tour():
    by_day = {}
    for s in queries.screenings(van=identity.this_van().van):
        by_day.setdefault(s.date, []).append(s)
    tz = current_app.config["TIMEZONE"]
    return render_template("console/tour.html", by_day=by_day,
                           today=queries.local_now(tz).date().isoformat())


@bp.get("/screenings/<screening_id>")
def screening(screening_id):
    s = queries.screening(screening_id)
    return render_template("console/screening.html", screening=s,
                           items=list(queries.programme(s.id)), titles=ProgrammeItem.titles())


def _local(when) -> str:
    """A stored UTC instant as the crew's local weekday, date and time, in the page's language."""
    from .dates import when as local_when
    return local_when(when)


@bp.get("/media")
def media():
    items = list(MediaItem.select().order_by(MediaItem.in_catalog.desc(), MediaItem.kind, MediaItem.id))
    scans = {s.media_id: s for s in MediaScan.select()}
    scanned = {media_id: _local(s.scanned_at) for media_id, s in scans.items()}
    return render_template("console/media.html", items=items, scans=scans, scanned=scanned)


@bp.post("/media/scan")
def media_scan():
    """Scan now: load the catalogue, checksum and play-test every file (takes a few seconds)."""
    from ..media.scan import scan_media
    report = scan_media(current_app.config["MEDIA_DIR"], current_app.config.get("VLC_ARGS", ""))
    if report.catalog_failed:
        flash(_("The catalogue has errors, so nothing was changed:") + " " +
              " · ".join(str(e) for e in report.catalog.errors), "error")
    elif report.errors:
        flash(" · ".join(e["message"] for e in report.errors), "error")
    else:
        bad = sum(1 for i in report.items if i.status != "ok")
        flash(_("Scanned %(n)d files: %(ok)d fine, %(bad)d with problems.", n=len(report.items),
                ok=len(report.items) - bad, bad=bad), "ok" if not bad else "warn")
    if report.not_in_catalog:
        flash(_("Files not in the catalogue: %(files)s", files=", ".join(report.not_in_catalog)), "warn")
    return redirect(url_for("console.media"))


@bp.route("/preflight", methods=["GET", "POST"])
def preflight():
    """Pre-flight: always a fresh check (a stale "ready" is worse than a few seconds' wait).

    GET checks when the page is opened; the "Check again" form POSTs to check again.
    """
    from ..media.preflight import cache_path, run_preflight
    days = request.values.get("days", 7, type=int)
    days = min(max(days or 7, 1), 60)
    config = current_app.config
    report = run_preflight(config["MEDIA_DIR"], config.get("VLC_ARGS", ""), config["TIMEZONE"], days,
                           van=identity.this_van().van, cache_path=cache_path(config["DATA_DIR"]))
    next_days = None
    if report.next_screening is not None:      # the window that reaches the next screening
        next_days = (dt.date.fromisoformat(report.next_screening.date)
                     - dt.date.fromisoformat(report.first_day)).days + 1
    return render_template("console/preflight.html", report=report, days=days, windows=WINDOWS,
                           next_days=next_days if next_days and next_days <= 60 else None, checked_at=_local(report.checked_at),
                           checks={c.id: c for c in report.screenings})


WINDOWS = (7, 14, 30)       # the windows the page offers (?days= takes 1 to 60)
