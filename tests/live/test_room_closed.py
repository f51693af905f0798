"""A cancelled event's live room closes at once: real Socket.IO clients over a real HTTP server (a phone, the big
screen, a moderator's page) are taken out of the event's rooms the moment the cancellation commits, each told with
room_left (code room_closed); a phone of another event's room stays; nobody joins again (409 event_cancelled, in
Chinese); the pages say 活动已取消."""

from __future__ import annotations

import threading

import requests
import socketio

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from tests.conftest import sign_in
from tests.live_server import live_server

TIMEOUT = 10


class Page:
    """A page of the live room: a python-socketio client that joined one room and records room_left."""

    def __init__(self, base: str, token: str, join: str, payload: dict):
        self.client = socketio.Client(reconnection=False)
        self.left: list[dict] = []
        self.closed = threading.Event()
        self.client.on("room_left", self._left)
        self.client.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=TIMEOUT)
        self.join, self.payload = join, payload
        self.joined = self.client.call(join, payload, timeout=TIMEOUT)

    def _left(self, message):
        self.left.append(message)
        self.closed.set()

    def join_again(self) -> dict:
        return self.client.call(self.join, self.payload, timeout=TIMEOUT)


def test_cancelling_the_event_empties_its_live_rooms_at_once(app, room_event, attendee, event_organizer,
                                                             create_event):
    other_event = create_event(title="另一场沙龙")
    organizer = event_organizer(room_event)
    tokens = {name: issue_api_token(person, name="phone", now=utcnow()) for name, person in {
        "phone": attendee(room_event, name="观众"), "organizer": organizer,
        "elsewhere": attendee(other_event, name="别处的观众")}.items()}
    db.session.commit()
    event_id = room_event.id
    with live_server(app) as base:
        phone = Page(base, tokens["phone"], "join_live", {"event_id": event_id})
        screen = Page(base, tokens["organizer"], "join_live", {"event_id": event_id, "screen": True})
        moderator = Page(base, tokens["organizer"], "join_live_moderators", {"event_id": event_id})
        elsewhere = Page(base, tokens["elsewhere"], "join_live", {"event_id": other_event.id})
        pages = [phone, screen, moderator, elsewhere]
        try:
            assert [page.joined["room"] for page in pages] == [
                f"event:{event_id}:live", f"event:{event_id}:live:screen", f"event:{event_id}:live:moderators",
                f"event:{other_event.id}:live"]
            response = requests.post(f"{base}/api/v1/events/{event_id}/cancel", json={"reason": "台风"},
                                     headers={"Authorization": f"Bearer {tokens['organizer']}"}, timeout=TIMEOUT)
            assert response.status_code == 200, response.text
            for page in (phone, screen, moderator):
                assert page.closed.wait(TIMEOUT), f"{page.joined['room']} still open"
                assert page.left == [{"room": page.joined["room"], "code": "room_closed"}]
                assert page.join_again() == {"ok": False, "code": "event_cancelled", "message": "该活动已取消。"}
            assert not elsewhere.closed.wait(0.3) and elsewhere.left == []
        finally:
            for page in pages:
                page.client.disconnect()


def test_the_pages_of_a_cancelled_events_room_say_so(app, client, room_event, attendee, event_organizer):
    from events.services import events as event_changes

    person, organizer = attendee(room_event), event_organizer(room_event)
    open_page = _page(client, person, f"/events/{room_event.id}/live")
    assert 'data-testid="live-cancelled" hidden' in open_page
    event_changes.cancel_event(room_event.id, organizer, reason="台风", now=utcnow())
    db.session.commit()
    for user, path in ((person, ""), (organizer, "/moderate"), (organizer, "/screen")):
        page = _page(client, user, f"/events/{room_event.id}/live{path}")
        assert 'data-testid="live-cancelled">活动已取消</p>' in page, path


def _page(client, user, path: str) -> str:
    sign_in(client, user)
    response = client.get(path, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_room_closed_by_another_process_empties_here_too(app, room_event, attendee):
    """Across processes the closing travels on the access channel (Redis): what a process hears from another closes
    the rooms of its own connections."""
    from app.realtime import heard_from_another_process
    from tests.conftest import eventually, socket_rooms
    from tests.live.test_live_updates import connect, join

    phone = connect(app, attendee(room_event))
    room = f"event:{room_event.id}:live"
    assert join(phone, room_event.id)["ok"]
    phone.get_received()
    heard_from_another_process(app, {"host": "another-process", "close_rooms": [room], "code": "room_closed"})
    assert eventually(lambda: room not in socket_rooms(phone))
    assert [e["args"][0] for e in phone.get_received() if e["name"] == "room_left"] == [
        {"room": room, "code": "room_closed"}]
