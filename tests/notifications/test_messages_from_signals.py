"""A change that promises a message writes it in the same transaction: it exists exactly when the change does."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from events import services as events
from events.services import registration as registration_rules
from notifications import services
from notifications.models import Delivery, Notification
from tests.notifications.conftest import messages_of


def test_a_committed_sign_up_leaves_exactly_one_message(create_event, create_resident, sign_up):
    event = create_event(title="技术沙龙：RAG 实战")
    person = create_resident()
    sign_up(event, person)
    sign_up(event, person)  # a double tap returns the same registration and no second message
    [message] = messages_of(person.id)
    assert message.kind == "registration_confirmed" and message.category == "registrations"
    assert message.transactional and not message.urgent and message.read_at is None
    assert message.link == f"/events/{event.id}" and "RAG 实战" in message.title
    assert message.locale == "zh_Hans_CN"


def test_a_rolled_back_sign_up_leaves_no_message(create_event, create_resident):
    event = create_event()
    person = create_resident()
    events.register_for_event(event.id, person, now=utcnow())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1  # written in the transaction
    db.session.rollback()
    assert messages_of(person.id) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_a_sign_up_that_fails_after_the_signal_leaves_no_message(create_event, create_resident, monkeypatch):
    """The message and the change share one fate even when the service fails after sending the signal."""
    event = create_event()
    person = create_resident()
    original = registration_rules.send  # register_for_event sends its signal through this name

    def send_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise DomainError("boom", "failed after the signal")

    monkeypatch.setattr(registration_rules, "send", send_then_fail)
    with pytest.raises(DomainError):
        events.register_for_event(event.id, person, now=utcnow())
    db.session.rollback()
    assert messages_of(person.id) == []


def test_messages_are_written_in_the_recipients_language(create_event, create_resident, sign_up):
    event = create_event(title="技术沙龙", title_en="Tech salon")
    english = create_resident(locale="en")
    sign_up(event, english)
    [message] = messages_of(english.id)
    assert message.locale == "en"
    assert message.title == "You're in: Tech salon"


def test_the_waitlist_and_promotion_each_tell_the_person(create_event, create_resident, sign_up):
    event = create_event(capacity=1)
    first, second = create_resident(), create_resident()
    held = sign_up(event, first)
    sign_up(event, second)
    assert [m.kind for m in messages_of(second.id)] == ["registration_waitlisted"]
    events.cancel_registration(held.id, first, now=utcnow())
    db.session.commit()
    assert [m.kind for m in messages_of(second.id)] == ["registration_waitlisted", "registration_promoted"]
    assert [m.kind for m in messages_of(first.id)] == ["registration_confirmed"]  # own cancellation: no message


def test_signing_up_again_after_cancelling_is_a_new_message(create_event, create_resident, sign_up):
    event = create_event()
    person = create_resident()
    registration = sign_up(event, person)
    events.cancel_registration(registration.id, person, now=utcnow())
    db.session.commit()
    sign_up(event, person)
    assert [m.kind for m in messages_of(person.id)] == ["registration_confirmed", "registration_confirmed"]


def test_approval_and_rejection_are_told(create_event, create_resident, organizer, sign_up):
    event = create_event(requires_approval=True)
    yes, no = create_resident(), create_resident()
    approved, rejected = sign_up(event, yes), sign_up(event, no)
    events.approve_registration(approved.id, organizer, now=utcnow())
    events.reject_registration(rejected.id, organizer, now=utcnow())
    db.session.commit()
    assert [m.kind for m in messages_of(yes.id)] == ["registration_pending", "registration_approved"]
    assert [m.kind for m in messages_of(no.id)] == ["registration_pending", "registration_rejected"]


def test_moving_an_event_tells_everyone_signed_up_urgently(create_event, create_resident, organizer, sign_up):
    event = create_event(created_by_id=organizer.id)
    people = [create_resident() for _ in range(3)]
    for person in people:
        sign_up(event, person)
    bystander = create_resident()
    events.update_event(event.id, organizer, now=utcnow(), starts_at=event.starts_at + timedelta(hours=1),
                        ends_at=event.ends_at + timedelta(hours=1))
    db.session.commit()
    for person in people:
        kinds = [(m.kind, m.category, m.urgent) for m in messages_of(person.id)]
        assert kinds[-1] == ("event_changed", "schedule", True)
    assert messages_of(bystander.id) == []
    events.cancel_event(event.id, organizer, reason="场地维修", now=utcnow())
    db.session.commit()
    assert messages_of(people[0].id)[-1].kind == "event_cancelled"
    assert "场地维修" in messages_of(people[0].id)[-1].body


def test_the_same_message_is_never_written_twice(create_event, create_resident, sign_up):
    from notifications.messages import registration_draft

    event = create_event()
    person = create_resident()
    registration = sign_up(event, person)
    draft = registration_draft("registration_confirmed", registration, event)
    assert services.notify(person.id, draft, now=utcnow()) is None
    db.session.commit()
    assert len(messages_of(person.id)) == 1


def test_an_unknown_category_is_refused(create_resident):
    person = create_resident()
    draft = services.Draft(kind="x", category="gossip", render=lambda locale: ("t", "b"), dedupe_key="x")
    with pytest.raises(DomainError) as error:
        services.notify(person.id, draft, now=utcnow())
    assert error.value.code == "unknown_category"


def test_a_person_with_an_email_gets_an_email_delivery_sent_after_commit(create_event, create_resident, sign_up):
    event = create_event()
    person = create_resident()
    person.email = "founder@example.com"
    db.session.commit()
    sign_up(event, person)
    [message] = messages_of(person.id)
    [delivery] = message.deliveries
    assert (delivery.channel, delivery.status, delivery.attempts) == ("email", "sent", 1)


SHANGHAI = 8


@pytest.mark.parametrize("local_time, held_until_local", [
    ((21, 59), None),
    ((22, 0), (1, 8, 0)),
    ((23, 30), (1, 8, 0)),
    ((3, 0), (0, 8, 0)),
    ((8, 0), None),
    ((12, 0), None),
])
def test_quiet_hours_default_to_22_to_8_in_shanghai(app, local_time, held_until_local):
    settings = services.settings_of(user_id=1)
    now = datetime(2026, 12, 1, local_time[0] - SHANGHAI, local_time[1], tzinfo=UTC) if local_time[0] >= SHANGHAI \
        else datetime(2026, 12, 1, local_time[0] + 24 - SHANGHAI, local_time[1], tzinfo=UTC) - timedelta(days=1)
    end = services.quiet_hours_end(settings, now)
    if held_until_local is None:
        assert end is None
    else:
        days, hour, minute = held_until_local
        local_now = now + timedelta(hours=SHANGHAI)
        expected_local = datetime(local_now.year, local_now.month, local_now.day, hour, minute, tzinfo=UTC) \
            + timedelta(days=days)
        assert end == expected_local - timedelta(hours=SHANGHAI)
