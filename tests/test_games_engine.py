"""The game engine as a service (no HTTP): states, votes once per phone, hands merged and
marked, results written, a restart that loses nothing, before/after, pledge and buzzer."""
import json
import threading
import time

import pytest

from vanapp.games.content import load_games
from vanapp.games.machine import GameMachine, GameError
from vanapp.models import GameResult, GameRun, Outbox, db

from .support.factories import make_screening


@pytest.fixture
def screening(app, media_dir):
    assert load_games(media_dir).ok
    return make_screening(items=(("psa", "ring-the-bell"), ("game", "attitude@before"),
                                 ("film", "equal-voices"), ("game", "attitude@after")))


def state(engine, since=None):
    body = engine.poll(since)
    return None if body is None else json.loads(body)


def test_quiz_runs_through_its_states_and_records_results(screening):
    engine = GameMachine()
    run_id = engine.start(screening.id, "bell-quiz")
    assert state(engine)["state"] == "lobby"
    phones = [engine.join(f"dev{i}")[0] for i in range(3)]
    assert len({p.id for p in phones}) == 3
    engine.advance()
    s = state(engine)
    assert s["state"] == "question_open" and s["q"]["id"] == "q1"
    assert "answer" not in s["q"], "the right answer must not reach phones before the reveal"
    assert s["q"]["deadline"] > time.time() * 1000
    engine.vote("dev0", run_id, "q1", "c")
    engine.vote("dev1", run_id, "q1", "c")
    engine.vote("dev2", run_id, "q1", "a")
    with pytest.raises(GameError) as refused:
        engine.vote("dev0", run_id, "q1", "zzz")
    assert refused.value.field == "choice"
    engine.close()
    with pytest.raises(GameError) as late:
        engine.vote("dev2", run_id, "q1", "c")
    assert late.value.code == "closed"
    engine.reveal()
    s = state(engine)
    assert s["q"]["answer"] == "c" and s["q"]["explanation"]["en"]
    assert s["tally"]["counts"]["c"] == {"phones": 2, "hands": 0}
    for _ in range(4):
        engine.advance()
        engine.reveal()
    engine.advance()           # past the last question: finished
    s = state(engine)
    assert s["state"] == "finished"
    assert s["summary"]["questions"][0]["right_pct"] == 67
    results = {r.question_id: r for r in GameResult.select().where(GameResult.run == run_id)}
    assert set(results) == {"q1", "q2", "q3", "q4", "q5"}
    assert results["q1"].counts == {"a": {"phones": 1, "hands": 0}, "b": {"phones": 0, "hands": 0},
                                    "c": {"phones": 2, "hands": 0}}
    assert results["q1"].answer == "c"
    run = GameRun.get_by_id(run_id)
    assert run.state == "finished" and run.finished_at is not None
    assert Outbox.select().where(Outbox.record_id == run_id).count() >= 2


def test_second_vote_replaces_the_first_and_counts_once(screening):
    engine = GameMachine()
    run_id = engine.start(screening.id, "neighbour-dilemma")
    engine.join("dev0")
    engine.advance()
    engine.vote("dev0", run_id, "q1", "ignore")
    engine.vote("dev0", run_id, "q1", "ring")
    counts = state(engine)["tally"]["counts"]
    assert counts["ignore"]["phones"] == 0 and counts["ring"]["phones"] == 1
    assert engine.me("dev0")["votes"] == {"q1": "ring"}


def test_hands_merge_with_phone_votes_marked_by_source(screening):
    engine = GameMachine()
    run_id = engine.start(screening.id, "neighbour-dilemma")
    engine.join("dev0")
    engine.advance()
    engine.vote("dev0", run_id, "q1", "ring")
    engine.set_hands("q1", {"ring": 12, "ignore": 3})
    counts = state(engine)["tally"]["counts"]
    assert counts["ring"] == {"phones": 1, "hands": 12}
    assert counts["ignore"] == {"phones": 0, "hands": 3}
    with pytest.raises(GameError):
        engine.set_hands("q1", {"ring": -1})
    with pytest.raises(GameError):
        engine.set_hands("q1", {"nope": 2})
    engine.close()
    engine.set_hands("q1", {"ring": 14})       # counted again after closing: the result follows
    result = GameResult.get((GameResult.run == run_id) & (GameResult.question_id == "q1"))
    assert result.counts["ring"] == {"phones": 1, "hands": 14}
    assert result.counts["ignore"] == {"phones": 0, "hands": 0}


