"""Feedback after an office hour and reminders before it: both sides rate a meeting once it has begun; organizers
see everything per mentor and per cycle; the other side reads it only when its author agreed; each booking is
reminded once."""

from datetime import timedelta

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from mentoring import office_hours


def error_of(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


@pytest.fixture
def held(matched):
    """A booked meeting, and a moment during it."""
    mentor, [founder] = matched()
    slot = office_hours.open_slots(mentor.id, now=utcnow())[0]
    booking = office_hours.book_slot(slot.id, founder, topic="融资节奏", now=utcnow())
    db.session.commit()
    return mentor, founder, booking, slot.starts_at + timedelta(minutes=40)


def test_feedback_only_after_the_meeting_by_its_two_people(held, create_resident):
    mentor, founder, booking, after = held
    assert error_of(office_hours.give_feedback, booking.id, founder, rating=5, now=utcnow()).code \
        == "meeting_not_held"
    stranger = create_resident()
    assert error_of(office_hours.give_feedback, booking.id, stranger, rating=5, now=after).code \
        == "booking_not_found"
    invalid = error_of(office_hours.give_feedback, booking.id, founder, rating=6, comment="x" * 1001, now=after)
    assert invalid.code == "invalid_feedback" and set(invalid.details["fields"]) == {"rating", "comment"}
    office_hours.give_feedback(booking.id, founder, rating=4, comment="很有帮助", now=after)
    office_hours.give_feedback(booking.id, founder, rating=5, comment="非常有帮助", now=after)  # a change, not a second
    db.session.commit()
    assert office_hours.feedback_on_booking(booking.id, founder)["mine"].rating == 5


def test_a_cancelled_meeting_cannot_be_rated(held):
    mentor, founder, booking, after = held
    office_hours.cancel_booking(booking.id, mentor, now=utcnow())
    db.session.commit()
    assert error_of(office_hours.give_feedback, booking.id, founder, rating=3, now=after).code == "booking_cancelled"


def test_the_other_side_reads_feedback_only_when_its_author_shared_it(held, received):
    mentor, founder, booking, after = held
    office_hours.give_feedback(booking.id, founder, rating=2, comment="准备不足", shared=False, now=after)
    office_hours.give_feedback(booking.id, mentor, rating=4, comment="团队很用心", shared=True, now=after)
    db.session.commit()
    assert office_hours.feedback_on_booking(booking.id, mentor)["theirs"] is None
    assert office_hours.feedback_on_booking(booking.id, founder)["theirs"].comment == "团队很用心"
    assert [name for name, _ in received].count("feedback_given") == 2
    assert all("comment" not in kwargs for name, kwargs in received if name == "feedback_given")


def test_organizers_see_feedback_per_mentor_and_per_cycle(held, organizer):
    mentor, founder, booking, after = held
    office_hours.give_feedback(booking.id, founder, rating=2, now=after)
    office_hours.give_feedback(booking.id, mentor, rating=4, now=after)
    db.session.commit()
    report = office_hours.feedback_report(organizer)
    [per_mentor] = report["per_mentor"]
    assert per_mentor["mentor_id"] == mentor.id and per_mentor["meetings"] == 1
    assert (per_mentor["founder_average"], per_mentor["mentor_average"]) == (2, 4)
    [per_cycle] = report["per_cycle"]
    assert per_cycle["cycle_id"] == booking.match.cycle_id and len(report["items"]) == 2
    assert office_hours.feedback_report(organizer, cycle_id=booking.match.cycle_id + 1)["items"] == []
    assert error_of(office_hours.feedback_report, founder).status == 403


def test_meetings_to_rate_lists_what_is_left(held):
    mentor, founder, booking, after = held
    assert [b.id for b in office_hours.meetings_to_rate(founder, now=after)] == [booking.id]
    office_hours.give_feedback(booking.id, founder, rating=5, now=after)
    db.session.commit()
    assert office_hours.meetings_to_rate(founder, now=after) == []
    assert [b.id for b in office_hours.meetings_to_rate(mentor, now=after)] == [booking.id]


def test_feedback_over_the_api_and_the_organizers_report(client, held, organizer, create_resident):
    mentor, founder, booking, after = held
    office_hours.give_feedback(booking.id, mentor, rating=3, comment="私下说明", now=after)
    tokens = {p.id: issue_api_token(p, now=utcnow()) for p in (founder, organizer)}
    db.session.commit()

    def call(method, path, person, **kwargs):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[person.id]}"}, **kwargs)

    early = call("PUT", f"/api/v1/mentoring/bookings/{booking.id}/feedback", founder, json={"rating": 5})
    assert early.status_code == 409 and early.json["error"]["code"] == "meeting_not_held"
    seen = call("GET", f"/api/v1/mentoring/bookings/{booking.id}/feedback", founder).json
    assert seen == {"mine": None, "theirs": None}  # the mentor did not share
    assert call("GET", "/api/v1/mentoring/feedback", founder).status_code == 403
    report = call("GET", "/api/v1/mentoring/feedback", organizer).json
    assert report["items"][0]["feedback"]["comment"] == "私下说明" and report["per_mentor"][0]["mentor_average"] == 3


def test_each_booking_is_reminded_once_within_a_day_of_the_meeting(held, received):
    mentor, founder, booking, after = held
    start = after - timedelta(minutes=40)
    assert office_hours.send_due_reminders(now=start - timedelta(hours=30)) == 0
    assert office_hours.send_due_reminders(now=start - timedelta(hours=20)) == 1
    assert office_hours.send_due_reminders(now=start - timedelta(hours=19)) == 0
    db.session.commit()
    [(name, kwargs)] = [r for r in received if r[0] == "office_hour_reminder"]
    assert kwargs["booking_id"] == booking.id and kwargs["founder_id"] == founder.id
