"""Lists of registrations for organizers: on screen, and the rows of their CSV and XLSX downloads (written by
app.spreadsheets, which keeps text as text)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.phones import format_phone
from app.extensions import db
from events.models import Event, Registration

STATUS_ORDER = {"confirmed": 0, "offered": 1, "pending": 2, "entered": 3, "waitlisted": 4, "cancelled": 5,
                "rejected": 6, "expired": 7}


def registrations_for_event(event_id: int) -> list[Registration]:
    rows = db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event_id).order_by(Registration.waitlist_seq)
    ).all()
    return sorted(rows, key=lambda r: (STATUS_ORDER.get(r.status, 9), r.waitlist_seq))


def registrations_of_user(user_id: int) -> list[Registration]:
    return list(db.session.scalars(
        sa.select(Registration).join(Event).where(Registration.user_id == user_id)
        .order_by(Event.starts_at.desc())
    ))


def export_rows(event: Event, *, labels: dict, status_labels: dict, tz) -> tuple[list[str], list[list]]:
    """The table organizers download: one row per registration, the event's questions as columns."""
    questions = event.questions or []
    header = [labels[k] for k in ("seq", "name", "phone", "company", "title", "persona", "status",
                                  "signed_up_at", "checked_in_at")] + [q["label"] for q in questions]
    rows = []
    users = {u.id: u for u in db.session.scalars(
        sa.select(User).join(Registration, Registration.user_id == User.id).where(Registration.event_id == event.id))}
    for registration in registrations_for_event(event.id):
        user = users[registration.user_id]
        rows.append([registration.waitlist_seq, user.name, format_phone(user.phone), user.company, user.title,
                     user.persona,
                     status_labels.get(registration.status, registration.status),
                     _local(registration.created_at, tz), _local(registration.checked_in_at, tz)]
                    + [registration.answers.get(q["id"], "") for q in questions])
    return header, rows


def _local(value: datetime | None, tz) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""
