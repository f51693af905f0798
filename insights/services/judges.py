"""The competition: each judge's score distribution next to the others' (a box per judge: lowest, quartiles,
median, highest of their totals, 0..100) and where normalisation or dropping the extremes changes the order.

Everything that is a rule is judging's: a total is `judging.aggregation.weighted_total`; who counts, each judge's
mean, spread and agreement, the rankings under each rule and the orderings they change come from
`judging.services.fairness_view` (which also checks that the reader organizes the competition). This module only
adds the quartiles of each judge's totals."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from judging import aggregation
from judging import services as judging
from judging.models import Score, Scorecard

VARIANTS = ("plain", "normalized", "drop_extremes", "both")


@dataclass(frozen=True)
class Box:
    low: float
    q1: float
    median: float
    q3: float
    high: float


def box_of(values: list[float]) -> Box | None:
    """Five numbers of a judge's totals; quartiles by linear interpolation between the closest ranks (as a
    spreadsheet's QUARTILE.INC). None without a total."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        q1 = median = q3 = ordered[0]
    else:
        q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return Box(*(round(v, 2) for v in (ordered[0], q1, median, q3, ordered[-1])))


def judge_scores(round_id: int, organizer) -> dict:
    view = judging.fairness_view(round_id, organizer)  # 404 / 401 / 403 first
    round_ = judging.get_round(round_id)
    recused = {(r.judge_id, r.round_team_id) for r in judging.recusals_of(round_id)}
    shadow = {j.id for j in judging.judges_of(round_id) if j.is_shadow}
    totals = _totals(round_)
    by_judge: dict[int, list[float]] = {}
    counted = []
    for (judge_id, team_id), total in totals.items():
        if (judge_id, team_id) in recused:
            continue
        by_judge.setdefault(judge_id, []).append(total)
        if judge_id not in shadow:
            counted.append(total)
    judges = [{**row, "box": box_of(by_judge.get(row["judge_id"], []))} for row in view["judges"]]
    return {"round": view["round"], "rule": view["rule"], "judges": judges, "panel": box_of(counted),
            "rankings": view["rankings"], "changes": view["changes_against_current"],
            "current": _current(round_)}


def _totals(round_) -> dict[tuple[int, int], float]:
    """(judge, team) -> the judge's total for the team, 0..100, from the submitted scorecards (one query)."""
    specs = [aggregation.CriterionSpec(c.id, c.weight, c.min_score, c.max_score, c.position) for c in round_.criteria]
    rows = db.session.execute(
        sa.select(Scorecard.judge_id, Scorecard.round_team_id, Score.criterion_id, Score.value)
        .join(Score, Score.scorecard_id == Scorecard.id).where(Scorecard.round_id == round_.id)).all()
    cards: dict[tuple[int, int], dict[int, float]] = {}
    for judge_id, team_id, criterion_id, value in rows:
        cards.setdefault((judge_id, team_id), {})[criterion_id] = value
    return {key: aggregation.weighted_total(specs, scores) for key, scores in cards.items()}


def _current(round_) -> str:
    """Which of the four rankings is the round's own rule."""
    return {(False, False): "plain", (True, False): "normalized", (False, True): "drop_extremes",
            (True, True): "both"}[(bool(round_.normalize), bool(round_.drop_extremes))]


def ranking_rows(numbers: dict) -> list[dict]:
    """One row per team: its rank under each rule (the round's own first in `current`), and whether any differs."""
    teams: dict[str, dict] = {}
    for variant in VARIANTS:
        for entry in numbers["rankings"][variant]:
            teams.setdefault(entry["team"], {})[variant] = entry
    rows = []
    for team, by_variant in teams.items():
        ranks = {v: by_variant[v]["rank"] for v in VARIANTS if v in by_variant}
        rows.append({"team": team, "ranks": ranks,
                     "scores": {v: by_variant[v]["score"] for v in VARIANTS if v in by_variant},
                     "moves": len(set(ranks.values())) > 1})
    current = numbers["current"]
    return sorted(rows, key=lambda r: (r["ranks"].get(current) is None, r["ranks"].get(current) or 0, r["team"]))
