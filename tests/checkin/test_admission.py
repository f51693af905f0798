"""Admission at the door: admitted once, then "already admitted at 09:41 by gate B"; invalid, revoked, wrong event,
not open; a retried scan id gets the same answer and counts nothing; door roles; clear errors for bad input."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from checkin import services
from checkin.models import Admission, Scan
from events.models import Registration
from events.services import cancel_event, cancel_registration
from tests.checkin.conftest import new_scan_id


def scans_of(event) -> list[Scan]:
    try:
        return list(db.session.scalars(sa.select(Scan).where(Scan.event_id == event.id).order_by(Scan.id)))
    finally:
        db.session.rollback()


def test_a_ticket_admits_once_then_says_when_and_where(client, door_event, confirmed, token_of, steward, scan):
    event = door_event()
    registration = confirmed(event, name="林晓舟", phone="+8613812345678")
    token = token_of(registration)
    scan.as_(steward(event))

    status, first = scan(event, token, gate="B")
    assert status == 200 and first["result"] == "admitted"
    assert first["attendee"] == {"registration_id": registration.id, "name": "林晓舟", "phone": "138****5678",
                                 "ticket_type": "standard"}
    assert first["gate"] == "B" and first["first_admitted_at"]

    status, second = scan(event, token, gate="A")
    assert status == 200 and second["result"] == "already_admitted"
    assert second["gate"] == "B" and second["scanned_gate"] == "A"
    assert second["first_admitted_at"] == first["first_admitted_at"]

    db.session.expire_all()
    assert db.session.get(Registration, registration.id).checked_in_at is not None
    assert [s.result for s in scans_of(event)] == ["admitted", "already_admitted"]


def test_the_same_scan_id_returns_the_same_answer_and_counts_nothing_twice(
        client, door_event, confirmed, token_of, steward, scan):
    event = door_event()
    token = token_of(confirmed(event))
    scan.as_(steward(event))
    scan_id = new_scan_id()
    _, first = scan(event, token, scan_id=scan_id)
    _, again = scan(event, token, scan_id=scan_id)
    assert first["result"] == again["result"] == "admitted"
    assert again["replayed"] is True and first["replayed"] is False
    assert len(scans_of(event)) == 1

    status, reused = scan(event, token_of(confirmed(event, name="另一位")), scan_id=scan_id)
    assert status == 409 and reused["error"]["code"] == "scan_id_reused"


def test_refusals_are_answered_with_their_reason_and_logged(client, door_event, create_event, confirmed, token_of,
                                                            supervisor, scan):
    event = door_event()
    scan.as_(supervisor(event))

    assert scan(event, "hello")[1]["result"] == "invalid"
    assert scan(event, "")[1]["result"] == "invalid"

    other = door_event(title="另一场")
    status, body = scan(event, token_of(confirmed(other)))
    assert body["result"] == "wrong_event" and body["attendee"] is None

    cancelled = confirmed(event, name="已取消")
    old_token = token_of(cancelled)
    cancel_registration(cancelled.id, cancelled.user, now=utcnow())
    db.session.commit()
    _, body = scan(event, old_token)
    assert body["result"] == "revoked" and body["reason"] == "cancelled"

    reissued = confirmed(event, name="补发过")
    stale = token_of(reissued)
    services.reissue_ticket(reissued.id, reissued.user, now=utcnow())
    db.session.commit()
    _, body = scan(event, stale)
    assert body["result"] == "revoked" and body["reason"] == "old_version"
    assert scan(event, token_of(reissued))[1]["result"] == "admitted"

    later = create_event(title="后天的沙龙", starts_in=timedelta(days=2))
    scan.as_(supervisor(later, name="后天主管"))
    _, body = scan(later, token_of(confirmed(later)))
    assert body["result"] == "not_open" and body["reason"] == "not_yet_open"

    assert [s.result for s in scans_of(event)] == ["invalid", "invalid", "wrong_event", "revoked", "revoked",
                                                   "admitted"]


def test_a_cancelled_event_revokes_every_ticket(client, door_event, confirmed, token_of, organizer, scan):
    event = door_event(created_by_id=None)
    token = token_of(confirmed(event))
    from app.accounts.services import grant_role

    grant_role(organizer, "organizer", f"event:{event.id}")
    db.session.commit()
    cancel_event(event.id, organizer, reason="暴雨", now=utcnow())
    db.session.commit()
    scan.as_(organizer)
    _, body = scan(event, token)
    assert body["result"] == "revoked" and body["reason"] == "event_cancelled"


def test_people_without_a_door_role_get_403_and_learn_nothing(client, door_event, confirmed, token_of,
                                                              create_resident, scan):
    event = door_event()
    registration = confirmed(event, name="林晓舟")
    token = token_of(registration)
    for person in (create_resident(name="路人"), create_resident(roles=[("organizer", "event:424242")]),
                   create_resident(roles=[("steward", "event:424242")])):
        scan.as_(person)
        status, body = scan(event, token)
        assert status == 403 and body["error"]["code"] == "forbidden"
        assert "林晓舟" not in str(body) and "attendee" not in body
    assert scans_of(event) == []
    db.session.expire_all()
    assert db.session.get(Admission, registration.id) is None


def test_anonymous_scans_are_401(client, door_event):
    event = door_event()
    response = client.post(f"/api/v1/events/{event.id}/checkins", json={"token": "x", "gate": "A", "scan_id": "1"})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_bad_input_gets_clear_errors(client, door_event, steward, scan):
    event = door_event()
    scan.as_(steward(event))
    status, body = scan(event, "x", scan_id="has spaces")
    assert status == 422 and "scan_id" in body["error"]["details"]["fields"]
    status, body = scan(event, "x", gate="")
    assert status == 422 and "gate" in body["error"]["details"]["fields"]
    status, body = scan(event, "x", direction="sideways")
    assert status == 422 and "direction" in body["error"]["details"]["fields"]
    status, body = scan(event, None, path="checkins/nothing")
    assert status == 404
    headers = {"Authorization": f"Bearer {_bearer(steward, event)}"}
    response = client.post(f"/api/v1/events/{event.id}/checkins", data="not json",
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (400, 422) and response.json["error"]["code"] == "invalid_json"
    response = client.post("/api/v1/events/999999/checkins", json={"token": "x", "gate": "A", "scan_id": "1"},
                           headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "event_not_found"


def _bearer(steward, event) -> str:
    from app.accounts.services import issue_api_token

    token = issue_api_token(steward(event, name="另一位志愿者"), now=utcnow())
    db.session.commit()
    return token


def test_stewards_only_scan_supervisors_admit_by_hand_and_override_with_a_logged_reason(
        client, door_event, confirmed, steward, supervisor, scan):
    event = door_event()
    registration = confirmed(event, name="手机没电")
    scan.as_(steward(event))
    status, body = scan(event, None, path="checkins/manual", registration_id=registration.id)
    assert status == 403 and body["error"]["code"] == "supervisor_only"

    chief = supervisor(event)
    scan.as_(chief)
    status, body = scan(event, None, path="checkins/manual", registration_id=registration.id)
    assert status == 200 and body["result"] == "admitted" and body["attendee"]["name"] == "手机没电"

    gone = confirmed(event, name="退票又来了")
    cancel_registration(gone.id, gone.user, now=utcnow())
    db.session.commit()
    _, body = scan(event, None, path="checkins/manual", registration_id=gone.id)
    assert body["result"] == "revoked"
    status, body = scan(event, None, path="checkins/manual", registration_id=gone.id, override=True)
    assert status == 422 and body["error"]["code"] == "reason_required"
    status, body = scan(event, None, path="checkins/manual", registration_id=gone.id, override=True,
                        reason="主办方邀请的嘉宾")
    assert status == 200 and body["result"] == "admitted"

    logged = scans_of(event)
    assert [(s.mode, s.result, s.actor_id) for s in logged] == [
        ("manual", "admitted", chief.id), ("manual", "revoked", chief.id), ("override", "admitted", chief.id)]
    assert logged[-1].reason == "主办方邀请的嘉宾"


def test_reentry_lets_people_out_and_in_again_and_shows_who_is_inside(
        client, door_event, confirmed, token_of, steward, scan):
    event = door_event()
    config = services.ensure_config(event.id, now=utcnow())
    config.allow_reentry = True
    db.session.commit()
    token = token_of(confirmed(event))
    scan.as_(steward(event))
    assert scan(event, token)[1]["result"] == "admitted"
    assert scan(event, token)[1]["result"] == "already_admitted"
    _, out = scan(event, token, direction="out")
    assert out["result"] == "exited" and out["inside"] is False
    assert scan(event, token, direction="out")[1]["result"] == "not_inside"
    _, back = scan(event, token, gate="C")
    assert back["result"] == "admitted" and back["inside"] is True and back["gate"] == "A"
    db.session.expire_all()
    admission = db.session.scalars(sa.select(Admission)).one()
    assert admission.entries == 2 and admission.inside


def test_without_reentry_a_scan_out_is_refused(client, door_event, confirmed, token_of, steward, scan):
    event = door_event()
    token = token_of(confirmed(event))
    scan.as_(steward(event))
    scan(event, token)
    assert scan(event, token, direction="out")[1]["result"] == "not_inside"
