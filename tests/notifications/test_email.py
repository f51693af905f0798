"""E-mail through a real SMTP server on 127.0.0.1 (aiosmtpd): the message, its deep link, and the one-click
unsubscribe of announcements (RFC 8058), which works from the mail client without a session."""

import email
import email.policy
import socket

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from notifications import announcements
from notifications.models import Delivery, Notification
from notifications.services import preferences_of


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content,
                                                                           policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp(app):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its server by connecting, so not port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["NOTIFICATIONS_SMTP_HOST"] = "127.0.0.1"
    app.config["NOTIFICATIONS_SMTP_PORT"] = port
    yield inbox
    controller.stop()


def test_a_confirmation_is_mailed_with_its_deep_link(app, smtp, create_event, create_resident, sign_up):
    event = create_event(title="技术沙龙：多模态")
    person = create_resident()
    person.email = "founder@example.com"
    db.session.commit()
    sign_up(event, person)
    [(recipients, message)] = smtp.messages
    assert recipients == ["founder@example.com"]
    assert "多模态" in message["Subject"]
    text = message.get_content()
    assert f"https://events.beiyang.test/events/{event.id}" in text
    assert "List-Unsubscribe" not in message  # transactional: no unsubscribe


def test_announcements_carry_a_one_click_unsubscribe_that_works(app, client, smtp, organizer, create_resident):
    person = create_resident()
    person.email = "resident@example.com"
    db.session.commit()
    announcements.create_announcement(organizer, segment={"kind": "all"}, title="小镇公告", body="内容",
                                      now=utcnow())
    db.session.commit()
    [(_, message)] = [m for m in smtp.messages if m[0] == ["resident@example.com"]]
    url = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.get_content()
    path = url.replace("https://events.beiyang.test", "")
    assert client.get(path).status_code == 200  # a link scanner's GET changes nothing
    assert preferences_of(person.id)[("announcements", "email")] is True
    response = client.post(path, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")  # the mail client, no session
    assert response.status_code == 200
    db.session.expire_all()
    assert preferences_of(person.id)[("announcements", "email")] is False
    assert preferences_of(person.id)[("announcements", "inbox")] is True
    assert client.post(path.replace("unsubscribe/", "unsubscribe/x")).status_code == 404  # forged token


def test_a_refused_recipient_fails_the_delivery_with_the_reason(app, smtp, create_event, create_resident, sign_up):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 no such user"

    smtp.handle_RCPT = refuse
    person = create_resident()
    person.email = "gone@example.com"
    db.session.commit()
    sign_up(create_event(), person)
    db.session.expire_all()
    delivery = db.session.scalar(sa.select(Delivery).join(Notification).where(Notification.user_id == person.id))
    assert delivery.status == "failed" and "refused" in delivery.last_error
