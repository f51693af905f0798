"""The matching engine: fit scores, the optimal assignment, a greedy baseline and the stable (deferred acceptance)
mode. Pure Python + NumPy + OR-Tools; no Flask, no database, so services, the benchmark and tests call the same code.

A founder and a mentor have a fit score: an integer of points (docs/matching.md explains it). The optimal matching
maximises the sum of fit scores over the chosen pairs, under

- each mentor's capacity (how many founders they take this cycle),
- at most `per_founder` mentors for each founder (1 by default),
- forbidden pairs (conflicts of interest, and mentors a founder asked to avoid) never chosen,
- pinned pairs always chosen (a clear `MatchingError` when pins cannot all hold).

It is solved exactly as a min-cost flow (source -> founder -> mentor -> sink, with a zero-cost founder -> sink arc so
that a founder may stay unmatched) by OR-Tools' network simplex in C++: a 2,000 x 300 cycle takes well under a second.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

Id = Hashable
INELIGIBLE = -1  # in a score matrix: this pair may not be matched (and is never proposed)


# ---- the inputs --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Founder:
    """A founder's request. `needs` are ranked, the most important first; `weight` is the priority-group weight
    (1.0 for everyone; e.g. 1.5 for competition finalists); `prefer` / `avoid` are mentor ids."""

    id: Id
    needs: tuple[str, ...] = ()
    industry: str = ""
    stage: str = ""
    languages: frozenset[str] = frozenset()
    prefer: frozenset = frozenset()
    avoid: frozenset = frozenset()
    weight: float = 1.0


@dataclass(frozen=True)
class Mentor:
    """A mentor's profile for one cycle. `ranking` (optional, stable mode only): founder ids this mentor ranked,
    best first; founders not in it come after, by fit."""

    id: Id
    expertise: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    capacity: int = 1
    ranking: tuple = ()


@dataclass(frozen=True)
class Weights:
    """Points of each part of the fit score (before the priority weight multiplies the sum)."""

    expertise: int = 60  # times the share of the founder's needs (weighted by rank) that the mentor covers
    industry: int = 15
    stage: int = 10
    preferred: int = 15


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Fit:
    """A pair's score and why: `needs` the founder's needs this mentor covers (in the founder's order)."""

    score: int
    needs: tuple[str, ...]
    coverage: float
    industry: bool
    stage: bool
    preferred: bool
    weight: float

    def reasons(self) -> dict:
        return {"needs": list(self.needs), "coverage": round(self.coverage, 3), "industry": self.industry,
                "stage": self.stage, "preferred": self.preferred, "priority_weight": self.weight}


class MatchingError(Exception):
    """Input that cannot be matched as asked. `code` is stable; `details` says which ids are at fault."""

    def __init__(self, code: str, message: str, **details) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details


@dataclass
class Matching:
    """The result: chosen pairs (founder id, mentor id) with their scores, in founder then score order."""

    pairs: list[tuple[Id, Id]]
    scores: dict[tuple[Id, Id], int]
    pinned: set[tuple[Id, Id]] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.scores[pair] for pair in self.pairs)

    def mentors_of(self, founder_id: Id) -> list[Id]:
        return [m for f, m in self.pairs if f == founder_id]

    def founders_of(self, mentor_id: Id) -> list[Id]:
        return [f for f, m in self.pairs if m == mentor_id]


# ---- the fit score -------------------------------------------------------------------------------------------------

def need_weights(count: int) -> list[int]:
    """Rank weights of `count` ranked needs: the first counts `count`, the last 1 (their sum is count(count+1)/2)."""
    return list(range(count, 0, -1))


def languages_compatible(founder: Founder, mentor: Mentor) -> bool:
    """They can talk: either side left languages empty, or they share one."""
    return not founder.languages or not mentor.languages or bool(founder.languages & mentor.languages)


