"""Offline scanners: the kit (public key and ticket list, minimal fields, verifiable offline), and the sync of
queued scans: applied in the order they happened, idempotent, a double admission at two gates keeps both scans,
the first wins and organizers see the conflict."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from checkin import tokens
from checkin.models import Admission, Scan
from events.models import Registration
from tests.checkin.conftest import new_scan_id


def iso(moment) -> str:
    return moment.isoformat()


def sync(client, bearer, event, scans, device="phone-A"):
    response = client.post(f"/api/v1/events/{event.id}/checkins/sync", json={"device": device, "scans": scans},
                           headers={"Authorization": f"Bearer {bearer}"})
    return response.status_code, response.get_json()


def bearer_for(user) -> str:
    from app.accounts.services import issue_api_token

    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    return token


def test_the_offline_kit_lets_a_scanner_verify_tickets_without_the_server(client, door_event, confirmed, token_of,
                                                                           steward, create_resident):
    event = door_event()
    first = confirmed(event, name="林晓舟", phone="+8613812345678")
    confirmed(event, name="赵一鸣")
    token = token_of(first)
    bearer = bearer_for(steward(event))

    response = client.get(f"/api/v1/events/{event.id}/checkin/offline-kit",
                          headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    kit = response.json
    assert kit["role"] == "steward" and kit["key_type"] == "Ed25519"
    assert [t["name"] for t in kit["tickets"]] == ["林晓舟", "赵一鸣"]
    assert kit["tickets"][0] == {"registration_id": first.id, "version": 1, "name": "林晓舟", "phone": "138****5678",
                                 "ticket_type": "standard", "admitted": False, "inside": False, "gate": "",
                                 "first_admitted_at": None}
    assert "13812345678" not in response.get_data(as_text=True)  # masked phones only
    assert "private" not in str(kit).lower()

    claims, payload, signature = tokens.read_claims(token)  # what the browser does, with the kit alone
    assert tokens.signature_valid(tokens.load_public_key(kit["public_key"]), payload, signature)
    assert {(t["registration_id"], t["version"]) for t in kit["tickets"]} >= {(claims.registration_id,
                                                                                claims.version)}

    stranger = bearer_for(create_resident(name="路人"))
    response = client.get(f"/api/v1/events/{event.id}/checkin/offline-kit",
                          headers={"Authorization": f"Bearer {stranger}"})
    assert response.status_code == 403 and "林晓舟" not in response.get_data(as_text=True)


def test_queued_scans_sync_once_and_a_retry_answers_the_same(client, door_event, confirmed, token_of, steward):
    event = door_event()
    tickets = [token_of(confirmed(event, name=f"观众{i}")) for i in range(3)]
    bearer = bearer_for(steward(event))
    start = utcnow() - timedelta(minutes=10)
    queued = [{"scan_id": new_scan_id(), "token": t, "gate": "B", "scanned_at": iso(start + timedelta(seconds=i))}
              for i, t in enumerate(tickets)]
    status, body = sync(client, bearer, event, queued)
    assert status == 200 and [r["result"] for r in body["results"]] == ["admitted"] * 3
    status, again = sync(client, bearer, event, queued)  # the network dropped before the answer arrived
    assert [r["result"] for r in again["results"]] == ["admitted"] * 3
    assert all(r["replayed"] for r in again["results"])
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Scan)) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 3
    admission = db.session.scalars(sa.select(Admission).order_by(Admission.registration_id)).first()
    assert admission.first_admitted_at == start and admission.gate == "B"  # when it happened, not when synced


def test_a_double_admission_at_two_offline_gates_keeps_both_and_the_first_wins(
        client, door_event, confirmed, token_of, steward, supervisor):
    event = door_event()
    registration = confirmed(event, name="两个门都进了")
    token = token_of(registration)
    gate_a, gate_b = bearer_for(steward(event, "A门志愿者")), bearer_for(steward(event, "B门志愿者"))
    early, late = utcnow() - timedelta(minutes=5), utcnow() - timedelta(minutes=3)

    # Gate B syncs first, with the later scan; then gate A with the earlier one.
    _, b = sync(client, gate_b, event, [{"scan_id": "b-1", "token": token, "gate": "B", "scanned_at": iso(late)}],
                device="phone-B")
    assert b["results"][0]["result"] == "admitted"
    _, a = sync(client, gate_a, event, [{"scan_id": "a-1", "token": token, "gate": "A", "scanned_at": iso(early)}],
                device="phone-A")
    assert a["results"][0]["result"] == "admitted"  # it happened first: it is the admission

    db.session.rollback()
    admission = db.session.get(Admission, registration.id)
    assert admission.gate == "A" and admission.first_admitted_at == early
    logged = {s.scan_id: s for s in db.session.scalars(sa.select(Scan))}
    assert logged["a-1"].conflict and logged["b-1"].conflict
    assert admission.first_scan_id == logged["a-1"].id
    assert db.session.get(Registration, registration.id).checked_in_at == early

    chief = bearer_for(supervisor(event))
    response = client.get(f"/api/v1/events/{event.id}/checkins/conflicts", headers={"Authorization": f"Bearer {chief}"})
    (conflict,) = response.json["conflicts"]
    assert conflict["attendee"]["name"] == "两个门都进了"
    assert [(s["gate"], s["device"], s["won"]) for s in conflict["scans"]] == [("A", "phone-A", True),
                                                                             ("B", "phone-B", False)]
    counters = client.get(f"/api/v1/events/{event.id}/checkins/counters",
                          headers={"Authorization": f"Bearer {chief}"}).json
    assert counters["admitted"] == 1 and counters["conflicts"] == 1 and counters["gates"] == {"A": 1}

    response = client.get(f"/api/v1/events/{event.id}/checkins/conflicts",
                          headers={"Authorization": f"Bearer {gate_a}"})
    assert response.status_code == 403  # stewards scan; supervisors look into conflicts


def test_an_offline_scan_after_an_online_admission_is_a_conflict_that_loses(
        client, door_event, confirmed, token_of, steward, scan):
    event = door_event()
    token = token_of(confirmed(event))
    online = steward(event, "在线志愿者")
    scan.as_(online)
    assert scan(event, token, gate="A")[1]["result"] == "admitted"
    _, body = sync(client, bearer_for(steward(event, "离线志愿者")), event,
                   [{"scan_id": "late", "token": token, "gate": "C", "scanned_at": iso(utcnow())}])
    assert body["results"][0]["result"] == "already_admitted" and body["results"][0]["gate"] == "A"
    db.session.rollback()
    assert [s.conflict for s in db.session.scalars(sa.select(Scan).order_by(Scan.id))] == [True, True]


def test_sync_checks_each_scan_like_an_online_scan(client, door_event, confirmed, token_of, steward):
    event = door_event()
    good = token_of(confirmed(event))
    bearer = bearer_for(steward(event))
    now = utcnow()
    scans = [
        {"scan_id": "x1", "token": "garbage", "gate": "A", "scanned_at": iso(now)},
        {"scan_id": "x2", "token": good, "gate": "A", "scanned_at": iso(now + timedelta(hours=3))},  # clock ahead
        {"scan_id": "x3", "token": good, "gate": "A", "scanned_at": iso(now), "offline_result": "already_admitted"},
    ]
    status, body = sync(client, bearer, event, scans)
    assert status == 200
    results = {r["scan_id"]: r for r in body["results"]}
    assert results["x1"]["result"] == "invalid"
    assert results["x3"]["result"] == "already_admitted"  # the scanner turned them away: nobody admitted by it
    assert results["x2"]["result"] == "admitted"
    db.session.rollback()
    x2 = db.session.scalars(sa.select(Scan).where(Scan.scan_id == "x2")).one()
    assert x2.scanned_at <= utcnow() and x2.reason == "device_clock_ahead"

    status, body = sync(client, bearer, event, [{"scan_id": "x1", "token": good, "gate": "A",
                                                 "scanned_at": iso(now)}])
    assert body["results"][0]["error"]["code"] == "scan_id_reused"
    status, body = sync(client, bearer, event, [{"scan_id": "x9", "token": good, "gate": "A",
                                                 "scanned_at": "2026-12-01T09:00:00"}])  # no offset
    assert status == 422 and "scans" in body["error"]["details"]["fields"]
    status, body = sync(client, bearer, event, [])
    assert status == 422
