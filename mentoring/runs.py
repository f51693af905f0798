"""The organizers' side of a cycle: pins, forbidden pairs and priority groups, running the matching
(mentoring.matching) and publishing it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.authz import authorize
from app.errors import DomainError, NotFound
from app.extensions import db
from mentoring import matching, signals
from mentoring.cycles import (
    check_cycle_settings,
    get_cycle,
    lock_cycle,
    require_not_published,
)
from mentoring.inputs import (
    MATCHING_MESSAGES,
    MAX_WEIGHT,
    invalid_input,
    normalise_tag,
)
from mentoring.models import (
    LIVE_MATCH_STATUSES,
    RULE_KINDS,
    MentoringCycle,
    MentoringRequest,
    MentorMatch,
    MentorRanking,
    PairRule,
    PriorityGroup,
)
from mentoring.profiles import list_mentors, mentor_profile_of
from mentoring.requests import (
    request_of,
)


def set_pair_rule(cycle_id: int, actor, *, founder_id: int, mentor_id: int, kind: str, reason: str = "",
                  now: datetime) -> PairRule:
    """Pin a pair (always matched) or forbid it (never: same company, an investor in a competitor). Setting the
    other kind on the same pair replaces it."""
    authorize(actor, "organizer")
    cycle = get_cycle(cycle_id)
    require_not_published(cycle)
    errors = {}
    if kind not in RULE_KINDS:
        errors["kind"] = _l("Choose pin or forbid.")
    if mentor_profile_of(mentor_id) is None:
        errors["mentor_id"] = _l("This person is not a mentor.")
    if db.session.get(User, founder_id) is None or founder_id == mentor_id:
        errors["founder_id"] = _l("This founder does not exist.")
    elif kind == "pin" and request_of(cycle_id, founder_id) is None:
        errors["founder_id"] = _l("Only a founder who asked in this cycle can be pinned.")
    if len(reason or "") > 200:
        errors["reason"] = _l("At most %(n)d characters.", n=200)
    if errors:
        raise invalid_input("invalid_rule", errors)
    rule = db.session.scalars(sa.select(PairRule).where(PairRule.cycle_id == cycle_id,
                                                        PairRule.founder_id == founder_id,
                                                        PairRule.mentor_id == mentor_id)).first()
    if rule is None:
        rule = PairRule(cycle_id=cycle_id, founder_id=founder_id, mentor_id=mentor_id, created_at=now)
        db.session.add(rule)
    rule.kind, rule.reason, rule.created_by_id = kind, (reason or "").strip(), actor.id
    db.session.flush()
    return rule


def delete_pair_rule(cycle_id: int, rule_id: int, actor) -> None:
    authorize(actor, "organizer")
    require_not_published(get_cycle(cycle_id))
    rule = db.session.get(PairRule, rule_id)
    if rule is None or rule.cycle_id != cycle_id:
        raise NotFound("rule_not_found", _l("This pin or forbidden pair does not exist."))
    db.session.delete(rule)
    db.session.flush()


def rules_of_cycle(cycle_id: int) -> list[PairRule]:
    return list(db.session.scalars(sa.select(PairRule).where(PairRule.cycle_id == cycle_id).order_by(PairRule.id)))


def set_priority_group(cycle_id: int, actor, *, name: str, weight: float, founder_ids=()) -> PriorityGroup:
    """Create or change a priority group of a cycle: its founders' fit is multiplied by `weight` (e.g. 1.5)."""
    authorize(actor, "organizer")
    require_not_published(get_cycle(cycle_id))
    errors = {}
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        errors["name"] = _l("Please give the group a name (at most 80 characters).")
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= MAX_WEIGHT:
        errors["weight"] = _l("The weight is a number above 0 and at most %(n)s.", n=MAX_WEIGHT)
    ids = sorted({int(x) for x in founder_ids if isinstance(x, int) and not isinstance(x, bool)})
    if len(ids) != len(set(founder_ids)) or (ids and db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.id.in_(ids))) != len(ids)):
        errors["founder_ids"] = _l("Some of these founders do not exist.")
    if errors:
        raise invalid_input("invalid_group", errors)
    group = db.session.scalars(sa.select(PriorityGroup).where(PriorityGroup.cycle_id == cycle_id,
                                                              PriorityGroup.name == name)).first()
    if group is None:
        group = PriorityGroup(cycle_id=cycle_id, name=name)
        db.session.add(group)
    group.weight, group.member_ids = float(weight), ids
    db.session.flush()
    return group


