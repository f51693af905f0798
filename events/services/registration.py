"""Signing up: the one rule that decides a seat, and the ways in.

A seat is decided in one place, `_decide_sign_ups`: under the event's lock (app.locking.lock_event), with one read
of the people's registrations, the event's seat counter taken for all of them in one conditional UPDATE
(events.services.seats.take_seats), their rows written in one flush, and one signal for all of them
(`registrations_signed_up`; for one person, the signal of their status). Seats go to the first while they last and
the rest wait in that order; lottery and approval events enter or hold them. Every way in is a batch of it:

- sign_up_many: a batch, the sign-ups this process is deciding together in a rush (events/signup_batches.py,
  behind sign_up and sign_up_with_bearer, which commit);
- register_for_event: one person (a batch of one), also a retry, a return after cancelling, or a batch's leftover;
- register_at_the_door: a walk-in, signed up by the door team (checkin.services.register_walk_in).

Whether registration is open is one function too, check_registration_open: the sign-up page asks it, and the rule
asks it for every sign-up with the event's status as read under the lock.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, NotFound
from app.extensions import db
from app.locking import lock_event
from events import signals
from events.models import ACTIVE_STATUSES, Event, Registration
from events.services.reading import get_event, waitlisted_count
from events.services.seats import send, status_signal, take_seats

MAX_ANSWER_LENGTH = 2000

# What decides a sign-up, read under the event's lock (an organizer may have just changed it).
SIGN_UP_SETTINGS = ("registration_seq", "status", "waitlist_mode", "lottery_drawn_at", "requires_approval",
                    "capacity", "seats_taken")

# A sign-up asked for: (user id, answers as sent, now).
Request = tuple[int, dict | None, datetime]
Outcome = Registration | DomainError | None


# ---- the ways in --------------------------------------------------------------------------------------------------

def register_for_event(event_id: int, user, *, now: datetime, answers: dict | None = None
                       ) -> tuple[Registration, bool]:
    """Sign `user` up: a batch of one. Returns (registration, created). The same person again gets the same
    registration back (a double tap or a retry never makes two); someone who cancelled signs up again on the same
    row. The outcome: confirmed (a seat was free), waitlisted (in arrival order), pending (the organizer approves),
    or entered (a lottery before its draw). Flushes; the caller commits."""
    row = db.session.execute(_event_and_registration(), {"event_id": event_id, "user_id": user.id}).first()
    if row is None or row.Event.status == "draft":
        raise NotFound("event_not_found", _l("This event does not exist."))
    if not user.profile_complete:
        raise DomainError("profile_incomplete", _l("Please complete your profile first."), status=409)
    if row.Registration is not None and row.Registration.status in ACTIVE_STATUSES:
        return row.Registration, False  # a retry, answered without taking the event's lock
    [(outcome, created)] = _decide_sign_ups(event_id, [(user.id, answers, now)], alone=True)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome, created


def register_at_the_door(event_id: int, user, *, now: datetime) -> tuple[Registration, bool]:
    """A walk-in: the door team signs `user` up on the spot, also after the start (no questions, no approval, no
    lottery), if a seat is free: a batch of one, at the door. Returns (registration, newly_confirmed). Someone who
    already holds a confirmed seat keeps it (newly_confirmed False); an offered seat is confirmed; anyone else takes
    a seat or gets event_full. Who may do this and when the doors are open are check-in's rules
    (checkin.services.register_walk_in)."""
    [(outcome, confirmed)] = _decide_sign_ups(event_id, [(user.id, None, now)], alone=True, at_the_door=True)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome, confirmed


def sign_up_many(event_id: int, requests: list[Request]) -> list[Outcome]:
    """First sign-ups of several people for one event, checked and decided under one lock in the order given: each
    request is (user id, answers as sent, now). Written in a constant number of statements (four on the event and
    its registrations, then the signal's receivers for all of them at once).

    Returns, in the same order, each one's new registration, the error that refuses it (the event does not exist
    or is closed, an answer is wrong), or None for one to be decided alone (register_for_event): the person has a
    registration already (a retry, a return after cancelling) or appears twice. Flushes; the caller commits, or
    rolls back when nothing was decided."""
    return [outcome for outcome, _ in _decide_sign_ups(event_id, requests, alone=False)]


# ---- is registration open ------------------------------------------------------------------------------------------

def check_registration_open(event: Event, *, now: datetime, status: str | None = None,
                            at_the_door: bool = False) -> None:
    """Raises the error that says why nobody can sign up for `event` at `now`; returns when registration is open.
    `status`: the event's status as read under its lock, when deciding (an organizer may have just cancelled it).
    At the door (a walk-in), only the status counts: walk-ins come after the start and outside the sign-up window."""
    status = event.status if status is None else status
    if status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if status != "published":
        raise NotFound("event_not_found", _l("This event does not exist."))
    if at_the_door:
        return
    if event.starts_at <= now:
        raise DomainError("event_past", _l("This event has already started or ended."), status=409)
    if event.registration_opens_at and now < event.registration_opens_at:
        raise DomainError("registration_not_open", _l("Sign-up has not opened yet."), status=409,
                          opens_at=event.registration_opens_at.isoformat())
    if event.registration_closes_at and now >= event.registration_closes_at:
        raise DomainError("registration_closed", _l("Sign-up is closed."), status=409)


def validate_answers(event: Event, answers) -> dict:
    """Answers to the event's questions: required ones present, choices among the options, links as links."""
    answers = answers or {}
    if not isinstance(answers, dict):
        raise DomainError("invalid_answers", _l("Answers must be given per question."))
    errors, cleaned = {}, {}
    questions = {q["id"]: q for q in event.questions or []}
    for qid in answers:
        if qid not in questions:
            errors[str(qid)[:40]] = _l("There is no such question.")
    for qid, question in questions.items():
        value = answers.get(qid)
        if value is None or (isinstance(value, str) and not value.strip()):
            if question.get("required"):
                errors[qid] = _l("Please answer this question.")
            continue
        if not isinstance(value, str):
            errors[qid] = _l("Please answer with text.")
            continue
        value = value.strip()
        if len(value) > MAX_ANSWER_LENGTH:
            errors[qid] = _l("At most %(n)d characters.", n=MAX_ANSWER_LENGTH)
        elif question["kind"] == "choice" and value not in question["choices"]:
            errors[qid] = _l("Please choose one of the options.")
        elif question["kind"] == "url" and not value.lower().startswith(("https://", "http://")):
            errors[qid] = _l("Please give a link starting with https://")
        else:
            cleaned[qid] = value
    if errors:
        raise DomainError("invalid_answers", _l("Please correct the highlighted answers."),
                          fields={k: str(v) for k, v in errors.items()})
    return cleaned


