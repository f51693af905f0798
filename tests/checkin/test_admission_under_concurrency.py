"""Exactly-once admission, over real HTTP from real threads, on SQLite and (TEST_DATABASE=postgres) PostgreSQL: ten
scanners submit the same ticket at the same instant: one admitted, nine already admitted. Ten retries of one scan
id at once: one answer, one log row."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from checkin.models import Admission, Scan
from tests.live_server import live_server

SCANNERS = 10


def fire_together(url: str, bodies: list[dict], bearer: list[str]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))

    def send(job):
        body, token = job
        session = requests.Session()
        barrier.wait(timeout=30)
        response = session.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, zip(bodies, bearer, strict=True)))


def door_team(event, steward, n):
    people = [steward(event, name=f"志愿者{i}") for i in range(n)]
    tokens = [issue_api_token(p, name=f"gate {i}", now=utcnow()) for i, p in enumerate(people)]
    db.session.commit()
    return tokens


def test_ten_scanners_one_ticket_one_admission(app, door_event, confirmed, token_of, steward):
    event = door_event()
    registration = confirmed(event)
    ticket = token_of(registration)
    bearer = door_team(event, steward, SCANNERS)
    gates = "ABCDEFGHIJ"
    bodies = [{"token": ticket, "gate": gates[i], "scan_id": str(uuid.uuid4())} for i in range(SCANNERS)]
    with live_server(app) as base:
        answers = fire_together(f"{base}/api/v1/events/{event.id}/checkins", bodies, bearer)

    assert [status for status, _ in answers] == [200] * SCANNERS, answers
    results = sorted(body["result"] for _, body in answers)
    assert results == ["admitted"] + ["already_admitted"] * (SCANNERS - 1)
    winner = next(body for _, body in answers if body["result"] == "admitted")
    assert {body["gate"] for _, body in answers} == {winner["gate"]}  # everyone names the first gate
    assert {body["first_admitted_at"] for _, body in answers} == {winner["first_admitted_at"]}

    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Scan).where(Scan.event_id == event.id)) \
        == SCANNERS


def test_ten_retries_of_one_scan_at_once_give_one_answer_and_one_log_row(app, door_event, confirmed, token_of,
                                                                         steward):
    event = door_event()
    ticket = token_of(confirmed(event))
    bearer = door_team(event, steward, 1) * SCANNERS
    scan_id = str(uuid.uuid4())
    bodies = [{"token": ticket, "gate": "A", "scan_id": scan_id}] * SCANNERS
    with live_server(app) as base:
        answers = fire_together(f"{base}/api/v1/events/{event.id}/checkins", bodies, bearer)

    assert [status for status, _ in answers] == [200] * SCANNERS, answers
    assert {body["result"] for _, body in answers} == {"admitted"}
    assert sum(not body["replayed"] for _, body in answers) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Scan).where(Scan.event_id == event.id)) == 1


def test_offline_scanners_syncing_one_ticket_at_once_leave_the_earliest_admission(app, door_event, confirmed,
                                                                                  token_of, steward):
    from datetime import timedelta

    event = door_event()
    registration = confirmed(event)
    ticket = token_of(registration)
    devices = 6
    bearer = door_team(event, steward, devices)
    base_time = utcnow() - timedelta(minutes=20)
    bodies = [{"device": f"phone-{i}", "scans": [{"scan_id": f"offline-{i}", "token": ticket, "gate": "ABCDEF"[i],
                                                  "scanned_at": (base_time + timedelta(seconds=10 * (devices - i)))
                                                  .isoformat()}]}
              for i in range(devices)]
    with live_server(app) as base:
        answers = fire_together(f"{base}/api/v1/events/{event.id}/checkins/sync", bodies, bearer)
    assert [status for status, _ in answers] == [200] * devices, answers

    db.session.rollback()
    admission = db.session.get(Admission, registration.id)
    earliest = base_time + timedelta(seconds=10)  # device 5
    assert admission.first_admitted_at == earliest and admission.gate == "F"
    scans = db.session.scalars(sa.select(Scan).where(Scan.event_id == event.id)).all()
    assert len(scans) == devices and all(s.conflict for s in scans)
    assert admission.first_scan_id == next(s.id for s in scans if s.scan_id == "offline-5")


def test_twelve_walk_ins_at_once_fill_five_seats_and_no_more(app, door_event, supervisor):
    from events.models import Event, Registration

    event = door_event(capacity=5)
    people = [supervisor(event, name=f"主管{i}") for i in range(12)]
    bearer = [issue_api_token(p, name="door", now=utcnow()) for p in people]
    db.session.commit()
    bodies = [{"phone": f"1391234{i:04d}", "name": f"来宾{i}", "gate": "ABC"[i % 3], "scan_id": str(uuid.uuid4())}
              for i in range(12)]
    with live_server(app) as base:
        answers = fire_together(f"{base}/api/v1/events/{event.id}/checkins/walk-ins", bodies, bearer)

    admitted = [body for status, body in answers if status == 200 and body["result"] == "admitted"]
    full = [body for status, body in answers if status == 409 and body["error"]["code"] == "event_full"]
    assert len(admitted) == 5 and len(full) == 7, answers
    db.session.rollback()
    assert db.session.get(Event, event.id).seats_taken == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)
                             .where(Registration.status == "confirmed")) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Admission)) == 5
