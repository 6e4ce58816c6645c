"""Game content: the shipped files load, bad files are refused with file/line/field, and a
refused load writes nothing."""
import json

import pytest

from vanapp.games.content import load_games, read_games
from vanapp.models import Game, Outbox

QUIZ = """\
id: tiny-quiz
kind: quiz
title: {hi: "छोटा क्विज़", en: "Tiny quiz"}
timer: 20
questions:
  - id: q1
    text: {hi: "सवाल", en: "Question"}
    choices:
      - {id: a, text: {hi: "क", en: "A"}}
      - {id: b, text: {hi: "ख", en: "B"}}
    answer: b
"""


def write(media_dir, name, text):
    path = media_dir / "games" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_games_load_one_of_each_kind(app, media_dir):
    result = load_games(media_dir)
    assert result.ok, [str(p) for p in result.problems]
    kinds = {g["id"]: g["kind"] for g in result.games}
    assert set(kinds.values()) == {"quiz", "poll", "pledge", "buzzer"}
    row = Game.get_by_id("bell-quiz")
    assert row.file == "games/bell-quiz.yaml"
    assert len(row.sha256) == 64
    assert len(row.content["questions"]) == 5
    assert all(q["answer"] in {c["id"] for c in q["choices"]} for q in row.content["questions"])
    assert Game.get_by_id("attitude").content["questions"][0]["choices"][0]["id"] == "yes"


def test_reload_leaves_unchanged_games_untouched(app, media_dir):
    load_games(media_dir)
    outbox = Outbox.select().count()
    again = load_games(media_dir)
    assert again.created == [] and again.updated == [] and len(again.unchanged) == len(again.games)
    assert Outbox.select().count() == outbox
    path = media_dir / "games" / "pledge.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("target: 100", "target: 250"), encoding="utf-8")
    third = load_games(media_dir)
    assert third.updated == ["pledge"]
    assert Game.get_by_id("pledge").content["target"] == 250
    assert Game.get_by_id("pledge").version == 2
    assert Outbox.select().count() == outbox + 1


BAD_CASES = [
    ("unknown kind", QUIZ.replace("kind: quiz", "kind: trivia"), 2, "kind", "unknown kind"),
    ("missing English title", QUIZ.replace(', en: "Tiny quiz"', ""), 3, "title.en", "missing"),
    ("quiz without answer", QUIZ.replace("    answer: b\n", ""), 6, "questions[0].answer", "missing"),
    ("answer not a choice", QUIZ.replace("answer: b", "answer: c"), 11, "questions[0].answer", "not one of"),
    ("duplicate choice id", QUIZ.replace("{id: b,", "{id: a,"), 10, "questions[0].choices[1].id", "duplicate"),
    ("duplicate question id", QUIZ + QUIZ.split("questions:\n")[1], 12, "questions[1].id", "duplicate"),
    ("one choice", QUIZ.replace('      - {id: b, text: {hi: "ख", en: "B"}}\n', "").replace("answer: b", "answer: a"),
     9, "questions[0].choices", "2 to 6"),
    ("seven choices", QUIZ.replace('      - {id: b, text: {hi: "ख", en: "B"}}\n', "".join(
        f'      - {{id: {c}, text: {{hi: "{c}", en: "{c}"}}}}\n' for c in "bcdefg")), 9, "questions[0].choices", "2 to 6"),
    ("unknown field", QUIZ.replace("timer: 20", "timer: 20\ncolor: red"), 5, "color", "unknown field"),
    ("zero timer", QUIZ.replace("timer: 20", "timer: 0"), 4, "timer", "whole number"),
    ("text timer", QUIZ.replace("timer: 20", 'timer: "soon"'), 4, "timer", "whole number"),
    ("buzzer without teams", QUIZ.replace("kind: quiz", "kind: buzzer"), 1, "teams", "missing"),
    ("pledge without text", 'id: p\nkind: pledge\ntitle: {hi: "श", en: "P"}\ntarget: 5\n', 1, "pledge", "missing"),
    ("bare yes as id", QUIZ.replace("{id: a,", "{id: yes,").replace("answer: b", "answer: b"), 9,
     "questions[0].choices[0].id", "quote it"),
    ("poll with answer", QUIZ.replace("kind: quiz", "kind: poll"), 11, "questions[0].answer", "no right answer"),
    ("broken YAML", QUIZ.replace("timer: 20", "timer: [20"), 0, "", "not valid YAML"),
    # a tag YAML cannot build (was an uncaught ValueError: no file, line or field)
    ("bad int tag", QUIZ.replace('en: "Tiny quiz"', 'en: !!int "abc"'), 3, "title.en", "non-empty text"),
    ("bad timer tag", QUIZ.replace("timer: 20", 'timer: !!int "x"'), 4, "timer", "whole number"),
]


