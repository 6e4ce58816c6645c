"""The crew's Sync page: an honest status (paired or not, last success, what is waiting, the last
error in plain words, parked records), pairing, *Sync now* with a live progress bar (the page
polls /sync/status.json), and the export bundle for a USB stick. The work is done by
vanapp.sync (the same code as `vanapp pair`, `vanapp sync` and `vanapp export-bundle`)."""
import io
import os
from pathlib import Path

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..ids import new_id, to_iso, utcnow
from ..models import SyncParked
from .. import localtime, sync
from ..sync import bundle, client, state
from .auth import guard_crew_blueprint
from .errors import wants_json

bp = Blueprint("sync", __name__, url_prefix="/sync")
guard_crew_blueprint(bp)

# vanapp.sync.client.ERRORS, in the crew's language (by error code).
ERROR_WORDS = {
    "offline": _l("Could not reach the hub: no connection, or the hub is switched off. Sync will try again."),
    "unauthorized": _l("The hub did not accept this van's key. Pair the van again with a new code from "
                       "the coordinator."),
    "revoked": _l("The coordinator has blocked this van. Ask the coordinator before syncing again."),
    "not_paired": _l("This van is not paired with a hub yet."),
    "busy": _l("A sync is already running."),
    "refused": _l("The hub refused a batch of records. The records are kept on this laptop; tell the "
                  "coordinator."),
    "server": _l("The hub had a problem. Sync will try again."),
    "pairing": _l("Pairing did not work."),
    "internal": _l("Something went wrong on this laptop while syncing. The records are kept; try again."),
}

# What the van sends, by kind (van-owned models).
KINDS = {
    "TallyEvent": _l("Count taps"),
    "Headcount": _l("Headcounts"),
    "Participant": _l("Sign-ins"),
    "PlayLog": _l("Plays (proof of play)"),
    "GameRun": _l("Games run"),
    "GameResult": _l("Game results"),
    "ScreeningEvent": _l("Screening status changes"),
}

# Why the hub (or the van itself) set a record aside.
PARK_REASONS = {
    "conflict": _l("The hub already holds a different copy of this record."),
    "foreign_van": _l("The hub says this record belongs to another van."),
    "other_van": _l("This record was made under another van's name; this laptop is paired as a different van."),
    "missing_parent": _l("The hub does not know the screening or game this record belongs to."),
    "invalid": _l("The hub found this record malformed."),
    "invalid_records": _l("The hub found this record malformed."),
}

PHASES = {
    "connect": _l("Connecting to the hub…"),
    "push": _l("Sending records"),
    "pull": _l("Receiving tours and content"),
    "done": _l("Finishing…"),
}


def _runner():
    return sync.runner(current_app)


def _local(when) -> str | None:
    if when is None:
        return None
    from .dates import when as local_when      # weekday, date and time in the page's language
    return local_when(when)


def _words(code: str, fallback: str = "") -> str:
    return str(ERROR_WORDS[code]) if code in ERROR_WORDS else (fallback or str(ERROR_WORDS["refused"]))


def _percent(snap: dict) -> int:
    """The whole sync as one bar: connecting, then sending (most of it), then receiving."""
    if not snap["running"]:
        return 100 if snap["last"] else 0
    total, done = snap["total"], snap["done"]
    share = done / total if total > 0 else 1.0
    if snap["phase"] == "push":
        return int(5 + 80 * share)
    if snap["phase"] == "pull":
        return int(85 + 14 * share)
    return 99 if snap["phase"] == "done" else 2


def _message(snap: dict) -> str:
    if snap["running"]:
        label = str(PHASES.get(snap["phase"], PHASES["connect"]))
        if snap["phase"] in ("push", "pull") and snap["total"] > 0:
            return _("%(step)s: %(done)d of %(total)d", step=label, done=snap["done"], total=snap["total"])
        return label
    last = snap["last"]
    if not last:
        return ""
    if last["ok"]:
        return _("Sync finished: %(sent)d records sent, %(received)d received.", sent=last["pushed"],
                 received=last["pulled"])
    return _("Sync did not finish: %(why)s", why=_words(last["error_code"], last["error"]))


def _auto_text(auto_state: dict, paired: bool) -> str:
    if not auto_state["enabled"]:
        return _("Off: press Sync now when there is a connection.")
    if not paired:
        return _("On, once this van is paired.")
    if auto_state["failures"] and auto_state["next_attempt_in"] is not None:
        return _("The last tries did not work (%(n)d in a row); next try in %(s)d seconds.",
                 n=auto_state["failures"], s=int(auto_state["next_attempt_in"] + 0.5))
    return _("On: every %(s)d seconds, and soon after something new is recorded.", s=int(auto_state["interval"]))


def sync_status() -> dict:
    """Everything the Sync page shows, as plain data (also served as JSON for the progress bar)."""
    info, snap = state.status(), _runner().snapshot()
    last_run = info["last_run"]
    failed = last_run is not None and not last_run.ok
    waiting = [{"kind": kind, "label": str(KINDS.get(kind, kind)), "count": n}
               for kind, n in sorted(info["waiting"].items())]
    last = snap["last"]
    if last:
        last = dict(last, message=_words(last["error_code"], last["error"]) if not last["ok"] else "")
    return {
        "paired": info["paired"],
        "hub_url": info["hub_url"] or "",
        "van_id": info["van_id"],
        "last_success": to_iso(info["last_success"]) if info["last_success"] else None,
        "last_success_local": _local(info["last_success"]),
        "last_error": _words(last_run.error_code, last_run.error) if failed else "",
        "last_error_code": last_run.error_code if failed else "",
        "last_error_detail": last_run.detail if failed else "",
        "last_error_local": _local(last_run.finished_at) if failed else None,
        "waiting": waiting,
        "waiting_total": sum(w["count"] for w in waiting),
        "parked_count": info["parked_count"],
        "running": snap["running"],
        "trigger": snap["trigger"],
        "phase": snap["phase"],
        "done": snap["done"],
        "total": snap["total"],
        "percent": _percent(snap),
        "message": _message(snap),
        "last": last,
        "auto": snap["auto"],
        "auto_text": _auto_text(snap["auto"], info["paired"]),
    }


