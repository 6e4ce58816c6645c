"""Hindi and English: Flask-Babel, the language choice, compiling the catalogues, and the
`local_time` filter (times are UTC in storage, local on screen).

Catalogue sources are `vanapp/translations/<lang>/*.po`, one file per area so areas can be
translated independently; they are merged and compiled into the data dir at start-up
whenever a source is newer than the compiled catalogue.
"""
from pathlib import Path
from urllib.parse import urlparse

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, current_app, redirect, request, url_for
from flask_babel import Babel, get_locale, refresh

from . import sessions

LANGUAGES = {"hi": "हिन्दी", "en": "English"}
DEFAULT_LANGUAGE = "hi"
SOURCE_DIR = Path(__file__).resolve().parent.parent / "translations"
COOKIE = "vk_lang"

bp = Blueprint("i18n", __name__)


def translated(message) -> bool:
    """A message counts as translated only when every form (plural forms too) has text."""
    text = message.string
    return bool(all(text) if isinstance(text, (tuple, list)) else text)


def compile_catalogues(out_dir: Path) -> None:
    for lang_dir in sorted(p for p in SOURCE_DIR.iterdir() if p.is_dir()):
        sources = sorted(lang_dir.glob("*.po"))
        target = out_dir / lang_dir.name / "LC_MESSAGES" / "messages.mo"
        # Rebuild when any source changed, appeared or went away.
        stamp = "\n".join(f"{p.name} {p.stat().st_mtime_ns} {p.stat().st_size}" for p in sources)
        stamp_file = target.with_suffix(".stamp")
        if target.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
            continue
        merged = Catalog(locale=lang_dir.name)
        for source in sources:
            with source.open("rb") as fh:
                for message in read_po(fh, locale=lang_dir.name):
                    if message.id and translated(message) and not message.fuzzy:
                        merged.add(message.id, message.string, context=message.context)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, merged)
        tmp.replace(target)
        stamp_file.write_text(stamp)


def select_locale():
    choice = request.args.get("lang") or request.cookies.get(COOKIE)
    return choice if choice in LANGUAGES else DEFAULT_LANGUAGE


def _safe_next(target: str | None) -> str:
    parsed = urlparse(target or "")
    if parsed.scheme or parsed.netloc or not (target or "").startswith("/") or "\\" in (target or ""):
        return url_for("console.today") if "console.today" in current_app.view_functions else "/"
    return target


@bp.get("/lang/<code>")
def switch(code):
    """Switch language and remember it for a year (a preference, not a state change)."""
    response = redirect(_safe_next(request.args.get("next")))
    if code in LANGUAGES:
        # Max-Age, no Expires: a phone with a wrong clock keeps its language (web/sessions.py)
        sessions.set_cookie(response, COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def init_app(app):
    compiled = Path(app.config["DATA_DIR"]) / "translations"
    compile_catalogues(compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LANGUAGE
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config.get("TIMEZONE", "Asia/Kolkata")
    Babel(app, locale_selector=select_locale)
    # Flask-Babel caches the locale on the app context; where one context outlives a request
    # (tests, CLI), drop the cache so every request reads its own cookie.
    app.before_request(refresh)
    app.register_blueprint(bp)
    from . import dates, words
    dates.init_app(app)         # dates in the page's language, with the weekday
    words.init_app(app)         # words instead of codes

    def current_language() -> str:
        return str(get_locale() or DEFAULT_LANGUAGE)

    # A global, not only a context variable: macros imported without context see it too.
    app.jinja_env.globals["current_language"] = current_language

    @app.context_processor
    def _languages():
        return {"LANGUAGES": LANGUAGES, "current_lang": current_language()}
