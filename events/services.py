"""Rules of events: creating and changing events, signing up, capacity, approval, the waitlist, offers, lotteries.

Capacity is decided in the database: a sign-up takes a seat with a conditional UPDATE of the event's seat counter
(`seats_taken < capacity`), inside a transaction that first locks the event row, so seats are never oversold on
SQLite (one writer) or PostgreSQL (row lock) whatever the concurrency. Services flush; callers commit once, except
sign_up, which commits: under a rush it decides many sign-ups together in one transaction (events/signup_batches.py).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from events import signals
from events.models import (
    ACTIVE_STATUSES,
    EVENT_KINDS,
    SEAT_HOLDING_STATUSES,
    WAITLIST_MODES,
    Event,
    LotterySecret,
    Registration,
)

MAX_CAPACITY = 100_000
QUESTION_KINDS = ("text", "choice", "url")
MAX_ANSWER_LENGTH = 2000

# ---- reading -------------------------------------------------------------------------------------------------


def upcoming_events(*, now: datetime, kind: str | None = None, until: datetime | None = None,
                    user_id: int | None = None, limit: int = 100) -> list[Event]:
    """Published events that have not ended yet, soonest first; optionally of one kind, before `until`, or only
    those `user_id` is signed up for."""
    query = sa.select(Event).where(Event.status == "published", Event.ends_at >= now)
    if kind in EVENT_KINDS:
        query = query.where(Event.kind == kind)
    if until is not None:
        query = query.where(Event.starts_at < until)
    if user_id is not None:
        query = query.join(Registration, Registration.event_id == Event.id).where(
            Registration.user_id == user_id, Registration.status.in_(ACTIVE_STATUSES))
    return list(db.session.scalars(query.order_by(Event.starts_at, Event.id).limit(limit)))


def get_event(event_id: int, *, include_drafts: bool = False) -> Event:
    """An event people may see: published or cancelled (drafts only for organizers)."""
    event = db.session.get(Event, event_id)
    if event is None or (event.status == "draft" and not include_drafts):
        raise NotFound("event_not_found", _l("This event does not exist."))
    return event


get_published_event = get_event


def get_registration(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise NotFound("registration_not_found", _l("This registration does not exist."))
    return registration


def registration_of(event_id: int, user_id: int) -> Registration | None:
    return db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event_id, Registration.user_id == user_id)
    ).first()


def waitlist_position(registration: Registration) -> int | None:
    """1 for the next person to get a seat; None when not on the waitlist."""
    if registration.status != "waitlisted":
        return None
    if registration.known_waitlist_position is not None:
        return registration.known_waitlist_position
    ahead = db.session.scalar(
        sa.select(sa.func.count()).select_from(Registration).where(
            Registration.event_id == registration.event_id, Registration.status == "waitlisted",
            Registration.waitlist_seq < registration.waitlist_seq)
    )
    return ahead + 1


def _waitlisted_count(event_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.status == "waitlisted"))


def no_show_count(user_id: int, *, now: datetime) -> int:
    """Past events where this person held a confirmed seat and did not come, counting only events where
    check-in was actually run (otherwise everyone would look absent)."""
    checked = sa.select(Registration.event_id).where(Registration.checked_in_at.is_not(None)).distinct()
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Registration).join(Event, Event.id == Registration.event_id).where(
            Registration.user_id == user_id, Registration.status == "confirmed",
            Registration.checked_in_at.is_(None), Event.ends_at < now, Event.id.in_(checked))
    )


def registration_counts(event_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count()).where(Registration.event_id == event_id)
        .group_by(Registration.status)
    ).all()
    return {status: count for status, count in rows}


# ---- organizers' permission ------------------------------------------------------------------------------------

def authorize_organizer(user, event: Event) -> None:
    """Organizers of this event (or global organizers and admins) may manage it."""
    from app.authz import authorize, scope_key

    authorize(user, "organizer", scope_key("event", event.id))


def organized_event(event_id: int, user) -> Event:
    """The event (drafts included) if `user` organizes it: 404 unknown, 401 signed out, 403 otherwise."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(user, event)
    return event


# ---- creating and changing events ------------------------------------------------------------------------------

EDITABLE_FIELDS = ("kind", "title", "title_en", "summary", "description", "venue", "starts_at", "ends_at",
                   "capacity", "requires_approval", "registration_opens_at", "registration_closes_at",
                   "waitlist_mode", "offer_hours", "lottery_draw_at", "questions", "pitch_slots_capacity",
                   "pitch_applications_open")
