"""Walk-ins: a supervisor registers someone at the door and admits them at once (ticket type "walk-in")."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.accounts.phones import normalise_phone
from app.accounts.services import get_or_create_user
from app.errors import DomainError
from app.extensions import db, dialect_insert
from checkin import admission, tokens
from checkin.admission import (
    ScanOutcome,
    clean_scan_input,
    door_of,
    doors_open,
    find_scan,
    record_scan,
    replay,
)
from checkin.door import event_of, require_supervisor
from checkin.models import WalkIn
from checkin.tickets import ensure_config, remember_walk_in
from events import services as event_services

MAX_NAME = 80


def register_walk_in(event_id: int, actor, *, phone, name, gate, scan_id, now: datetime,
                     device: str = "") -> ScanOutcome:
    """A supervisor registers someone at the door, while the doors are open, if a seat remains (decided by the
    database, as for any sign-up: events.services.register_at_the_door), and admits them at once. The person is
    found by mobile number (an account is made for a new number, named as given). The registration's ticket type
    is "walk-in". The same scan id again returns the first answer; someone who already holds a ticket is simply
    admitted (or told they already came in)."""
    event = event_of(event_id)
    require_supervisor(actor, event)
    scan_id, gate, device = clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction="in")
    name = (name or "").strip() if isinstance(name, str) else ""
    try:
        phone = normalise_phone(phone if isinstance(phone, str) else "")
    except DomainError as error:
        raise DomainError("invalid_walk_in", _l("Please correct the highlighted fields."), status=422,
                          fields={"phone": str(error.message)}) from None
    if len(name) > MAX_NAME:
        raise DomainError("invalid_walk_in", _l("Please correct the highlighted fields."), status=422,
                          fields={"name": str(_l("At most %(n)d characters.", n=MAX_NAME))})
    digest = tokens.token_digest(f"walk_in:{phone}")
    existing = find_scan(event.id, scan_id)
    if existing is not None:
        return replay(existing, digest)
    config = ensure_config(event.id, now=now)
    door = door_of(event, config)
    is_open, why = doors_open(door, now)
    if not is_open:  # nobody is registered while the doors are shut (the verdict would only refuse the scan)
        raise DomainError("not_open", _l("Check-in is not open."), status=409, reason=why)
    person = get_or_create_user(phone, now=now, name=name)
    if not person.name and name:
        person.name = name
    registration, newly_confirmed = event_services.register_at_the_door(event.id, person, now=now)
    if newly_confirmed:
        db.session.execute(
            dialect_insert(WalkIn).values(registration_id=registration.id, event_id=event.id,
                                   created_by_id=getattr(actor, "id", None), created_at=now)
            .on_conflict_do_nothing(index_elements=["registration_id"])
        )
        remember_walk_in(registration.id)
    judged = admission.verdict(door, registration, event_id=event.id, at=now)
    return record_scan(event, config, judged, actor, scan_id=scan_id, digest=digest, gate=gate, device=device,
                       direction="in", mode="walk_in" if newly_confirmed else "manual", scanned_at=now, now=now)
