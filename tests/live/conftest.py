"""Fixtures of the live room: an event with confirmed attendees and its organizer, each with an API client."""

from __future__ import annotations

import pytest

from app.db_types import utcnow
from app.extensions import db


@pytest.fixture
def room_event(create_event):
    return create_event(title="技术沙龙：大模型落地", capacity=200)


@pytest.fixture
def attendee(create_resident):
    """A resident with a confirmed seat at `event` (signed up through the events service)."""
    from events.services import register_for_event

    def make(event, *, name: str = "林晓舟"):
        person = create_resident(name=name)
        registration, _ = register_for_event(event.id, person, now=utcnow())
        db.session.commit()
        assert registration.status == "confirmed"
        return person

    return make


@pytest.fixture
def event_organizer(create_resident):
    def make(event, name: str = "主持人王珂"):
        return create_resident(name=name, roles=[("organizer", f"event:{event.id}")])
    return make


@pytest.fixture
def api(client):
    """Call the JSON API as `user` with a bearer token, in Chinese: api(user).post(path, json=...) -> response."""
    from app.accounts.services import issue_api_token

    class Caller:
        def __init__(self, user):
            self.headers = {"Authorization": f"Bearer {issue_api_token(user, name='phone', now=utcnow())}",
                            "Accept-Language": "zh-CN"}
            db.session.commit()

        def __getattr__(self, method):
            def call(path, **kwargs):
                return getattr(client, method)(path, headers=self.headers, **kwargs)
            return call

    return Caller