# Changes that people who signed up must hear about (and that calendars must show).
NOTIFIED_FIELDS = ("starts_at", "ends_at", "venue")


def create_event(organizer, *, now: datetime, status: str = "draft", **fields) -> Event:
    """Create an event (draft or published) after checking every field; the creator organizes it."""
    from app.accounts.services import grant_role
    from app.authz import authorize, scope_key

    authorize(organizer, "organizer")
    values = {"kind": "salon", "title_en": "", "summary": "", "description": "", "venue": "", "capacity": None,
              "requires_approval": False, "waitlist_mode": "auto", "offer_hours": 12, "questions": []}
    values.update({k: v for k, v in fields.items() if k in EDITABLE_FIELDS})
    _validate_event_fields(values, now=now, creating=True)
    if status not in ("draft", "published"):
        raise _invalid({"status": _l("Choose draft or published.")})
    event = Event(status=status, created_by_id=organizer.id, **values)
    db.session.add(event)
    db.session.flush()
    if event.waitlist_mode == "lottery":
        _prepare_lottery(event)
    grant_role(organizer, "organizer", scope_key("event", event.id))
    if status == "published":
        signals.event_published.send(None, event_id=event.id)
    return event


def update_event(event_id: int, actor, *, now: datetime, **fields) -> Event:
    """Change an event. Moving its time or place raises its calendar SEQUENCE and tells everyone signed up;
    raising capacity moves the waitlist up; capacity can never go below the seats already taken."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(actor, event)
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    _lock_event(event.id)
    db.session.refresh(event)
    values = {field: getattr(event, field) for field in EDITABLE_FIELDS}
    changed = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS and v != values[k]}
    values.update(changed)
    _validate_event_fields(values, now=now, creating=False)
    if values["capacity"] is not None and values["capacity"] < event.seats_taken:
        raise _invalid({"capacity": _l("%(n)d seats are already taken; capacity cannot be lower.",
                                       n=event.seats_taken)})
    if changed.get("pitch_slots_capacity") is not None:  # pitching: never fewer slots than teams accepted
        from events.pitching import accepted_count

        accepted = accepted_count(event.id)  # under the event lock, as pitching decisions are
        if changed["pitch_slots_capacity"] < accepted:
            raise _invalid({"pitch_slots_capacity": _l(
                "%(n)d teams are already accepted; there cannot be fewer pitch slots.", n=accepted)})
    if "waitlist_mode" in changed and (changed["waitlist_mode"] == "lottery" or event.waitlist_mode == "lottery") \
            and event.registration_seq > 0:
        raise _invalid({"waitlist_mode": _l("The lottery cannot be switched on or off after sign-ups began.")})
    old = {k: getattr(event, k) for k in changed}
    for key, value in changed.items():
        setattr(event, key, value)
    if event.waitlist_mode == "lottery" and not event.lottery_seed_hash:
        _prepare_lottery(event)
    if changed:
        event.sequence += 1
    db.session.flush()
    notified = {k: (old[k], changed[k]) for k in changed if k in NOTIFIED_FIELDS}
    if notified and event.status == "published":
        signals.event_changed.send(None, event_id=event.id, changes=notified)
    if "capacity" in changed:
        _fill_free_seats(event, now=now)
    return event


def publish_event(event_id: int, actor, *, now: datetime) -> Event:
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(actor, event)
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if event.status != "published":
        event.status = "published"
        event.sequence += 1
        signals.event_published.send(None, event_id=event.id)
    return event


def cancel_event(event_id: int, actor, *, reason: str = "", now: datetime) -> Event:
    """Cancel an event: calendars show it cancelled, tickets stop working, and everyone signed up is told."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(actor, event)
    if event.status == "cancelled":
        return event
    event.status = "cancelled"
    event.cancelled_reason = (reason or "").strip()[:300]
    event.sequence += 1
    db.session.flush()
    signals.event_cancelled.send(None, event_id=event.id, reason=event.cancelled_reason)
    return event


def _invalid(fields: dict) -> DomainError:
    return DomainError("invalid_event", _l("Please correct the highlighted fields."),
                       fields={k: str(v) for k, v in fields.items()})


