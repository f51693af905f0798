"""An event's seat counter and the word about a registration's change.

Seats are counted on the event's row (`seats_taken`) and changed only by conditional UPDATEs, decided by the database,
by a caller holding the event's lock (app.locking.lock_event): seats are never oversold on SQLite (one writer) or
PostgreSQL (row lock), whatever the concurrency. Counter updates keep the event's updated_at as it is: it tells
calendars when the event itself last changed."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from events import signals
from events.models import Event, Registration

KEEP_UPDATED_AT = {"updated_at": Event.updated_at}


def take_seats(event_id: int, *, arrivals: int, seats: int) -> None:
    """Count `arrivals` new sign-ups and take `seats` seats (under the event's lock). The seats are still taken with
    a condition, so that even a mistake in the caller's count could not oversell."""
    taken = db.session.execute(
        sa.update(Event).where(Event.id == event_id,
                               sa.or_(Event.capacity.is_(None), Event.seats_taken + seats <= Event.capacity))
        .values(registration_seq=Event.registration_seq + arrivals, seats_taken=Event.seats_taken + seats,
                **KEEP_UPDATED_AT).execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise RuntimeError(f"event {event_id}: {seats} seats are not free under the lock")


def take_seat(event_id: int) -> bool:
    """Take one seat if one is free: decided by the database in one conditional UPDATE."""
    return db.session.execute(
        sa.update(Event).where(Event.id == event_id,
                               sa.or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity))
        .values(seats_taken=Event.seats_taken + 1, **KEEP_UPDATED_AT).execution_options(synchronize_session=False)
    ).rowcount == 1


def free_seat(event_id: int) -> None:
    db.session.execute(
        sa.update(Event).where(Event.id == event_id, Event.seats_taken > 0)
        .values(seats_taken=Event.seats_taken - 1, **KEEP_UPDATED_AT).execution_options(synchronize_session=False)
    )


def status_signal(status: str):
    """The signal that tells of a new sign-up with this status."""
    return {"confirmed": signals.registration_confirmed, "waitlisted": signals.registration_waitlisted,
            "pending": signals.registration_pending, "entered": signals.registration_entered_lottery}[status]


def send(signal, registration: Registration, **extra) -> None:
    signal.send(None, registration_id=registration.id, event_id=registration.event_id,
                user_id=registration.user_id, **extra)
