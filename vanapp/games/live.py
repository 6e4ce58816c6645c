"""The live run held in memory: who joined, the votes, rings and scores, and the public views
phones and the projector see. Pure data — no locks, no database (the engine owns those)."""
from dataclasses import dataclass, field

PLEDGE_QUESTION = "pledge"
PLEDGE_CHOICE = "pledge"


def questions_of(game: dict) -> list[dict]:
    """The game's questions; a pledge is played as one question with one choice."""
    if game["kind"] == "pledge":
        return [{"id": PLEDGE_QUESTION, "text": game["pledge"],
                 "choices": [{"id": PLEDGE_CHOICE, "text": game["pledge"]}]}]
    return game.get("questions") or []


@dataclass
class Player:
    id: str
    device: str
    team: str = ""


@dataclass
class LiveRun:
    run_id: str
    screening_id: str
    game: dict
    phase: str = ""
    position: int | None = None
    state: str = "lobby"
    qi: int = -1
    deadline_ms: int | None = None           # unix ms when the open question closes itself
    players: dict[str, Player] = field(default_factory=dict)          # device -> player
    by_id: dict[str, Player] = field(default_factory=dict)            # player id -> player
    votes: dict[str, dict[str, str]] = field(default_factory=dict)    # question -> player -> choice
    counts: dict[str, dict[str, int]] = field(default_factory=dict)   # question -> choice -> phones
    hands: dict[str, dict[str, int]] = field(default_factory=dict)    # question -> choice -> hands
    rings: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)  # q -> [(seq, team, player)]
    judged: dict[str, list[list]] = field(default_factory=dict)       # q -> [[team, correct], ...]
    scores: dict[str, int] = field(default_factory=dict)
    summary: dict | None = None               # filled when finished

    # -- reading -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.game["kind"]

    @property
    def questions(self) -> list[dict]:
        return questions_of(self.game)

    @property
    def question(self) -> dict | None:
        qs = self.questions
        return qs[self.qi] if 0 <= self.qi < len(qs) else None

    def choice_ids(self, question: dict) -> list[str]:
        return [c["id"] for c in question["choices"]]

    def team_ids(self) -> list[str]:
        return [t["id"] for t in self.game.get("teams") or []]

    def timer_for(self, question: dict) -> int | None:
        return question.get("timer") or self.game.get("timer")

    def merged_counts(self, qid: str) -> dict[str, dict[str, int]]:
        """{choice: {"phones": n, "hands": n}} for every choice of the question, zeros included."""
        question = next((q for q in self.questions if q["id"] == qid), None)
        choices = self.choice_ids(question) if question else []
        phones, hands = self.counts.get(qid, {}), self.hands.get(qid, {})
        return {c: {"phones": phones.get(c, 0), "hands": hands.get(c, 0)} for c in choices}

    def team_queue(self, qid: str) -> list[str]:
        """Teams in the order their first bell rang (the server's arrival order)."""
        order = []
        for _seq, team, _player in sorted(self.rings.get(qid, [])):
            if team not in order:
                order.append(team)
        return order

    def turn(self, qid: str) -> str | None:
        """The team whose turn it is to answer: the first ringer not yet judged wrong."""
        judged = {team for team, _ok in self.judged.get(qid, [])}
        if any(ok for _team, ok in self.judged.get(qid, [])):
            return None
        return next((t for t in self.team_queue(qid) if t not in judged), None)

    # -- public views ----------------------------------------------------------------------
    def tally(self) -> dict:
        """The part that changes with every answer: small, sent as the delta."""
        out = {"joined": len(self.players)}
        question = self.question
        if question is None:
            return out
        qid = question["id"]
        if self.kind == "buzzer":
            queue = self.team_queue(qid)
            rings = {}
            for _seq, team, _player in self.rings.get(qid, []):
                rings[team] = rings.get(team, 0) + 1
            out.update(queue=queue, rings=rings, turn=self.turn(qid),
                       judged=self.judged.get(qid, []), scores=dict(self.scores))
        else:
            out["counts"] = self.merged_counts(qid)
        return out

    def public(self) -> dict:
        """Everything a phone or the projector shows; the quiz answer only once revealed."""
        game = self.game
        out = {
            "run": self.run_id, "phase": self.phase, "state": self.state,
            "game": {"id": game["id"], "kind": game["kind"], "title": game["title"],
                     "intro": game.get("intro"), "count": len(self.questions),
                     "teams": game.get("teams") or [], "pledge": game.get("pledge"),
                     "target": game.get("target"),
                     # a poll may show its bars while it is open; otherwise the projector waits
                     "live_results": bool(game.get("live_results"))},
            "q": None, "tally": self.tally(),
        }
        question = self.question
        if question is not None:
            q = {"index": self.qi, "id": question["id"], "text": question["text"],
                 "choices": question["choices"], "deadline": self.deadline_ms
                 if self.state == "question_open" else None}
            if self.state in ("revealed", "finished"):
                q["answer"] = question.get("answer")
                q["explanation"] = question.get("explanation")
            out["q"] = q
        if self.state == "finished":
            out["summary"] = self.summary
        return out

    def me(self, device: str) -> dict | None:
        player = self.players.get(device)
        if player is None:
            return None
        mine = {q: votes[player.id] for q, votes in self.votes.items() if player.id in votes}
        rung = [q for q, rings in self.rings.items() if any(p == player.id for _s, _t, p in rings)]
        return {"run": self.run_id, "team": player.team, "votes": mine, "rung": rung}
