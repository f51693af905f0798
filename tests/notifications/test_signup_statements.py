"""The sign-up's own transaction holds the event's row lock while notifications.services.notify writes the
confirmation: every statement there is paid by every sign-up in a rush. Count them."""

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from events import services as events
from notifications import services
from notifications.models import Notification, PushSubscription
from tests.notifications.conftest import messages_of
from tests.notifications.pushservice import BrowserKeys


class Statements:
    def __init__(self):
        self.seen: list[str] = []

    def __enter__(self):
        sa.event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        sa.event.remove(db.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append(statement)

    def touching(self, *tables: str) -> list[str]:
        return [s for s in self.seen if any(t in s for t in tables)]


NOTIFICATION_TABLES = ("notification", "push_subscriptions")


def count_notify_statements(monkeypatch, event, person) -> tuple[int, int]:
    """(statements notify runs, statements of the whole sign-up) for one sign-up."""
    original = services.notify
    inside: list[int] = []

    def counted(*args, **kwargs):
        with Statements() as statements:
            result = original(*args, **kwargs)
        inside.append(len(statements.seen))
        return result

    from notifications import receivers

    monkeypatch.setattr(receivers, "notify", counted)
    with Statements() as whole:
        events.register_for_event(event.id, person, now=utcnow())
        db.session.commit()
    return sum(inside), len(whole.seen)


def test_a_confirmation_costs_two_statements(monkeypatch, create_event, create_resident):
    """One SELECT (the person, their settings, their choices for the category, whether they have a push
    subscription) and one INSERT ... ON CONFLICT DO NOTHING of the message; no delivery row for an inbox-only one.
    And nothing after the commit: no job for an inbox-only message, none for an event without robots."""
    event = create_event()
    person = create_resident()
    in_notify, whole = count_notify_statements(monkeypatch, event, person)
    print(f"notify: {in_notify} statements; whole sign-up: {whole}")
    assert in_notify == 2
    assert whole == 10
    assert [m.kind for m in messages_of(person.id)] == ["registration_confirmed"]


def test_with_a_push_subscription_one_more_for_the_deliveries(monkeypatch, create_event, create_resident):
    event = create_event()
    person = create_resident()
    keys = BrowserKeys()
    db.session.add(PushSubscription(user_id=person.id, endpoint="https://push.example.com/x", p256dh=keys.p256dh,
                                    auth=keys.auth))
    db.session.commit()
    in_notify, _ = count_notify_statements(monkeypatch, event, person)
    assert in_notify == 3
    [message] = messages_of(person.id)
    assert {d.channel for d in message.deliveries} == {"webpush"}


def test_a_repeated_message_is_still_written_once(create_event, create_resident):
    person = create_resident()
    draft = services.Draft(kind="announcement", category="announcements", render=lambda locale: ("标题", "正文"),
                           dedupe_key="same")
    assert services.notify(person.id, draft, now=utcnow()) is not None
    assert services.notify(person.id, draft, now=utcnow()) is None
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