def _validate_event_fields(values: dict, *, now: datetime, creating: bool) -> None:
    errors = {}
    values["title"] = (values.get("title") or "").strip()
    if not values["title"]:
        errors["title"] = _l("Please enter a title.")
    for field, limit in (("title", 200), ("title_en", 200), ("summary", 300), ("venue", 200),
                         ("description", 20_000)):
        values[field] = (values.get(field) or "").strip() if field != "title" else values["title"]
        if len(values[field]) > limit:
            errors[field] = _l("At most %(n)d characters.", n=limit)
    if values.get("kind") not in EVENT_KINDS:
        errors["kind"] = _l("Please choose one of the options.")
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    for field in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "lottery_draw_at"):
        value = values.get(field)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            errors[field] = _l("Give the time with its offset, e.g. 2026-12-03T19:00:00+08:00.")
    if "starts_at" not in errors and starts_at is None:
        errors["starts_at"] = _l("Please give a start time.")
    if "ends_at" not in errors and ends_at is None:
        errors["ends_at"] = _l("Please give an end time.")
    if not errors.keys() & {"starts_at", "ends_at"}:
        if ends_at <= starts_at:
            errors["ends_at"] = _l("The end must be after the start.")
        elif creating and ends_at < now:
            errors["ends_at"] = _l("This time is in the past.")
    capacity = values.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool)
                                 or not 0 <= capacity <= MAX_CAPACITY):
        errors["capacity"] = _l("Capacity must be a whole number from 0 to %(n)d.", n=MAX_CAPACITY)
    if values.get("waitlist_mode") not in WAITLIST_MODES:
        errors["waitlist_mode"] = _l("Please choose one of the options.")
    offer_hours = values.get("offer_hours")
    if not isinstance(offer_hours, int) or not 1 <= offer_hours <= 168:
        errors["offer_hours"] = _l("Between 1 and 168 hours.")
    if values.get("waitlist_mode") == "lottery":
        draw_at = values.get("lottery_draw_at")
        if draw_at is None:
            errors["lottery_draw_at"] = _l("A lottery needs a draw time.")
        elif "starts_at" not in errors and starts_at and draw_at >= starts_at:
            errors["lottery_draw_at"] = _l("The draw must be before the event starts.")
        if capacity is None:
            errors["capacity"] = _l("A lottery needs a capacity.")
    opens, closes = values.get("registration_opens_at"), values.get("registration_closes_at")
    if opens and closes and closes <= opens and "registration_closes_at" not in errors:
        errors["registration_closes_at"] = _l("Sign-up must close after it opens.")
    question_error = _validate_questions(values.get("questions") or [])
    if question_error:
        errors["questions"] = question_error
    pitch_slots = values.get("pitch_slots_capacity")
    if pitch_slots is not None and (not isinstance(pitch_slots, int) or not 0 <= pitch_slots <= 200):
        errors["pitch_slots_capacity"] = _l("Between 0 and 200.")
    if errors:
        raise _invalid(errors)


def _validate_questions(questions) -> str | None:
    if not isinstance(questions, list) or len(questions) > 20:
        return _l("At most 20 questions.")
    seen = set()
    for question in questions:
        if not isinstance(question, dict):
            return _l("Each question needs an id, a label and a kind.")
        qid, label, kind = question.get("id"), question.get("label"), question.get("kind")
        if not (isinstance(qid, str) and qid and isinstance(label, str) and label and kind in QUESTION_KINDS):
            return _l("Each question needs an id, a label and a kind.")
        if qid in seen:
            return _l("Question ids must be unique.")
        seen.add(qid)
        if kind == "choice" and not (isinstance(question.get("choices"), list) and question["choices"]):
            return _l("A choice question needs its choices.")
    return None


def _prepare_lottery(event: Event) -> None:
    """Commit to the seed now (publish its hash, keep the seed apart); reveal it at the draw, so nobody can pick
    a convenient seed afterwards."""
    seed = secrets.token_hex(32)
    event.lottery_seed = None
    event.lottery_seed_hash = hashlib.sha256(seed.encode()).hexdigest()
    db.session.flush()
    db.session.merge(LotterySecret(event_id=event.id, seed=seed))


# ---- signing up ------------------------------------------------------------------------------------------------

# Counter updates keep updated_at as it is: it tells calendars when the event itself last changed.
_KEEP_UPDATED_AT = {"updated_at": Event.updated_at}


# What decides a sign-up, read under the event's lock (an organizer may have just changed it).
_SIGN_UP_SETTINGS = (Event.registration_seq, Event.status, Event.waitlist_mode, Event.lottery_drawn_at,
                     Event.requires_approval, Event.capacity, Event.seats_taken)


def _lock_event(event_id: int):
    """Serialise sign-ups and seat changes of one event: a row lock on PostgreSQL, the write lock on SQLite, until
    commit. Returns the event's sign-up settings as they are under the lock."""
    return db.session.execute(
        sa.update(Event).where(Event.id == event_id)
        .values(registration_seq=Event.registration_seq, **_KEEP_UPDATED_AT).returning(*_SIGN_UP_SETTINGS)
    ).one()


