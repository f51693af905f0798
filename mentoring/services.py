"""Rules of mentor matching: mentor profiles, cycles, founders' requests, pins and forbidden pairs, priority groups,
running the matching (mentoring.matching), publishing it, and mentors accepting or declining.

Every change of a cycle's matches runs under the cycle's lock (a conditional UPDATE of its row: a row lock on
PostgreSQL, the write lock on SQLite), so two organizers running at once, or two mentors declining at once, can
never put a mentor above capacity. A service checks everything before it writes anything, so a refused request
leaves nothing half-applied. Services flush; callers commit once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.authz import authorize, has_role
from app.errors import DomainError, NotFound
from app.extensions import db
from mentoring import matching, signals
from mentoring.models import (
    LIVE_MATCH_STATUSES,
    MATCHING_MODES,
    RULE_KINDS,
    MentoringCycle,
    MentoringRequest,
    MentorMatch,
    MentorProfile,
    MentorRanking,
    PairRule,
    PriorityGroup,
)

EXPERTISE = {
    "fundraising": _l("Fundraising"),
    "go-to-market": _l("Go-to-market"),
    "product": _l("Product"),
    "engineering": _l("Engineering"),
    "ai-infrastructure": _l("AI infrastructure"),
    "legal": _l("Legal"),
    "hiring": _l("Hiring"),
    "finance": _l("Finance"),
    "operations": _l("Operations"),
    "marketing": _l("Marketing"),
    "data": _l("Data"),
    "international": _l("Going abroad"),
}
STAGES = {
    "idea": _l("Idea"),
    "prototype": _l("Prototype"),
    "seed": _l("Seed"),
    "angel": _l("Angel"),
    "pre-a": _l("Pre-A"),
    "series-a": _l("Series A"),
    "series-b-plus": _l("Series B and later"),
}
LANGUAGES = {"zh": _l("Chinese"), "en": _l("English")}
INDUSTRY_SUGGESTIONS = ("大模型应用", "AI Infra", "医疗AI", "企业服务", "智能制造", "自动驾驶", "金融科技", "机器人",
                        "教育", "消费")
MAX_CAPACITY = 20
MAX_NEEDS = 5
MAX_INDUSTRIES = 5
MAX_TAG_LENGTH = 40
MAX_DESCRIPTION = 2000
MAX_PER_FOUNDER = 5
MAX_WEIGHT = 5.0

MATCHING_MESSAGES = {
    "pins_over_capacity": _l("More pairs are pinned to a mentor than the mentor can take."),
    "pins_over_founder_limit": _l("More mentors are pinned to a founder than a founder may have in this cycle."),
    "pin_forbidden": _l("A pair is both pinned and forbidden."),
    "pin_unknown": _l("A pinned founder has no request in this cycle, or a pinned mentor has no profile."),
}


def normalise_tag(value) -> str:
    """Codes are lower-case with hyphens ("series_a" and "Series-A" are "series-a")."""
    return str(value or "").strip().lower().replace("_", "-")


# ---- mentor profiles ---------------------------------------------------------------------------------------------

def mentor_profile_of(user_id: int) -> MentorProfile | None:
    return db.session.scalars(sa.select(MentorProfile).where(MentorProfile.user_id == user_id)).first()


def save_mentor_profile(user, *, bio: str = "", expertise=(), industries=(), stages=(), languages=(),
                        capacity: int = 3) -> MentorProfile:
    """Create or change the acting mentor's own profile. Capacity is founders per cycle, 1 to 20."""
    authorize(user, "mentor")
    errors = {}
    expertise = _codes(expertise, EXPERTISE, "expertise", errors, required=True)
    stages = _codes(stages, STAGES, "stages", errors)
    languages = _codes(languages, LANGUAGES, "languages", errors)
    industries = _free_tags(industries, "industries", errors)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = _l("A mentor takes between 1 and %(n)d founders per cycle.", n=MAX_CAPACITY)
    if len(bio or "") > MAX_DESCRIPTION:
        errors["bio"] = _l("At most %(n)d characters.", n=MAX_DESCRIPTION)
    if errors:
        raise _invalid("invalid_profile", errors)
    profile = mentor_profile_of(user.id)
    if profile is None:
        profile = MentorProfile(user_id=user.id)
        db.session.add(profile)
    profile.bio, profile.expertise, profile.industries = (bio or "").strip(), expertise, industries
    profile.stages, profile.languages, profile.capacity = stages, languages, capacity
    db.session.flush()
    return profile


