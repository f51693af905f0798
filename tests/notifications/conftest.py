import pytest

from app.db_types import utcnow
from app.extensions import db


@pytest.fixture
def sign_up():
    from events.services import register_for_event

    def do(event, user, **kwargs):
        registration, _created = register_for_event(event.id, user, now=kwargs.pop("now", utcnow()), **kwargs)
        db.session.commit()
        return registration
    return do


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


def messages_of(user_id):
    import sqlalchemy as sa

    from notifications.models import Notification

    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id)))