def _next_seq(event_id: int):
    """Take the next arrival number, locking the event row until commit. Returns it with the sign-up settings, as
    they are under the lock."""
    return db.session.execute(
        sa.update(Event).where(Event.id == event_id)
        .values(registration_seq=Event.registration_seq + 1, **_KEEP_UPDATED_AT).returning(*_SIGN_UP_SETTINGS)
    ).one()


def _advance(event_id: int, *, arrivals: int, seats: int) -> None:
    """Count `arrivals` new sign-ups and take `seats` seats (under the lock _lock_event took). The seats are
    still taken with a condition, so that even a mistake here could not oversell."""
    taken = db.session.execute(
        sa.update(Event).where(Event.id == event_id,
                               sa.or_(Event.capacity.is_(None), Event.seats_taken + seats <= Event.capacity))
        .values(registration_seq=Event.registration_seq + arrivals, seats_taken=Event.seats_taken + seats,
                **_KEEP_UPDATED_AT).execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise RuntimeError(f"event {event_id}: {seats} seats are not free under the lock")


def _take_seat(event_id: int) -> bool:
    """Take one seat if one is free: decided by the database in one conditional UPDATE."""
    return db.session.execute(
        sa.update(Event).where(Event.id == event_id,
                               sa.or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity))
        .values(seats_taken=Event.seats_taken + 1, **_KEEP_UPDATED_AT).execution_options(synchronize_session=False)
    ).rowcount == 1


def _free_seat(event_id: int) -> None:
    db.session.execute(
        sa.update(Event).where(Event.id == event_id, Event.seats_taken > 0)
        .values(seats_taken=Event.seats_taken - 1, **_KEEP_UPDATED_AT).execution_options(synchronize_session=False)
    )


def check_registration_open(event: Event, *, now: datetime) -> None:
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if event.status != "published":
        raise NotFound("event_not_found", _l("This event does not exist."))
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


def register_for_event(event_id: int, user, *, now: datetime, answers: dict | None = None
                       ) -> tuple[Registration, bool]:
    """Sign `user` up. Returns (registration, created). The same person again gets the same registration back
    (a double tap or a retry never makes two). The outcome: confirmed (a seat was free), waitlisted (in arrival
    order), pending (the organizer approves), or entered (a lottery before its draw). Flushes; the caller commits."""
    event, existing, cleaned = _checked_sign_up(event_id, user, now=now, answers=answers)
    if cleaned is None:
        return existing, False
    return _register_under_lock(event.id, user.id, now=now, answers=cleaned)


def sign_up(event_id: int, user, *, now: datetime, answers: dict | None = None) -> tuple[Registration, bool]:
    """register_for_event, committed: what the sign-up button and the API call. It is checked and decided together
    with the other sign-ups for the same event that this process is deciding at that moment
    (events/signup_batches.py: one lock, a few statements and one commit for all of them, in arrival order); a
    retry, a return after cancelling, or a batch that failed is decided alone, as register_for_event does."""
    from app.extensions import commit_keeping_loaded
    from events import signup_batches

    if not user.profile_complete:
        raise DomainError("profile_incomplete", _l("Please complete your profile first."), status=409)
    outcome = signup_batches.sign_up_together(event_id, user.id, answers=answers, now=now)
    if isinstance(outcome, DomainError):
        raise outcome
    if outcome is not None:
        return outcome, True
    registration, created = register_for_event(event_id, user, now=now, answers=answers)
    commit_keeping_loaded()  # the answer shows the registration as just written, without reading it back
    return registration, created


def sign_up_with_bearer(event_id: int, bearer: str, *, now: datetime, answers: dict | None = None
                        ) -> Registration | DomainError | None:
    """sign_up for an API client whose bearer token is not checked yet: the token is checked in the batch, with
    the other sign-ups' tokens in one query. Returns the new registration (committed), the error that refuses it,
    or None when it was not decided (the token is not valid, the profile is not complete, a registration exists
    already...): the caller then signs in with the token and calls sign_up, which answers or says why."""
    from events import signup_batches

    return signup_batches.sign_up_together(event_id, bearer=bearer, answers=answers, now=now)


