"""Fixtures of check-in: an event with confirmed attendees, the people at the door, and tickets."""

from __future__ import annotations

import pytest

from app.db_types import utcnow
from app.extensions import db


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


@pytest.fixture
def confirmed(create_resident):
    """A confirmed registration of `event` for a new resident (registered through the events service)."""
    from events.services import register_for_event

    def make(event, *, name: str = "林晓舟", phone: str | None = None):
        person = create_resident(name=name, phone=phone)
        registration, _ = register_for_event(event.id, person, now=utcnow())
        db.session.commit()
        assert registration.status == "confirmed"
        return registration

    return make


@pytest.fixture
def token_of():
    """The current ticket token of a registration (as its owner would get it)."""
    from checkin.services import issue_token

    def get(registration):
        db.session.refresh(registration)
        token = issue_token(registration, now=utcnow())
        db.session.commit()
        return token

    return get