def list_mentors() -> list[MentorProfile]:
    """Every mentor with a profile (what founders may prefer or avoid), by name."""
    return list(db.session.scalars(
        sa.select(MentorProfile).join(User, User.id == MentorProfile.user_id)
        .where(User.is_active_account.is_(True)).order_by(User.name, User.id)))


# ---- cycles ------------------------------------------------------------------------------------------------------

def create_cycle(organizer, *, name: str, description: str = "", per_founder: int = 1, mode: str = "optimal",
                 now: datetime) -> MentoringCycle:
    """Open a matching cycle (organizers): founders may ask from now on."""
    authorize(organizer, "organizer")
    errors = {}
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        errors["name"] = _l("Please give the cycle a name (at most 120 characters).")
    _check_cycle_settings(per_founder, mode, errors)
    if errors:
        raise _invalid("invalid_cycle", errors)
    cycle = MentoringCycle(name=name, description=(description or "").strip(), per_founder=per_founder, mode=mode,
                           created_by_id=organizer.id, created_at=now, updated_at=now)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def _check_cycle_settings(per_founder, mode, errors: dict) -> None:
    if not isinstance(per_founder, int) or isinstance(per_founder, bool) or not 1 <= per_founder <= MAX_PER_FOUNDER:
        errors["per_founder"] = _l("Each founder gets between 1 and %(n)d mentors.", n=MAX_PER_FOUNDER)
    if mode not in MATCHING_MODES:
        errors["mode"] = _l("Choose optimal or stable matching.")


def get_cycle(cycle_id: int) -> MentoringCycle:
    cycle = db.session.get(MentoringCycle, cycle_id)
    if cycle is None:
        raise NotFound("cycle_not_found", _l("This mentoring cycle does not exist."))
    return cycle


def list_cycles() -> list[MentoringCycle]:
    return list(db.session.scalars(sa.select(MentoringCycle).order_by(MentoringCycle.id.desc())))


def open_cycles() -> list[MentoringCycle]:
    """Cycles founders may still ask in."""
    return list(db.session.scalars(sa.select(MentoringCycle).where(MentoringCycle.status.in_(("open", "proposed")))
                                   .order_by(MentoringCycle.id.desc())))


def _lock_cycle(cycle_id: int) -> MentoringCycle:
    """Serialise every change of this cycle's matches (row lock on PostgreSQL, write lock on SQLite)."""
    updated = db.session.execute(sa.update(MentoringCycle).where(MentoringCycle.id == cycle_id)
                                 .values(version=MentoringCycle.version + 1)
                                 .execution_options(synchronize_session=False)).rowcount
    if not updated:
        raise NotFound("cycle_not_found", _l("This mentoring cycle does not exist."))
    cycle = db.session.get(MentoringCycle, cycle_id)
    db.session.refresh(cycle)
    return cycle


def _require_not_published(cycle: MentoringCycle) -> None:
    if cycle.status in ("published", "closed"):
        raise DomainError("cycle_published", _l("This cycle is already published; its matching cannot change."),
                          status=409)


# ---- founders' requests ------------------------------------------------------------------------------------------

def submit_request(cycle_id: int, founder, *, needs=(), industry: str = "", stage: str = "", description: str = "",
                   languages=(), prefer_ids=(), avoid_ids=(), now: datetime) -> MentoringRequest:
    """A founder asks for mentoring in a cycle: ranked needs, industry, stage, a short description, mentors to
    prefer or avoid. One request per founder and cycle."""
    authorize(founder, "resident")
    cycle = get_cycle(cycle_id)
    if cycle.status not in ("open", "proposed"):
        raise DomainError("cycle_closed", _l("This cycle no longer takes requests."), status=409)
    if _request_of(cycle_id, founder.id) is not None:
        raise DomainError("already_requested", _l("You have already asked for mentoring in this cycle."), status=409)
    fields = _request_fields(founder, needs=needs, industry=industry, stage=stage, description=description,
                             languages=languages, prefer_ids=prefer_ids, avoid_ids=avoid_ids)
    request = MentoringRequest(cycle_id=cycle_id, founder_id=founder.id, created_at=now, updated_at=now, **fields)
    try:
        with db.session.begin_nested():  # two taps at once: the unique constraint decides, with the same answer
            db.session.add(request)
    except sa.exc.IntegrityError:
        raise DomainError("already_requested", _l("You have already asked for mentoring in this cycle."),
                          status=409) from None
    return request


