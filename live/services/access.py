"""Who takes part in an event's live room (its confirmed attendees, and its organizers), who moderates it (its
organizers), and the room's settings."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from app.authz import authorize, has_role, scope_key
from app.errors import DomainError, Forbidden
from app.extensions import db
from events.models import Event
from events.services import reading
from live.models import LiveRoom


def is_organizer(user, event: Event) -> bool:
    return has_role(user, "organizer", scope_key("event", event.id))


def participant_event(event_id: int, user) -> Event:
    """The event whose room `user` may take part in: signed in (401), the event exists and is published (404), and
    the person holds a confirmed seat or organizes it (403 not_attendee)."""
    authorize(user, "resident")
    event = reading.get_event(event_id)
    if is_organizer(user, event):
        return event
    registration = reading.registration_of(event.id, user.id)
    if registration is None or registration.status != "confirmed":
        raise Forbidden("not_attendee", _l("Only the event's attendees can take part in its live room."))
    return event


def room_open(event: Event) -> Event:
    """The event if its live room is open: a cancelled event's room is closed (409 event_cancelled), its Socket.IO
    rooms emptied at the cancellation (live/realtime.py) and joined by nobody after it."""
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    return event


def moderated_event(event_id: int, user) -> Event:
    """The event if `user` organizes it (the one check for moderation): 404, 401 or 403 otherwise."""
    return reading.organized_event(event_id, user)


OFFERED_BEFORE = timedelta(hours=12)  # the event's page offers the room from half a day before it starts
OFFERED_AFTER = timedelta(hours=12)  # ... until half a day after it ends


def room_offered(event: Event, *, now: datetime) -> bool:
    """Whether the event's page leads its attendees to the live room: a published event, not over for long
    (OFFERED_AFTER), that runs about now (OFFERED_BEFORE its start) or whose room the organizers have set up."""
    if event.status != "published" or now > event.ends_at + OFFERED_AFTER:
        return False
    return now >= event.starts_at - OFFERED_BEFORE or db.session.get(LiveRoom, event.id) is not None


def room_settings(event_id: int) -> LiveRoom:
    """The room's settings (the defaults, unsaved, when no organizer has changed them)."""
    return db.session.get(LiveRoom, event_id) or LiveRoom(event_id=event_id, premoderation=False,
                                                          organizers_see_anonymous=False)


def saved_room(event_id: int) -> LiveRoom:
    """The room's settings row, added (with the defaults) when no organizer has changed them yet."""
    room = db.session.get(LiveRoom, event_id)
    if room is None:
        room = LiveRoom(event_id=event_id, premoderation=False, organizers_see_anonymous=False)
        db.session.add(room)
    return room


def update_settings(event_id: int, actor, *, now: datetime, premoderation: bool | None = None,
                    organizers_see_anonymous: bool | None = None) -> LiveRoom:
    moderated_event(event_id, actor)
    room = saved_room(event_id)
    if premoderation is not None:
        room.premoderation = premoderation
    if organizers_see_anonymous is not None:
        room.organizers_see_anonymous = organizers_see_anonymous
    room.updated_at = now
    db.session.flush()
    return room
