"""Seats are never oversold: hundreds of residents sign up at the same moment, from real threads, over real HTTP,
on SQLite and (TEST_DATABASE=postgres) PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from events import services
from events.models import Event, Registration
from tests.live_server import live_server

PEOPLE = 200
CAPACITY = 20


def make_people(create_resident, n):
    people = [create_resident(name=f"抢票{i}") for i in range(n)]
    tokens = [issue_api_token(p, now=utcnow()) for p in people]
    db.session.commit()
    return people, tokens


def fire_together(requests_to_send):
    """Send all requests at once (a barrier releases every thread together); return the responses in order."""
    barrier = threading.Barrier(len(requests_to_send))

    def send(job):
        method, url, token = job
        session = requests.Session()
        barrier.wait(timeout=30)
        response = session.request(method, url, headers={"Authorization": f"Bearer {token}"}, json={}, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(requests_to_send)) as pool:
        return list(pool.map(send, requests_to_send))


def test_a_rush_confirms_exactly_capacity_and_queues_the_rest_in_order(app, create_resident, create_event):
    event = create_event(capacity=CAPACITY)
    people, tokens = make_people(create_resident, PEOPLE)
    with live_server(app) as base:
        url = f"{base}/api/v1/events/{event.id}/registrations"
        first = fire_together([("POST", url, t) for t in tokens])
        retries = fire_together([("POST", url, t) for t in tokens[:50]])  # a retry on a bad network

    assert [status for status, _ in first] == [201] * PEOPLE, first[:3]
    assert [status for status, _ in retries] == [200] * 50
    assert [b["id"] for _, b in retries] == [b["id"] for _, b in first[:50]]

    db.session.expire_all()
    rows = db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)
                              .order_by(Registration.waitlist_seq)).all()
    assert len(rows) == PEOPLE and len({r.user_id for r in rows}) == PEOPLE  # none lost, none doubled
    assert [r.status for r in rows] == ["confirmed"] * CAPACITY + ["waitlisted"] * (PEOPLE - CAPACITY)
    assert db.session.get(Event, event.id).seats_taken == CAPACITY
    positions = [b["waitlist_position"] for _, b in first if b["status"] == "waitlisted"]
    assert sorted(positions) == list(range(1, PEOPLE - CAPACITY + 1))


def test_racing_cancellations_promote_exactly_one_person_per_freed_seat(app, create_resident, create_event):
    event = create_event(capacity=10)
    people, tokens = make_people(create_resident, 40)
    with live_server(app) as base:
        signed = [requests.post(f"{base}/api/v1/events/{event.id}/registrations", json={},
                                headers={"Authorization": f"Bearer {t}"}, timeout=30).json() for t in tokens]
        leaving = [(s["id"], t) for s, t in zip(signed, tokens, strict=True) if s["status"] == "confirmed"]
        leaving += [(s["id"], t) for s, t in zip(signed[10:15], tokens[10:15], strict=True)]  # and some waiting
        results = fire_together([("DELETE", f"{base}/api/v1/registrations/{rid}", t) for rid, t in leaving])
    assert all(status == 200 for status, _ in results)

    db.session.expire_all()
    rows = db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)
                              .order_by(Registration.waitlist_seq)).all()
    confirmed = [r for r in rows if r.status == "confirmed"]
    assert len(confirmed) == 10 and db.session.get(Event, event.id).seats_taken == 10
    assert [r.waitlist_seq for r in confirmed] == [r.waitlist_seq for r in rows[15:25]]  # the next ten, in order
    assert [r.status for r in rows[25:]] == ["waitlisted"] * 15
    assert services.waitlist_position(rows[25]) == 1