def fit(founder: Founder, mentor: Mentor, weights: Weights = DEFAULT_WEIGHTS) -> Fit | None:
    """The fit of one pair, with its reasons; None when the pair is not eligible (the founder avoids this mentor,
    they share no language, or nothing fits: score 0). The reference for `score_matrix`."""
    if mentor.id in founder.avoid or not languages_compatible(founder, mentor):
        return None
    rank_weights = need_weights(len(founder.needs))
    covered = tuple(n for n in founder.needs if n in mentor.expertise)
    numerator = sum(w for n, w in zip(founder.needs, rank_weights, strict=True) if n in mentor.expertise)
    denominator = sum(rank_weights) or 1
    industry = bool(founder.industry) and founder.industry in mentor.industries
    stage = bool(founder.stage) and founder.stage in mentor.stages
    preferred = mentor.id in founder.prefer
    raw = weights.expertise * numerator / denominator + weights.industry * industry + weights.stage * stage \
        + weights.preferred * preferred
    score = int(round(raw * founder.weight))
    if score <= 0:
        return None
    return Fit(score=score, needs=covered, coverage=numerator / denominator, industry=industry, stage=stage,
               preferred=preferred, weight=founder.weight)


def score_matrix(founders: Sequence[Founder], mentors: Sequence[Mentor],
                 weights: Weights = DEFAULT_WEIGHTS) -> np.ndarray:
    """Fit scores of every pair at once (founders x mentors, int64; INELIGIBLE where `fit` would say None), computed
    with the same arithmetic as `fit` so both always agree (tests check it)."""
    n_f, n_m = len(founders), len(mentors)
    if n_f == 0 or n_m == 0:
        return np.zeros((n_f, n_m), dtype=np.int64)
    mentor_index = {m.id: j for j, m in enumerate(mentors)}

    tags = _vocabulary(t for f in founders for t in f.needs)
    need_rank = np.zeros((n_f, len(tags)), dtype=np.int64)  # rank weight of each need
    denominator = np.ones(n_f, dtype=np.int64)
    for i, f in enumerate(founders):
        for need, w in zip(f.needs, need_weights(len(f.needs)), strict=True):
            need_rank[i, tags[need]] += w  # a repeated need counts twice, as in `fit`
        denominator[i] = sum(need_weights(len(f.needs))) or 1
    expertise = _membership(mentors, lambda m: m.expertise, tags)
    numerator = need_rank @ expertise.T  # integer: exact

    industries = _vocabulary(f.industry for f in founders if f.industry)
    industry = _one_hot(founders, lambda f: f.industry, industries) @ _membership(
        mentors, lambda m: m.industries, industries).T
    stages = _vocabulary(f.stage for f in founders if f.stage)
    stage = _one_hot(founders, lambda f: f.stage, stages) @ _membership(mentors, lambda m: m.stages, stages).T

    preferred = np.zeros((n_f, n_m), dtype=np.int64)
    eligible = np.ones((n_f, n_m), dtype=bool)
    for i, f in enumerate(founders):
        for mentor_id in f.prefer:
            if mentor_id in mentor_index:
                preferred[i, mentor_index[mentor_id]] = 1
        for mentor_id in f.avoid:
            if mentor_id in mentor_index:
                eligible[i, mentor_index[mentor_id]] = False

    languages = _vocabulary(lang for x in (*founders, *mentors) for lang in x.languages)
    f_lang = _membership(founders, lambda f: f.languages, languages)
    m_lang = _membership(mentors, lambda m: m.languages, languages)
    talk = (f_lang @ m_lang.T > 0) | (f_lang.sum(axis=1) == 0)[:, None] | (m_lang.sum(axis=1) == 0)[None, :]
    eligible &= talk

    raw = weights.expertise * numerator / denominator[:, None] + weights.industry * industry \
        + weights.stage * stage + weights.preferred * preferred
    priority = np.array([f.weight for f in founders], dtype=np.float64)
    scores = np.rint(raw * priority[:, None]).astype(np.int64)
    scores[~eligible | (scores <= 0)] = INELIGIBLE
    return scores


def _vocabulary(values: Iterable[str]) -> dict[str, int]:
    return {v: i for i, v in enumerate(dict.fromkeys(values))}


def _membership(items, get, vocabulary: dict[str, int]) -> np.ndarray:
    matrix = np.zeros((len(items), len(vocabulary)), dtype=np.int64)
    for i, item in enumerate(items):
        for value in get(item):
            if value in vocabulary:
                matrix[i, vocabulary[value]] = 1
    return matrix


def _one_hot(items, get, vocabulary: dict[str, int]) -> np.ndarray:
    return _membership(items, lambda item: (get(item),) if get(item) else (), vocabulary)


