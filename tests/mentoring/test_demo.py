"""The demo town has mentoring to try: a published cycle with accepted matches, slots and a booking, an open cycle,
and the roadshow day's investor meetings set up with wishes."""

import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from mentoring import meetings, office_hours, services
from mentoring.models import Booking, MentoringCycle
from tests.conftest import sign_in


def test_the_demo_has_mentoring_to_try(client):
    from app.demo import seed_demo

    assert seed_demo(now=utcnow())
    db.session.commit()
    cycles = {c.name: c for c in db.session.scalars(sa.select(MentoringCycle))}
    assert cycles["2026 冬季导师匹配"].status == "published" and cycles["2027 春季导师匹配"].status == "open"
    founder = db.session.scalars(sa.select(User).where(User.phone == "+8613800000001")).one()
    [match] = services.my_matches(founder)
    assert match.status == "accepted"
    assert office_hours.open_slots(match.mentor_id, now=utcnow())
    assert db.session.scalars(sa.select(Booking).where(Booking.founder_id == founder.id)).one().status == "booked"
    roadshow = meetings.upcoming_roadshows(now=utcnow())[0]
    assert meetings.get_plan(roadshow.id).tables == ["A1", "A2", "A3"] and meetings.wanted_pairs(roadshow.id)
    organizer = db.session.scalars(sa.select(User).where(User.phone == "+8613800000002")).one()
    assert meetings.schedule(roadshow.id, organizer, now=utcnow())["meetings"]
    db.session.rollback()

    sign_in(client, founder)
    home = client.get("/mentoring/").get_data(as_text=True)
    assert 'data-testid="upcoming-office-hours"' in home and 'data-testid="roadshow-meetings"' in home
    sign_in(client, organizer)
    assert client.get(f"/mentoring/roadshow/{roadshow.id}/meetings").status_code == 200
    assert not seed_demo(now=utcnow())  # once
