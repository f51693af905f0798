"""Sign-ups for one event decided together (app.group_commit).

In a rush, hundreds of people tap "sign up" for the same salon within a second. Decided one by one, every sign-up
holds the event's lock (a row lock on PostgreSQL, the write lock on SQLite) through its own statements and its own
commit while all the others queue behind it. Here the sign-ups of this process for the same event join one queue,
and its leader checks and decides everyone queued so far in one transaction (events.services.registration's
sign_up_many, the one rule that decides a seat: one read of the event, one lock, a constant number of statements,
one commit), giving each their registration or the error that refuses it. Other processes' batches queue on the
database's lock as single sign-ups do.

A batch that fails keeps nothing (its transaction is rolled back) and everyone in it is decided alone, so an error
reaches the person it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import make_transient_to_detached

from app.errors import DomainError
from app.extensions import commit_keeping_loaded, db
from app.group_commit import GroupCommit, Waiting, signed_in
from events.models import Registration
from events.services import registration as rules

MAX_BATCH = 200  # sign-ups in one transaction: bounds the time the lock is held and the size of its statements


@dataclass(eq=False)
class _SignUp(Waiting):
    user_id: int | None  # who signs up, when known (else `bearer` says, once checked)
    answers: dict | None
    now: datetime
    outcome: dict | None = None  # the new registration's columns (neither this nor an error: decide it alone)
    position: int | None = None  # its place on the waitlist
    registration: Registration | None = None  # the new registration, in the leader's session (for the leader)
    error: DomainError | None = None  # what refuses it

    def forget(self) -> None:
        self.outcome = self.position = self.registration = self.error = None


# ---- the ways in: what the sign-up button and the API call -------------------------------------------------------

def sign_up(event_id: int, user, *, now: datetime, answers: dict | None = None) -> tuple[Registration, bool]:
    """register_for_event, committed: what the sign-up button and the API call. It is checked and decided together
    with the other sign-ups for the same event that this process is deciding at that moment
    (events/signup_batches.py: sign_up_many, one lock, a few statements and one commit for all of them, in arrival
    order); a retry, a return after cancelling, or a batch that failed is decided alone, by register_for_event."""
    if not user.profile_complete:
        raise DomainError("profile_incomplete", _l("Please complete your profile first."), status=409)
    outcome = sign_up_together(event_id, user.id, answers=answers, now=now)
    if isinstance(outcome, DomainError):
        raise outcome
    if outcome is not None:
        return outcome, True
    registration, created = rules.register_for_event(event_id, user, now=now, answers=answers)
    commit_keeping_loaded()  # the answer shows the registration as just written, without reading it back
    return registration, created


def sign_up_with_bearer(event_id: int, bearer: str, *, now: datetime,
                        answers: dict | None = None) -> Registration | DomainError | None:
    """sign_up for an API client whose bearer token is not checked yet: the token is checked in the batch, with
    the other sign-ups' tokens in one query. Returns the new registration (committed), the error that refuses it,
    or None when it was not decided (the token is not valid, the profile is not complete, a registration exists
    already...): the caller then signs in with the token and calls sign_up, which answers or says why."""
    return sign_up_together(event_id, bearer=bearer, answers=answers, now=now)


def sign_up_together(event_id: int, user_id: int | None = None, *, bearer: str | None = None,
                     answers: dict | None, now: datetime) -> Registration | DomainError | None:
    """A sign-up checked, decided and committed in a batch (events.services.registration.sign_up_many), for a
    person whose profile is complete (`user_id`), or for whoever holds `bearer`, checked in the batch. Returns the new
    registration, the error that refuses it, or None when it must be decided alone."""
    me = _SignUp(user_id, answers, now, bearer=bearer)
    led = _sign_ups.join(event_id, me)
    if me.error is not None:
        return me.error
    if led:
        return me.registration
    return _adopt(me) if me.outcome is not None else None


def _decide(event_id: int, batch: list[_SignUp]) -> bool:
    batch = _with_their_people(batch)
    registrations = rules.sign_up_many(event_id, [(s.user_id, s.answers, s.now) for s in batch]) if batch else []
    columns = [attribute.key for attribute in sa.inspect(Registration).column_attrs]
    for sign_up, registration in zip(batch, registrations, strict=True):
        if isinstance(registration, DomainError):
            sign_up.error = registration
            continue
        sign_up.registration = registration
        if registration is not None:
            sign_up.outcome = {key: getattr(registration, key) for key in columns}
            sign_up.position = registration.known_waitlist_position
    return any(isinstance(r, Registration) for r in registrations)


def _with_their_people(batch: list[_SignUp]) -> list[_SignUp]:
    """The sign-ups whose person is known, with a complete profile (bearer tokens checked here, all at once:
    app.group_commit.signed_in; the others were checked before they queued)."""
    kept = []
    for sign_up, user in signed_in(batch, now=batch[0].now, may=lambda user: user.profile_complete):
        if user is not None:
            sign_up.user_id = user.id
        kept.append(sign_up)
    return kept


def _adopt(sign_up: _SignUp) -> Registration:
    """The registration as the leader committed it, in this thread's session (no query, no copy of the leader's
    object, which belongs to the leader's session)."""
    registration = Registration(**sign_up.outcome)
    make_transient_to_detached(registration)
    db.session.add(registration)
    registration.known_waitlist_position = sign_up.position
    return registration


_sign_ups: GroupCommit[_SignUp] = GroupCommit(_decide, name="sign-ups", max_batch=MAX_BATCH)
