"""The competition: each judge's score distribution (lowest, quartiles, median, highest of their totals) next to the
others', and where normalisation or dropping the extremes changes the order. Totals and quartiles are computed here
by hand from the scores the judges sent; the rankings are judging's own (its fairness view)."""

from __future__ import annotations

import csv
import io
import statistics

import pytest

from app.db_types import utcnow
from app.extensions import db
from judging import services
from tests.conftest import sign_in
from tests.judging.conftest import (  # noqa: F401  (fixtures)
    CRITERIA,
    _announcements_finish,
    judge_users,
    make_competition,
    organizer,
    score,
)

# Four teams; a harsh judge, a generous one who orders them the other way, a middle one, and a shadow judge.
SCORES = {  # judge index -> the value given on every criterion, per team
    0: [4, 3, 2.5, 2],
    1: [6, 7, 9, 10],
    2: [8, 7, 6, 5.5],
    3: [1, 10, 1, 10],  # shadow: drawn, never counted
}


@pytest.fixture
def scored_round(make_competition, organizer, judge_users, score):  # noqa: F811
    _, prelim, _, _ = make_competition(teams=4, judges=3, shadow=1)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    teams = services.teams_of(prelim.id)
    for index, user in enumerate(judge_users(prelim)):
        for team, value in zip(teams, SCORES[index], strict=True):
            score(prelim, user, team, value)
    return prelim


def by_hand_total(value: float) -> float:
    """The same value on every criterion: weight% x value / 10, summed."""
    return sum(c["weight"] * (value - c["min"]) / (c["max"] - c["min"]) for c in CRITERIA)


def five(values: list[float]) -> dict:
    ordered = sorted(values)
    q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return {"low": round(ordered[0], 2), "q1": round(q1, 2), "median": round(median, 2), "q3": round(q3, 2),
            "high": round(ordered[-1], 2)}


