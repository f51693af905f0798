"""Walk-ins and door settings: a supervisor registers someone at the door if a seat remains (after the start too)
and admits them at once; a full event says so; stewards cannot; a retried walk-in counts once. Organizers switch
re-entry on; supervisors see who is inside now."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from checkin import services
from checkin.models import Admission, Scan, WalkIn
from events.models import Event, Registration
from events.services import register_at_the_door
from tests.checkin.conftest import new_scan_id


def walk_in(scan, event, *, phone="13912340001", name="现场来宾", **extra):
    return scan(event, None, path="checkins/walk-ins", phone=phone, name=name, **extra)


def count(model, **where) -> int:
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))
    finally:
        db.session.rollback()


def test_a_walk_in_is_registered_and_admitted_at_once_after_the_start(client, door_event, supervisor, scan):
    event = door_event(starts_in=timedelta(minutes=-30), capacity=10)  # started half an hour ago
    scan.as_(supervisor(event))

    status, body = walk_in(scan, event, phone="139 1234 0001", name="现场来宾", gate="B")

    assert status == 200, body
    assert body["result"] == "admitted" and body["gate"] == "B"
    assert body["attendee"]["name"] == "现场来宾" and body["attendee"]["phone"] == "139****0001"
    assert body["attendee"]["ticket_type"] == "walk_in"
    db.session.expire_all()
    registration = db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)).one()
    assert registration.status == "confirmed" and registration.checked_in_at is not None
    assert db.session.get(Event, event.id).seats_taken == 1
    assert db.session.get(WalkIn, registration.id) is not None
    assert db.session.scalars(sa.select(Scan)).one().mode == "walk_in"
    assert services.counters(event.id)["expected"] == 1 and services.counters(event.id)["admitted"] == 1


def test_a_retried_walk_in_counts_once(client, door_event, supervisor, scan):
    event = door_event(capacity=10)
    scan.as_(supervisor(event))
    scan_id = new_scan_id()
    first = walk_in(scan, event, scan_id=scan_id)[1]
    again = walk_in(scan, event, scan_id=scan_id)[1]
    assert first["result"] == again["result"] == "admitted" and again["replayed"] is True
    assert count(Registration) == 1 and count(Scan) == 1
    assert db.session.get(Event, event.id).seats_taken == 1

    status, body = walk_in(scan, event, phone="13912340002", scan_id=scan_id)
    assert status == 409 and body["error"]["code"] == "scan_id_reused"


def test_someone_who_already_has_a_ticket_is_admitted_not_registered_twice(client, door_event, confirmed,
                                                                           supervisor, scan):
    event = door_event(capacity=10)
    registration = confirmed(event, name="林晓舟", phone="+8613812345678")
    scan.as_(supervisor(event))
    _, body = walk_in(scan, event, phone="13812345678", name="")
    assert body["result"] == "admitted" and body["attendee"]["ticket_type"] == "standard"
    assert walk_in(scan, event, phone="13812345678")[1]["result"] == "already_admitted"
    assert count(Registration) == 1 and count(WalkIn) == 0
    assert db.session.get(Event, event.id).seats_taken == 1
    assert db.session.scalars(sa.select(Scan.mode).order_by(Scan.id)).all() == ["manual", "manual"]
    db.session.rollback()
    assert db.session.get(Registration, registration.id).status == "confirmed"


def test_a_full_event_refuses_walk_ins_and_a_waitlisted_person_takes_a_free_seat(
        client, door_event, create_resident, supervisor, scan):
    event = door_event(capacity=1)
    scan.as_(supervisor(event))
    assert walk_in(scan, event, phone="13912340001")[1]["result"] == "admitted"
    status, body = walk_in(scan, event, phone="13912340002")
    assert status == 409 and body["error"]["code"] == "event_full"
    assert count(Registration) == 1 and count(Scan) == 1  # the refused walk-in wrote nothing

    waiting = create_resident(name="候补的人", phone="+8613912340003")
    db.session.execute(sa.update(Event).where(Event.id == event.id).values(capacity=2))
    db.session.add(Registration(event_id=event.id, user_id=waiting.id, status="waitlisted", waitlist_seq=99))
    db.session.commit()
    _, body = walk_in(scan, event, phone="13912340003")
    assert body["result"] == "admitted" and body["attendee"]["name"] == "候补的人"
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 2


def test_a_cancelled_registration_gets_a_new_ticket_version_at_the_door(client, door_event, confirmed, supervisor,
                                                                        scan, token_of):
    from events.services import cancel_registration

    event = door_event(capacity=5)
    registration = confirmed(event, phone="+8613912340009")
    old_token = token_of(registration)
    cancel_registration(registration.id, registration.user, now=utcnow())
    db.session.commit()
    scan.as_(supervisor(event))
    assert walk_in(scan, event, phone="13912340009")[1]["result"] == "admitted"
    db.session.expire_all()
    fresh = db.session.get(Registration, registration.id)
    assert fresh.status == "confirmed" and fresh.version == 3  # 1, cancelled 2, back at the door 3
    assert scan(event, old_token)[1]["reason"] == "old_version"


def test_stewards_cannot_register_walk_ins_and_doors_must_be_open(client, door_event, steward, supervisor, scan):
    event = door_event()
    scan.as_(steward(event))
    status, body = walk_in(scan, event)
    assert status == 403 and body["error"]["code"] == "supervisor_only"

    later = door_event(starts_in=timedelta(days=2))
    scan.as_(supervisor(later))
    status, body = walk_in(scan, later)
    assert status == 409 and body["error"]["code"] == "not_open"
    status, body = walk_in(scan, later, phone="12345")
    assert status == 422 and "phone" in body["error"]["details"]["fields"]
    assert count(User, phone="+8613912340001") == 0


def test_register_at_the_door_confirms_an_offered_seat_without_taking_another(app, create_event, create_resident):
    event = create_event(capacity=1)
    person = create_resident()
    db.session.add(Registration(event_id=event.id, user_id=person.id, status="offered", waitlist_seq=1))
    db.session.execute(sa.update(Event).where(Event.id == event.id).values(seats_taken=1))
    db.session.commit()
    registration, newly = register_at_the_door(event.id, person, now=utcnow())
    db.session.commit()
    assert newly and registration.status == "confirmed"
    db.session.expire_all()
    assert db.session.get(Event, event.id).seats_taken == 1


def test_organizers_switch_reentry_on_and_supervisors_see_who_is_inside(
        client, door_event, confirmed, token_of, organizer, steward, supervisor, scan):
    from app.accounts.services import grant_role

    event = door_event()
    grant_role(organizer, "organizer", f"event:{event.id}")
    db.session.commit()
    token = token_of(confirmed(event, name="林晓舟"))

    scan.as_(steward(event))
    door = _bearer(steward(event, "另一位志愿者"))
    response = client.get(f"/api/v1/events/{event.id}/checkin/settings", headers={"Authorization": f"Bearer {door}"})
    assert response.get_json() == {"allow_reentry": False, "opens_minutes_before": 120}
    response = client.patch(f"/api/v1/events/{event.id}/checkin/settings", json={"allow_reentry": True},
                            headers={"Authorization": f"Bearer {door}"})
    assert response.status_code == 403

    response = client.patch(f"/api/v1/events/{event.id}/checkin/settings",
                            json={"allow_reentry": True, "opens_minutes_before": 60},
                            headers={"Authorization": f"Bearer {_bearer(organizer)}"})
    assert response.status_code == 200 and response.get_json() == {"allow_reentry": True,
                                                                   "opens_minutes_before": 60}
    response = client.patch(f"/api/v1/events/{event.id}/checkin/settings", json={"opens_minutes_before": -1},
                            headers={"Authorization": f"Bearer {_bearer(organizer)}"})
    assert response.status_code == 422

    assert scan(event, token)[1]["result"] == "admitted"
    chief = _bearer(supervisor(event))
    inside = client.get(f"/api/v1/events/{event.id}/checkins/inside", headers={"Authorization": f"Bearer {chief}"})
    assert [p["name"] for p in inside.get_json()] == ["林晓舟"]
    assert client.get(f"/api/v1/events/{event.id}/checkins/inside",
                      headers={"Authorization": f"Bearer {_bearer(steward(event, '第三位'))}"}).status_code == 403

    assert scan(event, token, direction="out")[1]["result"] == "exited"
    inside = client.get(f"/api/v1/events/{event.id}/checkins/inside", headers={"Authorization": f"Bearer {chief}"})
    assert inside.get_json() == []
    assert services.counters(event.id)["inside"] == 0
    db.session.rollback()
    assert db.session.scalars(sa.select(Admission)).one().inside is False


def _bearer(user) -> str:
    from app.accounts.services import issue_api_token

    token = issue_api_token(user, name="scanner", now=utcnow())
    db.session.commit()
    return token
