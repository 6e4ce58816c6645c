"""The coordinators' pages: the dashboard (totals, charts, filters), the trace of each total to
its screenings, a screening's detail, per-van sync status and the CSV exports. All behind a
coordinator's login; the numbers come from reports.py, the same as `vanapp hub report`."""
import datetime as dt

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...hub import evidence, exports, factsql, reports
from ...hub import set_aside as set_aside_list
from ...hub.game_texts import game_texts
from ...hub.facts import GENDER_AGE, OTHER
from ...models import GameResult, GameRun, ScreeningEvent
from . import charts
from .auth import guard_hub_blueprint

bp = Blueprint("hub", __name__)
guard_hub_blueprint(bp)

METRICS = {
    "screenings": _l("Screenings planned"), "held": _l("Screenings held"),
    "cancelled": _l("Screenings cancelled"), "villages": _l("Villages reached"),
    "people": _l("People reached"), "men": _l("Men"), "women": _l("Women"), "boys": _l("Boys"),
    "girls": _l("Girls"), "other": _l("Others counted"), "participants": _l("Participants signed in"),
    "pledges": _l("Pledges"), "qr_summary": _l("People known only from a QR summary"),
}
SOURCES = {"synced": _l("synced records"), "qr_summary": _l("from QR summary"), "": _l("nothing received")}
STATUSES = {"planned": _l("Planned"), "in_progress": _l("In progress"), "done": _l("Done"),
            "cancelled": _l("Cancelled")}


RECORD_KINDS = {"tap": _l("Tap"), "correction": _l("Correction"), "headcount": _l("Headcount"),
                "participant": _l("Sign-in"), "play": _l("Play"), "game_run": _l("Game run"),
                "game_result": _l("Game result"), "event": _l("Crew action")}
PAIRING_STATES = {"paired": _l("Paired"), "revoked": _l("Revoked"), "code_waiting": _l("Pairing code waiting"),
                  "code_expired": _l("Pairing code expired"), "unpaired": _l("Not paired"),
                  "unknown": _l("Not added on this hub")}


