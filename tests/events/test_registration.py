"""The rules of signing up: seats, waitlist, approval, cancellation, offers, lotteries."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from events import services, signals
from events.models import Registration


def statuses(event):
    return [r.status for r in db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.waitlist_seq))]


def test_first_come_first_served_then_the_waitlist_in_order(create_event, residents, sign_up):
    event = create_event(capacity=2)
    people = residents(4)
    results = [sign_up(event, p) for p in people]
    assert [r.status for r in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [services.waitlist_position(r) for r in results] == [None, None, 1, 2]
    db.session.refresh(event)
    assert event.seats_taken == 2 and event.seats_left == 0


def test_signing_up_twice_returns_the_same_registration(create_event, residents):
    event = create_event()
    person = residents(1)[0]
    first, created = services.register_for_event(event.id, person, now=utcnow())
    db.session.commit()
    again, created_again = services.register_for_event(event.id, person, now=utcnow())
    assert (created, created_again) == (True, False) and first.id == again.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


def test_a_cancellation_gives_the_seat_to_the_first_waiting(create_event, residents, sign_up):
    event = create_event(capacity=1)
    first, second, third = (sign_up(event, p) for p in residents(3))
    services.cancel_registration(first.id, first.user, now=utcnow())
    db.session.commit()
    assert statuses(event) == ["cancelled", "confirmed", "waitlisted"]
    assert services.waitlist_position(db.session.get(Registration, third.id)) == 1


def test_leaving_the_waitlist_moves_the_others_up(create_event, residents, sign_up):
    event = create_event(capacity=1)
    regs = [sign_up(event, p) for p in residents(3)]
    services.cancel_registration(regs[1].id, regs[1].user, now=utcnow())
    db.session.commit()
    assert services.waitlist_position(db.session.get(Registration, regs[2].id)) == 1
    db.session.refresh(event)
    assert event.seats_taken == 1


def test_cancelling_twice_is_harmless(create_event, residents, sign_up):
    event = create_event(capacity=1)
    first, second = (sign_up(event, p) for p in residents(2))
    for _ in range(2):
        services.cancel_registration(first.id, first.user, now=utcnow())
        db.session.commit()
    db.session.refresh(event)
    assert event.seats_taken == 1 and statuses(event) == ["cancelled", "confirmed"]


def test_raising_capacity_moves_the_waitlist_up(create_event, residents, sign_up, organizer):
    event = create_event(capacity=1)
    [sign_up(event, p) for p in residents(3)]
    services.update_event(event.id, organizer, capacity=2, now=utcnow())
    db.session.commit()
    assert statuses(event) == ["confirmed", "confirmed", "waitlisted"]


def test_capacity_cannot_drop_below_the_seats_taken(create_event, residents, sign_up, organizer):
    event = create_event(capacity=3)
    [sign_up(event, p) for p in residents(2)]
    with pytest.raises(DomainError) as error:
        services.update_event(event.id, organizer, capacity=1, now=utcnow())
    assert error.value.code == "invalid_event" and "capacity" in error.value.details["fields"]


def test_approval_events_keep_sign_ups_pending_until_the_organizer_decides(create_event, residents, sign_up,
                                                                           organizer):
    event = create_event(capacity=1, requires_approval=True)
    a, b, c = (sign_up(event, p) for p in residents(3))
    assert [a.status, b.status, c.status] == ["pending"] * 3
    decided = services.decide_registrations(event.id, [c.id, a.id], organizer, approve=True, now=utcnow())
    db.session.commit()
    assert [(r.id, r.status) for r in decided] == [(a.id, "confirmed"), (c.id, "waitlisted")]
    services.reject_registration(a.id, organizer, now=utcnow())
    db.session.commit()
    assert db.session.get(Registration, c.id).status == "confirmed"


def test_a_rejected_person_cannot_sign_up_again(create_event, residents, sign_up, organizer):
    event = create_event(requires_approval=True)
    person = residents(1)[0]
    registration = sign_up(event, person)
    services.reject_registration(registration.id, organizer, now=utcnow())
    db.session.commit()
    with pytest.raises(DomainError) as error:
        sign_up(event, person)
    assert error.value.code == "registration_rejected"


def test_a_cancelled_person_may_sign_up_again_at_the_back_of_the_line(create_event, residents, sign_up):
    event = create_event(capacity=1)
    first, second = residents(2)
    registration = sign_up(event, first)
    sign_up(event, second)
    services.cancel_registration(registration.id, first, now=utcnow())
    db.session.commit()
    again = sign_up(event, first)
    assert again.id == registration.id and again.status == "waitlisted" and again.version == 3


def test_only_organizers_decide(create_event, residents, sign_up):
    event = create_event(requires_approval=True)
    someone, other = residents(2)
    registration = sign_up(event, someone)
    with pytest.raises(DomainError) as error:
        services.approve_registration(registration.id, other, now=utcnow())
    assert error.value.code == "forbidden"
    with pytest.raises(DomainError):
        services.cancel_registration(registration.id, other, now=utcnow())


@pytest.mark.parametrize("setup, code", [
    (dict(status="cancelled"), "event_cancelled"),
    (dict(starts_in=timedelta(hours=-1)), "event_past"),
    (dict(registration_opens_at=utcnow() + timedelta(days=1)), "registration_not_open"),
    (dict(registration_closes_at=utcnow() - timedelta(minutes=1)), "registration_closed"),
])
def test_closed_doors_have_clear_codes(create_event, residents, sign_up, setup, code):
    event = create_event(**setup)
    with pytest.raises(DomainError) as error:
        sign_up(event, residents(1)[0])
    assert error.value.code == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0


def test_drafts_cannot_be_signed_up_for(create_event, residents, sign_up):
    with pytest.raises(DomainError) as error:
        sign_up(create_event(status="draft"), residents(1)[0])
    assert error.value.code == "event_not_found"


def test_the_profile_comes_first(create_event, create_resident, sign_up):
    with pytest.raises(DomainError) as error:
        sign_up(create_event(), create_resident(profile=False))
    assert error.value.code == "profile_incomplete"


QUESTIONS = [
    {"id": "topic", "label": "你想听什么？", "kind": "text", "required": True},
    {"id": "diet", "label": "饮食", "kind": "choice", "choices": ["无", "素食"]},
    {"id": "deck", "label": "BP 链接", "kind": "url"},
]


def test_answers_are_checked_and_kept(create_event, residents, sign_up):
    event = create_event(questions=QUESTIONS)
    registration = sign_up(event, residents(1)[0], answers={"topic": " <b>RAG</b> ", "diet": "素食",
                                                            "deck": "https://example.com/bp.pdf"})
    assert registration.answers == {"topic": "<b>RAG</b>", "diet": "素食", "deck": "https://example.com/bp.pdf"}


def test_bad_answers_name_each_question_and_save_nothing(create_event, residents, sign_up):
    event = create_event(questions=QUESTIONS)
    with pytest.raises(DomainError) as error:
        sign_up(event, residents(1)[0], answers={"diet": "荤", "deck": "javascript:alert(1)", "x": "?"})
    assert error.value.code == "invalid_answers"
    assert set(error.value.details["fields"]) == {"topic", "diet", "deck", "x"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0


def test_signals_tell_what_happened(create_event, residents, sign_up):
    event = create_event(capacity=1)
    heard = []
    with signals.registration_confirmed.connected_to(lambda s, **kw: heard.append(("confirmed", kw["user_id"]))), \
            signals.registration_waitlisted.connected_to(lambda s, **kw: heard.append(("waitlisted", kw["user_id"]))), \
            signals.registration_promoted.connected_to(lambda s, **kw: heard.append(("promoted", kw["user_id"]))):
        a, b = residents(2)
        first = sign_up(event, a)
        sign_up(event, b)
        services.cancel_registration(first.id, a, now=utcnow())
    assert heard == [("confirmed", a.id), ("waitlisted", b.id), ("promoted", b.id)]


def test_offer_window_holds_the_seat_then_moves_on(create_event, residents, sign_up):
    event = create_event(capacity=1, waitlist_mode="offer", offer_hours=2)
    a, b, c = residents(3)
    first = sign_up(event, a)
    second, third = sign_up(event, b), sign_up(event, c)
    now = utcnow()
    services.cancel_registration(first.id, a, now=now)
    db.session.commit()
    assert statuses(event) == ["cancelled", "offered", "waitlisted"]
    assert services.expire_offers(now=now + timedelta(hours=1)) == 0
    assert services.expire_offers(now=now + timedelta(hours=2, seconds=1)) == 1
    db.session.commit()
    assert statuses(event) == ["cancelled", "expired", "offered"]
    with pytest.raises(DomainError) as error:
        services.accept_offer(second.id, b, now=now + timedelta(hours=3))
    assert error.value.code == "offer_expired"
    accepted = services.accept_offer(third.id, c, now=now + timedelta(hours=3))
    assert accepted.status == "confirmed"


def test_the_lottery_is_fair_and_can_be_checked_by_anyone(residents, sign_up, organizer):
    import hashlib

    now = utcnow()
    event = services.create_event(organizer, now=now, status="published", kind="salon", title="抽签沙龙",
                                  starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2),
                                  capacity=3, waitlist_mode="lottery", lottery_draw_at=now + timedelta(days=1))
    db.session.commit()
    published_hash = event.lottery_seed_hash
    regs = [sign_up(event, p) for p in residents(7)]
    assert {r.status for r in regs} == {"entered"} and event.lottery_seed is None
    services.draw_lottery(event.id, now=now + timedelta(days=1))
    db.session.commit()
    db.session.refresh(event)
    assert hashlib.sha256(event.lottery_seed.encode()).hexdigest() == published_hash
    expected = sorted((r.id for r in regs), key=lambda i: hashlib.sha256(f"{event.lottery_seed}:{i}".encode())
                      .hexdigest())
    drawn = db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)
                               .order_by(Registration.lottery_rank)).all()
    assert [r.id for r in drawn] == expected
    assert [r.status for r in drawn] == ["confirmed"] * 3 + ["waitlisted"] * 4
    assert services.waitlist_position(drawn[3]) == 1


def test_lotteries_are_drawn_by_the_worker_when_due(residents, sign_up, organizer):
    now = utcnow()
    event = services.create_event(organizer, now=now, status="published", kind="salon", title="抽签",
                                  starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2),
                                  capacity=1, waitlist_mode="lottery", lottery_draw_at=now + timedelta(hours=1))
    db.session.commit()
    sign_up(event, residents(1)[0])
    assert services.draw_due_lotteries(now=now) == 0
    assert services.draw_due_lotteries(now=now + timedelta(hours=1)) == 1
    db.session.commit()
    assert statuses(event) == ["confirmed"]


def test_no_shows_are_counted_only_where_check_in_ran(create_event, residents, sign_up):
    person, other = residents(2)
    past_with_checkin = create_event(starts_in=timedelta(days=1))
    past_without = create_event(starts_in=timedelta(days=1))
    mine = sign_up(past_with_checkin, person)
    theirs = sign_up(past_with_checkin, other)
    sign_up(past_without, person)
    theirs.checked_in_at = utcnow()
    db.session.commit()
    later = utcnow() + timedelta(days=3)
    assert services.no_show_count(person.id, now=later) == 1
    assert services.no_show_count(other.id, now=later) == 0
    assert mine.status == "confirmed"


def test_a_weekly_salon_is_created_once_as_a_series(organizer):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    first = datetime(2030, 1, 3, 19, 0, tzinfo=shanghai)  # a Thursday
    series, events = services.create_series(
        organizer, rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=4", now=first - timedelta(days=30), status="published",
        kind="salon", title="周四技术沙龙", starts_at=first, ends_at=first + timedelta(hours=2), capacity=30)
    db.session.commit()
    local_starts = [e.starts_at.astimezone(shanghai) for e in events]
    assert [s.day for s in local_starts] == [3, 10, 17, 24] and {s.hour for s in local_starts} == {19}
    assert all(e.series_id == series.id and e.capacity == 30 and e.recurrence_id == e.starts_at for e in events)


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=TH", "FREQ=SECONDLY;COUNT=3", "FREQ=WEEKLY;COUNT=500",
                                  "nonsense"])
def test_series_rules_must_be_sane(organizer, rule):
    now = utcnow()
    with pytest.raises(DomainError) as error:
        services.create_series(organizer, rrule=rule, now=now, kind="salon", title="x",
                               starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2))
    assert "rrule" in error.value.details["fields"]
