"""How a round's scores become a ranking: pure functions on plain data, so the rule is stated once, tested against
hand-computed examples and property tests, and shown to organizers as it is.

1. A judge's total for a team is the weighted sum of their criterion scores, each put on 0..1 of its scale:
   total = sum(weight% x (score - min) / (max - min)), so a total is always between 0 and 100.
2. Only counted judges count: shadow (trainee) judges and judges recused from the team never do.
3. Normalisation (optional, per round): each judge's totals become z-scores over the teams that judge scored,
   z = (total - judge's mean) / judge's standard deviation (population), then are put back on the panel's scale:
   panel mean + z x panel standard deviation (of all counted totals). A judge who gave every team the same total,
   or scored only one team, gives z = 0 (no opinion on the ordering). A harsh or a generous judge therefore moves
   no team by their level alone, only by their ordering.
4. Drop highest and lowest (optional, per round): with at least 3 counted totals for a team, one highest and one
   lowest are left out (one each, even when several are equal).
5. A team's score is the mean of what remains. A team with no counted score has no score and is ranked last.
6. Ties (equal scores to 6 decimals) are broken by the panel's mean of each criterion in order of weight, the
   heaviest first (criteria of equal weight in their listed order); teams still equal share the rank (1, 2, 2, 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PRECISION = 6  # decimals compared when deciding a tie


@dataclass(frozen=True)
class CriterionSpec:
    id: int
    weight: float  # percent
    min_score: float
    max_score: float
    position: int = 0


@dataclass(frozen=True)
class Card:
    """One judge's submitted scores of one team."""

    judge_id: int
    team_id: int
    scores: dict[int, float]  # criterion id -> value


@dataclass
class TeamResult:
    team_id: int
    score: float | None
    rank: int | None
    raw_mean: float | None  # the plain mean of counted raw totals (before normalisation and dropping)
    judges_counted: int
    dropped_judge_ids: list[int] = field(default_factory=list)
    criterion_means: dict[int, float] = field(default_factory=dict)
    tie_break: tuple = ()
    tied: bool = False  # shares its rank with another team


@dataclass(frozen=True)
class Rules:
    drop_extremes: bool = False
    normalize: bool = False


def weighted_total(criteria: list[CriterionSpec], scores: dict[int, float]) -> float:
    """The judge's total for one team, 0..100 (criteria missing from `scores` count as their minimum)."""
    total = 0.0
    for criterion in criteria:
        span = criterion.max_score - criterion.min_score
        value = scores.get(criterion.id, criterion.min_score)
        total += criterion.weight * (value - criterion.min_score) / span
    return total


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _pstdev(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = _mean(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def counted_cards(cards: list[Card], *, shadow_judges: set[int], recusals: set[tuple[int, int]]) -> list[Card]:
    """The cards that count: not of a shadow judge, not of a judge recused from that team."""
    return [c for c in cards if c.judge_id not in shadow_judges and (c.judge_id, c.team_id) not in recusals]


def judge_totals(criteria: list[CriterionSpec], cards: list[Card], rules: Rules) -> dict[tuple[int, int], float]:
    """(judge, team) -> the value that enters the team's mean: the raw total, or its normalised form."""
    raw = {(c.judge_id, c.team_id): weighted_total(criteria, c.scores) for c in cards}
    if not rules.normalize or not raw:
        return raw
    panel_mean = _mean(list(raw.values()))
    panel_sd = _pstdev(list(raw.values()))
    by_judge: dict[int, list[float]] = {}
    for (judge_id, _team), total in raw.items():
        by_judge.setdefault(judge_id, []).append(total)
    stats = {j: (_mean(v), _pstdev(v)) for j, v in by_judge.items()}
    normalised = {}
    for (judge_id, team_id), total in raw.items():
        mean, sd = stats[judge_id]
        z = (total - mean) / sd if sd > 1e-12 else 0.0
        normalised[(judge_id, team_id)] = panel_mean + z * panel_sd
    return normalised


def aggregate(criteria: list[CriterionSpec], team_ids: list[int], cards: list[Card], *, rules: Rules,
              shadow_judges: set[int] = frozenset(), recusals: set[tuple[int, int]] = frozenset()
              ) -> list[TeamResult]:
    """Rank `team_ids` from the cards (see the module's docstring for the rule). Returns results best first."""
    cards = counted_cards([c for c in cards if c.team_id in set(team_ids)], shadow_judges=set(shadow_judges),
                          recusals=set(recusals))
    values = judge_totals(criteria, cards, rules)
    raw = {(c.judge_id, c.team_id): weighted_total(criteria, c.scores) for c in cards}
    order = sorted(criteria, key=lambda c: (-c.weight, c.position, c.id))
    results = []
    for team_id in team_ids:
        entries = sorted(((v, j) for (j, t), v in values.items() if t == team_id), key=lambda e: (e[0], e[1]))
        team_cards = [c for c in cards if c.team_id == team_id]
        criterion_means = {
            cr.id: _mean([c.scores.get(cr.id, cr.min_score) for c in team_cards]) for cr in criteria
        } if team_cards else {}
        if not entries:
            results.append(TeamResult(team_id, None, None, None, 0, criterion_means=criterion_means))
            continue
        dropped = []
        kept = entries
        if rules.drop_extremes and len(entries) >= 3:
            dropped = [entries[0][1], entries[-1][1]]
            kept = entries[1:-1]
        score = _mean([v for v, _ in kept])
        raw_mean = _mean([raw[(j, team_id)] for _, j in entries])
        tie_break = tuple(round(criterion_means[cr.id], PRECISION) for cr in order)
        results.append(TeamResult(team_id, score, None, raw_mean, len(entries), dropped, criterion_means, tie_break))
    return rank(results)


def rank(results: list[TeamResult]) -> list[TeamResult]:
    """Sort best first and give ranks: equal score and equal tie-break share a rank (1, 2, 2, 4)."""

    def key(result: TeamResult):
        if result.score is None:
            return (1, 0.0, (), result.team_id)
        return (0, -round(result.score, PRECISION), tuple(-v for v in result.tie_break), result.team_id)

    ordered = sorted(results, key=key)
    previous = None
    for index, result in enumerate(ordered):
        if result.score is None:
            result.rank = None
            continue
        marker = (round(result.score, PRECISION), result.tie_break)
        if previous is not None and previous[0] == marker:
            result.rank = previous[1].rank
            result.tied = previous[1].tied = True
        else:
            result.rank = index + 1
        previous = (marker, result)
    return ordered


# ---- fairness ------------------------------------------------------------------------------------------------------

@dataclass
class JudgeFairness:
    judge_id: int
    teams_scored: int
    mean: float | None
    spread: float | None  # standard deviation of their totals
    agreement: float | None  # Spearman correlation of their ordering with the others' (mean z-score), -1..1
    mean_offset: float | None  # their mean minus the panel's mean on the same teams


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: list[float], b: list[float]) -> float | None:
    if len(a) < 2:
        return None
    ra, rb = _ranks(a), _ranks(b)
    sa_, sb = _pstdev(ra), _pstdev(rb)
    if sa_ < 1e-12 or sb < 1e-12:
        return None
    ma, mb = _mean(ra), _mean(rb)
    return math.fsum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True)) / (len(ra) * sa_ * sb)


