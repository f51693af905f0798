"""The office-hours pages on a phone: a mentor adds weekly availability; a matched founder chooses a slot, moves it
and cancels it; after the meeting both give feedback (private unless shared); organizers read the report; a mentor
ranks a cycle's founders."""

from datetime import timedelta

from app.db_types import utcnow
from app.extensions import db
from mentoring import office_hours, services
from mentoring.models import Availability, Booking
from tests.conftest import csrf_token_from, sign_in


def post(client, path, data, page="/mentoring/"):
    return client.post(path, data={"csrf_token": csrf_token_from(client, page), **data})


def test_a_mentor_adds_weekly_availability(client, create_mentor):
    mentor = create_mentor("陈导师")
    sign_in(client, mentor)
    page = client.get("/mentoring/office-hours")
    assert page.status_code == 200 and 'data-testid="availability-form"' in page.get_data(as_text=True)
    bad = post(client, "/mentoring/office-hours", {"weekday": "2", "start": "16:00", "end": "14:00",
                                                   "slot_minutes": "30"}, "/mentoring/office-hours")
    assert bad.status_code == 302 and db.session.query(Availability).count() == 0
    good = post(client, "/mentoring/office-hours", {"weekday": "2", "start": "14:00", "end": "16:00",
                                                    "slot_minutes": "30", "location": "模速空间 3F"},
                "/mentoring/office-hours")
    assert good.status_code == 302
    html = client.get("/mentoring/office-hours").get_data(as_text=True)
    assert "14:00–16:00" in html and "模速空间 3F" in html


def test_a_matched_founder_books_moves_and_cancels_from_the_pages(client, matched, create_resident):
    mentor, [founder] = matched()
    stranger = create_resident()
    sign_in(client, stranger)
    assert client.get(f"/mentoring/mentors/{mentor.id}/book").status_code == 404
    sign_in(client, founder)
    home = client.get("/mentoring/").get_data(as_text=True)
    assert f"/mentoring/mentors/{mentor.id}/book" in home
    first, second = office_hours.open_slots(mentor.id, now=utcnow())[:2]
    page = f"/mentoring/mentors/{mentor.id}/book"
    assert f"/mentoring/slots/{first.id}/book" in client.get(page).get_data(as_text=True)
    post(client, f"/mentoring/slots/{first.id}/book", {"topic": "融资节奏", "mentor_id": str(mentor.id)}, page)
    booking = db.session.query(Booking).one()
    assert booking.topic == "融资节奏" and 'data-testid="current-booking"' in client.get(page).get_data(as_text=True)
    assert 'data-testid="upcoming-office-hours"' in client.get("/mentoring/").get_data(as_text=True)
    post(client, f"/mentoring/bookings/{booking.id}/move", {"slot_id": str(second.id)}, page)
    db.session.expire_all()
    moved = db.session.query(Booking).filter_by(status="booked").one()
    assert moved.slot_id == second.id
    post(client, f"/mentoring/bookings/{moved.id}/cancel", {"next": "https://evil.example/"}, page)
    db.session.expire_all()
    assert db.session.get(Booking, moved.id).status == "cancelled"


def test_feedback_pages_keep_each_side_private_unless_shared(client, matched, organizer):
    mentor, [founder] = matched()
    slot = office_hours.open_slots(mentor.id, now=utcnow())[0]
    booking = office_hours.book_slot(slot.id, founder, now=utcnow())
    # the meeting took place: move its slot into the past
    slot.starts_at, slot.ends_at = utcnow() - timedelta(hours=1), utcnow() - timedelta(minutes=30)
    db.session.commit()
    page = f"/mentoring/bookings/{booking.id}/feedback"
    sign_in(client, founder)
    assert 'data-testid="feedback-form"' in client.get(page).get_data(as_text=True)
    post(client, page, {"rating": "5", "comment": "非常具体的建议", "shared": "1"}, page)
    sign_in(client, mentor)
    html = client.get(page).get_data(as_text=True)
    assert "非常具体的建议" in html
    post(client, page, {"rating": "3", "comment": "准备不够充分"}, page)
    sign_in(client, founder)
    assert "准备不够充分" not in client.get(page).get_data(as_text=True)
    sign_in(client, organizer)
    report = client.get("/mentoring/feedback").get_data(as_text=True)
    assert "准备不够充分" in report and "非常具体的建议" in report and 'data-testid="per-mentor"' in report
    sign_in(client, founder)
    assert client.get("/mentoring/feedback").status_code == 403


def test_a_mentor_ranks_the_founders_of_a_stable_cycle(client, create_cycle, create_mentor, create_resident, ask):
    cycle = create_cycle(mode="stable")
    mentor = create_mentor("排序导师")
    a, b = create_resident(name="甲"), create_resident(name="乙")
    ask(cycle, a)
    ask(cycle, b)
    sign_in(client, mentor)
    assert f"/mentoring/cycles/{cycle.id}/ranking" in client.get("/mentoring/").get_data(as_text=True)
    page = f"/mentoring/cycles/{cycle.id}/ranking"
    assert 'data-testid="ranking-form"' in client.get(page).get_data(as_text=True)
    post(client, page, {f"rank-{a.id}": "2", f"rank-{b.id}": "1"}, page)
    assert services.ranking_of(cycle.id, mentor.id) == [b.id, a.id]


def test_the_mentors_tab_is_in_the_section_tabs_and_marked_on_mentoring_pages(client, create_resident):
    sign_in(client, create_resident())
    html = client.get("/mentoring/").get_data(as_text=True)
    assert '<a href="/mentoring/" aria-current="page">导师</a>' in html
