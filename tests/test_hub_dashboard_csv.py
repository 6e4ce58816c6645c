"""The hub's CSV exports: parsed back with csv, they carry the dashboard's numbers under its
filters, open in Excel with Hindi intact (UTF-8 BOM), and never hand Excel a formula."""
import csv
import io
from collections import Counter

import pytest

from vanapp.hub.exports import safe_cell

from .test_hub_dashboard_scenario import EXPECTED, INJECTION, coordinator, hub_app  # noqa: F401


def _csv(client, name, **args):
    response = client.get(f"/export/{name}.csv", query_string=args)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{name}.csv"')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark, for Excel"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_screenings_csv_lists_every_screening_with_its_share_of_the_totals(coordinator, hub_app):
    rows = _csv(coordinator, "screenings")
    ids = {v: k for k, v in hub_app.ids.items()}
    assert sorted(ids[r["screening_id"]] for r in rows) == [f"S{n}" for n in range(1, 9)]
    held = [r for r in rows if r["held"] == "yes"]
    assert len(held) == EXPECTED["screenings"]["held"]
    for name in ("men", "women", "boys", "girls", "other", "people"):
        key = "total" if name == "people" else name
        assert sum(int(r[name]) for r in held) == EXPECTED["people"][key], name
    assert sum(int(r["pledges"]) for r in held) == EXPECTED["pledges"]["total"]
    by_id = {ids[r["screening_id"]]: r for r in rows}
    assert by_id["S2"]["status"] == "cancelled" and by_id["S2"]["status_reason"] == "rain"
    assert by_id["S3"]["date"] == "2026-12-06"                     # after its reschedule
    assert by_id["S5"]["village"] == "नगराम" and by_id["S5"]["source"] == "qr_summary"
    assert by_id["S5"]["village_en"] == "'" + INJECTION             # a formula arrives as text
    assert by_id["S1"]["received_at_utc"] == "2027-01-30T09:00:00.000000Z"


def test_attendance_csv_adds_up_to_the_dashboard_and_keeps_corrections(coordinator, hub_app):
    rows = _csv(coordinator, "attendance")
    totals = Counter()
    for r in rows:
        totals[r["category"]] += int(r["count"])
    people = EXPECTED["people"]
    assert totals == Counter({"men": people["men"], "women": people["women"], "boys": people["boys"],
                              "girls": people["girls"], "elders": people["other"]})
    s1_men = [r for r in rows if r["screening_id"] == hub_app.ids["S1"] and r["category"] == "men"]
    assert [(r["count"], r["taps"], r["corrections"], r["source"]) for r in s1_men] == [("8", "10", "2", "synced")]
    assert hub_app.ids["S2"] not in {r["screening_id"] for r in rows}          # cancelled
    qr = [r for r in rows if r["screening_id"] == hub_app.ids["S5"]]
    assert {r["source"] for r in qr} == {"qr_summary"} and sum(int(r["count"]) for r in qr) == 19


def test_exports_apply_the_filters(coordinator, hub_app):
    rows = _csv(coordinator, "attendance", district="Lucknow")
    assert {r["district"] for r in rows} == {"Lucknow"}
    assert sum(int(r["count"]) for r in rows) == 36
    rows = _csv(coordinator, "screenings", **{"from": "2026-12-01", "to": "2027-01-19"})
    assert sorted(r["date"] for r in rows) == ["2026-12-06", "2027-01-18", "2027-01-19"]
    rows = _csv(coordinator, "game_results", van="van-05")
    assert {r["van"] for r in rows} == {"van-05"}
    assert coordinator.get("/export/screenings.csv?to=never").status_code == 400
    assert coordinator.get("/export/passwords.csv").status_code == 404


def test_game_results_csv_has_each_choice_and_the_pledges(coordinator, hub_app):
    rows = _csv(coordinator, "game_results")
    pledges = [r for r in rows if r["kind"] == "pledge"]
    assert sum(int(r["total"]) for r in pledges) == EXPECTED["pledges"]["total"]
    assert {r["source"] for r in pledges} == {"synced", "qr_summary"}
    q1 = [r for r in rows if r["game"] == "bell-quiz" and r["question"] == "q1"]
    assert sum(int(r["total"]) for r in q1) == 14
    s1_c = [r for r in q1 if r["choice"] == "c" and r["screening_id"] == hub_app.ids["S1"]]
    assert [(r["phones"], r["hands"], r["total"], r["is_correct"]) for r in s1_c] == [("4", "3", "7", "yes")]
    assert hub_app.ids["S2"] not in {r["screening_id"] for r in rows}
    before = [r for r in rows if r["game"] == "attitude" and r["phase"] == "before"]
    assert sum(int(r["total"]) for r in before) == 29      # S1 10, S3 9, S4 10 (S3 has no "after")
    qr_pledge = [r for r in pledges if r["source"] == "qr_summary"]
    assert [r["village_en"] for r in qr_pledge] == ["'" + INJECTION]


def test_game_results_csv_says_each_question_and_choice_in_both_languages(coordinator, hub_app):
    """Beside the ids (q1, c): the game's title, the question and the choice as the audience saw
    them, in Hindi and in English, read from the game content the van sent."""
    from vanapp.hub.game_texts import game_texts
    texts = game_texts()
    rows = _csv(coordinator, "game_results")
    quiz = [r for r in rows if r["game"] == "bell-quiz" and r["question"] == "q1" and r["choice"] == "c"]
    assert quiz, "no bell-quiz q1/c line"
    want = texts["bell-quiz"]
    for r in quiz:
        assert (r["game_title_hi"], r["game_title_en"]) == want["title"] and r["game_title_hi"]
        assert (r["question_hi"], r["question_en"]) == want["questions"]["q1"] and r["question_en"]
        assert (r["choice_hi"], r["choice_en"]) == want["choices"]["q1"]["c"] and r["choice_hi"]
    for r in rows:
        if r["kind"] in ("quiz", "poll"):
            assert r["question_hi"] and r["question_en"] and r["choice_hi"] and r["choice_en"], r


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+91 98765", "'+91 98765"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=x", "'\t=x"), ("रामपुर", "रामपुर"), ("a=b", "a=b"), (-1, -1), (7, 7), (None, ""),
])
def test_a_text_cell_that_starts_like_a_formula_is_quoted(value, cell):
    assert safe_cell(value) == cell
