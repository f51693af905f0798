"""Live counters: every scanner of the event (joined to its door room, authorised like any request) sees admitted /
expected and per-gate numbers move when any gate admits someone; nobody else can listen."""

from __future__ import annotations

import contextvars

from app.extensions import db, socketio
from tests.conftest import eventually, sign_in, socket_rooms


def connect(app, user):
    http = app.test_client()
    sign_in(http, user)
    return contextvars.Context().run(socketio.test_client, app, flask_test_client=http)


def join(sio, event_id):
    return contextvars.Context().run(sio.emit, "join_checkin", {"event_id": event_id}, callback=True)


def counters_received(sio) -> list[dict]:
    return [e["args"][0] for e in sio.get_received() if e["name"] == "checkin_counters"]


def test_every_scanner_of_the_event_sees_the_counters_move(app, door_event, confirmed, token_of, steward, supervisor,
                                                           scan, create_resident):
    event = door_event()
    tickets = [token_of(confirmed(event, name=f"观众{i}")) for i in range(3)]
    gate_a, gate_b = steward(event, "A门"), supervisor(event, "B门主管")
    screens = [connect(app, gate_a), connect(app, gate_b)]
    for sio in screens:
        ack = join(sio, event.id)
        assert ack["ok"] and ack["counters"]["expected"] == 3 and ack["counters"]["admitted"] == 0
        sio.get_received()

    scan.as_(gate_a)
    scan(event, tickets[0], gate="A")
    scan.as_(gate_b)
    scan(event, tickets[1], gate="B")
    scan(event, tickets[1], gate="B")  # already admitted: nothing moves
    scan(event, "garbage", gate="B")

    for sio in screens:
        seen = counters_received(sio)
        assert [c["admitted"] for c in seen] == [1, 2]
        assert seen[-1] == {"event_id": event.id, "expected": 3, "admitted": 2, "inside": 2,
                            "gates": {"A": 1, "B": 1}, "conflicts": 0}


def test_people_without_a_door_role_cannot_join(app, door_event, create_resident):
    event = door_event()
    outsider = connect(app, create_resident(name="路人", roles=[("steward", "event:31337")]))
    ack = join(outsider, event.id)
    assert ack["ok"] is False and ack["code"] == "forbidden"
    assert join(outsider, "abc")["code"] == "event_not_found"


def test_an_organizer_whose_role_is_removed_leaves_the_door_and_registration_rooms(
        app, door_event, confirmed, token_of, steward, scan, create_resident):
    from app.accounts.services import revoke_role

    event = door_event()
    ticket = token_of(confirmed(event))
    organizer = create_resident(name="前组织者", roles=[("organizer", f"event:{event.id}")])
    gate = steward(event)
    organizer_sio, gate_sio = connect(app, organizer), connect(app, gate)
    assert join(organizer_sio, event.id)["ok"] and join(gate_sio, event.id)["ok"]
    assert contextvars.Context().run(organizer_sio.emit, "join_event_organizers", {"event_id": event.id},
                                     callback=True)["ok"]
    door, registrations = f"event:{event.id}:checkin", f"event:{event.id}:organizers"
    assert {door, registrations} <= socket_rooms(organizer_sio)
    organizer_sio.get_received()

    revoke_role(organizer, "organizer", f"event:{event.id}")
    db.session.commit()
    assert eventually(lambda: not {door, registrations} & socket_rooms(organizer_sio)), socket_rooms(organizer_sio)
    assert f"user:{organizer.id}" in socket_rooms(organizer_sio) and door in socket_rooms(gate_sio)
    left = sorted(e["args"][0]["room"] for e in organizer_sio.get_received() if e["name"] == "room_left")
    assert left == sorted([door, registrations])

    scan.as_(gate)
    scan(event, ticket, gate="A")
    assert [c["admitted"] for c in counters_received(gate_sio)] == [1]
    assert counters_received(organizer_sio) == []
    assert join(organizer_sio, event.id)["code"] == "forbidden"
