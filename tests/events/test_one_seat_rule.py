"""One rule, one function (issue 18): a seat is decided in one place, events.services.registration's
_decide_sign_ups. A batch (sign_up_many, behind sign_up), a single sign-up (register_for_event) and a walk-in at the
door (register_at_the_door, checkin's walk-ins) all go through it, so a change of the rule is seen by all three."""

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from events import services, signup_batches
from events.models import Event, Registration
from events.services import registration as rules


def test_the_batch_the_single_sign_up_and_the_door_all_decide_with_the_one_rule(create_event, residents,
                                                                               monkeypatch):
    event = create_event(capacity=10)
    batch, single, walk_in, signed_up = residents(4)
    calls = []
    decide = rules._decide_sign_ups

    def spy(event_id, requests, **modes):
        calls.append(({user_id for user_id, _, _ in requests}, modes))
        return decide(event_id, requests, **modes)

    monkeypatch.setattr(rules, "_decide_sign_ups", spy)

    services.sign_up_many(event.id, [(batch.id, {}, utcnow())])
    services.register_for_event(event.id, single, now=utcnow())
    services.register_at_the_door(event.id, walk_in, now=utcnow())
    db.session.commit()
    signup_batches.sign_up(event.id, signed_up, now=utcnow())  # the button and the API: decided in a batch

    assert calls == [({batch.id}, {"alone": False}), ({single.id}, {"alone": True}),
                     ({walk_in.id}, {"alone": True, "at_the_door": True}), ({signed_up.id}, {"alone": False})]
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 4


def test_a_change_of_the_seat_rule_is_seen_by_the_batch_the_single_sign_up_and_the_door(create_event, residents,
                                                                                       monkeypatch):
    """As if no seat were free (the rule's count of free seats, as read under the lock): the batch and the single
    sign-up put people on the waitlist, the door says the event is full, and no seat is taken."""
    event = create_event(capacity=10)
    batch, single, walk_in, signed_up = residents(4)
    monkeypatch.setattr(rules, "_free_seats", lambda locked: 0)

    with pytest.raises(DomainError) as refused:
        services.register_at_the_door(event.id, walk_in, now=utcnow())
    db.session.rollback()  # what the door's request does with its error
    [in_batch] = services.sign_up_many(event.id, [(batch.id, {}, utcnow())])
    alone, created = services.register_for_event(event.id, single, now=utcnow())
    db.session.commit()
    button, _ = signup_batches.sign_up(event.id, signed_up, now=utcnow())

    assert (in_batch.status, alone.status, created, button.status) == ("waitlisted", "waitlisted", True, "waitlisted")
    assert refused.value.code == "event_full"
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)
                             .where(Registration.status == "waitlisted")) == 3


def test_registration_open_is_one_answer_for_the_page_the_batch_the_single_sign_up_and_the_door(
        create_event, residents, monkeypatch):
    """check_registration_open says no: the page shows it, the batch and the single sign-up refuse with its error;
    the door asks it too (for the event's status only)."""
    event = create_event(capacity=10)
    batch, single, walk_in = residents(3)
    asked = []

    def closed(event, *, now, status=None, at_the_door=False):
        asked.append(at_the_door)
        raise DomainError("registration_closed", "closed", status=409)

    monkeypatch.setattr(rules, "check_registration_open", closed)

    [in_batch] = services.sign_up_many(event.id, [(batch.id, {}, utcnow())])
    with pytest.raises(DomainError) as alone:
        services.register_for_event(event.id, single, now=utcnow())
    with pytest.raises(DomainError) as door:
        services.register_at_the_door(event.id, walk_in, now=utcnow())
    db.session.rollback()

    assert [in_batch.code, alone.value.code, door.value.code] == ["registration_closed"] * 3
    assert asked == [False, False, True]
