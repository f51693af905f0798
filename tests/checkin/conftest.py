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


@pytest.fixture
def door_event(create_event):
    """An event whose doors are open: it starts in 30 minutes (doors open two hours before)."""
    from datetime import timedelta

    def make(**fields):
        fields.setdefault("starts_in", timedelta(minutes=30))
        return create_event(**fields)

    return make


@pytest.fixture
def steward(create_resident):
    def make(event, name: str = "志愿者小李"):
        return create_resident(name=name, roles=[("steward", f"event:{event.id}")])
    return make


@pytest.fixture
def supervisor(create_resident):
    def make(event, name: str = "现场主管老周"):
        return create_resident(name=name, roles=[("supervisor", f"event:{event.id}")])
    return make


def new_scan_id() -> str:
    import uuid

    return str(uuid.uuid4())


@pytest.fixture
def scan(client):
    """POST a scan as a person of the door team, with a bearer token as a scanner device does; returns
    (status, json). `scan.as_(user)` picks the person."""
    from app.accounts.services import issue_api_token

    state = {}

    def as_(user):
        state["bearer"] = issue_api_token(user, name="scanner", now=utcnow())
        db.session.commit()

    def post(event, token, *, gate="A", scan_id=None, path="checkins", **extra):
        body = {"token": token, "gate": gate, "scan_id": scan_id or new_scan_id(), **extra}
        if path != "checkins":
            body.pop("token")
        response = client.post(f"/api/v1/events/{event.id}/{path}", json=body,
                               headers={"Authorization": f"Bearer {state['bearer']}"})
        return response.status_code, response.get_json()

    post.as_ = as_
    return post