def priority_groups(cycle_id: int) -> list[PriorityGroup]:
    return list(db.session.scalars(sa.select(PriorityGroup).where(PriorityGroup.cycle_id == cycle_id)
                                   .order_by(PriorityGroup.id)))


# ---- running the matching ----------------------------------------------------------------------------------------

def founder_inputs(cycle_id: int) -> tuple[list[MentoringRequest], list[matching.Founder]]:
    requests = list(db.session.scalars(sa.select(MentoringRequest).where(MentoringRequest.cycle_id == cycle_id)
                                       .order_by(MentoringRequest.id)))
    weights: dict[int, float] = {}
    for group in priority_groups(cycle_id):
        for founder_id in group.member_ids:
            weights[founder_id] = max(weights.get(founder_id, 1.0), group.weight)  # the best group counts
    founders = [matching.Founder(id=r.founder_id, needs=tuple(r.needs), industry=r.industry, stage=r.stage,
                                 languages=frozenset(r.languages), prefer=frozenset(r.prefer_ids),
                                 avoid=frozenset(r.avoid_ids), weight=weights.get(r.founder_id, 1.0))
                for r in requests]
    return requests, founders


def mentor_inputs(room: dict[int, int] | None = None, *, cycle_id: int | None = None) -> list[matching.Mentor]:
    """Mentors with a profile; capacity is the profile's, or `room` (what is left) when given; with `cycle_id`, each
    mentor's own ranking of that cycle's founders (stable mode)."""
    rankings = {} if cycle_id is None else {r.mentor_id: tuple(r.founder_ids) for r in db.session.scalars(
        sa.select(MentorRanking).where(MentorRanking.cycle_id == cycle_id))}
    mentors = []
    for p in list_mentors():
        capacity = p.capacity if room is None else room.get(p.user_id, p.capacity)
        mentors.append(matching.Mentor(id=p.user_id, expertise=frozenset(p.expertise),
                                       industries=frozenset(p.industries), stages=frozenset(normalise_tag(s)
                                                                                          for s in p.stages),
                                       languages=frozenset(p.languages), capacity=capacity,
                                       ranking=rankings.get(p.user_id, ())))
    return mentors