def _checked_sign_up(event_id: int, user, *, now: datetime, answers) -> tuple[Event, Registration | None, dict | None]:
    """What is checked before the event is locked. Returns (event, their registration if any, the cleaned answers),
    with no answers when they already hold an active registration (which is the answer to a repeat)."""
    row = db.session.execute(_event_and_registration(), {"event_id": event_id, "user_id": user.id}).first()
    if row is None or row.Event.status == "draft":
        raise NotFound("event_not_found", _l("This event does not exist."))
    event, existing = row
    if not user.profile_complete:
        raise DomainError("profile_incomplete", _l("Please complete your profile first."), status=409)
    if existing is not None and existing.status in ACTIVE_STATUSES:
        return event, existing, None
    check_registration_open(event, now=now)
    return event, existing, validate_answers(event, answers)


@functools.cache
def _event_and_registration():
    """Built once (every sign-up runs it): an event and one person's registration for it, in one statement."""
    return sa.select(Event, Registration).outerjoin(Registration, sa.and_(
        Registration.event_id == Event.id, Registration.user_id == sa.bindparam("user_id"))
    ).where(Event.id == sa.bindparam("event_id"))


def _register_under_lock(event_id: int, user_id: int, *, now: datetime, answers: dict) -> tuple[Registration, bool]:
    locked = _next_seq(event_id)  # locks the event row until commit
    existing = registration_of(event_id, user_id)  # re-read under the lock: a parallel retry may have won
    if existing is not None and existing.status in ACTIVE_STATUSES:
        return existing, False
    if existing is not None and existing.status == "rejected":
        raise DomainError("registration_rejected", _l("The organizer declined your registration."), status=409)
    _check_still_open(locked.status)
    status = _first_status(locked)
    if status is None:
        status = "confirmed" if _take_seat(event_id) else "waitlisted"

    registration = existing or Registration(event_id=event_id, user_id=user_id)
    registration.status = status
    registration.waitlist_seq = locked.registration_seq
    registration.answers = answers
    registration.created_at = registration.created_at or now
    registration.confirmed_at = now if status == "confirmed" else None
    registration.cancelled_at = None
    registration.offer_expires_at = None
    if existing is not None:
        registration.version += 1
    db.session.add(registration)
    db.session.flush()
    _send(status_signal(status), registration)
    return registration, True


def _check_still_open(status: str) -> None:
    """The event's status as read under the lock (an organizer may have just cancelled it)."""
    if status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if status != "published":
        raise NotFound("event_not_found", _l("This event does not exist."))


def _first_status(locked) -> str | None:
    """A new sign-up's status when it does not depend on a free seat: entered (a lottery before its draw), pending
    (approval); None: a seat if one is free, else the waitlist."""
    if locked.waitlist_mode == "lottery" and locked.lottery_drawn_at is None:
        return "entered"
    if locked.requires_approval:
        return "pending"
    return None


def sign_up_many(event_id: int, requests: list[tuple[int, dict | None, datetime]]
                 ) -> list[Registration | DomainError | None]:
    """First sign-ups of several people for one event, checked and decided under one lock in the order given: each
    request is (user id, answers as sent, now). Seats go to the first while they last, the rest wait in that order;
    lottery and approval events enter or hold them all. Written in a constant number of statements (four on the
    event and its registrations, then the signal's receivers for all of them at once).

    Returns, in the same order, each one's new registration, the error that refuses it (the event does not exist
    or is closed, an answer is wrong), or None for one to be decided alone (register_for_event): the person has a
    registration already (a retry, a return after cancelling), appears twice, or the event was cancelled meanwhile.
    Flushes; the caller commits, or rolls back when nothing was decided."""
    try:
        event = get_event(event_id)
    except DomainError as error:
        return [error] * len(requests)
    locked = _lock_event(event_id)
    users = [user_id for user_id, _, _ in requests]
    known = set(db.session.scalars(sa.select(Registration.user_id).where(
        Registration.event_id == event_id, Registration.user_id.in_(users))))
    decided: list[Registration | DomainError | None] = [None] * len(requests)
    if locked.status != "published":
        return decided
    fresh, cleaned = [], {}
    for index, (user_id, answers, now) in enumerate(requests):
        if user_id in known:
            continue  # decided alone: a registration of theirs is the answer, or is reopened
        known.add(user_id)
        try:
            check_registration_open(event, now=now)
            cleaned[index] = validate_answers(event, answers)
        except DomainError as error:
            decided[index] = error
        else:
            fresh.append(index)
    if not fresh:
        return decided
    fixed = _first_status(locked)
    free = None if locked.capacity is None else max(locked.capacity - locked.seats_taken, 0)
    seats = waiting = 0
    for offset, index in enumerate(fresh):
        user_id, _, now = requests[index]
        status = fixed
        if status is None:
            status = "confirmed" if free is None or seats < free else "waitlisted"
            seats += status == "confirmed"
        registration = decided[index] = Registration(
            event_id=event_id, user_id=user_id, status=status, answers=cleaned[index], created_at=now,
            waitlist_seq=locked.registration_seq + 1 + offset, confirmed_at=now if status == "confirmed" else None)
        if status == "waitlisted":
            waiting += 1
            registration.known_waitlist_position = waiting  # plus those already waiting, counted below
    if waiting:
        ahead = _waitlisted_count(event_id)  # all of them arrived before this batch
        for index in fresh:
            if decided[index].status == "waitlisted":
                decided[index].known_waitlist_position += ahead
    _advance(event_id, arrivals=len(fresh), seats=seats)
    registrations = [decided[index] for index in fresh]
    db.session.add_all(registrations)
    db.session.flush()
    signals.registrations_signed_up.send(None, event_id=event_id, registrations=[
        {"registration_id": r.id, "user_id": r.user_id, "signal_name": status_signal(r.status).name}
        for r in registrations])
    return decided