@bp.get("/")
def status():
    parked = [{"row": p, "kind": str(KINDS.get(p.model, p.model)),
               "why": str(PARK_REASONS.get(p.code, _("The hub refused this record."))), "at": _local(p.parked_at)}
              for p in SyncParked.active().order_by(SyncParked.parked_at.desc()).limit(200)]
    from .console import clock_warnings
    return render_template("sync/status.html", info=sync_status(), parked=parked,
                           clock_warnings=clock_warnings())


@bp.get("/status.json")
def status_json():
    return jsonify(sync_status())


@bp.post("/now")
def sync_now():
    """Start a sync in the background; the page's progress bar follows it."""
    started = _runner().start("web")
    message = _("Sync started.") if started else str(ERROR_WORDS["busy"])
    if wants_json():
        return jsonify(dict(sync_status(), started=started, notice=message)), (202 if started else 409)
    flash(message, "ok" if started else "warn")
    return redirect(url_for("sync.status"))


@bp.post("/pair")
def pair():
    """Pair with the hub: its address and the one-time code, or the pairing link from the QR code."""
    hub_url = request.form.get("hub_url", "").strip()
    code = request.form.get("code", "").strip()
    link = next((text for text in (code, hub_url) if "pair?" in text), None)
    if link:                                # the pairing link from the QR code
        link_url, code = client.parse_pair_link(link)
        code = code or ""
        if link_url or hub_url == link:     # vankit:pair?code=… carries no hub address
            hub_url = link_url or ""
    if not hub_url or not code:
        flash(_("Give the hub's address and the pairing code, or paste the pairing link."), "error")
        return redirect(url_for("sync.status"))
    if not hub_url.startswith(("http://", "https://")):
        flash(_("The hub's address must start with http:// or https://"), "error")
        return redirect(url_for("sync.status"))
    try:
        outcome = client.pair(hub_url, code, timeout=20.0)
    except client.SyncError as exc:
        words = _words(exc.code)
        if exc.code == "offline":
            words = _("Could not reach the hub at that address. Check the address and the connection.")
        elif exc.code == "wrong_van" and exc.mine and exc.theirs:
            words = _("The pairing code is for %(theirs)s, but this laptop is %(mine)s: nothing was changed. "
                      "Ask the coordinator for %(mine)s's pairing code.", mine=exc.mine, theirs=exc.theirs)
        elif exc.code in ("pairing", "wrong_van") and exc.detail:
            words = _("Pairing did not work: the hub said: %(reason)s", reason=exc.detail)
        flash(words, "error")
        return redirect(url_for("sync.status"))
    flash(_("Paired: this laptop is %(van)s on %(hub)s.", van=outcome["van_id"], hub=outcome["hub_url"]), "ok")
    return redirect(url_for("sync.status"))


@bp.post("/parked/retry")
def retry_parked():
    """Queue parked records again (all, or one); they go with the next sync."""
    which = request.form.get("parked", "all")
    if which == "all":
        count = state.retry_parked()
    else:
        try:
            count = state.retry_parked([int(which)])
        except ValueError:
            count = 0
    if count:
        flash(_("%(n)d record(s) queued again: they go with the next sync.", n=count), "ok")
    else:
        flash(_("Nothing to retry: the record is no longer parked."), "warn")
    return redirect(url_for("sync.status"))


@bp.post("/parked/discard")
def discard_parked():
    """Give up on records set aside (all, or one): they stay on this laptop, are no longer listed
    and are never sent."""
    which = request.form.get("parked", "all")
    if which == "all":
        count = state.discard_parked()
    else:
        try:
            count = state.discard_parked([int(which)])
        except ValueError:
            count = 0
    if count:
        flash(_("%(n)d record(s) discarded: they stay on this laptop and are not sent.", n=count), "ok")
    else:
        flash(_("Nothing to discard: the record is no longer parked."), "warn")
    return redirect(url_for("sync.status"))


@bp.post("/bundle")
def export_bundle():
    """The signed export bundle as a download, for a USB stick (as `vanapp export-bundle`)."""
    creds = state.credentials()
    if creds is None:
        flash(_("Pair this van with the hub once, so that the hub can check its bundles."), "error")
        return redirect(url_for("sync.status"))
    stamp = localtime.text(utcnow(), current_app.config["TIMEZONE"], "%Y%m%d-%H%M")
    name = f"vankit-{creds[1]}-{stamp}.vkb"
    folder = Path(current_app.config["DATA_DIR"]) / "bundles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{new_id()}.vkb"
    try:
        outcome = bundle.export(path, everything=request.form.get("everything") == "1")
        data = path.read_bytes()
    except bundle.BundleError as exc:
        flash(_("The bundle could not be made: %(why)s", why=str(exc)), "error")
        return redirect(url_for("sync.status"))
    finally:
        if path.exists():
            os.unlink(path)
    response = send_file(io.BytesIO(data), mimetype="application/octet-stream", as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["X-Bundle-Records"] = str(outcome["records"])
    return response
