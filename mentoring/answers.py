"""After publication: mentors accept or decline (a decline offers the next best mentor), mentors rank founders
(stable mode), and what each person sees."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize, has_role
from app.errors import DomainError, NotFound
from app.extensions import db
from mentoring import matching, signals
from mentoring.cycles import (
    get_cycle,
    lock_cycle,
    require_not_published,
)
from mentoring.inputs import (
    invalid_input,
)
from mentoring.models import (
    LIVE_MATCH_STATUSES,
    MentoringCycle,
    MentoringRequest,
    MentorMatch,
    MentorRanking,
)
from mentoring.profiles import mentor_profile_of
from mentoring.requests import (
    request_of,
)
from mentoring.runs import (
    founder_inputs,
    match_reasons,
    mentor_inputs,
    rules_of_cycle,
)


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
    cycle = lock_cycle(match.cycle_id)
    db.session.refresh(match)
    wanted = "accepted" if accept else "declined"
    if match.status == wanted:
        return match
    if match.status != "offered":
        raise DomainError("already_answered", _l("This match was already answered."), status=409)
    if len(reason or "") > 300:
        raise invalid_input("invalid_answer", {"reason": _l("At most %(n)d characters.", n=300)})
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
    request = request_of(cycle.id, founder_id)
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
    _, founders = founder_inputs(cycle.id)
    founder = next(f for f in founders if f.id == founder_id)
    best = None
    for mentor in mentor_inputs():
        if mentor.id in tried or mentor.id in forbidden or taken.get(mentor.id, 0) >= mentor.capacity:
            continue
        fit = matching.fit(founder, mentor)
        if fit is not None and (best is None or fit.score > best[0].score):
            best = (fit, mentor)
    if best is None:
        return None
    fit, mentor = best
    replacement = MentorMatch(cycle_id=cycle.id, founder_id=founder_id, mentor_id=mentor.id, status="offered",
                              score=fit.score, reasons=match_reasons(founder, mentor, False), created_at=now)
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
        raise invalid_input("invalid_ranking", {"founder_ids": _l("Rank founders who asked in this cycle, each once.")})
    cycle = lock_cycle(cycle_id)  # serialised with runs: a run sees a ranking whole or not at all
    require_not_published(cycle)
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
