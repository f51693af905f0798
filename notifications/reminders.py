"""Reminders a day (24 h) and an hour (1 h) before an event, to everyone holding a confirmed seat, and an hour
before a booked office hour (the day-ahead one comes from mentoring's `office_hour_reminder` signal).

A periodic task sweeps every minute. It is idempotent and safe with several workers at once: each reminder's
dedupe key names the event (or booking), the window and the start time, and the rows are written with INSERT ... ON
CONFLICT DO NOTHING on (person, dedupe key), so a repeated or concurrent sweep writes nothing twice and fails nothing.
Each event is one short transaction. A person who took their seat after a window opened is not reminded for that
window (the confirmation they just got already says when); an event that moves is reminded of at its new time."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from events.models import Event, Registration
from mentoring.models import Booking, OfficeHourSlot
from notifications import messages
from notifications.models import Notification
from notifications.writing import notify_many

# (label, how long before the start, the next shorter window: inside it this one is no longer sent)
EVENT_WINDOWS = (("24h", timedelta(hours=24), timedelta(hours=1)), ("1h", timedelta(hours=1), timedelta(0)))


def send_event_reminders(*, now: datetime) -> int:
    """Write the due event reminders; returns how many messages were written. Commits once per event."""
    written = 0
    for label, ahead, shorter in EVENT_WINDOWS:
        due_events = list(db.session.scalars(
            sa.select(Event).where(Event.status == "published", Event.starts_at > now + shorter,
                                   Event.starts_at <= now + ahead).order_by(Event.starts_at, Event.id)))
        for event in due_events:
            draft = messages.event_reminder_draft(event, label)
            seated_since = sa.func.coalesce(Registration.confirmed_at, Registration.created_at)
            user_ids = list(db.session.scalars(
                sa.select(Registration.user_id).where(
                    Registration.event_id == event.id, Registration.status == "confirmed",
                    seated_since <= event.starts_at - ahead,
                    ~sa.exists().where(Notification.user_id == Registration.user_id,
                                       Notification.dedupe_key == draft.dedupe_key))
                .order_by(Registration.user_id)))
            if user_ids:
                written += len(notify_many(user_ids, draft, now=now))
            db.session.commit()
    return written


def send_office_hour_reminders(*, now: datetime) -> int:
    """An hour before each booked office hour, to the founder and the mentor (bookings made earlier than that)."""
    ahead = timedelta(hours=1)
    rows = db.session.execute(
        sa.select(Booking.id, Booking.founder_id, Booking.mentor_id, Booking.created_at, OfficeHourSlot.starts_at,
                  OfficeHourSlot.location)
        .join(OfficeHourSlot, OfficeHourSlot.id == Booking.slot_id)
        .where(Booking.status == "booked", OfficeHourSlot.starts_at > now, OfficeHourSlot.starts_at <= now + ahead)
        .order_by(OfficeHourSlot.starts_at, Booking.id)).all()
    rows = [row for row in rows if row.created_at <= row.starts_at - ahead]  # booked later: the booking said when
    written = 0
    for row in rows:
        names = {user.id: user.display_name for user in db.session.scalars(
            sa.select(User).where(User.id.in_([row.founder_id, row.mentor_id])))}
        for user_id, other_id in ((row.founder_id, row.mentor_id), (row.mentor_id, row.founder_id)):
            draft = messages.office_hour_reminder_draft(booking_id=row.id, label="1h",
                                                        other_name=names.get(other_id) or "",
                                                        starts_at=row.starts_at, location=row.location or "")
            written += len(notify_many([user_id], draft, now=now))
        db.session.commit()
    return written
