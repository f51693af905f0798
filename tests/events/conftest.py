import pytest

from app.db_types import utcnow
from app.extensions import db


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


@pytest.fixture
def residents(create_resident):
    def make(n):
        return [create_resident(name=f"居民{i}") for i in range(n)]
    return make


@pytest.fixture
def sign_up():
    from events.services import register_for_event

    def do(event, user, **kwargs):
        registration, created = register_for_event(event.id, user, now=kwargs.pop("now", utcnow()), **kwargs)
        db.session.commit()
        return registration
    return do
