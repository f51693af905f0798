"""A person whose seat is cancelled (by themselves) or who is removed (the organizer rejects their registration)
leaves the live room at once: events' cancel and reject paths announce an access change, and the connection leaves
event:<id>:live (told with room_left) while others stay; the room refuses them when they try again."""

from __future__ import annotations

from app.extensions import db
from events.models import Registration
from tests.conftest import eventually, socket_rooms
from tests.live.test_live_updates import connect, join


def left(sio) -> list[dict]:
    return [e["args"][0] for e in sio.get_received() if e["name"] == "room_left"]


def registration_id(event, user) -> int:
    return db.session.query(Registration.id).filter_by(event_id=event.id, user_id=user.id).scalar()


def test_cancelling_ones_seat_leaves_the_live_room(app, room_event, attendee, api):
    leaver, stayer = attendee(room_event, name="要走的人"), attendee(room_event, name="留下的人")
    leaver_sio, stayer_sio = connect(app, leaver), connect(app, stayer)
    room = f"event:{room_event.id}:live"
    for sio in (leaver_sio, stayer_sio):
        assert join(sio, room_event.id)["ok"]
        sio.get_received()

    assert api(leaver).delete(f"/api/v1/registrations/{registration_id(room_event, leaver)}").status_code == 200
    assert eventually(lambda: room not in socket_rooms(leaver_sio)), "a cancelled seat still listens to the room"
    assert left(leaver_sio) == [{"room": room, "code": "access_changed"}]
    assert room in socket_rooms(stayer_sio) and leaver_sio.is_connected()
    assert join(leaver_sio, room_event.id)["code"] == "not_attendee"


def test_a_registration_the_organizer_rejects_leaves_the_live_room(app, room_event, attendee, event_organizer, api):
    removed = attendee(room_event, name="被移除的人")
    sio = connect(app, removed)
    room = f"event:{room_event.id}:live"
    assert join(sio, room_event.id)["ok"]
    sio.get_received()

    response = api(event_organizer(room_event)).post(
        f"/api/v1/events/{room_event.id}/registrations/decisions",
        json={"registration_ids": [registration_id(room_event, removed)], "decision": "reject"})
    assert response.status_code == 200, response.get_json()
    assert eventually(lambda: room not in socket_rooms(sio)), "a removed person still listens to the room"
    assert left(sio) == [{"room": room, "code": "access_changed"}]