def register_at_the_door(event_id: int, user, *, now: datetime) -> tuple[Registration, bool]:
    """A walk-in: the door team signs `user` up on the spot, also after the start (no questions, no approval, no
    lottery), if a seat is free. Returns (registration, newly_confirmed). Someone who already holds a confirmed
    seat keeps it (newly_confirmed False); an offered seat is confirmed; anyone else takes one seat with the same
    conditional UPDATE as a sign-up, under the event lock, or gets event_full. Who may do this and when the doors
    are open are check-in's rules (checkin.services.register_walk_in)."""
    event = get_event(event_id)
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    locked = _next_seq(event.id)  # locks the event row until commit
    if locked.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if locked.status != "published":
        raise NotFound("event_not_found", _l("This event does not exist."))
    registration = registration_of(event.id, user.id)
    if registration is not None:
        db.session.refresh(registration)  # as it is under the lock (a parallel walk-in of the same person)
        if registration.status == "confirmed":
            return registration, False
        if registration.status == "rejected":
            raise DomainError("registration_rejected", _l("The organizer declined this registration."), status=409)
    if (registration is None or registration.status != "offered") and not _take_seat(event.id):
        raise DomainError("event_full", _l("No seats are left."), status=409)
    if registration is None:
        registration = Registration(event_id=event.id, user_id=user.id, waitlist_seq=locked.registration_seq,
                                    answers={}, created_at=now)
    elif registration.status not in ACTIVE_STATUSES:
        registration.version += 1  # a cancelled ticket stays cancelled; the new one has its own version
        registration.waitlist_seq = locked.registration_seq
    registration.status = "confirmed"
    registration.confirmed_at = now
    registration.cancelled_at = None
    registration.offer_expires_at = None
    db.session.add(registration)
    db.session.flush()
    _send(signals.registration_confirmed, registration)
    return registration, True


def status_signal(status: str):
    return {"confirmed": signals.registration_confirmed, "waitlisted": signals.registration_waitlisted,
            "pending": signals.registration_pending, "entered": signals.registration_entered_lottery}[status]


def _send(signal, registration: Registration, **extra) -> None:
    signal.send(None, registration_id=registration.id, event_id=registration.event_id,
                user_id=registration.user_id, **extra)


def cancel_registration(registration_id: int, actor, *, now: datetime) -> Registration:
    """The person cancels (or leaves the waitlist). A freed seat goes to the next in line at once."""
    registration = get_registration(registration_id)
    if registration.user_id != actor.id:
        authorize_organizer(actor, registration.event)
    if registration.status not in ACTIVE_STATUSES:
        return registration  # already cancelled: cancelling twice is not an error
    _lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status not in ACTIVE_STATUSES:
        return registration
    held_seat = registration.status in SEAT_HOLDING_STATUSES
    registration.status = "cancelled"
    registration.cancelled_at = now
    registration.offer_expires_at = None
    registration.version += 1  # the old ticket stops working
    db.session.flush()
    _send(signals.registration_cancelled, registration)
    if held_seat:
        _free_seat(registration.event_id)
        _fill_free_seats(registration.event, now=now)
    return registration


def approve_registration(registration_id: int, organizer, *, now: datetime) -> Registration:
    """Approve a pending sign-up: a seat if one is free, otherwise the waitlist in arrival order."""
    registration = get_registration(registration_id)
    authorize_organizer(organizer, registration.event)
    _lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status != "pending":
        raise DomainError("not_pending", _l("Only pending registrations can be approved."), status=409)
    registration.decided_by_id = organizer.id
    if _take_seat(registration.event_id):
        registration.status, registration.confirmed_at = "confirmed", now
    else:
        registration.status = "waitlisted"
    db.session.flush()
    _send(signals.registration_approved, registration, outcome=registration.status)
    return registration