def test_polls_answer_no_change_then_small_deltas_then_full(screening):
    engine = GameMachine()
    run_id = engine.start(screening.id, "neighbour-dilemma")
    engine.join("dev0")
    engine.advance()
    full = state(engine)
    assert state(engine, full["v"]) is None
    engine.vote("dev0", run_id, "q1", "call")
    delta = state(engine, full["v"])
    assert delta["delta"] is True and "q" not in delta and delta["tally"]["counts"]["call"]["phones"] == 1
    engine.close()
    again = state(engine, delta["v"])
    assert "delta" not in again and again["state"] == "question_closed"


def test_restart_mid_question_loses_no_answer(screening):
    engine = GameMachine()
    run_id = engine.start(screening.id, "bell-quiz")
    for i in range(3):
        engine.join(f"dev{i}")
    engine.advance()
    engine.vote("dev0", run_id, "q1", "a")
    engine.vote("dev1", run_id, "q1", "c")
    engine.vote("dev1", run_id, "q1", "b")
    engine.set_hands("q1", {"c": 7})
    restarted = GameMachine()      # a new process: only the database is left
    s = state(restarted)
    assert s["run"] == run_id and s["state"] == "question_open" and s["q"]["id"] == "q1"
    assert s["tally"]["counts"] == {"a": {"phones": 1, "hands": 0}, "b": {"phones": 1, "hands": 0},
                                    "c": {"phones": 0, "hands": 7}}
    assert restarted.me("dev1")["votes"] == {"q1": "b"}
    restarted.vote("dev2", run_id, "q1", "c")
    assert state(restarted)["tally"]["counts"]["c"] == {"phones": 1, "hands": 7}


def test_server_timer_closes_the_question(screening, app):
    engine = GameMachine()
    engine.start(screening.id, "neighbour-dilemma")
    engine.advance()
    engine.live.deadline_ms = int(time.time() * 1000) + 300
    with engine._lock:
        engine._cond.notify_all()
    deadline = time.monotonic() + 20
    # Wait for the published state: it is published only once the close is committed.
    while state(engine)["state"] == "question_open" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state(engine)["state"] == "question_closed"
    assert GameResult.select().where(GameResult.question_id == "q1").count() == 1


def test_before_and_after_poll_shows_how_the_split_moved(screening):
    engine = GameMachine()
    before = engine.start(screening.id, "attitude", phase="before", position=1)
    for i in range(4):
        engine.join(f"dev{i}")
    engine.advance()
    for i, choice in enumerate(["yes", "yes", "yes", "no"]):
        engine.vote(f"dev{i}", before, "private-matter", choice)
    engine.finish()
    after = engine.start(screening.id, "attitude", phase="after", position=3)
    for i in range(4):
        engine.join(f"dev{i}")
    engine.advance()
    for i, choice in enumerate(["yes", "no", "no", "no"]):
        engine.vote(f"dev{i}", after, "private-matter", choice)
    engine.set_hands("private-matter", {"unsure": 4})
    engine.finish()
    summary = state(engine)["summary"]
    moved = {c["id"]: c for c in summary["before_after"]["questions"][0]["choices"]}
    assert moved["yes"]["before"] == 75 and moved["yes"]["after"] == 13
    assert moved["no"]["before"] == 25 and moved["no"]["after"] == 38
    assert moved["unsure"]["after"] == 50
    assert moved["no"]["change"] == 13
    assert {r.phase for r in GameRun.select()} == {"before", "after"}


def test_pledge_counter_counts_each_phone_once_plus_hands(screening):
    engine = GameMachine()
    run_id = engine.start(screening.id, "pledge")
    for i in range(5):
        engine.join(f"dev{i}")
    engine.advance()
    for i in range(5):
        engine.vote(f"dev{i}", run_id, "pledge", "pledge")
    engine.vote("dev0", run_id, "pledge", "pledge")
    engine.set_hands("pledge", {"pledge": 40})
    assert state(engine)["tally"]["counts"]["pledge"] == {"phones": 5, "hands": 40}
    engine.close()
    engine.advance()
    s = state(engine)
    assert s["state"] == "finished" and s["summary"]["pledges"] == 45 and s["summary"]["target"] == 100


