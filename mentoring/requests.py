"""Founders' requests: asking for mentoring in a cycle, changing or withdrawing it while pending."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize
from app.errors import DomainError, NotFound
from app.extensions import db
from mentoring.cycles import (
    get_cycle,
    lock_cycle,
)
from mentoring.inputs import (
    EXPERTISE,
    LANGUAGES,
    MAX_DESCRIPTION,
    MAX_NEEDS,
    MAX_TAG_LENGTH,
    STAGES,
    check_codes,
    check_mentor_ids,
    invalid_input,
    normalise_tag,
)
from mentoring.models import (
    LIVE_MATCH_STATUSES,
    MentoringCycle,
    MentoringRequest,
    MentorMatch,
)


def submit_request(cycle_id: int, founder, *, needs=(), industry: str = "", stage: str = "", description: str = "",
                   languages=(), prefer_ids=(), avoid_ids=(), now: datetime) -> MentoringRequest:
    """A founder asks for mentoring in a cycle: ranked needs, industry, stage, a short description, mentors to
    prefer or avoid. One request per founder and cycle."""
    authorize(founder, "resident")
    cycle = get_cycle(cycle_id)
    if cycle.status not in ("open", "proposed"):
        raise DomainError("cycle_closed", _l("This cycle no longer takes requests."), status=409)
    if request_of(cycle_id, founder.id) is not None:
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
    needs = check_codes(needs, EXPERTISE, "needs", errors, required=True, limit=MAX_NEEDS)
    stage = normalise_tag(stage)
    if stage not in STAGES:
        errors["stage"] = _l("Please choose your stage.")
    industry = (industry or "").strip()
    if not 1 <= len(industry) <= MAX_TAG_LENGTH:
        errors["industry"] = _l("Please name your industry (at most %(n)d characters).", n=MAX_TAG_LENGTH)
    languages = check_codes(languages, LANGUAGES, "languages", errors)
    if len(description or "") > MAX_DESCRIPTION:
        errors["description"] = _l("At most %(n)d characters.", n=MAX_DESCRIPTION)
    prefer_ids = check_mentor_ids(prefer_ids, "prefer_ids", errors, founder.id)
    avoid_ids = check_mentor_ids(avoid_ids, "avoid_ids", errors, founder.id)
    if set(prefer_ids) & set(avoid_ids):
        errors["avoid_ids"] = _l("A mentor cannot be both preferred and avoided.")
    if errors:
        raise invalid_input("invalid_request", errors)
    return {"needs": needs, "industry": industry, "stage": stage, "description": (description or "").strip(),
            "languages": languages, "prefer_ids": prefer_ids, "avoid_ids": avoid_ids}


def _pending_request(cycle_id: int, founder) -> tuple[MentoringCycle, MentoringRequest]:
    """The founder's request while it can still change: the cycle is not published yet (under the cycle's lock, so
    a matching run or a publication sees the request before or after, never half-way)."""
    authorize(founder, "resident")
    cycle = lock_cycle(cycle_id)
    request = request_of(cycle_id, founder.id)
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


def request_of(cycle_id: int, founder_id: int) -> MentoringRequest | None:
    return db.session.scalars(sa.select(MentoringRequest).where(MentoringRequest.cycle_id == cycle_id,
                                                                MentoringRequest.founder_id == founder_id)).first()


def requests_of_cycle(cycle_id: int, actor) -> list[MentoringRequest]:
    """Every request of a cycle (organizers)."""
    authorize(actor, "organizer")
    return list(db.session.scalars(sa.select(MentoringRequest).where(MentoringRequest.cycle_id == cycle_id)
                                   .order_by(MentoringRequest.id)))