def _request_fields(founder, *, needs, industry, stage, description, languages, prefer_ids, avoid_ids) -> dict:
    """A request's fields, checked (one rule for asking and for changing)."""
    errors = {}
    needs = _codes(needs, EXPERTISE, "needs", errors, required=True, limit=MAX_NEEDS)
    stage = normalise_tag(stage)
    if stage not in STAGES:
        errors["stage"] = _l("Please choose your stage.")
    industry = (industry or "").strip()
    if not 1 <= len(industry) <= MAX_TAG_LENGTH:
        errors["industry"] = _l("Please name your industry (at most %(n)d characters).", n=MAX_TAG_LENGTH)
    languages = _codes(languages, LANGUAGES, "languages", errors)
    if len(description or "") > MAX_DESCRIPTION:
        errors["description"] = _l("At most %(n)d characters.", n=MAX_DESCRIPTION)
    prefer_ids = _mentor_ids(prefer_ids, "prefer_ids", errors, founder.id)
    avoid_ids = _mentor_ids(avoid_ids, "avoid_ids", errors, founder.id)
    if set(prefer_ids) & set(avoid_ids):
        errors["avoid_ids"] = _l("A mentor cannot be both preferred and avoided.")
    if errors:
        raise _invalid("invalid_request", errors)
    return {"needs": needs, "industry": industry, "stage": stage, "description": (description or "").strip(),
            "languages": languages, "prefer_ids": prefer_ids, "avoid_ids": avoid_ids}


def _pending_request(cycle_id: int, founder) -> tuple[MentoringCycle, MentoringRequest]:
    """The founder's request while it can still change: the cycle is not published yet (under the cycle's lock, so
    a matching run or a publication sees the request before or after, never half-way)."""
    authorize(founder, "resident")
    cycle = _lock_cycle(cycle_id)
    request = _request_of(cycle_id, founder.id)
    if request is None:
        raise NotFound("request_not_found", _l("You have no request in this cycle."))
    if cycle.status not in ("open", "proposed"):
        raise DomainError("request_decided", _l("The matching of this cycle is published: your request can no "
                                                "longer change."), status=409)
    return cycle, request


def update_request(cycle_id: int, founder, *, needs=(), industry: str = "", stage: str = "", description: str = "",
                   languages=(), prefer_ids=(), avoid_ids=(), now: datetime) -> MentoringRequest:
    """Change one's request while it is pending (before the matching is published), with the same checks as
    asking. A proposal already made from the old request is the organizers' to run again."""
    _, request = _pending_request(cycle_id, founder)
    fields = _request_fields(founder, needs=needs, industry=industry, stage=stage, description=description,
                             languages=languages, prefer_ids=prefer_ids, avoid_ids=avoid_ids)
    for key, value in fields.items():
        setattr(request, key, value)
    request.updated_at = now
    return request


def withdraw_request(cycle_id: int, founder, *, now: datetime) -> None:
    """Take one's request back while it is pending: it leaves the cycle, with any match proposed from it."""
    _, request = _pending_request(cycle_id, founder)
    db.session.execute(sa.delete(MentorMatch).where(MentorMatch.cycle_id == cycle_id,
                                                    MentorMatch.founder_id == founder.id,
                                                    MentorMatch.status == "proposed"))
    db.session.delete(request)
    db.session.flush()


def my_requests(user) -> list[tuple[MentoringRequest, MentoringCycle, str]]:
    """A founder's requests, newest cycle first, each with where it stands: pending (the cycle still takes
    changes), matched (a published match offered or accepted) or not matched."""
    rows = db.session.execute(sa.select(MentoringRequest, MentoringCycle)
                              .join(MentoringCycle, MentoringCycle.id == MentoringRequest.cycle_id)
                              .where(MentoringRequest.founder_id == user.id)
                              .order_by(MentoringCycle.id.desc())).all()
    matched = set(db.session.scalars(sa.select(MentorMatch.cycle_id).where(
        MentorMatch.founder_id == user.id, MentorMatch.status.in_(LIVE_MATCH_STATUSES))))
    out = []
    for request, cycle in rows:
        state = "pending" if cycle.status in ("open", "proposed") else (
            "matched" if cycle.id in matched else "not_matched")
        out.append((request, cycle, state))
    return out


