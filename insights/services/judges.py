"""The competition: each judge's score distribution next to the others' (a box per judge: lowest, quartiles,
median, highest of their totals, 0..100) and where normalisation or dropping the extremes changes the order.

Everything that is a rule is judging's: a total is `judging.aggregation.weighted_total`; who counts, each judge's
mean, spread and agreement, the rankings under each rule and the orderings they change come from
`judging.services.fairness_view` (which also checks that the reader organizes the competition, and reads the
scorecards once for everything here). This module only adds the quartiles of each judge's totals and the agreement of
every two judges (Spearman, judging's)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from judging import aggregation
from judging import services as judging

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
    """One read of the scorecards and one ranking per rule (judging's fairness view, with the judges' totals)."""
    view = judging.fairness_view(round_id, organizer, with_totals=True)  # 404 / 401 / 403 first
    round_ = judging.get_round(round_id)
    shadow = {row["judge_id"] for row in view["judges"] if row["is_shadow"]}
    by_judge: dict[int, dict[int, float]] = {}
    counted = []
    for (judge_id, team_id), total in view["totals"].items():
        by_judge.setdefault(judge_id, {})[team_id] = total
        if judge_id not in shadow:
            counted.append(total)
    judges = [{**row, "box": box_of(list(by_judge.get(row["judge_id"], {}).values()))} for row in view["judges"]]
    return {"round": view["round"], "rule": view["rule"], "judges": judges, "panel": box_of(counted),
            "pairs": pairwise_agreement([row["judge_id"] for row in view["judges"]], by_judge),
            "rankings": view["rankings"], "changes": view["changes_against_current"],
            "current": judging.current_variant(round_)}


def pairwise_agreement(judge_ids: list[int], by_judge: dict[int, dict[int, float]]) -> list[dict]:
    """For every two judges: the Spearman correlation of their totals over the teams both scored (-1..1; None with
    fewer than two shared teams or when one gave them all the same total), and how many teams that is."""
    pairs = []
    for index, a in enumerate(judge_ids):
        for b in judge_ids[index + 1:]:
            mine, theirs = by_judge.get(a, {}), by_judge.get(b, {})
            shared = sorted(set(mine) & set(theirs))
            rho = aggregation.spearman([mine[t] for t in shared], [theirs[t] for t in shared])
            pairs.append({"a": a, "b": b, "teams": len(shared), "agreement": None if rho is None else round(rho, 3)})
    return pairs


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