# ---- checking the input ------------------------------------------------------------------------------------------

@dataclass
class _Prepared:
    founders: Sequence[Founder]
    mentors: Sequence[Mentor]
    scores: np.ndarray  # INELIGIBLE where the pair may not be chosen by the solver (forbidden, pinned, unfit)
    pinned: list[tuple[int, int]]  # (founder index, mentor index)
    pinned_scores: dict[tuple[int, int], int]
    founder_room: np.ndarray  # how many more mentors each founder may get, after pins
    mentor_room: np.ndarray  # how many more founders each mentor may take, after pins


def _prepare(founders: Sequence[Founder], mentors: Sequence[Mentor], *, per_founder: int, pins: Iterable,
             forbidden: Iterable, weights: Weights, scores: np.ndarray | None) -> _Prepared:
    if per_founder < 1:
        raise MatchingError("invalid_per_founder", "Each founder must be allowed at least one mentor.")
    f_index = _index(founders, "founder")
    m_index = _index(mentors, "mentor")
    bad_capacity = [m.id for m in mentors if m.capacity < 0]
    if bad_capacity:
        raise MatchingError("invalid_capacity", "A mentor's capacity cannot be negative.", mentor_ids=bad_capacity)
    if scores is None:
        scores = score_matrix(founders, mentors, weights)
    scores = scores.copy()

    forbidden_idx = set()
    for f_id, m_id in forbidden:
        if f_id in f_index and m_id in m_index:  # a conflict with someone not in this cycle changes nothing
            forbidden_idx.add((f_index[f_id], m_index[m_id]))
    pinned = []
    unknown = [(f, m) for f, m in pins if f not in f_index or m not in m_index]
    if unknown:
        raise MatchingError("pin_unknown", "A pinned founder or mentor is not in this cycle.", pairs=unknown)
    for f_id, m_id in dict.fromkeys(pins):
        pinned.append((f_index[f_id], m_index[m_id]))
    conflicts = [(founders[i].id, mentors[j].id) for i, j in pinned if (i, j) in forbidden_idx]
    if conflicts:
        raise MatchingError("pin_forbidden", "A pair is both pinned and forbidden.", pairs=conflicts)

    founder_room = np.full(len(founders), per_founder, dtype=np.int64)
    mentor_room = np.array([m.capacity for m in mentors], dtype=np.int64)
    for i, j in pinned:
        founder_room[i] -= 1
        mentor_room[j] -= 1
    over_mentors = [mentors[j].id for j in np.nonzero(mentor_room < 0)[0]]
    if over_mentors:
        raise MatchingError("pins_over_capacity", "More pins than a mentor's capacity.", mentor_ids=over_mentors)
    over_founders = [founders[i].id for i in np.nonzero(founder_room < 0)[0]]
    if over_founders:
        raise MatchingError("pins_over_founder_limit", "More pinned mentors than a founder may have.",
                            founder_ids=over_founders)

    # A pinned pair keeps its score (0 if it would not be eligible: the organizers decided it anyway).
    pinned_scores = {(i, j): max(0, int(scores[i, j])) for i, j in pinned}
    for i, j in (*forbidden_idx, *pinned):
        scores[i, j] = INELIGIBLE
    return _Prepared(founders, mentors, scores, pinned, pinned_scores, founder_room, mentor_room)


def _index(items: Sequence, kind: str) -> dict:
    index = {item.id: i for i, item in enumerate(items)}
    if len(index) != len(items):
        raise MatchingError(f"duplicate_{kind}", f"A {kind} appears twice in the cycle.")
    return index


def _result(prepared: _Prepared, chosen: Iterable[tuple[int, int]]) -> Matching:
    founders, mentors = prepared.founders, prepared.mentors
    scores = {(founders[i].id, mentors[j].id): s for (i, j), s in prepared.pinned_scores.items()}
    pinned = set(scores)
    for i, j in chosen:
        scores[(founders[i].id, mentors[j].id)] = int(prepared.scores[i, j])
    f_order = {f.id: i for i, f in enumerate(founders)}
    pairs = sorted(scores, key=lambda pair: (f_order[pair[0]], -scores[pair]))
    return Matching(pairs=pairs, scores=scores, pinned=pinned)


# ---- the three ways to match -----------------------------------------------------------------------------------------

