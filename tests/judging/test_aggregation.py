"""The aggregation rule, checked against hand-computed examples and, with hypothesis, against its invariants."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judging.aggregation import Card, CriterionSpec, Rules, aggregate, fairness, orderings_that_change, weighted_total

SINGLE = [CriterionSpec(1, 100, 0, 10)]
X, Y, Z = 10, 20, 30


def cards_single(table):
    """{judge: {team: score}} on the single 0..10 criterion (a total is 10 x the score)."""
    return [Card(j, t, {1: s}) for j, row in table.items() for t, s in row.items()]


# Judge 1 spreads widely, judges 2 and 3 barely, and in the other direction.
PANEL = {1: {X: 10, Y: 0, Z: 5}, 2: {X: 4, Y: 6, Z: 5}, 3: {X: 4.5, Y: 5.5, Z: 5}}


def scores(results):
    return {r.team_id: r.score for r in results}


def order(results):
    return [r.team_id for r in results]


def test_a_judges_total_is_the_weighted_sum_on_a_0_to_100_scale():
    criteria = [CriterionSpec(1, 30, 0, 10), CriterionSpec(2, 25, 0, 10), CriterionSpec(3, 25, 0, 10),
                CriterionSpec(4, 20, 1, 5)]
    # 30 x 0.8 + 25 x 0.5 + 25 x 1.0 + 20 x (4 - 1) / 4 = 24 + 12.5 + 25 + 15
    assert weighted_total(criteria, {1: 8, 2: 5, 3: 10, 4: 4}) == pytest.approx(76.5)


def test_the_weighted_mean_ranks_by_the_judges_average():
    results = aggregate(SINGLE, [X, Y, Z], cards_single(PANEL), rules=Rules())
    assert scores(results) == pytest.approx({X: 185 / 3, Y: 115 / 3, Z: 50})
    assert order(results) == [X, Z, Y] and [r.rank for r in results] == [1, 2, 3]


def test_dropping_the_highest_and_lowest_leaves_the_middle_judge():
    results = aggregate(SINGLE, [X, Y, Z], cards_single(PANEL), rules=Rules(drop_extremes=True))
    assert scores(results) == pytest.approx({X: 45, Y: 55, Z: 50})
    assert order(results) == [Y, Z, X]
    assert sorted(next(r for r in results if r.team_id == X).dropped_judge_ids) == [1, 2]


def test_dropping_needs_at_least_three_scores():
    table = {1: {X: 10}, 2: {X: 2}}
    assert scores(aggregate(SINGLE, [X], cards_single(table), rules=Rules(drop_extremes=True))) == {X: 60}


def test_normalising_stops_one_wide_judge_from_deciding_alone():
    results = aggregate(SINGLE, [X, Y, Z], cards_single(PANEL), rules=Rules(normalize=True))
    # z-scores per judge: judge 1 gives X +1.2247, Y -1.2247, Z 0; judges 2 and 3 the opposite. The panel's mean of
    # all nine totals is 50, its standard deviation sqrt(5250 / 9) = 24.152; X = 50 - 1.2247 / 3 x 24.152.
    assert scores(results) == pytest.approx({X: 40.1399, Y: 59.8601, Z: 50}, abs=1e-3)
    assert order(results) == [Y, Z, X]


def test_a_judge_who_gives_everyone_the_same_total_has_no_say_in_the_normalised_order():
    table = {1: {X: 7, Y: 7}, 2: {X: 3, Y: 8}}
    results = aggregate(SINGLE, [X, Y], cards_single(table), rules=Rules(normalize=True))
    assert order(results) == [Y, X]


def test_recused_judges_do_not_count():
    results = aggregate(SINGLE, [X, Y, Z], cards_single(PANEL), rules=Rules(), recusals={(1, X)})
    assert scores(results)[X] == pytest.approx(42.5)
    assert next(r for r in results if r.team_id == X).judges_counted == 2


def test_shadow_judges_never_count():
    with_shadow = aggregate(SINGLE, [X, Y, Z], cards_single(PANEL), rules=Rules(), shadow_judges={1})
    assert scores(with_shadow) == pytest.approx({X: 42.5, Y: 57.5, Z: 50})


def test_ties_are_broken_by_the_heaviest_criterion_then_shared():
    criteria = [CriterionSpec(1, 60, 0, 10, 0), CriterionSpec(2, 40, 0, 10, 1)]
    # X: 60 x 0.5 + 40 x 0.5 = 50; Y: 60 x 0 + 40 x 1.25?  no: Y scores A=2.5 B=8.75 -> 15 + 35 = 50
    cards = [Card(1, X, {1: 5, 2: 5}), Card(1, Y, {1: 2.5, 2: 8.75}), Card(1, Z, {1: 5, 2: 5})]
    results = aggregate(criteria, [Y, X, Z], cards, rules=Rules())
    assert [r.score for r in results] == pytest.approx([50, 50, 50])
    # X and Z are equal on every criterion too: they share rank 1; Y loses on the heaviest criterion.
    assert [(r.team_id, r.rank, r.tied) for r in results] == [(X, 1, True), (Z, 1, True), (Y, 3, False)]


def test_a_team_without_scores_is_unranked_and_last():
    results = aggregate(SINGLE, [X, Y], cards_single({1: {Y: 3}}), rules=Rules())
    assert [(r.team_id, r.rank, r.score) for r in results] == [(Y, 1, 30), (X, None, None)]


def test_fairness_shows_spread_and_agreement_with_the_panel():
    panel = PANEL | {4: {X: 3, Y: 7, Z: 5}}
    rows = {r.judge_id: r for r in fairness(SINGLE, cards_single(panel), judge_ids=[1, 2, 3, 4],
                                            shadow_judges=set(), recusals=set())}
    assert rows[1].mean == pytest.approx(50) and rows[1].spread == pytest.approx(40.8248, abs=1e-3)
    assert rows[1].agreement == pytest.approx(-1)  # judge 1 orders the teams exactly against the others
    # The others' view is their mean z-score: judge 1's wide spread does not outvote judges 3 and 4.
    assert rows[2].agreement == pytest.approx(1) and rows[3].agreement == pytest.approx(1)
    assert rows[2].mean_offset == pytest.approx(0)


def test_orderings_that_change_between_two_rules():
    plain = aggregate(SINGLE, [X, Y, Z], cards_single(PANEL), rules=Rules())
    normalised = aggregate(SINGLE, [X, Y, Z], cards_single(PANEL), rules=Rules(normalize=True))
    assert sorted(orderings_that_change(plain, normalised)) == sorted([(X, Y), (X, Z), (Z, Y)])


# ---- properties ---------------------------------------------------------------------------------------------------

half_points = st.integers(min_value=0, max_value=20).map(lambda n: n / 2)


@st.composite
def panels(draw, min_judges=1, max_judges=7, min_teams=1, max_teams=8):
    judges = draw(st.integers(min_judges, max_judges))
    teams = draw(st.integers(min_teams, max_teams))
    table = {j: {t: draw(half_points) for t in range(teams)} for j in range(1, judges + 1)}
    return table, list(range(teams))


rules_strategy = st.builds(Rules, drop_extremes=st.booleans(), normalize=st.booleans())


@settings(max_examples=200, deadline=None)
@given(panels(), rules_strategy)
def test_every_score_lies_within_its_teams_counted_values(panel, rules):
    table, teams = panel
    results = aggregate(SINGLE, teams, cards_single(table), rules=rules)
    if rules.normalize:
        return  # normalised values are on the panel's scale, checked below
    for result in results:
        values = [table[j][result.team_id] * 10 for j in table]
        assert min(values) - 1e-9 <= result.score <= max(values) + 1e-9
        assert 0 <= result.score <= 100


@settings(max_examples=200, deadline=None)
@given(panels(), rules_strategy, st.randoms(use_true_random=False))
def test_the_order_of_judges_and_their_ids_do_not_matter(panel, rules, rnd):
    table, teams = panel
    ids = list(table)
    shuffled = ids[:]
    rnd.shuffle(shuffled)
    relabelled = {new: table[old] for old, new in zip(ids, shuffled, strict=True)}
    a = aggregate(SINGLE, teams, cards_single(table), rules=rules)
    b = aggregate(SINGLE, teams, cards_single(relabelled), rules=rules)
    assert [(r.team_id, r.rank) for r in a] == [(r.team_id, r.rank) for r in b]
    assert scores(a) == pytest.approx(scores(b))


@settings(max_examples=200, deadline=None)
@given(panels(), panels(max_judges=3), rules_strategy)
def test_shadow_judges_change_nothing(panel, shadow_panel, rules):
    table, teams = panel
    shadow_table, _ = shadow_panel
    shadows = {100 + j: {t: row.get(t, 0) for t in teams} for j, row in shadow_table.items()}
    a = aggregate(SINGLE, teams, cards_single(table), rules=rules)
    b = aggregate(SINGLE, teams, cards_single(table | shadows), rules=rules, shadow_judges=set(shadows))
    assert [(r.team_id, r.rank) for r in a] == [(r.team_id, r.rank) for r in b]
    assert scores(a) == pytest.approx(scores(b))


@settings(max_examples=200, deadline=None)
@given(panels(min_judges=2, min_teams=2), st.integers(1, 3), st.integers(-5, 5), st.booleans())
def test_with_normalisation_a_harsh_or_generous_judge_cannot_move_the_order_by_their_level(panel, scale, shift,
                                                                                          drop):
    table, teams = panel
    judge = next(iter(table))
    transformed = dict(table)
    transformed[judge] = {t: s * scale + shift for t, s in table[judge].items()}
    rules = Rules(normalize=True, drop_extremes=drop)
    a = scores(aggregate(SINGLE, teams, cards_single(table), rules=rules))
    b = scores(aggregate(SINGLE, teams, cards_single(transformed), rules=rules))
    for i in teams:
        for k in teams:
            if a[i] - a[k] > 1e-6:
                assert b[i] - b[k] > -1e-6


@settings(max_examples=200, deadline=None)
@given(panels(), rules_strategy)
def test_ranks_are_one_based_ordered_and_shared_only_by_equals(panel, rules):
    table, teams = panel
    results = aggregate(SINGLE, teams, cards_single(table), rules=rules)
    ranks = [r.rank for r in results]
    assert ranks[0] == 1
    assert ranks == sorted(ranks)
    for index, result in enumerate(results):
        assert result.rank <= index + 1
        if index and result.rank == results[index - 1].rank:
            assert result.score == pytest.approx(results[index - 1].score, abs=1e-6)
