"""A new message appears at once on the person's open pages: a real Socket.IO client, over a real HTTP server,
hears it in its personal room after the sign-up commits, and only its own."""

import threading

import requests
import socketio

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from tests.live_server import live_server

TIMEOUT = 10


class Listener:
    def __init__(self, base: str, token: str):
        self.client = socketio.Client(reconnection=False)
        self.messages: list[dict] = []
        self.welcomed = threading.Event()
        self.arrived = threading.Event()
        self.client.on("welcome", lambda payload=None: self.welcomed.set())
        self.client.on("notification", self._record)
        self.client.connect(base, auth={"token": token}, transports=["polling"], wait_timeout=TIMEOUT)
        assert self.welcomed.wait(TIMEOUT)

    def _record(self, payload):
        self.messages.append(payload)
        self.arrived.set()


def test_a_sign_up_reaches_the_persons_open_page_at_once_and_nobody_elses(app, create_event, create_resident):
    event = create_event(title="模速路演日")
    founder, bystander = create_resident(), create_resident()
    founder_token = issue_api_token(founder, now=utcnow())
    bystander_token = issue_api_token(bystander, now=utcnow())
    db.session.commit()
    with live_server(app) as base:
        mine, theirs = Listener(base, founder_token), Listener(base, bystander_token)
        try:
            response = requests.post(f"{base}/api/v1/events/{event.id}/registrations", json={},
                                     headers={"Authorization": f"Bearer {founder_token}"}, timeout=TIMEOUT)
            assert response.status_code == 201, response.text
            assert mine.arrived.wait(TIMEOUT), "no live message"
            [message] = mine.messages
            assert message["user_id"] == founder.id and message["kind"] == "registration_confirmed"
            assert "模速路演日" in message["title"] and message["link"] == f"/events/{event.id}"
            count = requests.get(f"{base}/api/v1/notifications/unread-count",
                                 headers={"Authorization": f"Bearer {founder_token}"}, timeout=TIMEOUT).json()
            assert count == {"unread_count": 1}
            assert not theirs.arrived.wait(0.5) and theirs.messages == []
        finally:
            mine.client.disconnect()
            theirs.client.disconnect()


def test_a_refused_sign_up_sends_nothing_live(app, create_event, create_resident):
    event = create_event(status="cancelled")
    founder = create_resident()
    token = issue_api_token(founder, now=utcnow())
    db.session.commit()
    with live_server(app) as base:
        mine = Listener(base, token)
        try:
            response = requests.post(f"{base}/api/v1/events/{event.id}/registrations", json={},
                                     headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
            assert response.status_code in (404, 409)
            assert not mine.arrived.wait(0.5) and mine.messages == []
        finally:
            mine.client.disconnect()


def test_an_announcement_reaches_each_recipients_open_page_once_in_their_language(app, create_resident):
    """One emit per chunk and language, addressed to every recipient's room: each open page hears it once, in its
    person's language; someone outside the segment hears nothing."""
    from notifications import announcements

    organizer = create_resident(name="组织者", roles=["organizer"], company="主办方")
    chinese, english = create_resident(company="模速科技"), create_resident(company="模速科技", locale="en")
    outsider = create_resident(company="别的公司")
    tokens = [issue_api_token(person, now=utcnow()) for person in (chinese, english, outsider)]
    db.session.commit()
    with live_server(app) as base:
        listeners = [Listener(base, token) for token in tokens]
        try:
            announcements.create_announcement(organizer, segment={"kind": "company", "company": "模速科技"},
                                              title="模速空间停电通知", title_en="Power cut at ModelSpeed",
                                              body="周六 9:00-12:00", now=utcnow())
            db.session.commit()
            assert listeners[0].arrived.wait(TIMEOUT) and listeners[1].arrived.wait(TIMEOUT)
            assert [m["title"] for m in listeners[0].messages] == ["模速空间停电通知"]
            assert [m["title"] for m in listeners[1].messages] == ["Power cut at ModelSpeed"]
            assert listeners[0].messages[0]["kind"] == "announcement" and listeners[0].messages[0]["announcement_id"]
            assert not listeners[2].arrived.wait(0.5)
        finally:
            for listener in listeners:
                listener.client.disconnect()