def test_each_judges_box_matches_their_totals_computed_by_hand(client, scored_round, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/rounds/{scored_round.id}/insights/judges").get_json()
    assert [j["name"] for j in data["judges"]] == ["评委1", "评委2", "评委3", "评委4"]
    assert [j["is_shadow"] for j in data["judges"]] == [False, False, False, True]
    for index, judge in enumerate(data["judges"]):
        assert judge["box"] == five([by_hand_total(v) for v in SCORES[index]])
        assert judge["teams_scored"] == 4
    counted = [by_hand_total(v) for index in (0, 1, 2) for v in SCORES[index]]
    assert data["panel"] == five(counted)  # the shadow judge's totals are not the panel's


def test_the_rankings_and_their_changes_are_the_fairness_views(client, scored_round, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/rounds/{scored_round.id}/insights/judges").get_json()
    fairness = client.get(f"/api/v1/rounds/{scored_round.id}/fairness").get_json()
    assert data["rankings"] == fairness["rankings"]
    assert data["changes"] == fairness["changes_against_current"]
    assert data["current"] == "plain"  # the round's own rule: neither normalised nor dropping extremes
    # The generous judge orders the teams the other way round from the others: on plain means their wide spread
    # decides; normalised per judge, it does not.
    plain = {r["team"]: r["rank"] for r in data["rankings"]["plain"]}
    normalized = {r["team"]: r["rank"] for r in data["rankings"]["normalized"]}
    assert plain != normalized and data["changes"]["normalized"]

    page = client.get(f"/judging/rounds/{scored_round.id}/insights").get_data(as_text=True)
    assert 'data-testid="judges-chart"' in page and 'data-testid="rank-moves"' in page
    assert 'data-testid="agreement-chart"' in page and 'data-testid="pairs-chart"' in page
    assert 'data-testid="rankings-chart"' in page and 'data-current="plain"' in page
    for change in data["changes"]["normalized"]:
        assert f"现在 {change['above']} 排在 {change['below']} 之前；按此规则则相反" in page


def test_the_downloads_hold_the_same_numbers(client, scored_round, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/rounds/{scored_round.id}/insights/judges").get_json()
    base = f"/judging/rounds/{scored_round.id}/insights"
    table = list(csv.reader(io.StringIO(client.get(base + "/judges.csv").get_data().decode("utf-8-sig"))))
    assert table[0][:8] == ["评委", "见习评委", "已评队伍", "最低", "下四分位", "中位数", "上四分位", "最高"]
    for row, judge in zip(table[1:], data["judges"], strict=True):
        box = judge["box"]
        assert row[0] == judge["name"]
        assert [float(v) for v in row[3:8]] == [box["low"], box["q1"], box["median"], box["q3"], box["high"]]
    table = list(csv.reader(io.StringIO(client.get(base + "/rankings.csv").get_data().decode("utf-8-sig"))))
    ranks = {r["team"]: r["rank"] for r in data["rankings"]["normalized"]}
    assert {row[0]: int(row[2]) for row in table[1:]} == ranks
    table = list(csv.reader(io.StringIO(client.get(base + "/agreement.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["评委", "另一位评委", "两人都评过的队伍数", "一致性（斯皮尔曼相关）"]
    names = {j["judge_id"]: j["name"] for j in data["judges"]}
    assert [[r[0], r[1], int(r[2]), float(r[3])] for r in table[1:]] == [
        [names[p["a"]], names[p["b"]], p["teams"], p["agreement"]] for p in data["pairs"]]
    import openpyxl
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(base + "/judges.xlsx").get_data()))
    assert workbook.sheetnames == ["评委", "评委一致性", "排名对比"]
    assert len(list(workbook["评委一致性"].iter_rows())) == len(data["pairs"]) + 1


def test_the_fairness_page_links_to_the_drawing(client, scored_round, organizer):  # noqa: F811
    sign_in(client, organizer)
    page = client.get(f"/judging/rounds/{scored_round.id}/fairness").get_data(as_text=True)
    assert f'href="/judging/rounds/{scored_round.id}/insights"' in page


@pytest.mark.parametrize("path", ["/api/v1/rounds/{id}/insights/judges", "/judging/rounds/{id}/insights",
                                  "/judging/rounds/{id}/insights/judges.csv",
                                  "/judging/rounds/{id}/insights/agreement.csv"])
def test_judges_and_residents_do_not_see_it(client, scored_round, judge_users, create_resident, path):  # noqa: F811
    for user in (judge_users(scored_round)[0], create_resident(name="路人")):
        sign_in(client, user)
        response = client.get(path.format(id=scored_round.id))
        assert response.status_code == 403
        assert "你没有权限进行此操作。" in (response.get_json()["error"]["message"] if response.is_json
                                   else response.get_data(as_text=True))


def test_a_round_without_scores_says_why_there_is_nothing_to_draw(client, make_competition, organizer):  # noqa: F811
    _, prelim, _, _ = make_competition(teams=2)
    sign_in(client, organizer)
    data = client.get(f"/api/v1/rounds/{prelim.id}/insights/judges").get_json()
    assert all(j["box"] is None for j in data["judges"]) and data["panel"] is None
    page = client.get(f"/judging/rounds/{prelim.id}/insights").get_data(as_text=True)
    assert "本轮还没有评委提交评分" in page and "insights.js" not in page
    assert data["pairs"] and all(p["agreement"] is None and p["teams"] == 0 for p in data["pairs"])
    assert 'data-testid="agreement-empty"' in page and "至少需要两位评委" in page
    assert 'data-testid="rankings-chart"' not in page


def test_the_judges_endpoint_is_in_the_openapi_document(client):
    assert "/api/v1/rounds/{round_id}/insights/judges" in client.get("/api/v1/openapi.json").get_json()["paths"]


def by_hand_spearman(a: list[float], b: list[float]) -> float:
    """Pearson correlation of the average ranks (ties share the mean of their places)."""
    def ranks(values):
        return [sum(1 for w in values if w < v) + (sum(1 for w in values if w == v) + 1) / 2 for v in values]

    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    return cov / (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5


def test_every_two_judges_agreement_is_spearmans_computed_by_hand(client, scored_round, organizer):  # noqa: F811
    sign_in(client, organizer)
    data = client.get(f"/api/v1/rounds/{scored_round.id}/insights/judges").get_json()
    ids = [j["judge_id"] for j in data["judges"]]
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [(ids[i], ids[k]) for i in range(4) for k in range(i + 1, 4)]
    for pair in data["pairs"]:
        a, b = SCORES[ids.index(pair["a"])], SCORES[ids.index(pair["b"])]
        assert pair["teams"] == 4
        assert pair["agreement"] == round(by_hand_spearman([by_hand_total(v) for v in a],
                                                           [by_hand_total(v) for v in b]), 3)
    agreement = {(p["a"], p["b"]): p["agreement"] for p in data["pairs"]}
    assert agreement[(ids[0], ids[2])] == 1.0 and agreement[(ids[0], ids[1])] == -1.0


def test_the_scorecards_are_read_once_per_request(app, client, scored_round, organizer):  # noqa: F811
    """The judges' numbers and the four rankings share one read of the scores (the fairness view ranked the round
    five times, reading every scorecard each time)."""
    import threading

    import sqlalchemy as sa

    from app.extensions import db as database

    sign_in(client, organizer)
    here = threading.get_ident()
    reads = []

    def count(conn, cursor, statement, parameters, context, executemany):
        # this request's thread only (the leaderboard's announcer reads the scores in its own, after a score)
        if threading.get_ident() == here and "scorecards" in statement and "scores.value" in statement:
            reads.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/api/v1/rounds/{scored_round.id}/insights/judges").status_code == 200
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count)
    assert len(reads) == 1, reads