# ---- the rule -----------------------------------------------------------------------------------------------------

@dataclass
class _Seat:
    """A sign-up decided, not yet written."""
    index: int
    user_id: int
    now: datetime
    status: str
    answers: dict | None  # None: keep theirs (at the door)
    registration: Registration | None  # theirs, when they have one
    arrives: bool  # counts as a new arrival: a new place in arrival order (new, or back after leaving)


def _decide_sign_ups(event_id: int, requests: list[Request], *, alone: bool, at_the_door: bool = False
                     ) -> list[tuple[Outcome, bool]]:
    """Decide sign-ups of one event under its lock, in the order given: for each, (its registration, the error
    that refuses it, or None: left to be decided alone; whether it was decided now). `alone`: also decide people
    who have a registration already (one whose registration is active gets it back, unchanged; one who left comes
    back on the same row, with a new ticket version); a batch leaves them, and the same person twice, to
    register_for_event. `at_the_door`: a walk-in: any time while the event is published, no questions, no approval
    or lottery, a seat or event_full (an offered seat is confirmed; a confirmed one is kept).

    Statements: the event (already in the session for a single sign-up), the lock, the people's registrations,
    the waitlist's length (a batch where someone joins it), the seat counter, the new rows, then the signal's
    receivers."""
    try:
        event = get_event(event_id)
    except DomainError as error:
        return [(error, False)] * len(requests)
    locked = lock_event(event_id, *SIGN_UP_SETTINGS)
    theirs = {registration.user_id: registration for registration in db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event_id,
                                      Registration.user_id.in_([user_id for user_id, _, _ in requests]))
        .execution_options(populate_existing=True))}  # as they are under the lock (a parallel retry may have won)
    decided: list[tuple[Outcome, bool]] = [(None, False)] * len(requests)
    kept = ("confirmed",) if at_the_door else ACTIVE_STATUSES  # a registration that is the answer by itself
    fixed = None if at_the_door else _first_status(locked)
    free = _free_seats(locked)
    seats, seen, plans = 0, set(), []
    for index, (user_id, answers, now) in enumerate(requests):
        theirs_now = theirs.get(user_id)
        if user_id in seen or (theirs_now is not None and not alone):
            continue  # decided alone
        seen.add(user_id)
        if theirs_now is not None and theirs_now.status in kept:
            decided[index] = (theirs_now, False)
            continue
        try:
            check_registration_open(event, now=now, status=locked.status, at_the_door=at_the_door)
            if theirs_now is not None and theirs_now.status == "rejected":
                raise DomainError("registration_rejected", _l("The organizer declined this registration.")
                                  if at_the_door else _l("The organizer declined your registration."), status=409)
            cleaned = None if at_the_door else validate_answers(event, answers)
        except DomainError as error:
            decided[index] = (error, False)
            continue
        status = fixed
        if status is None:
            if at_the_door and theirs_now is not None and theirs_now.status == "offered":
                status = "confirmed"  # the seat offered to them is theirs already
            elif free is None or seats < free:
                status, seats = "confirmed", seats + 1
            elif at_the_door:
                decided[index] = (DomainError("event_full", _l("No seats are left."), status=409), False)
                continue
            else:
                status = "waitlisted"
        arrives = theirs_now is None or theirs_now.status not in ACTIVE_STATUSES
        plans.append(_Seat(index, user_id, now, status, cleaned, theirs_now, arrives))
    if not plans:
        return decided
    # A batch tells each newcomer on the waitlist their place, counting those ahead once for all of them (nobody of
    # the batch is written yet). A single sign-up leaves it to waitlist_position, asked when shown: its object stays
    # in the session, where a place kept on it would go stale.
    waiting = [plan for plan in plans if plan.status == "waitlisted"] if not alone else []
    ahead = waitlisted_count(event_id) if waiting else 0
    arrivals = 0
    for plan in plans:
        seq = None
        if plan.arrives:
            arrivals += 1
            seq = locked.registration_seq + arrivals
        decided[plan.index] = (_write(plan, event_id, seq), True)
    for position, plan in enumerate(waiting, start=1):
        decided[plan.index][0].known_waitlist_position = ahead + position
    if arrivals or seats:
        take_seats(event_id, arrivals=arrivals, seats=seats)
    registrations = [decided[plan.index][0] for plan in plans]
    db.session.add_all(registrations)
    db.session.flush()
    if alone:  # one person: the signal of their status, as every other change of a registration sends
        for registration in registrations:
            send(status_signal(registration.status), registration)
    else:  # a batch: one signal for all of them, so that receivers write for all of them at once
        signals.registrations_signed_up.send(None, event_id=event_id, registrations=[
            {"registration_id": r.id, "user_id": r.user_id, "signal_name": status_signal(r.status).name}
            for r in registrations])
    return decided


