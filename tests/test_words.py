"""Words instead of codes, and dates as people say them, in the page's language: the helpers
behind every page (vanapp/web/words.py, vanapp/web/dates.py) and the catalogues they use."""
import datetime as dt
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from vanapp.web import dates, words
from vanapp.web.i18n import SOURCE_DIR


@pytest.mark.parametrize("lang, group, code, word", [
    ("hi", "status", "done", "हो गया"), ("en", "status", "done", "Done"),
    ("hi", "language", "hi-en", "हिन्दी और अंग्रेज़ी"), ("en", "language", "none", "No words"),
    ("hi", "phase", "before", "फ़िल्म से पहले"), ("hi", "event", "started", None),
    ("hi", "category", "girls", "लड़कियाँ"), ("en", "outcome", "completed", "completed"),
])
def test_a_code_is_said_in_the_pages_language(app, lang, group, code, word):
    with app.test_request_context(), force_locale(lang):
        said = words.say(group, code)
        assert said and said != code or (lang == "en" and said.lower() == code)
        if word:
            assert said == word
        assert words.say(group, "no-such-code") == "no-such-code"     # shown as it is: the walk finds it
        assert words.say(group, "") == ""


def test_a_cancel_reason_and_a_campaign_in_words(app):
    with app.test_request_context(), force_locale("hi"):
        assert words.say_reason("rain") == "बारिश"
        assert words.say_reason("other: the road flooded") == "अन्य: the road flooded"
    with app.test_request_context(), force_locale("en"):
        assert words.campaign_name("bell-bajao", "", "bell-bajao") == "Bell Bajao"
        assert words.campaign_name("helpline", "हेल्पलाइन", "Helpline 181") == "Helpline 181"
    with app.test_request_context(), force_locale("hi"):
        assert words.campaign_name("helpline", "हेल्पलाइन", "Helpline 181") == "हेल्पलाइन"


def test_a_date_has_its_weekday_in_the_pages_language(app):
    with app.test_request_context(), force_locale("hi"):
        assert dates.day("2026-12-07") == "सोमवार 7 दिसंबर 2026"
        assert dates.short_day("2026-12-07") == "सोम 7 दिस॰"
        assert dates.when(dt.datetime(2026, 12, 7, 13, 0, tzinfo=dt.timezone.utc)) == "सोम 7 दिस॰ 2026, 18:30"
        assert [name for _n, name in dates.month_names()][:2] == ["जनवरी", "फ़रवरी"]
    with app.test_request_context(), force_locale("en"):
        assert dates.day("2026-12-07") == "Monday 7 December 2026"
        assert dates.when("2026-12-07T13:00:00Z") == "Mon 7 Dec 2026, 18:30"
        assert dates.when(None) == "—" and dates.day("not a date") == "not a date"
        assert dates.mmss(65_400) == "1:05"


def test_a_date_field_sends_its_parts_when_no_script_joined_them():
    assert dates.from_fields(MultiDict({"from": "2027-01-19"}), "from") == "2027-01-19"
    parts = MultiDict({"from": "2026-01-01", "from_day": "9", "from_month": "2", "from_year": "2027"})
    assert dates.from_fields(parts, "from") == "2027-02-09"           # the parts, not a stale value
    cleared = MultiDict({"from": "2026-01-01", "from_day": "", "from_month": "", "from_year": ""})
    assert dates.from_fields(cleared, "from") == ""
    assert dates.from_fields(MultiDict({"to_year": "x", "to_month": "1", "to_day": "1"}), "to") == "x-1-1"
    assert dates.from_fields(MultiDict(), "to") is None


def test_date_fields_read_in_hindi_on_a_hindi_page(crew):
    from .support.factories import make_screening
    s = make_screening()
    html = crew.get(f"/run/{s.id}").data.decode()
    form = html.split('id="reschedule-form"')[1].split("</form>")[0]
    assert 'type="date"' not in form and 'type="time"' not in form
    assert ">दिसंबर</option>" in form and 'name="date_month"' in form and 'name="start_hour"' in form
    assert f'name="date" value="{s.date}"' in form and f'name="start" value="{s.start}"' in form


def test_no_message_is_translated_two_ways_in_the_catalogues():
    """The area catalogues are merged into one: a message in two files must say the same."""
    seen, clashes = {}, []
    for po in sorted(Path(SOURCE_DIR, "hi").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if not message.id:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                if key in seen and seen[key][1] != message.string:
                    clashes.append(f"{key!r}: {seen[key][0]} {seen[key][1]!r} / {po.name} {message.string!r}")
                seen.setdefault(key, (po.name, message.string))
    assert not clashes, "\n".join(clashes)