def reject_registration(registration_id: int, organizer, *, now: datetime) -> Registration:
    """Decline a sign-up (pending, waitlisted or even confirmed); a seat it held moves to the next in line."""
    registration = get_registration(registration_id)
    authorize_organizer(organizer, registration.event)
    _lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status not in ACTIVE_STATUSES:
        raise DomainError("not_active", _l("This registration is no longer active."), status=409)
    held_seat = registration.status in SEAT_HOLDING_STATUSES
    registration.status = "rejected"
    registration.decided_by_id = organizer.id
    registration.version += 1
    db.session.flush()
    _send(signals.registration_rejected, registration)
    if held_seat:
        _free_seat(registration.event_id)
        _fill_free_seats(registration.event, now=now)
    return registration


def decide_registrations(event_id: int, registration_ids: list[int], organizer, *, approve: bool, now: datetime
                         ) -> list[Registration]:
    """Approve or reject many sign-ups of one event at once, in arrival order (earlier sign-ups get free seats
    first). All or nothing: one that cannot be decided stops the whole batch."""
    registrations = [get_registration(i) for i in dict.fromkeys(registration_ids)]
    if any(r.event_id != event_id for r in registrations):
        raise NotFound("registration_not_found", _l("This registration does not exist."))
    registrations.sort(key=lambda r: (r.event_id, r.waitlist_seq))
    decide = approve_registration if approve else reject_registration
    return [decide(r.id, organizer, now=now) for r in registrations]


def _fill_free_seats(event: Event, *, now: datetime) -> list[Registration]:
    """Give free seats to the waitlist in order: confirmed at once (auto), or held as an offer (offer window).
    The caller holds the event lock. Each step is a conditional update, so a person leaving the waitlist at the
    same moment is simply skipped."""
    promoted = []
    if event.waitlist_mode == "lottery" and event.lottery_drawn_at is None:
        return promoted
    while True:
        candidate = db.session.scalars(
            sa.select(Registration).where(Registration.event_id == event.id, Registration.status == "waitlisted")
            .order_by(Registration.waitlist_seq).limit(1)
        ).first()
        if candidate is None or not _take_seat(event.id):
            return promoted
        offer = event.waitlist_mode == "offer"
        values = ({"status": "offered", "offer_expires_at": now + timedelta(hours=event.offer_hours)} if offer
                  else {"status": "confirmed", "confirmed_at": now})
        moved = db.session.execute(
            sa.update(Registration).where(Registration.id == candidate.id, Registration.status == "waitlisted")
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            _free_seat(event.id)
            continue
        db.session.refresh(candidate)
        _send(signals.registration_offered if offer else signals.registration_promoted, candidate)
        promoted.append(candidate)


def accept_offer(registration_id: int, user, *, now: datetime) -> Registration:
    registration = get_registration(registration_id)
    if registration.user_id != user.id:
        raise Forbidden("forbidden", _l("You are not allowed to do this."))
    _lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status != "offered" or registration.offer_expires_at <= now:
        raise DomainError("offer_expired", _l("This offer has expired."), status=409)
    registration.status, registration.confirmed_at, registration.offer_expires_at = "confirmed", now, None
    db.session.flush()
    _send(signals.registration_confirmed, registration)
    return registration


def expire_offers(*, now: datetime) -> int:
    """Offers not taken in time lapse; their seats go to the next in line. Run every minute by the worker."""
    due = db.session.scalars(
        sa.select(Registration.id).where(Registration.status == "offered", Registration.offer_expires_at <= now)
    ).all()
    for registration_id in due:
        registration = db.session.get(Registration, registration_id)
        _lock_event(registration.event_id)
        db.session.refresh(registration)
        if registration.status != "offered":
            continue
        registration.status = "expired"
        registration.version += 1
        db.session.flush()
        _send(signals.registration_offer_expired, registration)
        _free_seat(registration.event_id)
        _fill_free_seats(registration.event, now=now)
    return len(due)


# ---- lotteries ---------------------------------------------------------------------------------------------------

def lottery_order_key(seed: str, registration_id: int) -> str:
    """The published rule: entries are ranked by SHA-256("<seed>:<registration id>") in hex, ascending."""
    return hashlib.sha256(f"{seed}:{registration_id}".encode()).hexdigest()


def draw_lottery(event_id: int, *, now: datetime) -> Event:
    """Reveal the committed seed and rank all entries by the published rule: the first `capacity` get seats,
    the rest join the waitlist in drawn order. Anyone can recompute it from the seed and the entry ids."""
    event = get_event(event_id, include_drafts=True)
    if event.waitlist_mode != "lottery":
        raise DomainError("not_a_lottery", _l("This event has no lottery."), status=409)
    _lock_event(event.id)
    db.session.refresh(event)
    if event.lottery_drawn_at is not None:
        return event
    seed = db.session.scalar(sa.select(LotterySecret.seed).where(LotterySecret.event_id == event.id))
    entries = db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id, Registration.status == "entered")
    ).all()
    ranked = sorted(entries, key=lambda r: lottery_order_key(seed, r.id))
    base_seq = _next_seq(event.id).registration_seq
    for rank, registration in enumerate(ranked, start=1):
        registration.lottery_rank = rank
        registration.waitlist_seq = base_seq + rank
        if _take_seat(event.id):
            registration.status, registration.confirmed_at = "confirmed", now
        else:
            registration.status = "waitlisted"
    db.session.execute(
        sa.update(Event).where(Event.id == event.id)
        .values(registration_seq=base_seq + len(ranked) + 1, lottery_seed=seed, lottery_drawn_at=now)
    )
    db.session.flush()
    db.session.refresh(event)
    signals.lottery_drawn.send(None, event_id=event.id)
    for registration in ranked:
        _send(status_signal(registration.status), registration)
    return event