def _write(plan: _Seat, event_id: int, seq: int | None) -> Registration:
    """The registration as decided: a new row, or theirs changed (not flushed yet)."""
    confirmed_at = plan.now if plan.status == "confirmed" else None
    registration = plan.registration
    if registration is None:
        return Registration(event_id=event_id, user_id=plan.user_id, status=plan.status, answers=plan.answers or {},
                            created_at=plan.now, waitlist_seq=seq, confirmed_at=confirmed_at)
    if plan.arrives:  # back after leaving: the old ticket stays cancelled, the new one has its own version
        registration.version += 1
        registration.waitlist_seq = seq
    if plan.answers is not None:
        registration.answers = plan.answers
    registration.status = plan.status
    registration.confirmed_at = confirmed_at
    registration.cancelled_at = None
    registration.offer_expires_at = None
    return registration


def _first_status(locked) -> str | None:
    """A new sign-up's status when it does not depend on a free seat: entered (a lottery before its draw), pending
    (approval); None: a seat if one is free, else the waitlist."""
    if locked.waitlist_mode == "lottery" and locked.lottery_drawn_at is None:
        return "entered"
    if locked.requires_approval:
        return "pending"
    return None


def _free_seats(locked) -> int | None:
    """Seats still free, as read under the lock; None: no limit."""
    return None if locked.capacity is None else max(locked.capacity - locked.seats_taken, 0)


@functools.cache
def _event_and_registration():
    """Built once (every single sign-up runs it): an event and one person's registration for it, in one
    statement."""
    return sa.select(Event, Registration).outerjoin(Registration, sa.and_(
        Registration.event_id == Event.id, Registration.user_id == sa.bindparam("user_id"))
    ).where(Event.id == sa.bindparam("event_id"))
