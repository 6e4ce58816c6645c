"""The words a person reads instead of the codes the data keeps: kinds of programme item, phases,
statuses, outcomes, categories, reasons, languages, crew actions, kinds of record. One place, so
a page never shows `psa`, `done` or `hi-en`; templates ask `say("status", code)`.

A code without a word here is shown as it is: a new code shows up in the walk over every page
(tests/test_pages_walk.py), which fails on an English word on a Hindi page."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

WORDS = {
    "kind": {"psa": _l("PSA"), "film": _l("Film"), "song": _l("Song"), "sound": _l("Sound"),
             "game": _l("Game"), "media": _l("Media")},
    "game_kind": {"quiz": _l("quiz"), "poll": _l("poll"), "pledge": _l("pledge"), "buzzer": _l("buzzer")},
    "phase": {"before": _l("before the film"), "after": _l("after the film")},
    "status": {"planned": _l("Planned"), "in_progress": _l("In progress"), "done": _l("Done"),
               "cancelled": _l("Cancelled")},
    "outcome": {"playing": _l("playing"), "completed": _l("completed"), "skipped": _l("skipped"),
                "error": _l("error"), "stopped": _l("stopped")},
    "category": {"men": _l("Men"), "women": _l("Women"), "boys": _l("Boys"), "girls": _l("Girls")},
    "gender": {"woman": _l("Woman"), "man": _l("Man"), "other": _l("Other"), "unsaid": _l("Prefer not to say")},
    "age_band": {"under-18": _l("Under 18"), "18-30": _l("18 to 30"), "31-45": _l("31 to 45"),
                 "46-60": _l("46 to 60"), "over-60": _l("Over 60")},
    "reason": {"rain": _l("Rain"), "generator": _l("Generator failure"), "no_audience": _l("No audience"),
               "other": _l("Other")},
    "language": {"hi": _l("Hindi"), "en": _l("English"), "hi-en": _l("Hindi and English"),
                 "none": _l("No words")},
    "event": {"started": _l("Started"), "finished": _l("Finished"), "cancelled": _l("Cancelled"),
              "rescheduled": _l("Moved to another day"), "reopened": _l("Opened again"),
              "held": _l("Marked as held")},
    "headcount": {"start": _l("at the start"), "end": _l("at the end")},
    "game_state": {"lobby": _l("Lobby: people are joining"), "question_open": _l("Question open"),
                   "question_closed": _l("Answers closed"), "revealed": _l("Answer revealed"),
                   "finished": _l("Finished"), "idle": _l("Not started")},
}


def say(group: str, code, default=None) -> str:
    """The word for `code` in `group` in the page's language; the code itself when there is none."""
    if code is None or code == "":
        return "" if default is None else str(default)
    word = WORDS.get(group, {}).get(code)
    return str(word) if word is not None else (str(code) if default is None else str(default))


def say_reason(stored: str) -> str:
    """A cancelled screening's reason as stored ("rain", "other: the road flooded") in words."""
    code, _sep, text = (stored or "").partition(": ")
    return say("reason", code) + (f": {text}" if text else "")


def campaign_name(campaign_id: str, title_hi: str = "", title_en: str = "") -> str:
    """A campaign by its name in the page's language. A campaign known only by its id (a tour
    file names it `bell-bajao`) is called by that id in words: Bell Bajao."""
    if str(get_locale()) == "hi" and title_hi:
        return title_hi
    if title_en and title_en != campaign_id:
        return title_en
    return title_hi or (campaign_id or "").replace("-", " ").replace("_", " ").title()


def init_app(app):
    app.jinja_env.globals.update(say=say, say_reason=say_reason, campaign_name=campaign_name)