def test_buzzer_first_ring_by_arrival_and_scores(screening):
    engine = GameMachine()
    run_id = engine.start(screening.id, "bell-buzzer")
    teams = ["red", "blue", "yellow"]
    for i in range(9):
        engine.join(f"dev{i}", team=teams[i % 3])
    engine.advance()
    barrier = threading.Barrier(9)
    answers = {}

    def ring(i):
        barrier.wait()
        with db.connection_context():
            answers[i] = engine.buzz(f"dev{i}", run_id, "q1")
    threads = [threading.Thread(target=ring, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    firsts = [a["team"] for a in answers.values() if a["first"]]
    queue = engine.live.team_queue("q1")
    rows = list(engine.live.rings["q1"])
    assert queue[0] == min(rows)[1], "the first team is the team of the lowest arrival number"
    assert set(firsts) == {queue[0]}
    assert sorted(queue) == sorted(teams)
    engine.judge(False)
    assert engine.live.turn("q1") == queue[1]
    engine.judge(True)
    assert engine.live.state == "question_closed"
    assert engine.live.scores == {queue[1]: 1}
    result = GameResult.get((GameResult.run == run_id) & (GameResult.question_id == "q1"))
    assert result.counts[queue[0]]["order"] == 1 and result.counts[queue[1]]["points"] == 1
    assert GameRun.get_by_id(run_id).scores == {queue[1]: 1}


def test_rejoin_token_restores_the_same_phone_and_team(screening):
    engine = GameMachine()
    engine.start(screening.id, "bell-buzzer")
    player, token = engine.join("dev-a", team="blue")
    assert token
    again, no_token = engine.join("dev-b", token=token)
    assert again.id == player.id and again.team == "blue" and no_token is None
    with pytest.raises(GameError):
        engine.join("dev-c", team="purple")


def test_only_one_live_game_a_new_start_finishes_the_old(screening):
    engine = GameMachine()
    first = engine.start(screening.id, "neighbour-dilemma")
    engine.advance()
    second = engine.start(screening.id, "pledge")
    assert GameRun.get_by_id(first).state == "finished"
    with pytest.raises(GameError) as wrong:
        engine.vote("dev0", first, "q1", "ring")
    assert wrong.value.code == "no_game"
    assert state(engine)["run"] == second


def test_a_burst_of_joins_and_votes_racing_a_close_loses_nothing(screening):
    """Joins and votes are group-committed: every acknowledged answer is in the database, in the
    live counts and in the closed question's result; a refused one is in none of them."""
    from vanapp.models import GamePlayer, GameVote
    engine = GameMachine()
    run_id = engine.start(screening.id, "bell-quiz")
    phones = 40
    barrier = threading.Barrier(phones)
    errors = []

    def join(i):
        barrier.wait()
        try:
            engine.join(f"dev{i}")
            engine.join(f"dev{i}")           # the same phone twice at once: still one player
        except Exception as exc:             # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=join, args=(i,)) for i in range(phones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(engine.live.players) == phones
    assert GamePlayer.select().where(GamePlayer.run == run_id).count() == phones

    engine.advance()
    barrier = threading.Barrier(phones + 1)
    acked, refused = {}, []

    def vote(i):
        choice = "abc"[i % 3]
        barrier.wait()
        try:
            engine.vote(f"dev{i}", run_id, "q1", choice)
            acked[f"dev{i}"] = choice
        except GameError as exc:
            refused.append(exc.code)
    threads = [threading.Thread(target=vote, args=(i,)) for i in range(phones)]
    for t in threads:
        t.start()
    barrier.wait()
    time.sleep(0.005)
    engine.close()                           # lands somewhere in the burst
    for t in threads:
        t.join(30)
    assert len(acked) + len(refused) == phones and set(refused) <= {"closed"}
    expected = {c: sum(1 for v in acked.values() if v == c) for c in "abc"}
    stored = {c: GameVote.select().where((GameVote.run == run_id) & (GameVote.choice == c)).count() for c in "abc"}
    assert stored == expected
    live = {c: n["phones"] for c, n in state(engine)["tally"]["counts"].items()}
    assert live == expected
    result = GameResult.get((GameResult.run == run_id) & (GameResult.question_id == "q1"))
    assert {c: n["phones"] for c, n in result.counts.items()} == expected
