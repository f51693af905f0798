"""The door of an event: who works it (door roles) and how it is set (re-entry, when the doors open).

Organizers and supervisors of an event are its door's supervisors (scan, search, admit by hand, override, register
walk-ins); stewards scan only. Anyone else: 401 when not signed in, 403 otherwise.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.authz import authorize, has_role, scope_key
from app.errors import DomainError, Forbidden, Unauthorized
from app.extensions import db
from checkin.models import CheckinConfig
from checkin.tickets import ensure_config
from events import services as event_services
from events.models import Event

MAX_OPENS_BEFORE = 24 * 60


# ---- door roles --------------------------------------------------------------------------------------------------

def event_of(event_id: int) -> Event:
    return event_services.get_event(event_id, include_drafts=True)


def door_role(user, event: Event) -> str:
    """"supervisor" (organizers of the event count as supervisors: scan, search, admit by hand, override) or
    "steward" (scan only). Anyone else: 401 when not signed in, 403 otherwise."""
    return door_role_at(user, event.id)


def door_role_at(user, event_id: int) -> str:
    """door_role by the event's id, for a caller that has not read the event."""
    scope = scope_key("event", event_id)
    if has_role(user, "organizer", scope) or has_role(user, "supervisor", scope):
        return "supervisor"
    if has_role(user, "steward", scope):
        return "steward"
    authorize(user, "steward", scope)  # raises the right error
    raise Forbidden("forbidden", _l("You are not allowed to do this."))


def require_supervisor(user, event: Event) -> None:
    if door_role(user, event) != "supervisor":
        raise Forbidden("supervisor_only", _l("Only a supervisor can do this; stewards scan tickets."))


def may_scan(actor, event_id: int) -> bool:
    """Whether `actor` is on the door team of this event (without reading the event: admit_ticket says why not)."""
    try:
        door_role_at(actor, event_id)
    except (Forbidden, Unauthorized):
        return False
    return True


# ---- door settings -----------------------------------------------------------------------------------------------

def door_settings(event_id: int, actor, *, now: datetime) -> CheckinConfig:
    event = event_of(event_id)
    door_role(actor, event)
    return ensure_config(event.id, now=now)


def update_door_settings(event_id: int, actor, *, now: datetime, allow_reentry: bool | None = None,
                         opens_minutes_before: int | None = None) -> CheckinConfig:
    """Organizers of the event switch re-entry (scan out, scan in again) on or off and say how long before the
    start the doors open. Scans already made keep their answers; people inside stay inside."""
    event = event_of(event_id)
    event_services.authorize_organizer(actor, event)
    config = ensure_config(event.id, now=now)
    errors = {}
    if allow_reentry is not None and not isinstance(allow_reentry, bool):
        errors["allow_reentry"] = _l("Choose yes or no.")
    if opens_minutes_before is not None and (isinstance(opens_minutes_before, bool)
                                             or not isinstance(opens_minutes_before, int)
                                             or not 0 <= opens_minutes_before <= MAX_OPENS_BEFORE):
        errors["opens_minutes_before"] = _l("Between 0 and %(n)d minutes.", n=MAX_OPENS_BEFORE)
    if errors:
        raise DomainError("invalid_settings", _l("Please correct the highlighted fields."), status=422,
                          fields={k: str(v) for k, v in errors.items()})
    if allow_reentry is not None:
        config.allow_reentry = allow_reentry
    if opens_minutes_before is not None:
        config.opens_minutes_before = opens_minutes_before
    db.session.flush()
    return config