@pytest.mark.parametrize("name,text,line,field,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_game_file_is_refused_with_file_line_field(app, media_dir, name, text, line, field, message):
    write(media_dir, "tiny.yaml", text)
    result = load_games(media_dir)
    assert not result.ok and not result.written
    mine = [p for p in result.problems if p.file == "games/tiny.yaml"]
    assert mine, result.problems
    hit = [p for p in mine if p.field == field and message in p.message]
    assert hit, [str(p) for p in mine]
    if line:
        assert hit[0].line == line, str(hit[0])
    else:
        assert hit[0].line > 0
    # All or nothing: the good files were not stored either.
    assert Game.select().count() == 0
    assert Outbox.select().count() == 0


def test_the_valid_tiny_quiz_is_accepted(app, media_dir):
    write(media_dir, "tiny.yaml", QUIZ)
    result = load_games(media_dir)
    assert result.ok and "tiny-quiz" in result.created


def test_duplicate_game_id_across_files_is_refused(app, media_dir):
    write(media_dir, "again.yaml", "# a copy\n# of the quiz\n\n" + QUIZ.replace("id: tiny-quiz", "id: bell-quiz"))
    result = read_games(media_dir)
    flagged = [p for p in result.problems if p.field == "id"]
    text = (media_dir / flagged[0].file).read_text(encoding="utf-8").splitlines()
    assert text[flagged[0].line - 1].startswith("id:")                       # the `id:` line, not line 1
    assert [p for p in result.problems if p.field == "id" and "bell-quiz" in p.message
            and {p.file, p.message.rsplit(" ", 1)[-1]} == {"games/again.yaml", "games/bell-quiz.yaml"}]


def test_a_bad_file_keeps_the_previous_games(app, media_dir):
    load_games(media_dir)
    before = {g.id: (g.sha256, g.version) for g in Game.select()}
    path = media_dir / "games" / "bell-quiz.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("answer: c", "answer: z", 1), encoding="utf-8")
    write(media_dir, "tiny.yaml", QUIZ)
    result = load_games(media_dir)
    assert not result.ok
    assert {g.id: (g.sha256, g.version) for g in Game.select()} == before
    assert Game.get_or_none(Game.id == "tiny-quiz") is None


def test_cli_games_load_check_and_json(app, cli, media_dir):
    checked = cli("games", "load", "--check", "--media-dir", str(media_dir))
    assert checked.exit_code == 0, checked.output
    assert "5 valid" in checked.output
    assert Game.select().count() == 0
    loaded = cli("games", "load", "--json", "--media-dir", str(media_dir))
    assert loaded.exit_code == 0
    body = json.loads(loaded.output)
    assert body["ok"] and sorted(body["created"]) == sorted(body["games"])
    write(media_dir, "tiny.yaml", QUIZ.replace("kind: quiz", "kind: trivia"))
    failed = cli("games", "load", "--media-dir", str(media_dir))
    assert failed.exit_code == 1
    assert "games/tiny.yaml:2: kind: unknown kind 'trivia'" in failed.output
    as_json = cli("games", "load", "--json", "--media-dir", str(media_dir))
    errors = json.loads(as_json.output)["errors"]
    assert errors[0] == {"file": "games/tiny.yaml", "line": 2, "field": "kind",
                         "message": errors[0]["message"]}
