"""Rules of events. (Registration, capacity and waitlist come with the events issue.)"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from events.models import EVENT_KINDS, Event


def upcoming_events(*, now: datetime, kind: str | None = None, limit: int = 50) -> list[Event]:
    """Published events that have not ended yet, soonest first."""
    query = sa.select(Event).where(Event.status == "published", Event.ends_at >= now)
    if kind in EVENT_KINDS:
        query = query.where(Event.kind == kind)
    return list(db.session.scalars(query.order_by(Event.starts_at, Event.id).limit(limit)))


def get_published_event(event_id: int) -> Event:
    from flask_babel import lazy_gettext as _l

    from app.errors import NotFound

    event = db.session.get(Event, event_id)
    if event is None or event.status == "draft":
        raise NotFound("event_not_found", _l("This event does not exist."))
    return event
