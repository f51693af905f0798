"""Office hours: a mentor's weekly availability becomes slots; only a matched founder books one; no slot is ever
booked twice, even when founders race for it over real HTTP (SQLite, and PostgreSQL with TEST_DATABASE=postgres);
cancelling frees the slot; moving never loses the old booking when the new slot is gone."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from mentoring import office_hours
from mentoring.models import Booking, OfficeHourSlot
from tests.live_server import live_server

SHANGHAI = ZoneInfo("Asia/Shanghai")


def error_of(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


def test_weekly_availability_becomes_slots_in_shanghai_time(matched):
    mentor, [founder] = matched()
    slots = office_hours.slots_for_founder(mentor.id, founder, now=utcnow())
    assert len(slots) == 4 * 4  # four weeks, four 30-minute slots each
    first = slots[0].starts_at.astimezone(SHANGHAI)
    assert (first.hour, first.minute) == (14, 0) and slots[0].location == "模速空间 3F"
    assert office_hours.generate_slots(mentor.id, now=utcnow()) == 0  # running again adds nothing


def test_only_a_matched_founder_sees_and_books_a_mentors_slots(matched, create_resident):
    mentor, _ = matched()
    stranger = create_resident()
    assert error_of(office_hours.slots_for_founder, mentor.id, stranger, now=utcnow()).code == "not_matched"
    slot = office_hours.open_slots(mentor.id, now=utcnow())[0]
    assert error_of(office_hours.book_slot, slot.id, stranger, now=utcnow()).code == "not_matched"


def test_a_taken_or_past_slot_cannot_be_booked_and_nothing_is_left_behind(matched, received):
    mentor, (a, b) = matched(2)
    slot = office_hours.open_slots(mentor.id, now=utcnow())[0]
    booking = office_hours.book_slot(slot.id, a, topic="融资节奏", now=utcnow())
    db.session.commit()
    assert received[-1][0] == "office_hour_booked" and received[-1][1]["booking_id"] == booking.id
    assert error_of(office_hours.book_slot, slot.id, b, now=utcnow()).code == "slot_taken"
    later = slot.starts_at + timedelta(minutes=1)
    other = office_hours.open_slots(mentor.id, now=utcnow())[0]
    assert error_of(office_hours.book_slot, other.id, b, now=max(later, other.starts_at)).code == "slot_past"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_cancelling_frees_the_slot_and_moving_keeps_the_old_booking_if_the_new_slot_is_taken(matched, received):
    mentor, (a, b) = matched(2)
    first, second, third = office_hours.open_slots(mentor.id, now=utcnow())[:3]
    booking = office_hours.book_slot(first.id, a, now=utcnow())
    office_hours.book_slot(second.id, b, now=utcnow())
    db.session.commit()
    assert error_of(office_hours.move_booking, booking.id, a, new_slot_id=second.id, now=utcnow()).code \
        == "slot_taken"
    assert db.session.get(Booking, booking.id).status == "booked"
    moved = office_hours.move_booking(booking.id, a, new_slot_id=third.id, now=utcnow())
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert db.session.get(OfficeHourSlot, first.id).booked_by_id is None
    assert db.session.get(OfficeHourSlot, third.id).booked_by_id == a.id
    office_hours.cancel_booking(moved.id, mentor, now=utcnow())  # the mentor may cancel too
    db.session.commit()
    assert db.session.get(OfficeHourSlot, third.id).booked_by_id is None
    assert received[-1][0] == "office_hour_cancelled" and received[-1][1]["cancelled_by_id"] == mentor.id


def test_founders_racing_for_one_slot_over_http_get_it_exactly_once(app, matched):
    mentor, founders = matched(12)
    slot_id = office_hours.open_slots(mentor.id, now=utcnow())[0].id
    tokens = [issue_api_token(f, now=utcnow()) for f in founders]
    db.session.commit()
    barrier = threading.Barrier(len(tokens))

    def book(base, token):
        session = requests.Session()
        barrier.wait(timeout=30)
        answer = session.post(f"{base}/api/v1/mentoring/slots/{slot_id}/book", json={},
                              headers={"Authorization": f"Bearer {token}"}, timeout=60)
        return answer.status_code, answer.json()

    with live_server(app) as base, ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        results = list(pool.map(lambda t: book(base, t), tokens))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (len(tokens) - 1), results
    assert {body["error"]["code"] for status, body in results if status == 409} == {"slot_taken"}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    winner = next(body for status, body in results if status == 201)
    assert db.session.get(OfficeHourSlot, slot_id).booked_by_id == winner["founder_id"]


def test_both_see_the_booking_in_their_private_calendar_and_a_cancellation_too(client, matched, create_resident):
    from events.calendar import calendar_token

    mentor, [founder] = matched()
    stranger = create_resident()
    slot = office_hours.open_slots(mentor.id, now=utcnow())[0]
    booking = office_hours.book_slot(slot.id, founder, topic="A 轮融资材料", now=utcnow())
    tokens = {p.id: calendar_token(p) for p in (mentor, founder, stranger)}
    db.session.commit()
    uid = f"UID:office-hour-{booking.id}@beiyang-events"

    def feed(person):
        answer = client.get(f"/calendar/{tokens[person.id]}.ics")
        assert answer.status_code == 200
        return answer.get_data(as_text=True).replace("\r\n ", "")

    assert uid in feed(founder) and "约谈导师" in feed(founder)
    assert uid in feed(mentor) and "创业者0" in feed(mentor)
    assert uid not in feed(stranger)
    office_hours.cancel_booking(booking.id, founder, now=utcnow())
    db.session.commit()
    import icalendar

    [event] = [c for c in icalendar.Calendar.from_ical(feed(mentor)).walk("VEVENT")
               if str(c["UID"]) == uid.removeprefix("UID:")]
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
