"""The projector and the audience's phones for a crowd, in real Chromium against a real server:
each answer wears the same letter, colour and shape on both; the projector keeps the split of
the answers hidden until the question closes (unless a poll's file asks for live bars); the
quiz's score is the largest text on its screen."""
import pytest

from .support.evening import Evening, Phone

pytestmark = pytest.mark.browser

PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
WAIT = 20_000
LIVE_POLL = """id: live-poll
kind: poll
campaign: bell-bajao
title: {hi: "तुरंत राय", en: "Quick poll"}
live_results: true
questions:
  - id: fair
    text: {hi: "क्या घर का काम सबका है?", en: "Is housework everyone's work?"}
    choices:
      - {id: "yes", text: {hi: "हाँ", en: "Yes"}}
      - {id: "no", text: {hi: "नहीं", en: "No"}}
"""


@pytest.fixture
def van(tmp_path):
    evening = Evening(tmp_path / "van")
    (evening.media / "games" / "live-poll.yaml").write_text(LIVE_POLL)
    evening.load()
    evening.crew.api("POST", f"/api/v1/screenings/{evening.ids['tonight']}/start", {"play": False})
    yield evening
    evening.stop()


def _screens(chromium, van, lang="hi"):
    """The projector (crew login, 1920x1080) and one audience phone, both in `lang`."""
    host = van.url.split("//")[1].split(":")[0]
    projector = chromium.new_context(**PROJECTOR)
    phone = chromium.new_context(**PHONE)
    for context in (projector, phone):
        context.set_default_timeout(WAIT)
        context.add_cookies([{"name": "vk_lang", "value": lang, "domain": host, "path": "/"}])
    screen = projector.new_page()
    screen.goto(van.url + "/login")
    screen.fill("#pin", "2468")
    screen.click("button[type=submit]")
    screen.wait_for_url(lambda url: "/login" not in url)
    screen.goto(van.url + "/games/projector")
    hand = phone.new_page()
    hand.goto(van.url + "/a/")
    return projector, screen, phone, hand


def _start(van, game, position=None):
    body = {"screening": van.ids["tonight"], "game": game}
    if position is not None:
        body["position"] = position
    run = van.crew.api("POST", "/api/v1/games/runs", body)
    return run.get("run") or run.get("id")


MARKS = """(root) => [...document.querySelectorAll(root + ' .choice-key')].map(k => ({
    letter: k.querySelector('.key-letter').textContent,
    shape: k.querySelector('path').getAttribute('d'),
    colour: getComputedStyle(k.querySelector('path')).fill,
    visible: k.getBoundingClientRect().width > 0}))"""


def test_each_answer_has_the_same_letter_colour_and_shape_on_phone_and_projector(chromium, van, artifacts):
    _start(van, "bell-quiz", 2)
    projector, screen, phone, hand = _screens(chromium, van)
    try:
        van.crew.api("POST", "/api/v1/games/live/next")
        screen.wait_for_selector("#stage .choice-list .choice-key")
        hand.wait_for_selector("#phone .choices button .choice-key")
        on_screen = screen.evaluate(MARKS, "#stage .choice-list")
        in_hand = hand.evaluate(MARKS, "#phone .choices")
        assert [m["letter"] for m in on_screen] == ["A", "B", "C"]
        assert on_screen == in_hand
        assert len({m["shape"] for m in on_screen}) == 3 and len({m["colour"] for m in on_screen}) == 3
        assert all(m["visible"] for m in on_screen + in_hand)
        # a phone answers by its mark: the button with the green square is the third choice
        hand.click("#phone .choices button:has(.key-2)")
        hand.wait_for_selector("#phone .choices button.chosen .key-2")
        screen.screenshot(path=str(artifacts / "crowd-question-projector-hi.png"))
        hand.screenshot(path=str(artifacts / "crowd-question-phone-hi.png"), full_page=True)
        # after the close, the bars on both screens wear the same marks in the same order
        van.crew.api("POST", "/api/v1/games/live/close")
        van.crew.api("POST", "/api/v1/games/live/reveal")
        screen.wait_for_selector("#stage .bars .choice-key")
        hand.wait_for_selector("#phone .reveal .bars .choice-key")
        assert screen.evaluate(MARKS, "#stage .bars") == hand.evaluate(MARKS, "#phone .reveal .bars") == on_screen
    finally:
        projector.close()
        phone.close()


