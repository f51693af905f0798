"""The demo town has check-in to try: the demo founder's roadshow ticket scans green today at gate A for the demo
steward, a second scan is red; the door team, re-entry and one early arrival are there."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from checkin import services
from events.models import Event, Registration
from tests.checkin.conftest import new_scan_id


def test_the_demo_founders_ticket_scans_green_at_the_roadshow(app):
    from app.demo import seed_demo

    assert seed_demo(now=utcnow())
    db.session.commit()
    people = {u.phone: u for u in db.session.scalars(sa.select(User))}
    roadshow = db.session.scalars(sa.select(Event).where(Event.kind == "roadshow")).one()
    founder = people["+8613800000001"]
    registration = db.session.scalars(sa.select(Registration).where(
        Registration.event_id == roadshow.id, Registration.user_id == founder.id)).one()
    assert registration.status == "confirmed"

    _, token = services.ticket_for(registration.id, founder, now=utcnow())
    steward = people["+8613800000011"]
    first = services.admit_ticket(roadshow.id, steward, token=token, gate="A", scan_id=new_scan_id(), now=utcnow())
    db.session.commit()
    assert first.result == "admitted"
    again = services.admit_ticket(roadshow.id, steward, token=token, gate="B", scan_id=new_scan_id(), now=utcnow())
    assert again.result == "already_admitted"
    numbers = services.counters(roadshow.id)
    assert numbers["expected"] == 4 and numbers["admitted"] == 2  # the founder and the early arrival
    assert services.door_role(people["+8613800000012"], roadshow) == "supervisor"
    assert services.config_for(roadshow.id).allow_reentry
