"""The words of the games the hub knows: each game's title, question texts and choice labels in
Hindi and English, read from the game content that travels with its runs. For pages and
exports that show a question or a choice by its words instead of its id (q1, a)."""
from ..models import Game


def game_texts() -> dict:
    """game id -> {"title": (hi, en), "questions": {qid: (hi, en)}, "choices": {qid: {cid: (hi, en)}}}."""
    out = {}
    for g in Game.select(Game.id, Game.title_hi, Game.title_en, Game.content):
        questions, choices = {}, {}
        # a buzzer's results count the teams that rang: a team is said by its name
        teams = {t.get("id"): ((t.get("name") or {}).get("hi", ""), (t.get("name") or {}).get("en", ""))
                 for t in (g.content or {}).get("teams", []) or []}
        for q in (g.content or {}).get("questions", []) or []:
            text = q.get("text") or {}
            questions[q.get("id")] = (text.get("hi", ""), text.get("en", ""))
            choices[q.get("id")] = dict(teams, **{c.get("id"): ((c.get("text") or {}).get("hi", ""),
                                                                (c.get("text") or {}).get("en", ""))
                                                  for c in q.get("choices", []) or []})
        if g.content and (g.content.get("pledge") or {}):     # a pledge's one "choice" is the pledge
            pledge = g.content["pledge"]
            questions.setdefault("pledge", (pledge.get("hi", ""), pledge.get("en", "")))
            choices.setdefault("pledge", {"pledge": (pledge.get("hi", ""), pledge.get("en", ""))})
        out[g.id] = {"title": (g.title_hi, g.title_en), "questions": questions, "choices": choices}
    return out


def labels(texts: dict, game: str, question: str, choice: str) -> list[str]:
    """[game title hi, en, question hi, en, choice hi, en] ("" where the hub does not know it)."""
    t = texts.get(game) or {}
    title = t.get("title") or ("", "")
    q = (t.get("questions") or {}).get(question) or ("", "")
    c = ((t.get("choices") or {}).get(question) or {}).get(choice) or ("", "")
    return [title[0], title[1], q[0], q[1], c[0], c[1]]