def run_matching(cycle_id: int, actor, *, mode: str | None = None, now: datetime) -> MentoringCycle:
    """Run (or run again) the matching of a cycle and replace its draft proposal. Checks everything first: no
    requests, no mentor with capacity, pins that cannot all hold are clear errors, and nothing changes."""
    authorize(actor, "organizer")
    cycle = lock_cycle(cycle_id)
    require_not_published(cycle)
    mode = mode or cycle.mode
    errors = {}
    check_cycle_settings(cycle.per_founder, mode, errors)
    if errors:
        raise invalid_input("invalid_cycle", errors)
    requests, founders = founder_inputs(cycle_id)
    if not requests:
        raise DomainError("no_requests", _l("No founder has asked for mentoring in this cycle yet."), status=409)
    mentors = mentor_inputs(cycle_id=cycle_id)
    if not any(m.capacity > 0 for m in mentors):
        raise DomainError("no_mentors", _l("No mentor has room in this cycle."), status=409)
    rules = rules_of_cycle(cycle_id)
    pins = [(r.founder_id, r.mentor_id) for r in rules if r.kind == "pin"]
    forbidden = [(r.founder_id, r.mentor_id) for r in rules if r.kind == "forbid"]
    scores = matching.score_matrix(founders, mentors)
    try:
        result = matching.match(mode, founders, mentors, per_founder=cycle.per_founder, pins=pins,
                                forbidden=forbidden, scores=scores)
        greedy = matching.match_greedy(founders, mentors, per_founder=cycle.per_founder, pins=pins,
                                       forbidden=forbidden, scores=scores)
    except matching.MatchingError as error:
        message = MATCHING_MESSAGES.get(error.code, error.message)
        raise DomainError(error.code, message, status=409, **error.details) from None

    # Everything is decided: now replace the draft.
    db.session.execute(sa.delete(MentorMatch).where(MentorMatch.cycle_id == cycle_id)
                       .execution_options(synchronize_session=False))
    by_founder = {f.id: f for f in founders}
    by_mentor = {m.id: m for m in mentors}
    for founder_id, mentor_id in result.pairs:
        db.session.add(MentorMatch(
            cycle_id=cycle_id, founder_id=founder_id, mentor_id=mentor_id, status="proposed",
            score=result.scores[(founder_id, mentor_id)], pinned=(founder_id, mentor_id) in result.pinned,
            reasons=match_reasons(by_founder[founder_id], by_mentor[mentor_id],
                                  (founder_id, mentor_id) in result.pinned),
            created_at=now))
    cycle.status, cycle.mode, cycle.last_run_at = "proposed", mode, now
    cycle.total_score, cycle.greedy_score = result.total, greedy.total
    db.session.flush()
    db.session.expire_all()
    return get_cycle(cycle_id)


def match_reasons(founder: matching.Founder, mentor: matching.Mentor, pinned: bool) -> dict:
    fit = matching.fit(founder, mentor)
    reasons = fit.reasons() if fit else {"needs": [], "coverage": 0, "industry": False, "stage": False,
                                         "preferred": False, "priority_weight": founder.weight}
    reasons.update(pinned=pinned, industry_name=founder.industry, stage_code=founder.stage)
    return reasons


def proposal(cycle_id: int, actor) -> dict:
    """The cycle's matches (any status) and the founders left without a mentor (organizers)."""
    authorize(actor, "organizer")
    cycle = get_cycle(cycle_id)
    matches = matches_of_cycle(cycle_id)
    requests = list(db.session.scalars(sa.select(MentoringRequest).where(MentoringRequest.cycle_id == cycle_id)
                                       .order_by(MentoringRequest.id)))
    live = {m.founder_id for m in matches if m.status in ("proposed", *LIVE_MATCH_STATUSES)}
    return {"cycle": cycle, "matches": matches, "unmatched": [r for r in requests if r.founder_id not in live],
            "requests": requests}


def matches_of_cycle(cycle_id: int) -> list[MentorMatch]:
    return list(db.session.scalars(sa.select(MentorMatch).where(MentorMatch.cycle_id == cycle_id)
                                   .order_by(MentorMatch.founder_id, MentorMatch.score.desc(), MentorMatch.id)))


def publish_cycle(cycle_id: int, actor, *, now: datetime) -> MentoringCycle:
    """Publish the proposal: every proposed pair is offered to its mentor, who accepts or declines."""
    authorize(actor, "organizer")
    cycle = lock_cycle(cycle_id)
    require_not_published(cycle)
    if cycle.status != "proposed":
        raise DomainError("not_proposed", _l("Run the matching before publishing it."), status=409)
    matches = list(db.session.scalars(sa.select(MentorMatch).where(MentorMatch.cycle_id == cycle_id,
                                                                   MentorMatch.status == "proposed")))
    if not matches:
        raise DomainError("empty_proposal", _l("The proposal has no pairs to publish."), status=409)
    for match in matches:
        match.status = "offered"
    cycle.status, cycle.published_at = "published", now
    db.session.flush()
    for match in matches:
        signals.mentor_matched.send(None, match_id=match.id, cycle_id=cycle_id, founder_id=match.founder_id,
                                    mentor_id=match.mentor_id, score=match.score)
    return cycle
