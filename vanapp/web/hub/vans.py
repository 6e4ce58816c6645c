"""The coordinators' Vans page actions: add a van (its one-time pairing code and QR on screen),
rotate its key (a new code; the old key stops working), revoke it (a lost laptop). Rotate and
revoke ask first, on a page of their own; every form carries its CSRF token. The work is
vanapp.hub.pairing's, the same as `vanapp hub add-van | rotate-van | revoke-van`."""
from pathlib import Path
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ... import qr
from ...hub import pairing
from ...models import Van
from .auth import guard_hub_blueprint

bp = Blueprint("hubvans", __name__, url_prefix="/vans")
guard_hub_blueprint(bp)

# vanapp.hub.pairing's refusals, in the coordinator's language (by code).
REFUSALS = {
    "invalid_id": _l("The van's id may hold only small English letters, digits and dashes, like van-03."),
    "exists": _l("There is already a van with this id. To pair its laptop again, give it a new code."),
    "unknown_van": _l("There is no such van on this hub."),
}
LOOPBACK = ("127.", "localhost", "::1", "[::1]")


def hub_address() -> tuple[str, bool]:
    """(the hub's address as vans should reach it, whether that is this computer only).

    VANAPP_PUBLIC_URL when set; else the address this page was opened at, which a van can
    reach too unless it is 127.0.0.1 or localhost."""
    given = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    url = given or request.host_url.rstrip("/")
    host = urlsplit(url).hostname or ""
    return url, host.startswith(LOOPBACK) or host == "localhost"


def _van_or_404(van_id: str) -> Van:
    van = Van.get_or_none(Van.id == van_id)
    if van is None:
        abort(404)
    return van


def _forget_qr_files(van_id: str) -> None:
    """The code in a pairing QR written by `hub add-van` is cancelled: the file would mislead."""
    for stale in (Path(current_app.config["DATA_DIR"]) / "pairing").glob(f"{van_id}.*"):
        stale.unlink(missing_ok=True)


def _inline(svg: str) -> str:
    return svg[svg.index("<svg"):]        # markup for the page, without an XML declaration


def _show_code(van: Van, code: str, created: bool) -> Response:
    url, local_only = hub_address()
    link = pairing.pairing_url(url, code)
    page = render_template("hub/van_code.html", van=van, code=pairing.format_code(code), hub_url=url,
                           link=link, local_only=local_only, created=created,
                           qr=Markup(_inline(qr.qr_svg(link, box_size=8))))
    # the code works once: no cache keeps it, and a reload does not show it again
    return Response(page, headers={"Cache-Control": "no-store"})


@bp.post("/add")
def add():
    name = request.form.get("name", "").strip()[:120]
    van_id = request.form.get("id", "").strip().lower()[:64]
    problem = None
    if not name:
        problem = ("name", _("Write the van's name."))
    elif not van_id and not pairing.slugify(name):
        problem = ("id", _("Give the van an id in small English letters and digits, like van-03."))
    if problem is None:
        try:
            van, code = pairing.add_van(name, van_id or None)
        except pairing.PairingError as exc:
            problem = ("id", str(REFUSALS.get(exc.code, exc.message)))
    if problem is not None:
        from ...hub import reports
        return render_template("hub/vans.html", vans=reports.van_status(), add_error=problem,
                               add_values={"name": name, "id": van_id}), 400
    _forget_qr_files(van.id)
    return _show_code(van, code, created=True)


@bp.route("/<van_id>/rotate", methods=["GET", "POST"])
def rotate(van_id):
    van = _van_or_404(van_id)
    if request.method == "GET":
        return render_template("hub/van_confirm.html", van=van, action="rotate")
    van, code = pairing.rotate(van.id)
    _forget_qr_files(van.id)
    return _show_code(van, code, created=False)


@bp.route("/<van_id>/revoke", methods=["GET", "POST"])
def revoke(van_id):
    van = _van_or_404(van_id)
    if request.method == "GET":
        return render_template("hub/van_confirm.html", van=van, action="revoke")
    pairing.revoke(van.id)
    _forget_qr_files(van.id)
    flash(_("%(van)s is blocked: it cannot sync any more. What it sent stays.", van=van.name), "ok")
    return redirect(url_for("hub.vans"))
