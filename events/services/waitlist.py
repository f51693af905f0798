"""After a sign-up: organizers approve or decline, people cancel, freed seats go to the waitlist in arrival order
(at once, or held as an offer for a while), and offers not taken lapse. Every change runs under the event's lock
(app.locking.lock_event), with the seat counter's conditional updates (events.services.seats)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.roles import announce_access_changed
from app.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.locking import lock_event
from events import signals
from events.models import ACTIVE_STATUSES, SEAT_HOLDING_STATUSES, Event, Registration
from events.services.reading import authorize_organizer, get_registration
from events.services.seats import free_seat, send, take_seat


def cancel_registration(registration_id: int, actor, *, now: datetime) -> Registration:
    """The person cancels (or leaves the waitlist). A freed seat goes to the next in line at once."""
    registration = get_registration(registration_id)
    if registration.user_id != actor.id:
        authorize_organizer(actor, registration.event)
    if registration.status not in ACTIVE_STATUSES:
        return registration  # already cancelled: cancelling twice is not an error
    lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status not in ACTIVE_STATUSES:
        return registration
    held_seat = registration.status in SEAT_HOLDING_STATUSES
    registration.status = "cancelled"
    registration.cancelled_at = now
    registration.offer_expires_at = None
    registration.version += 1  # the old ticket stops working
    db.session.flush()
    send(signals.registration_cancelled, registration)
    announce_access_changed(registration.user_id)  # their open pages leave what the seat let them in (live room)
    if held_seat:
        free_seat(registration.event_id)
        fill_free_seats(registration.event, now=now)
    return registration


def approve_registration(registration_id: int, organizer, *, now: datetime) -> Registration:
    """Approve a pending sign-up: a seat if one is free, otherwise the waitlist in arrival order."""
    registration = get_registration(registration_id)
    authorize_organizer(organizer, registration.event)
    lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status != "pending":
        raise DomainError("not_pending", _l("Only pending registrations can be approved."), status=409)
    registration.decided_by_id = organizer.id
    if take_seat(registration.event_id):
        registration.status, registration.confirmed_at = "confirmed", now
    else:
        registration.status = "waitlisted"
    db.session.flush()
    send(signals.registration_approved, registration, outcome=registration.status)
    return registration


def reject_registration(registration_id: int, organizer, *, now: datetime) -> Registration:
    """Decline a sign-up (pending, waitlisted or even confirmed); a seat it held moves to the next in line."""
    registration = get_registration(registration_id)
    authorize_organizer(organizer, registration.event)
    lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status not in ACTIVE_STATUSES:
        raise DomainError("not_active", _l("This registration is no longer active."), status=409)
    held_seat = registration.status in SEAT_HOLDING_STATUSES
    registration.status = "rejected"
    registration.decided_by_id = organizer.id
    registration.version += 1
    db.session.flush()
    send(signals.registration_rejected, registration)
    announce_access_changed(registration.user_id)  # their open pages leave what the seat let them in (live room)
    if held_seat:
        free_seat(registration.event_id)
        fill_free_seats(registration.event, now=now)
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


def fill_free_seats(event: Event, *, now: datetime) -> list[Registration]:
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
        if candidate is None or not take_seat(event.id):
            return promoted
        offer = event.waitlist_mode == "offer"
        values = ({"status": "offered", "offer_expires_at": now + timedelta(hours=event.offer_hours)} if offer
                  else {"status": "confirmed", "confirmed_at": now})
        moved = db.session.execute(
            sa.update(Registration).where(Registration.id == candidate.id, Registration.status == "waitlisted")
            .values(**values).execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            free_seat(event.id)
            continue
        db.session.refresh(candidate)
        send(signals.registration_offered if offer else signals.registration_promoted, candidate)
        promoted.append(candidate)


def accept_offer(registration_id: int, user, *, now: datetime) -> Registration:
    """Take the seat held for this person. Idempotent: once confirmed, accepting again (a retry, a second tap)
    returns the confirmed registration. Refused with `offer_expired` only when an offer was made and lapsed, and
    with `no_offer` when no seat is held for this person (still on the waitlist, pending, cancelled...)."""
    registration = get_registration(registration_id)
    if registration.user_id != user.id:
        raise Forbidden("forbidden", _l("You are not allowed to do this."))
    lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status == "confirmed":
        return registration
    if registration.status == "expired" or (registration.status == "offered" and registration.offer_expires_at <= now):
        raise DomainError("offer_expired", _l("This offer has expired."), status=409)
    if registration.status == "waitlisted":
        raise DomainError("no_offer", _l("No seat has been offered to you yet: you are still on the waitlist, and "
                                         "we will tell you when one is held for you."), status=409)
    if registration.status != "offered":
        raise DomainError("no_offer", _l("There is no seat waiting for you to accept."), status=409)
    registration.status, registration.confirmed_at, registration.offer_expires_at = "confirmed", now, None
    db.session.flush()
    send(signals.registration_confirmed, registration)
    return registration


def expire_offers(*, now: datetime) -> int:
    """Offers not taken in time lapse; their seats go to the next in line. Run every minute by the worker."""
    due = db.session.scalars(
        sa.select(Registration.id).where(Registration.status == "offered", Registration.offer_expires_at <= now)
    ).all()
    for registration_id in due:
        registration = db.session.get(Registration, registration_id)
        lock_event(registration.event_id)
        db.session.refresh(registration)
        if registration.status != "offered":
            continue
        registration.status = "expired"
        registration.version += 1
        db.session.flush()
        send(signals.registration_offer_expired, registration)
        free_seat(registration.event_id)
        fill_free_seats(registration.event, now=now)
    return len(due)
