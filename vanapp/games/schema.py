"""The game file schema (media/README.md, "Games"): check one composed YAML document and
return the plain game dict, or every problem with its line and field.

Validation walks PyYAML *nodes* rather than the loaded dict so that each error can name the
line it is about; values are constructed with the safe loader only after their node passed.
"""
import re
from dataclasses import dataclass

import yaml

KINDS = ("quiz", "poll", "pledge", "buzzer")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LANGS = ("hi", "en")
MAX_QUESTIONS = 20
MAX_TIMER = 3600          # an hour: anything longer is a typo, not a question
MAX_TEXT = 1000

TOP_FIELDS = {"id", "kind", "campaign", "title", "intro", "timer", "questions", "pledge",
              "target", "teams", "live_results"}
QUESTION_FIELDS = {"id", "text", "choices", "answer", "explanation", "timer"}
CHOICE_FIELDS = {"id", "text"}
TEAM_FIELDS = {"id", "name", "colour"}
# Fields a kind must not carry: a pledge has no questions, only a buzzer has teams.
NOT_FOR_KIND = {
    "quiz": {"pledge", "target", "teams", "live_results"},     # a quiz's answers wait for the close
    "poll": {"pledge", "target", "teams"},
    "buzzer": {"pledge", "target", "live_results"},
    "pledge": {"questions", "teams", "live_results"},
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_dict(self):
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class _Bad:
    """A value YAML could not build: no type check accepts it."""

    def __repr__(self):
        return "a value YAML cannot read"


BAD = _Bad()


class _Checker:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self._loader = yaml.SafeLoader("")

    # -- helpers -----------------------------------------------------------------------
    def problem(self, node, field, message):
        line = node.start_mark.line + 1 if node is not None else 0
        self.problems.append(Problem(self.file, line, field, message))

    def value(self, node):
        """The node's value, or BAD when YAML cannot build it (`!!int "abc"`, a bad date): the
        callers' type checks then report it under its field name and line."""
        try:
            return self._loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError, yaml.YAMLError):
            return BAD

    def mapping(self, node, field, allowed) -> dict | None:
        """key -> (key node, value node) of a mapping node, flagging unknown and repeated keys."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, field, "must be a mapping of fields")
            return None
        out = {}
        for key_node, value_node in node.value:
            key = self.value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            name = f"{field}.{key}" if field else str(key)
            if not isinstance(key, str):
                self.problem(key_node, name, "field names must be text")
            elif key in out:
                self.problem(key_node, name, "is given twice")
            elif key not in allowed:
                self.problem(key_node, name, f"unknown field (allowed: {', '.join(sorted(allowed))})")
            else:
                out[key] = (key_node, value_node)
        return out

    def ident(self, node, field):
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, field, "must be a short id")
            return None
        value = self.value(node)
        if isinstance(value, bool):
            self.problem(node, field, f"YAML read {node.value!r} as true/false: quote it, e.g. \"{node.value}\"")
            return None
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or not ID_RE.match(value):
            self.problem(node, field, "must be a short id: letters, digits, '-' or '_' (at most 64)")
            return None
        return value

    def text(self, node, field):
        """A {hi, en} pair, both given and non-empty."""
        fields = self.mapping(node, field, set(LANGS))
        if fields is None:
            return None
        out = {}
        for lang in LANGS:
            if lang not in fields:
                self.problem(node, f"{field}.{lang}", "missing: every text needs Hindi (hi) and English (en)")
                continue
            value_node = fields[lang][1]
            value = self.value(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = value_node.value   # "181" written bare is still text on screen
            if not isinstance(value, str) or not value.strip():
                self.problem(value_node, f"{field}.{lang}", "must be non-empty text")
            elif len(value) > MAX_TEXT:
                self.problem(value_node, f"{field}.{lang}", f"is longer than {MAX_TEXT} characters")
            else:
                out[lang] = value.strip()
        return out if len(out) == 2 else None

    def flag(self, node, field):
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.problem(node, field, "must be true or false")
            return None
        return value

    def positive_int(self, node, field, maximum):
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            self.problem(node, field, f"must be a whole number from 1 to {maximum}")
            return None
        return value

    def sequence(self, node, field, low, high, what):
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, field, f"must be a list of {what}")
            return []
        if not low <= len(node.value) <= high:
            self.problem(node, field, f"needs {low} to {high} {what} (found {len(node.value)})")
        return node.value

    # -- the document ------------------------------------------------------------------
    def game(self, root) -> dict | None:
        if root is None:
            self.problems.append(Problem(self.file, 1, "", "the file is empty"))
            return None
        top = self.mapping(root, "", TOP_FIELDS)
        if top is None:
            return None
        game = {}
        for name in ("id", "kind", "title"):
            if name not in top:
                self.problem(root, name, "missing (required)")
        if "id" in top:
            game["id"] = self.ident(top["id"][1], "id")
        kind = None
        if "kind" in top:
            node = top["kind"][1]
            kind = self.value(node) if isinstance(node, yaml.ScalarNode) else None
            if kind not in KINDS:
                self.problem(node, "kind", f"unknown kind {node.value if isinstance(node, yaml.ScalarNode) else ''!r} "
                             f"(use one of: {', '.join(KINDS)})")
                kind = None
            game["kind"] = kind
        if "campaign" in top:
            game["campaign"] = self.ident(top["campaign"][1], "campaign")
        for name in ("title", "intro", "pledge"):
            if name in top:
                game[name] = self.text(top[name][1], name)
        if "timer" in top:
            game["timer"] = self.positive_int(top["timer"][1], "timer", MAX_TIMER)
        if "target" in top:
            game["target"] = self.positive_int(top["target"][1], "target", 1_000_000)
        if "live_results" in top:
            game["live_results"] = self.flag(top["live_results"][1], "live_results")
        if kind:
            for name in sorted(NOT_FOR_KIND[kind] & top.keys()):
                self.problem(top[name][0], name, f"not used by a {kind} game")
            if kind == "pledge" and "pledge" not in top:
                self.problem(root, "pledge", "missing: a pledge game needs the pledge text in hi and en")
            if kind != "pledge" and "questions" not in top:
                self.problem(root, "questions", f"missing: a {kind} needs 1 to {MAX_QUESTIONS} questions")
            if kind == "buzzer" and "teams" not in top:
                self.problem(root, "teams", "missing: a buzzer game needs 2 to 8 teams")
        if "teams" in top and kind == "buzzer":
            game["teams"] = self.teams(top["teams"][1])
        if "questions" in top and kind != "pledge":
            game["questions"] = self.questions(top["questions"][1], kind)
        return game

    def teams(self, node):
        teams, seen = [], set()
        for i, team_node in enumerate(self.sequence(node, "teams", 2, 8, "teams")):
            field = f"teams[{i}]"
            fields = self.mapping(team_node, field, TEAM_FIELDS)
            if fields is None:
                continue
            team = {}
            if "id" not in fields:
                self.problem(team_node, f"{field}.id", "missing (required)")
            else:
                team["id"] = self.ident(fields["id"][1], f"{field}.id")
                if team["id"] in seen:
                    self.problem(fields["id"][1], f"{field}.id", f"duplicate team id {team['id']!r}")
                seen.add(team["id"])
            if "name" not in fields:
                self.problem(team_node, f"{field}.name", "missing (required)")
            else:
                team["name"] = self.text(fields["name"][1], f"{field}.name")
            if "colour" in fields:
                colour_node = fields["colour"][1]
                colour = self.value(colour_node) if isinstance(colour_node, yaml.ScalarNode) else None
                if not isinstance(colour, str) or not COLOUR_RE.match(colour):
                    self.problem(colour_node, f"{field}.colour", 'must be "#rrggbb" in quotes')
                else:
                    team["colour"] = colour
            teams.append(team)
        return teams

    def questions(self, node, kind):
        questions, seen = [], set()
        for i, q_node in enumerate(self.sequence(node, "questions", 1, MAX_QUESTIONS, "questions")):
            field = f"questions[{i}]"
            fields = self.mapping(q_node, field, QUESTION_FIELDS)
            if fields is None:
                continue
            q = {}
            for name in ("id", "text", "choices"):
                if name not in fields:
                    self.problem(q_node, f"{field}.{name}", "missing (required)")
            if "id" in fields:
                q["id"] = self.ident(fields["id"][1], f"{field}.id")
                if q["id"] is not None and q["id"] in seen:
                    self.problem(fields["id"][1], f"{field}.id", f"duplicate question id {q['id']!r}")
                seen.add(q["id"])
            for name in ("text", "explanation"):
                if name in fields:
                    q[name] = self.text(fields[name][1], f"{field}.{name}")
            if "timer" in fields:
                q["timer"] = self.positive_int(fields["timer"][1], f"{field}.timer", MAX_TIMER)
            choice_ids = set()
            if "choices" in fields:
                q["choices"] = self.choices(fields["choices"][1], f"{field}.choices", choice_ids)
            if "answer" in fields:
                key_node, answer_node = fields["answer"]
                if kind == "poll":
                    self.problem(key_node, f"{field}.answer", "a poll has no right answer: remove it")
                else:
                    answer = self.ident(answer_node, f"{field}.answer")
                    if answer is not None and answer not in choice_ids:
                        self.problem(answer_node, f"{field}.answer",
                                     f"{answer!r} is not one of the choice ids ({', '.join(sorted(choice_ids))})")
                    q["answer"] = answer
            elif kind == "quiz":
                self.problem(q_node, f"{field}.answer", "missing: a quiz question needs the right choice id")
            questions.append(q)
        return questions

    def choices(self, node, field, seen):
        choices = []
        for j, c_node in enumerate(self.sequence(node, field, 2, 6, "choices")):
            cfield = f"{field}[{j}]"
            fields = self.mapping(c_node, cfield, CHOICE_FIELDS)
            if fields is None:
                continue
            choice = {}
            if "id" not in fields:
                self.problem(c_node, f"{cfield}.id", "missing (required)")
            else:
                choice["id"] = self.ident(fields["id"][1], f"{cfield}.id")
                if choice["id"] is not None and choice["id"] in seen:
                    self.problem(fields["id"][1], f"{cfield}.id", f"duplicate choice id {choice['id']!r}")
                seen.add(choice["id"])
            if "text" not in fields:
                self.problem(c_node, f"{cfield}.text", "missing (required)")
            else:
                choice["text"] = self.text(fields["text"][1], f"{cfield}.text")
            choices.append(choice)
        return choices


def check_document(text: str, file: str) -> tuple[dict | None, list[Problem]]:
    """Parse and check one game file's text; the game dict only when there is no problem."""
    checker = _Checker(file)
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(file, line, "", f"not valid YAML: {reason}")]
    if len(documents) > 1:
        return None, [Problem(file, documents[1].start_mark.line + 1, "", "one game per file (found a second document)")]
    try:
        game = checker.game(documents[0] if documents else None)
    except yaml.YAMLError as exc:   # e.g. a bad tag on a value
        mark = getattr(exc, "problem_mark", None)
        checker.problems.append(Problem(file, mark.line + 1 if mark else 0, "", f"not valid YAML: {exc}"))
    if checker.problems:
        return None, checker.problems
    return game, []