def test_the_projector_shows_the_split_only_once_the_question_closes(chromium, van, artifacts):
    run = _start(van, "bell-quiz", 2)
    projector, screen, phone, hand = _screens(chromium, van)
    try:
        van.crew.api("POST", "/api/v1/games/live/next")
        q = van.crew.api("GET", "/api/v1/games/live")["q"]["id"]
        for choice in ("c", "c", "a"):
            p = Phone(van.url)
            p.api("/a/api/join", {})
            p.api("/a/api/vote", {"run": run, "question": q, "choice": choice})
        # open: the choices and how many answered, not who answered what
        screen.wait_for_function("() => document.querySelector('#answer-count') && "
                                 "document.querySelector('#answer-count').textContent.startsWith('3 ')")
        assert screen.locator("#stage .bars").count() == 0
        assert screen.locator("#stage .bar-num").count() == 0
        assert screen.locator("#stage .choice-line").count() == 3
        screen.screenshot(path=str(artifacts / "crowd-open-projector-hi.png"))
        van.crew.api("POST", "/api/v1/games/live/close")
        screen.wait_for_selector("#stage .bars .bar-num")
        nums = screen.locator("#stage .bars .bar-num").all_inner_texts()
        assert nums == ["1 · 33%", "0 · 0%", "2 · 67%"]
        screen.screenshot(path=str(artifacts / "crowd-closed-projector-hi.png"))
    finally:
        projector.close()
        phone.close()


def test_a_poll_whose_file_asks_for_live_bars_shows_them_while_open(chromium, van):
    run = _start(van, "live-poll")
    projector, screen, phone, hand = _screens(chromium, van)
    try:
        van.crew.api("POST", "/api/v1/games/live/next")
        p = Phone(van.url)
        p.api("/a/api/join", {})
        p.api("/a/api/vote", {"run": run, "question": "fair", "choice": "yes"})
        screen.wait_for_function("() => [...document.querySelectorAll('#stage .bars .bar-num')]"
                                 ".map(n => n.textContent).join('|') === '1 · 100%|0 · 0%'")
        assert screen.locator("#stage .choice-list").count() == 0
    finally:
        projector.close()
        phone.close()


LARGEST = """() => {
  let best = null;
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility() || ![...el.childNodes].some(n => n.nodeType === 3 && n.data.trim())) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (!best || size > best.size) best = {size, id: el.id, cls: el.className, text: el.textContent.trim()};
  }
  return best;
}"""


@pytest.mark.parametrize("lang", ["hi", "en"])
def test_the_quiz_score_is_the_largest_text_on_its_screen(chromium, van, artifacts, lang):
    run = _start(van, "bell-quiz", 2)
    phones = [Phone(van.url) for _ in range(2)]
    for p in phones:
        p.api("/a/api/join", {})
    for _ in range(5):
        live = van.crew.api("POST", "/api/v1/games/live/next")
        q = (live.get("q") or van.crew.api("GET", "/api/v1/games/live")["q"])["id"]
        for p, choice in zip(phones, ("a", "b")):
            p.api("/a/api/vote", {"run": run, "question": q, "choice": choice})
        van.crew.api("POST", "/api/v1/games/live/close")
    van.crew.api("POST", "/api/v1/games/live/finish")
    projector, screen, phone, hand = _screens(chromium, van, lang)
    try:
        screen.wait_for_selector("#quiz-score")
        hand.wait_for_selector("#phone .score")
        largest = screen.evaluate(LARGEST)
        assert largest["id"] == "quiz-score", largest
        assert largest["text"].startswith(screen.locator("#quiz-score").inner_text()[:2])
        assert "%" in largest["text"]
        mine = hand.evaluate(LARGEST)
        assert "score" in mine["cls"], mine
        screen.screenshot(path=str(artifacts / f"crowd-score-projector-{lang}.png"))
        hand.screenshot(path=str(artifacts / f"crowd-score-phone-{lang}.png"), full_page=True)
    finally:
        projector.close()
        phone.close()