def _request_of(cycle_id: int, founder_id: int) -> MentoringRequest | None:
    return db.session.scalars(sa.select(MentoringRequest).where(MentoringRequest.cycle_id == cycle_id,
                                                                MentoringRequest.founder_id == founder_id)).first()


def request_of(cycle_id: int, founder_id: int) -> MentoringRequest | None:
    return _request_of(cycle_id, founder_id)


def requests_of_cycle(cycle_id: int, actor) -> list[MentoringRequest]:
    """Every request of a cycle (organizers)."""
    authorize(actor, "organizer")
    return list(db.session.scalars(sa.select(MentoringRequest).where(MentoringRequest.cycle_id == cycle_id)
                                   .order_by(MentoringRequest.id)))


# ---- organizers' decisions: pins, forbidden pairs, priority groups -----------------------------------------------

def set_pair_rule(cycle_id: int, actor, *, founder_id: int, mentor_id: int, kind: str, reason: str = "",
                  now: datetime) -> PairRule:
    """Pin a pair (always matched) or forbid it (never: same company, an investor in a competitor). Setting the
    other kind on the same pair replaces it."""
    authorize(actor, "organizer")
    cycle = get_cycle(cycle_id)
    _require_not_published(cycle)
    errors = {}
    if kind not in RULE_KINDS:
        errors["kind"] = _l("Choose pin or forbid.")
    if mentor_profile_of(mentor_id) is None:
        errors["mentor_id"] = _l("This person is not a mentor.")
    if db.session.get(User, founder_id) is None or founder_id == mentor_id:
        errors["founder_id"] = _l("This founder does not exist.")
    elif kind == "pin" and _request_of(cycle_id, founder_id) is None:
        errors["founder_id"] = _l("Only a founder who asked in this cycle can be pinned.")
    if len(reason or "") > 200:
        errors["reason"] = _l("At most %(n)d characters.", n=200)
    if errors:
        raise _invalid("invalid_rule", errors)
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
    _require_not_published(get_cycle(cycle_id))
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
    _require_not_published(get_cycle(cycle_id))
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
        raise _invalid("invalid_group", errors)
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

def _founder_inputs(cycle_id: int) -> tuple[list[MentoringRequest], list[matching.Founder]]:
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


def _mentor_inputs(room: dict[int, int] | None = None, *, cycle_id: int | None = None) -> list[matching.Mentor]:
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
    cycle = _lock_cycle(cycle_id)
    _require_not_published(cycle)
    mode = mode or cycle.mode
    errors = {}
    _check_cycle_settings(cycle.per_founder, mode, errors)
    if errors:
        raise _invalid("invalid_cycle", errors)
    requests, founders = _founder_inputs(cycle_id)
    if not requests:
        raise DomainError("no_requests", _l("No founder has asked for mentoring in this cycle yet."), status=409)
    mentors = _mentor_inputs(cycle_id=cycle_id)
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
            reasons=_reasons(by_founder[founder_id], by_mentor[mentor_id], (founder_id, mentor_id) in result.pinned),
            created_at=now))
    cycle.status, cycle.mode, cycle.last_run_at = "proposed", mode, now
    cycle.total_score, cycle.greedy_score = result.total, greedy.total
    db.session.flush()
    db.session.expire_all()
    return get_cycle(cycle_id)


def _reasons(founder: matching.Founder, mentor: matching.Mentor, pinned: bool) -> dict:
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
    cycle = _lock_cycle(cycle_id)
    _require_not_published(cycle)
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


# ---- mentors answer ----------------------------------------------------------------------------------------------

def get_match(match_id: int) -> MentorMatch:
    match = db.session.get(MentorMatch, match_id)
    if match is None:
        raise NotFound("match_not_found", _l("This match does not exist."))
    return match


def visible_match(match_id: int, user) -> MentorMatch:
    """A match as this person may see it: its mentor and founder once published, organizers always; to anyone
    else it does not exist."""
    match = get_match(match_id)
    if has_role(user, "organizer"):
        return match
    if match.status != "proposed" and user.id in (match.founder_id, match.mentor_id):
        if user.id == match.founder_id and match.status == "declined":
            raise NotFound("match_not_found", _l("This match does not exist."))
        return match
    raise NotFound("match_not_found", _l("This match does not exist."))