@bp.app_template_filter("hub_ago")
def hub_ago(value, now=None) -> str:
    """How long ago a stored UTC time was, in words ("3 days ago"); "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    delta = (now or dt.datetime.now(dt.timezone.utc)) - value
    if delta < dt.timedelta(0):
        return ""                       # a van's clock ahead of the hub's: the time says enough
    if delta < dt.timedelta(minutes=1):
        return _("just now")
    return _("%(span)s ago", span=_span(delta))


@bp.app_template_filter("hub_span")
def hub_span(delta) -> str:
    """A duration in words: the time between a tap on the van and its arrival at the hub."""
    if delta is None:
        return "—"
    if delta < dt.timedelta(0):
        return _("received before it happened: the van's clock was ahead")
    if delta < dt.timedelta(minutes=1):
        return _("under a minute")
    return _span(delta)


def _span(delta: dt.timedelta) -> str:
    from flask_babel import ngettext
    seconds = delta.total_seconds()
    if seconds < 3600:
        return ngettext("%(num)s minute", "%(num)s minutes", int(seconds // 60))
    if seconds < 2 * 86400:
        return ngettext("%(num)s hour", "%(num)s hours", int(seconds // 3600))
    return ngettext("%(num)s day", "%(num)s days", int(seconds // 86400))


def _filters():
    """The filters of this request, or a 400 page naming the field that is wrong."""
    from ..dates import from_fields
    args = request.args.to_dict()
    for name in ("from", "to"):            # the date fields' parts, when no script joined them
        value = from_fields(request.args, name)
        if value is not None:
            args[name] = value
    try:
        return reports.Filters.parse(args)
    except reports.FilterError as exc:
        abort(Response(render_template("hub/error.html", status=400, message=str(exc),
                                       choices=reports.choices(), filters=reports.Filters()), 400))


def _pick(pair, fallback: str) -> str:
    from flask_babel import get_locale
    hi, en = pair if pair else ("", "")
    return ((hi if str(get_locale()) == "hi" else en) or hi or en or fallback)


def game_title(texts, game) -> str:
    return _pick(texts.get(game, {}).get("title"), game)


def question_text(texts, game, question) -> str:
    return _pick(texts.get(game, {}).get("questions", {}).get(question), question)


def media_title(media_id) -> str:
    from ...models import MediaItem
    item = MediaItem.get_or_none(MediaItem.id == media_id)
    return _pick((item.title_hi, item.title_en) if item else None, media_id)


def question_label(texts, game, question) -> str:
    t = texts.get(game, {})
    return f"{_pick(t.get('title'), game)} · {_pick(t.get('questions', {}).get(question), question)}"


def choice_label(texts, game, question, choice) -> str:
    return _pick(texts.get(game, {}).get("choices", {}).get(question, {}).get(choice), choice)


def _charts(data, texts, filters) -> list:
    """The dashboard's charts; each bar links to the screenings it adds up from."""
    from flask import url_for

    def trace(metric, **narrower):
        return url_for("hub.screenings", metric=metric, **dict(filters.as_args(), **narrower))

    people = data["people"]
    names = list(GENDER_AGE) + ([OTHER] if people[OTHER] else [])
    out = [charts.bars(_("People reached by gender and age"), [str(METRICS[n]) for n in names],
                       [people[n] for n in names], _("Nothing counted yet"),
                       links=[trace(n) for n in names])]
    out.append(charts.bars(_("People reached by district"),
                           [d["name"] or _("not in the hub's plan (QR summary)") for d in data["by_district"]],
                           [d["people"] for d in data["by_district"]], _("Nothing counted yet"),
                           horizontal=True, links=[trace("people", district=d["name"]) if d["name"]
                                                   else trace("people") for d in data["by_district"]]))
    out.append(charts.bars(_("Screenings held by van"), [d["name"] for d in data["by_van"]],
                           [d["held"] for d in data["by_van"]], _("No screening held yet"),
                           links=[trace("held", van=d["name"]) for d in data["by_van"]]))
    if data["quiz"]:
        one_game = len({q["game"] for q in data["quiz"]}) == 1
        out.append(charts.bars(_("Quiz: share of right answers"),
                               [_pick(texts.get(q["game"], {}).get("questions", {}).get(q["question"]), q["question"])
                                if one_game else question_label(texts, q["game"], q["question"])
                                for q in data["quiz"]],
                               [q["correct_share"] * 100 for q in data["quiz"]], _("No quiz played yet"),
                               percent=True, horizontal=True,
                               links=[trace(f"quiz:{q['game']}:{q['question']}") for q in data["quiz"]]))
    for poll in data["polls"]:
        choices = list(poll["before"]["shares"])
        out.append(charts.grouped(
            _("Before and after the film: %(question)s",
              question=question_label(texts, poll["game"], poll["question"])),
            [choice_label(texts, poll["game"], poll["question"], c) for c in choices],
            [(_("Before"), [poll["before"]["shares"][c] * 100 for c in choices]),
             (_("After"), [poll["after"]["shares"][c] * 100 for c in choices])],
            _("No poll asked before and after yet"), percent=True,
            link=trace(f"poll:{poll['game']}:{poll['question']}")))
    return out


@bp.get("/")
def dashboard():
    filters = _filters()
    data = reports.report(filters)
    texts = game_texts()
    return render_template("hub/dashboard.html", data=data, filters=filters, choices=reports.choices(),
                           chart_list=_charts(data, texts, filters), texts=texts, metrics=METRICS,
                           question_label=question_label, choice_label=choice_label)


@bp.get("/screenings")
def screenings():
    filters = _filters()
    metric = request.args.get("metric", "screenings")
    try:
        kind, game, question = reports.parse_metric(metric)
    except reports.FilterError as exc:
        abort(Response(render_template("hub/error.html", status=400, message=str(exc)), 400))
    limit, offset = _page()
    rows = reports.trace(filters, metric, limit, offset)
    count, total = reports.trace_summary(filters, metric)
    texts = game_texts()
    if kind in ("quiz", "poll"):
        title = question_label(texts, game, question)
    else:
        title = str(METRICS[kind])
    if kind not in ("people", "participants", "pledges", "qr_summary", "villages", "quiz") + GENDER_AGE + (OTHER,):
        total = None
    return render_template("hub/screenings.html", rows=rows, kind=kind, metric=metric, title=title,
                           total=total, count=count, limit=limit, offset=offset, filters=filters,
                           choices=reports.choices(), sources=SOURCES, statuses=STATUSES, game=game,
                           question=question, texts=texts, choice_label=choice_label)