def fairness(criteria: list[CriterionSpec], cards: list[Card], *, judge_ids: list[int], shadow_judges: set[int],
             recusals: set[tuple[int, int]]) -> list[JudgeFairness]:
    """Each judge's mean and spread, and how far they agree with the rest of the panel (shadow judges are
    compared with the counted panel too, which is how a trainee learns)."""
    counted = counted_cards(cards, shadow_judges=set(shadow_judges), recusals=set(recusals))
    raw = {(c.judge_id, c.team_id): weighted_total(criteria, c.scores) for c in cards
           if (c.judge_id, c.team_id) not in recusals}
    counted_keys = {(c.judge_id, c.team_id) for c in counted}
    # The panel's view of a team is the mean of the other judges' z-scores, so a judge with a wide spread does not
    # define "the panel" on their own.
    by_judge: dict[int, list[float]] = {}
    for (j, _t), v in raw.items():
        by_judge.setdefault(j, []).append(v)
    stats = {j: (_mean(v), _pstdev(v)) for j, v in by_judge.items()}
    z = {(j, t): ((v - stats[j][0]) / stats[j][1] if stats[j][1] > 1e-12 else 0.0) for (j, t), v in raw.items()}
    rows = []
    for judge_id in judge_ids:
        mine = {t: v for (j, t), v in raw.items() if j == judge_id}
        if not mine:
            rows.append(JudgeFairness(judge_id, 0, None, None, None, None))
            continue
        others_z, others_raw = {}, {}
        for team_id in mine:
            keys = [(j, t) for (j, t) in raw if t == team_id and j != judge_id and (j, t) in counted_keys]
            if keys:
                others_z[team_id] = _mean([z[k] for k in keys])
                others_raw[team_id] = _mean([raw[k] for k in keys])
        shared = sorted(others_z)
        agreement = spearman([mine[t] for t in shared], [others_z[t] for t in shared])
        offset = _mean([mine[t] - others_raw[t] for t in shared]) if shared else None
        values = list(mine.values())
        rows.append(JudgeFairness(judge_id, len(values), _mean(values), _pstdev(values), agreement, offset))
    return rows


def orderings_that_change(with_rules: list[TeamResult], without_rules: list[TeamResult]) -> list[tuple[int, int]]:
    """Pairs of teams (a, b) that one ranking puts a above b and the other b above a."""
    def positions(results):
        return {r.team_id: (r.rank if r.rank is not None else 10**9) for r in results}

    pa, pb = positions(with_rules), positions(without_rules)
    teams = sorted(pa)
    changed = []
    for i, a in enumerate(teams):
        for b in teams[i + 1:]:
            if (pa[a] - pa[b]) * (pb[a] - pb[b]) < 0:
                changed.append((a, b) if pa[a] < pa[b] else (b, a))
    return changed