def respond_to_match(match_id: int, mentor, *, accept: bool, reason: str = "", now: datetime) -> MentorMatch:
    """The mentor accepts or declines an offered match. A decline offers the founder their next best mentor with
    room (never one they or the organizers excluded, nor one who declined them). Answering again the same way is
    a harmless retry; changing an answer is refused."""
    authorize(mentor, "resident")
    match = get_match(match_id)
    if match.mentor_id != mentor.id:
        raise NotFound("match_not_found", _l("This match does not exist."))
    cycle = _lock_cycle(match.cycle_id)
    db.session.refresh(match)
    wanted = "accepted" if accept else "declined"
    if match.status == wanted:
        return match
    if match.status != "offered":
        raise DomainError("already_answered", _l("This match was already answered."), status=409)
    if len(reason or "") > 300:
        raise _invalid("invalid_answer", {"reason": _l("At most %(n)d characters.", n=300)})
    match.status, match.responded_at, match.decline_reason = wanted, now, (reason or "").strip()
    db.session.flush()
    if accept:
        signals.match_accepted.send(None, match_id=match.id, cycle_id=cycle.id, founder_id=match.founder_id,
                                    mentor_id=match.mentor_id)
        return match
    replacement = _offer_next_best(cycle, match.founder_id, now=now)
    signals.match_declined.send(None, match_id=match.id, cycle_id=cycle.id, founder_id=match.founder_id,
                                mentor_id=match.mentor_id, next_match_id=replacement.id if replacement else None)
    if replacement is not None:
        signals.mentor_matched.send(None, match_id=replacement.id, cycle_id=cycle.id,
                                    founder_id=replacement.founder_id, mentor_id=replacement.mentor_id,
                                    score=replacement.score)
    return match


def _offer_next_best(cycle: MentoringCycle, founder_id: int, *, now: datetime) -> MentorMatch | None:
    """Under the cycle's lock: the best-fitting mentor who still has room and has no match with this founder yet."""
    request = _request_of(cycle.id, founder_id)
    if request is None:
        return None
    rows = db.session.execute(sa.select(MentorMatch.founder_id, MentorMatch.mentor_id, MentorMatch.status)
                              .where(MentorMatch.cycle_id == cycle.id)).all()
    if sum(1 for f, _, s in rows if f == founder_id and s in LIVE_MATCH_STATUSES) >= cycle.per_founder:
        return None
    tried = {m for f, m, _ in rows if f == founder_id}
    taken: dict[int, int] = {}
    for _, m, s in rows:
        if s in LIVE_MATCH_STATUSES:
            taken[m] = taken.get(m, 0) + 1
    forbidden = {r.mentor_id for r in rules_of_cycle(cycle.id) if r.kind == "forbid" and r.founder_id == founder_id}
    _, founders = _founder_inputs(cycle.id)
    founder = next(f for f in founders if f.id == founder_id)
    best = None
    for mentor in _mentor_inputs():
        if mentor.id in tried or mentor.id in forbidden or taken.get(mentor.id, 0) >= mentor.capacity:
            continue
        fit = matching.fit(founder, mentor)
        if fit is not None and (best is None or fit.score > best[0].score):
            best = (fit, mentor)
    if best is None:
        return None
    fit, mentor = best
    replacement = MentorMatch(cycle_id=cycle.id, founder_id=founder_id, mentor_id=mentor.id, status="offered",
                              score=fit.score, reasons=_reasons(founder, mentor, False), created_at=now)
    db.session.add(replacement)
    db.session.flush()
    return replacement


# ---- mentors' own ranking of founders (stable mode) ----------------------------------------------------------

def requests_to_rank(cycle_id: int, mentor) -> list[MentoringRequest]:
    """The requests of a cycle still being matched, for a mentor with a profile to rank (what each founder needs,
    their industry, stage and description); nobody else but organizers reads them."""
    _require_ranking_mentor(mentor)
    cycle = get_cycle(cycle_id)
    if cycle.status not in ("open", "proposed"):
        raise DomainError("cycle_published", _l("This cycle is already published; its matching cannot change."),
                          status=409)
    return list(db.session.scalars(sa.select(MentoringRequest).where(MentoringRequest.cycle_id == cycle_id)
                                   .order_by(MentoringRequest.id)))


def ranking_of(cycle_id: int, mentor_id: int) -> list[int]:
    ranking = db.session.scalars(sa.select(MentorRanking).where(MentorRanking.cycle_id == cycle_id,
                                                                MentorRanking.mentor_id == mentor_id)).first()
    return list(ranking.founder_ids) if ranking else []