def match_optimal(founders: Sequence[Founder], mentors: Sequence[Mentor], *, per_founder: int = 1,
                  pins: Iterable = (), forbidden: Iterable = (), weights: Weights = DEFAULT_WEIGHTS,
                  scores: np.ndarray | None = None) -> Matching:
    """The matching with the highest total fit under capacities, the per-founder limit, pins and forbidden pairs
    (a min-cost flow solved exactly by OR-Tools). `scores` may be passed when already computed."""
    from ortools.graph.python import min_cost_flow  # start-up cost: a native library, only for optimal matching

    p = _prepare(founders, mentors, per_founder=per_founder, pins=pins, forbidden=forbidden, weights=weights,
                 scores=scores)
    n_f, n_m = len(founders), len(mentors)
    f_idx, m_idx = np.nonzero(p.scores > 0)
    f_idx, m_idx = f_idx[p.founder_room[f_idx] > 0], m_idx[p.founder_room[f_idx] > 0]
    if len(f_idx) == 0:
        return _result(p, [])
    source, sink = n_f + n_m, n_f + n_m + 1
    founders_nodes, mentor_nodes = np.arange(n_f), n_f + np.arange(n_m)
    tails = np.concatenate([np.full(n_f, source), f_idx, mentor_nodes, founders_nodes])
    heads = np.concatenate([founders_nodes, n_f + m_idx, np.full(n_m, sink), np.full(n_f, sink)])
    capacities = np.concatenate([p.founder_room, np.ones(len(f_idx), dtype=np.int64), p.mentor_room,
                                 p.founder_room])  # the last: a founder may stay unmatched, at no cost
    costs = np.concatenate([np.zeros(n_f, dtype=np.int64), -p.scores[f_idx, m_idx], np.zeros(n_m, dtype=np.int64),
                            np.zeros(n_f, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    supply = int(p.founder_room.sum())
    flow.set_nodes_supplies(np.array([source, sink]), np.array([supply, -supply]))
    status = flow.solve()
    if status != flow.OPTIMAL:  # cannot happen: the bypass arcs make every instance feasible
        raise MatchingError("solver_failed", f"The solver stopped with status {status}.")
    used = flow.flows(arcs[n_f:n_f + len(f_idx)]) > 0
    return _result(p, zip(f_idx[used].tolist(), m_idx[used].tolist(), strict=True))


def match_greedy(founders: Sequence[Founder], mentors: Sequence[Mentor], *, per_founder: int = 1,
                 pins: Iterable = (), forbidden: Iterable = (), weights: Weights = DEFAULT_WEIGHTS,
                 scores: np.ndarray | None = None) -> Matching:
    """The baseline: pins first, then the best remaining pair while capacities allow. Fast, not optimal."""
    p = _prepare(founders, mentors, per_founder=per_founder, pins=pins, forbidden=forbidden, weights=weights,
                 scores=scores)
    f_idx, m_idx = np.nonzero(p.scores > 0)
    order = np.lexsort((m_idx, f_idx, -p.scores[f_idx, m_idx]))  # best first; ties by founder, then mentor
    founder_room, mentor_room = p.founder_room.copy(), p.mentor_room.copy()
    chosen = []
    for i, j in zip(f_idx[order].tolist(), m_idx[order].tolist(), strict=True):
        if founder_room[i] > 0 and mentor_room[j] > 0:
            founder_room[i] -= 1
            mentor_room[j] -= 1
            chosen.append((i, j))
    return _result(p, chosen)


def match_stable(founders: Sequence[Founder], mentors: Sequence[Mentor], *, per_founder: int = 1,
                 pins: Iterable = (), forbidden: Iterable = (), weights: Weights = DEFAULT_WEIGHTS,
                 scores: np.ndarray | None = None) -> Matching:
    """Deferred acceptance, founders proposing: no founder and mentor both prefer each other to what they got.

    Founders rank eligible mentors by fit (which includes their own needs and "prefer" list); mentors rank founders
    by their own `ranking` first, then by fit (which includes the priority weight). Pins are placed first and take
    their room; forbidden and unfit pairs are never proposed."""
    p = _prepare(founders, mentors, per_founder=per_founder, pins=pins, forbidden=forbidden, weights=weights,
                 scores=scores)
    founder_prefs = founder_preferences(p.scores)
    mentor_rank = mentor_ranks(p.founders, p.mentors, p.scores)
    next_choice = [0] * len(founders)
    held: list[list[tuple[int, int]]] = [[] for _ in mentors]  # per mentor: heap of (-rank, founder): worst on top
    holding = [0] * len(founders)  # how many mentors currently hold each founder
    free = [i for i in range(len(founders)) if p.founder_room[i] > 0]
    while free:
        i = free.pop()
        while holding[i] < p.founder_room[i] and next_choice[i] < len(founder_prefs[i]):
            j = founder_prefs[i][next_choice[i]]
            next_choice[i] += 1
            if p.mentor_room[j] <= 0:
                continue
            rank = mentor_rank[j][i]
            heap = held[j]
            if len(heap) < p.mentor_room[j]:
                heapq.heappush(heap, (-rank, i))
                holding[i] += 1
            elif -heap[0][0] > rank:  # the mentor likes this founder better than the worst one held
                _, dropped = heapq.heapreplace(heap, (-rank, i))
                holding[i] += 1
                holding[dropped] -= 1
                free.append(dropped)
    chosen = [(i, j) for j, heap in enumerate(held) for _, i in heap]
    return _result(p, chosen)


def founder_preferences(scores: np.ndarray) -> list[list[int]]:
    """Each founder's eligible mentors, best fit first (ties: lower index first)."""
    prefs = []
    for row in scores:
        eligible = np.nonzero(row > 0)[0]
        prefs.append(eligible[np.lexsort((eligible, -row[eligible]))].tolist())
    return prefs


def mentor_ranks(founders: Sequence[Founder], mentors: Sequence[Mentor], scores: np.ndarray) -> list[dict[int, int]]:
    """For each mentor, founder index -> rank (0 best): their own `ranking` first, then by fit, then by index."""
    f_index = {f.id: i for i, f in enumerate(founders)}
    ranks = []
    for j, mentor in enumerate(mentors):
        column = scores[:, j]
        eligible = np.nonzero(column > 0)[0]
        by_fit = eligible[np.lexsort((eligible, -column[eligible]))].tolist()
        explicit = [f_index[f] for f in mentor.ranking if f in f_index]
        order = list(dict.fromkeys([*explicit, *by_fit]))
        ranks.append({i: r for r, i in enumerate(order)})
    return ranks


MODES = {"optimal": match_optimal, "stable": match_stable, "greedy": match_greedy}


def match(mode: str, founders: Sequence[Founder], mentors: Sequence[Mentor], **options) -> Matching:
    """Match in `mode` ("optimal", "stable" or "greedy")."""
    if mode not in MODES:
        raise MatchingError("invalid_mode", "Choose optimal, stable or greedy.")
    return MODES[mode](founders, mentors, **options)


# ---- 1:1 meetings on a roadshow day --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Meeting:
    investor: Id
    founder: Id
    slot: int  # index of the time slot
    table: int  # index of the table or room
    score: int


def _can(available: dict, person, slot: int) -> bool:
    return person not in available or slot in available[person]


def _pair_order(pair) -> tuple[str, str]:
    return str(pair[0]), str(pair[1])


def _clean_wishes(wanted: dict) -> dict:
    """The wished pairs worth planning, in one fixed order (the solver's answer depends on the model's order)."""
    return {pair: wanted[pair] for pair in sorted(wanted, key=_pair_order) if wanted[pair] > 0 and pair[0] != pair[1]}


def feasible_upper_bound(wanted: dict[tuple[Id, Id], int], *, slots: int, tables: int,
                         available: dict[Id, set[int]] | None = None) -> int:
    """No schedule can hold more meetings than this: the wished pairs that share a slot, the tables times the slots,
    and, for each side, the sum over its people of min(their possible meetings, their usable slots)."""
    available = available or {}
    pairs = [p for p in _clean_wishes(wanted)
             if any(_can(available, p[0], s) and _can(available, p[1], s) for s in range(slots))]
    bounds = [len(pairs), max(0, tables) * slots]
    for side in (0, 1):
        per_person: dict = {}
        for pair in pairs:
            per_person[pair[side]] = per_person.get(pair[side], 0) + 1
        bounds.append(sum(min(n, sum(1 for s in range(slots) if _can(available, person, s)))
                          for person, n in per_person.items()))
    return min(bounds)


def _rounded_relaxation(keys: list[tuple], worth: dict[tuple, int], *, tables: int) -> set[tuple]:
    """A good first schedule for the solver: the linear relaxation of the same model (GLOP), then its (pair, slot)
    choices taken in order of their value in it (the heavier first among equals) while they still fit."""
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    values = {key: lp.NumVar(0, 1, "") for key in keys}
    for group, members in _groups(values).items():
        lp.Add(lp.Sum(members) <= (tables if group[0] == "slot" else 1))
    lp.Maximize(lp.Sum([var * worth[key] for key, var in values.items()]))
    lp.Solve()
    order = sorted(keys, key=lambda key: (-round(values[key].solution_value(), 6), -worth[key], _pair_order(key[0]),
                                          key[1]))
    taken, busy, used = set(), set(), {}
    placed = set()
    for pair, slot in order:
        if pair in placed or (pair[0], slot, 0) in busy or (pair[1], slot, 1) in busy or used.get(slot, 0) >= tables:
            continue
        placed.add(pair)
        busy.update({(pair[0], slot, 0), (pair[1], slot, 1)})
        used[slot] = used.get(slot, 0) + 1
        taken.add((pair, slot))
    return taken


def relaxation_bound(wanted: dict[tuple[Id, Id], int], *, slots: int, tables: int,
                     available: dict[Id, set[int]] | None = None) -> int:
    """A tighter ceiling than feasible_upper_bound: the linear relaxation of the planner's model, counting
    meetings only (GLOP), rounded down. No schedule places more."""
    from ortools.linear_solver import pywraplp

    available = available or {}
    keys = [(pair, slot) for pair in _clean_wishes(wanted) for slot in range(slots)
            if _can(available, pair[0], slot) and _can(available, pair[1], slot)]
    if not keys or tables <= 0:
        return 0
    lp = pywraplp.Solver.CreateSolver("GLOP")
    values = {key: lp.NumVar(0, 1, "") for key in keys}
    for group, members in _groups(values).items():
        lp.Add(lp.Sum(members) <= (tables if group[0] == "slot" else 1))
    lp.Maximize(lp.Sum(list(values.values())))
    lp.Solve()
    return int(lp.Objective().Value() + 1e-6)


def _groups(values: dict[tuple, object]) -> dict[tuple, list]:
    """The model's groups of (pair, slot) choices of which at most one (a slot: at most `tables`) may be chosen."""
    groups: dict[tuple, list] = {}
    for (pair, slot), var in values.items():
        for group in (("pair", pair), ("investor", pair[0], slot), ("founder", pair[1], slot), ("slot", slot)):
            groups.setdefault(group, []).append(var)
    return groups


def _fill_gaps(start: set[tuple], keys: list[tuple], *, tables: int) -> set[tuple]:
    """Place the wished pairs a schedule left out where one move makes room: a pair goes to a slot both can make if
    it is free, or if the one meeting in its way (of the investor or of the founder, at that slot) can move to
    another slot its own two people can make and that has a table free. Repeats while something is placed; the order
    is fixed, so the result is too."""
    slots_of: dict = {}
    for pair, slot in keys:
        slots_of.setdefault(pair, []).append(slot)
    chosen = dict(start)  # pair -> slot
    busy = {}  # (person side, person, slot) -> pair
    used: dict[int, int] = {}
    for pair, slot in chosen.items():
        busy[(0, pair[0], slot)] = busy[(1, pair[1], slot)] = pair
        used[slot] = used.get(slot, 0) + 1

    def free(pair, slot) -> bool:
        return (0, pair[0], slot) not in busy and (1, pair[1], slot) not in busy

    def put(pair, slot) -> None:
        chosen[pair] = slot
        busy[(0, pair[0], slot)] = busy[(1, pair[1], slot)] = pair
        used[slot] = used.get(slot, 0) + 1

    def take(pair) -> None:
        slot = chosen.pop(pair)
        del busy[(0, pair[0], slot)], busy[(1, pair[1], slot)]
        used[slot] -= 1

    placed_one = True
    while placed_one:
        placed_one = False
        for pair in sorted(set(slots_of) - set(chosen), key=_pair_order):
            for slot in slots_of[pair]:
                if free(pair, slot) and used.get(slot, 0) < tables:
                    put(pair, slot)
                    break
                blocking = {busy.get((0, pair[0], slot)), busy.get((1, pair[1], slot))} - {None}
                if len(blocking) != 1:
                    continue
                [other] = blocking
                target = next((s for s in slots_of[other] if s != slot and free(other, s)
                               and used.get(s, 0) < tables), None)
                if target is None:
                    continue
                take(other)
                put(other, target)
                put(pair, slot)
                break
            else:
                continue
            placed_one = True
    return {(pair, slot) for pair, slot in chosen.items()}


@dataclass(frozen=True)
class SolverSettings:
    """CP-SAT's settings for the meeting planner: one worker and a fixed seed, so the same inputs always give the
    same schedule. The solver stops when it has proved the optimum or after `deterministic_seconds` of its own
    deterministic time (work counted, not the clock: a run that stops there stops at the same point every time);
    `wall_seconds` is only a safety net for a machine far slower than expected (docs/matching.md)."""

    workers: int = 1
    seed: int = 20261207
    deterministic_seconds: float = 0.5
    wall_seconds: float = 10.0


def schedule_meetings(wanted: dict[tuple[Id, Id], int], *, slots: int, tables: int,
                      available: dict[Id, set[int]] | None = None,
                      settings: SolverSettings = SolverSettings()) -> list[Meeting]:
    """A schedule of 1:1 meetings for the whole day at once: `wanted` maps (investor, founder) to how much the pair
    wants to meet (> 0); `slots` time slots of one length, `tables` places; `available` gives a person's usable slot
    indices (everyone else: every slot). Nobody is ever in two meetings of one slot, a table holds one meeting per
    slot, a pair meets at most once, and only in slots both can make.

    OR-Tools CP-SAT decides every slot together: a yes/no per (pair, usable slot), and it maximises first the number
    of meetings, then the sum of their wish weights (docs/matching.md). The slot-by-slot plan is given as a hint, so
    the answer is never worse than it. Tables are then handed out slot by slot: an investor keeps their table when
    it is free (founders walk, investors stay)."""
    from ortools.sat.python import cp_model  # a native library: loaded when a schedule is built

    available = available or {}
    wishes = _clean_wishes(wanted)
    if tables <= 0 or slots <= 0 or not wishes:
        return []
    model = cp_model.CpModel()
    choice: dict[tuple, object] = {}
    by_pair: dict[tuple, list] = {}
    by_person_slot: dict[tuple, list] = {}
    by_slot: dict[int, list] = {}
    for pair in wishes:
        for slot in range(slots):
            if _can(available, pair[0], slot) and _can(available, pair[1], slot):
                var = model.new_bool_var("")
                choice[(pair, slot)] = var
                by_pair.setdefault(pair, []).append(var)
                by_slot.setdefault(slot, []).append(var)
                for side, person in enumerate(pair):
                    by_person_slot.setdefault((side, person, slot), []).append(var)
    if not choice:
        return []
    for group in by_pair.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for group in by_person_slot.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for group in by_slot.values():
        if len(group) > tables:
            model.add(sum(group) <= tables)
    # one more meeting is worth more than any mix of weights: the count first, then the weights
    per_meeting = sum(wishes.values()) + 1
    worth = {key: per_meeting + wishes[key[0]] for key in choice}
    model.maximize(sum(var * worth[key] for key, var in choice.items()))
    baseline = schedule_meetings_by_slot(wishes, slots=slots, tables=tables, available=available)
    start = _rounded_relaxation(list(choice), worth, tables=tables)
    if len(start) < len(baseline) or (len(start) == len(baseline) and sum(worth[k] for k in start)
                                      < sum(worth[((m.investor, m.founder), m.slot)] for m in baseline)):
        start = {((m.investor, m.founder), m.slot) for m in baseline}
    start = _fill_gaps(start, list(choice), tables=tables)
    for key, var in choice.items():
        model.add_hint(var, key in start)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = settings.workers
    solver.parameters.random_seed = settings.seed
    solver.parameters.max_deterministic_time = settings.deterministic_seconds
    solver.parameters.max_time_in_seconds = settings.wall_seconds
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        start = {key for key, var in choice.items() if solver.boolean_value(var)}
    # else nothing found within the safety net (cannot happen with a complete hint): the first schedule keeps every rule
    chosen: dict[int, list] = {}
    for pair, slot in sorted(start, key=lambda key: (key[1], _pair_order(key[0]))):
        chosen.setdefault(slot, []).append(pair)
    meetings: list[Meeting] = []
    seat_of: dict[Id, int] = {}
    for slot in sorted(chosen):
        free = list(range(tables))
        placed = []
        for investor, founder in sorted(chosen[slot], key=lambda p: (seat_of.get(p[0], tables), _pair_order(p))):
            table = seat_of.get(investor)
            if table not in free:
                table = free[0]
            free.remove(table)
            seat_of[investor] = table
            placed.append(Meeting(investor, founder, slot, table, wishes[(investor, founder)]))
        meetings.extend(sorted(placed, key=lambda m: m.table))
    return meetings


def schedule_meetings_by_slot(wanted: dict[tuple[Id, Id], int], *, slots: int, tables: int,
                      available: dict[Id, set[int]] | None = None) -> list[Meeting]:
    """The old planner, kept as the benchmark's baseline and as a fallback when the solver finds nothing in time.

    A schedule of 1:1 meetings: `wanted` maps (investor, founder) to how much the pair wants to meet (> 0);
    `slots` time slots of one length, `tables` places; `available` gives a person's usable slot indices (everyone
    else: every slot). Nobody is ever in two meetings of one slot, a table holds one meeting per slot, a pair meets
    at most once, and only in slots both can make.

    Slot by slot, the same engine as mentor matching picks the pairs: an optimal assignment (min-cost flow) of the
    pairs still waiting, weighted by how much they want to meet and then by urgency (a pair with fewer slots left
    that both can make, a person with more meetings waiting than slots left), so that the scarce are not crowded
    out; a slot with fewer tables than chosen pairs keeps the best ones. An investor keeps their
    table from one slot to the next when it is free (founders walk, investors stay)."""
    available = available or {}

    def can(person, slot) -> bool:
        return person not in available or slot in available[person]

    remaining = {pair: score for pair, score in wanted.items() if score > 0 and pair[0] != pair[1]}
    meetings: list[Meeting] = []
    seat_of: dict[Id, int] = {}
    for slot in range(slots):
        if tables <= 0 or not remaining:
            break
        pairs = [p for p in remaining if can(p[0], slot) and can(p[1], slot)]
        if not pairs:
            continue
        investors = list(dict.fromkeys(p[0] for p in pairs))
        founders = list(dict.fromkeys(p[1] for p in pairs))
        i_index = {x: i for i, x in enumerate(investors)}
        f_index = {x: j for j, x in enumerate(founders)}
        left = {p: sum(1 for s in range(slot, slots) if can(p[0], s) and can(p[1], s)) for p in pairs}
        need: dict[Id, int] = {}
        for investor, founder in remaining:
            need[investor] = need.get(investor, 0) + 1
            need[founder] = need.get(founder, 0) + 1
        room = {x: sum(1 for s in range(slot, slots) if can(x, s)) for x in (*investors, *founders)}
        scores = np.full((len(investors), len(founders)), INELIGIBLE, dtype=np.int64)
        for pair in pairs:
            # how much they want it first; among equals, the most urgent: a pair with one chance left, or a person
            # with more meetings waiting than slots left, goes before those who can still wait
            urgency = max(1 / left[pair], *(need[x] / room[x] for x in pair))
            scores[i_index[pair[0]], f_index[pair[1]]] = remaining[pair] * 10_000 + min(9_999, int(1000 * urgency))
        result = match_optimal([Founder(id=x) for x in investors], [Mentor(id=x, capacity=1) for x in founders],
                               scores=scores)
        chosen = sorted(result.pairs, key=lambda p: (-result.scores[p], str(p)))[:tables]
        free = list(range(tables))
        placed = []
        for investor, founder in sorted(chosen, key=lambda p: seat_of.get(p[0], tables)):
            table = seat_of.get(investor)
            if table not in free:
                table = free[0]
            free.remove(table)
            seat_of[investor] = table
            placed.append(Meeting(investor, founder, slot, table, remaining.pop((investor, founder))))
        meetings.extend(sorted(placed, key=lambda m: m.table))
    return meetings