PAGE, MAX_PAGE = 100, 1000         # screenings per page of a trace (`?limit=&offset=`, as the API)


def _page() -> tuple[int, int]:
    try:
        limit = int(request.args.get("limit", PAGE))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        limit, offset = -1, -1
    if not (1 <= limit <= MAX_PAGE) or offset < 0:
        abort(Response(render_template("hub/error.html", status=400, message=_(
            "limit must be 1 to %(most)s and offset at least 0", most=MAX_PAGE)), 400))
    return limit, offset


@bp.get("/screenings/<screening_id>")
def screening(screening_id):
    f = factsql.one(screening_id)
    if f is None:
        abort(404)
    results = (GameResult.select(GameResult, GameRun).join(GameRun)
               .where(GameRun.screening == f.id).order_by(GameRun.started_at, GameResult.question_id))
    events = (ScreeningEvent.select().where(ScreeningEvent.screening == f.id)
              .order_by(ScreeningEvent.at))
    return render_template("hub/screening.html", f=f, results=list(results), events=list(events),
                           sources=SOURCES, statuses=STATUSES, texts=game_texts(),
                           question_label=question_label, choice_label=choice_label,
                           categories=sorted(set(f.counts) | set(f.taps) | set(f.corrections)))


@bp.get("/screenings/<screening_id>/records")
def screening_records(screening_id):
    f = factsql.one(screening_id)
    if f is None:
        abort(404)
    kind = request.args.get("kind", "")
    if kind and kind not in evidence.KINDS:
        abort(Response(render_template("hub/error.html", status=400,
                                       message=_("kind: %(kind)s is not a kind of record", kind=kind[:40])), 400))
    category = request.args.get("category", "")[:32]
    rows, total = evidence.records(screening_id, kind, category)
    return render_template("hub/records.html", f=f, rows=rows, total=total, kind=kind,
                           category=category, kinds=RECORD_KINDS, limit=evidence.LIMIT, texts=game_texts(),
                           categories={c: METRICS[c] for c in GENDER_AGE})


@bp.get("/vans")
def vans():
    status = reports.van_status()
    set_aside = {v["van"]: set_aside_list.listed(v["van"]) for v in status
                 if v.get("on_van") and v["on_van"]["parked"]}
    return render_template("hub/vans.html", vans=status, set_aside=set_aside, kinds=MODEL_KINDS)


# What a van sets aside, by kind, in the coordinator's words.
# set-aside records are named by their model (the wire's table names)
MODEL_KINDS = {
    "TallyEvent": _l("Count tap"), "Headcount": _l("Headcount"), "Participant": _l("Sign-in"),
    "PlayLog": _l("Play (proof of play)"), "GameRun": _l("Game run"), "GameResult": _l("Game result"),
    "ScreeningEvent": _l("Screening status change"),
}


@bp.app_context_processor
def _hub_labels():
    return {"pairing_states": PAIRING_STATES, "game_title": game_title, "question_text": question_text,
            "media_title": media_title, "choice_label": choice_label, "question_label": question_label}


@bp.get("/export/<name>.csv")
def export(name):
    if name not in exports.EXPORTS:
        abort(404)
    filters = _filters()
    # streamed: the request's database connection stays open until the last line is sent
    body = stream_with_context(exports.EXPORTS[name](filters))
    stamp = "-".join(v for v in (filters.date_from, filters.date_to, filters.district, filters.van,
                                 filters.campaign) if v)
    filename = f"{name}{'-' + stamp if stamp else ''}.csv"
    from urllib.parse import quote
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=\"{name}.csv\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})