def set_ranking(cycle_id: int, mentor, *, founder_ids, now: datetime) -> list[int]:
    """A mentor ranks founders who asked in a cycle, best first (those left out come after, by fit). Used by the
    stable mode; replaces the mentor's earlier ranking. Refused once the cycle is published."""
    requests = requests_to_rank(cycle_id, mentor)
    asked = {r.founder_id for r in requests}
    try:
        ids = [int(x) for x in founder_ids or ()]
    except (TypeError, ValueError):
        ids = None
    if ids is None or len(ids) != len(set(ids)) or not set(ids) <= asked:
        raise _invalid("invalid_ranking", {"founder_ids": _l("Rank founders who asked in this cycle, each once.")})
    cycle = _lock_cycle(cycle_id)  # serialised with runs: a run sees a ranking whole or not at all
    _require_not_published(cycle)
    ranking = db.session.scalars(sa.select(MentorRanking).where(MentorRanking.cycle_id == cycle_id,
                                                                MentorRanking.mentor_id == mentor.id)).first()
    if ranking is None:
        ranking = MentorRanking(cycle_id=cycle_id, mentor_id=mentor.id)
        db.session.add(ranking)
    ranking.founder_ids, ranking.updated_at = ids, now
    db.session.flush()
    return ids


def _require_ranking_mentor(mentor) -> None:
    authorize(mentor, "mentor")
    if mentor_profile_of(mentor.id) is None:
        raise DomainError("profile_missing", _l("Create your mentor profile first."), status=409)


# ---- what each person sees ---------------------------------------------------------------------------------------

def my_matches(user) -> list[MentorMatch]:
    """A founder's own published matches (offered or accepted; not the mentors who declined)."""
    return list(db.session.scalars(sa.select(MentorMatch).where(MentorMatch.founder_id == user.id,
                                                                MentorMatch.status.in_(LIVE_MATCH_STATUSES))
                                   .order_by(MentorMatch.cycle_id.desc(), MentorMatch.id)))


def my_mentees(user) -> list[MentorMatch]:
    """A mentor's own matches once published: to answer (offered) and accepted (their mentees)."""
    return list(db.session.scalars(sa.select(MentorMatch).where(MentorMatch.mentor_id == user.id,
                                                                MentorMatch.status.in_(LIVE_MATCH_STATUSES))
                                   .order_by(MentorMatch.cycle_id.desc(), MentorMatch.id)))


# ---- checking input ----------------------------------------------------------------------------------------------

def _invalid(code: str, fields: dict) -> DomainError:
    return DomainError(code, _l("Please correct the highlighted fields."),
                       fields={k: str(v) for k, v in fields.items()})


def _codes(values, allowed: dict, field: str, errors: dict, *, required: bool = False, limit: int | None = None):
    if isinstance(values, str):
        values = [v for v in values.split(",")]
    codes = list(dict.fromkeys(normalise_tag(v) for v in (values or ()) if normalise_tag(v)))
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        errors[field] = _l("Unknown choice: %(value)s.", value=unknown[0][:MAX_TAG_LENGTH])
    elif required and not codes:
        errors[field] = _l("Please choose at least one.")
    elif limit and len(codes) > limit:
        errors[field] = _l("At most %(n)d.", n=limit)
    return codes


def _free_tags(values, field: str, errors: dict) -> list[str]:
    if isinstance(values, str):
        values = values.replace("，", ",").split(",")
    tags = list(dict.fromkeys(str(v).strip() for v in (values or ()) if str(v).strip()))
    if len(tags) > MAX_INDUSTRIES or any(len(t) > MAX_TAG_LENGTH for t in tags):
        errors[field] = _l("At most %(n)d, each at most %(m)d characters.", n=MAX_INDUSTRIES, m=MAX_TAG_LENGTH)
    return tags


def _mentor_ids(values, field: str, errors: dict, founder_id: int) -> list[int]:
    try:
        ids = list(dict.fromkeys(int(v) for v in (values or ())))
    except (TypeError, ValueError):
        errors[field] = _l("Choose mentors from the list.")
        return []
    if len(ids) > 5:
        errors[field] = _l("At most %(n)d.", n=5)
    elif ids:
        found = set(db.session.scalars(sa.select(MentorProfile.user_id).where(MentorProfile.user_id.in_(ids))))
        if founder_id in ids or found != set(ids):
            errors[field] = _l("Choose mentors from the list.")
    return ids


def require_organizer(user) -> None:
    authorize(user, "organizer")