def draw_due_lotteries(*, now: datetime) -> int:
    due = db.session.scalars(
        sa.select(Event.id).where(Event.waitlist_mode == "lottery", Event.lottery_drawn_at.is_(None),
                                  Event.lottery_draw_at <= now, Event.status == "published")
    ).all()
    for event_id in due:
        draw_lottery(event_id, now=now)
    return len(due)


# ---- recurring series --------------------------------------------------------------------------------------------

MAX_OCCURRENCES = 52
SERIES_TIMEZONE = "Asia/Shanghai"


def series_occurrences(rrule_text: str, first_start: datetime) -> list[datetime]:
    """Starts of a series, expanded in Shanghai local time (so "every Thursday 19:00" stays 19:00), as UTC."""
    from zoneinfo import ZoneInfo

    from dateutil.rrule import rrulestr

    tz = ZoneInfo(SERIES_TIMEZONE)
    local_start = first_start.astimezone(tz).replace(tzinfo=None)
    text = rrule_text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    upper = text.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise _invalid({"rrule": _l("A series needs an end: COUNT or UNTIL.")})
    if not any(f"FREQ={f}" in upper for f in ("DAILY", "WEEKLY", "MONTHLY")):
        raise _invalid({"rrule": _l("Repeat daily, weekly or monthly.")})
    try:
        rule = rrulestr(text, dtstart=local_start)
        starts = []
        for occurrence in rule:
            starts.append(occurrence)
            if len(starts) > MAX_OCCURRENCES:
                break
    except (ValueError, TypeError):
        raise _invalid({"rrule": _l("This repeat rule is not valid.")}) from None
    if not starts or len(starts) > MAX_OCCURRENCES:
        raise _invalid({"rrule": _l("A series has 1 to %(n)d occurrences.", n=MAX_OCCURRENCES)})
    return [s.replace(tzinfo=tz).astimezone(first_start.tzinfo or tz) for s in starts]


def create_series(organizer, *, rrule: str, now: datetime, status: str = "draft", **fields):
    """Create a recurring event once (e.g. FREQ=WEEKLY;BYDAY=TH;COUNT=8): one Event per occurrence, each with its
    own seats and sign-ups, linked to the series (calendars show it as one RRULE)."""
    from events.models import EventSeries

    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if not (isinstance(starts_at, datetime) and isinstance(ends_at, datetime) and starts_at.tzinfo):
        _validate_event_fields({"waitlist_mode": "auto", "offer_hours": 12, **fields}, now=now, creating=True)
    duration = ends_at - starts_at
    starts = series_occurrences(rrule, starts_at)
    series = EventSeries(title=(fields.get("title") or "").strip()[:200], rrule=rrule.strip().removeprefix("RRULE:"),
                         created_by_id=organizer.id)
    db.session.add(series)
    db.session.flush()
    events = []
    for start in starts:
        event = create_event(organizer, now=now, status=status,
                             **{**fields, "starts_at": start, "ends_at": start + duration})
        event.series_id, event.recurrence_id = series.id, start
        events.append(event)
    db.session.flush()
    return series, events
