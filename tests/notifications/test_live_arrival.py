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
