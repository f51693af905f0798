"""What the other services of events read: events people may see, registrations, places on the waitlist, counts, and
who may manage an event (organizers). No writes here."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize, has_role, scope_key
from app.errors import NotFound
from app.extensions import db
from events.models import ACTIVE_STATUSES, EVENT_KINDS, Event, PitchApplication, Registration


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


def waitlisted_count(event_id: int) -> int:
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
    authorize(user, "organizer", scope_key("event", event.id))


def is_organizer(user, event: Event) -> bool:
    """authorize_organizer as a question (pages that show organizers more)."""
    return has_role(user, "organizer", scope_key("event", event.id))


def organized_event(event_id: int, user) -> Event:
    """The event (drafts included) if `user` organizes it: 404 unknown, 401 signed out, 403 otherwise."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(user, event)
    return event


def accepted_count(event_id: int) -> int:
    """How many pitch applications of this roadshow day are accepted (each holds a slot)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(PitchApplication)
        .where(PitchApplication.event_id == event_id, PitchApplication.status == "accepted")
    )
