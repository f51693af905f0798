"""Mentoring on phones (375 × 812, touch, zh-CN): a matched founder opens 导师, books one of the mentor's slots with
a topic, moves it, then cancels it; the mentor's office hours and the roadshow meetings page fit the phone.
Real Chromium against a live server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.db_types import utcnow
from app.extensions import db
from mentoring import office_hours, services
from mentoring.models import Booking
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.e2e.test_team_application import signed_in_phone

pytestmark = pytest.mark.browser


def test_a_matched_founder_books_moves_and_cancels_office_hours_on_a_phone(
        app, browser: Browser, browser_context_args, live_server, create_resident):
    organizer = create_resident(name="王珂", roles=["organizer"])
    mentor = create_resident(name="周静怡", persona="mentor", roles=["mentor"], company="导师团")
    founder = create_resident(name="林晓舟", company="星河智算")
    now = utcnow()
    services.save_mentor_profile(mentor, expertise=["fundraising", "product"], industries=["AI Infra"],
                                 stages=["seed"], languages=["zh"], capacity=2)
    cycle = services.create_cycle(organizer, name="2026 冬季导师匹配", now=now)
    services.submit_request(cycle.id, founder, needs=["fundraising"], industry="AI Infra", stage="seed", now=now)
    services.run_matching(cycle.id, organizer, now=now)
    services.publish_cycle(cycle.id, organizer, now=now)
    [match] = services.my_mentees(mentor)
    services.respond_to_match(match.id, mentor, accept=True, now=now)
    tomorrow = (now + timedelta(days=1)).astimezone(office_hours.SHANGHAI).weekday()
    office_hours.add_availability(mentor, weekday=tomorrow, start="14:00", end="15:30", slot_minutes=30,
                                  location="模速空间 3F 导师室", now=now)
    db.session.commit()
    db.session.rollback()

    phone = signed_in_phone(browser, app, live_server, founder, browser_context_args)
    phone.goto(f"{live_server}/")
    phone.get_by_test_id("subnav").get_by_role("link", name="导师").click()
    phone.get_by_role("link", name="预约约谈").click()
    expect(phone.get_by_role("heading", name="与 周静怡 的约谈")).to_be_visible()
    assert_fits_phone(phone)
    phone.get_by_label("想聊什么？（选填）").fill("种子轮融资节奏")
    phone.get_by_test_id("slots").first.get_by_role("button", name="14:00").click()
    expect(phone.get_by_text("预约成功")).to_be_visible()
    expect(phone.get_by_test_id("upcoming-office-hours")).to_contain_text("周静怡")
    assert_fits_phone(phone)

    phone.get_by_test_id("upcoming-office-hours").get_by_role("link", name="改约").click()
    expect(phone.get_by_test_id("current-booking")).to_contain_text("14:00")
    phone.get_by_test_id("slots").first.get_by_role("button", name="14:30").click()
    expect(phone.get_by_text("已改约")).to_be_visible()
    db.session.expire_all()
    booked = db.session.query(Booking).filter_by(status="booked").one()
    assert booked.topic == "种子轮融资节奏" and booked.slot.starts_at.astimezone(office_hours.SHANGHAI).minute == 30
    db.session.rollback()
    phone.get_by_test_id("upcoming-office-hours").get_by_role("button", name="取消").click()
    expect(phone.get_by_text("已取消")).to_be_visible()
    expect(phone.get_by_test_id("upcoming-office-hours")).to_have_count(0)

    mentor_phone = signed_in_phone(browser, app, live_server, mentor, browser_context_args)
    mentor_phone.goto(f"{live_server}/mentoring/office-hours")
    expect(mentor_phone.get_by_test_id("availability")).to_contain_text("14:00–15:30")
    assert_fits_phone(mentor_phone)


def test_an_investor_marks_teams_to_meet_on_a_phone(app, browser: Browser, browser_context_args, live_server,
                                                     create_resident, create_event):
    from events.models import PitchApplication, PitchSlot
    from mentoring import meetings

    organizer = create_resident(name="王珂", roles=["organizer"])
    investor = create_resident(name="何嘉欣", persona="investor", company="红杉中国")
    founder = create_resident(name="孙雨桐", company="灵犀医疗AI")
    event = create_event(title="模速路演日 · 第 12 期", kind="roadshow", starts_in=timedelta(days=3), hours=4)
    application = PitchApplication(event_id=event.id, applicant_id=founder.id, project_name="灵犀医疗AI",
                                   one_liner="多模态大模型辅助基层医院读片", stage="angel", status="accepted")
    db.session.add(application)
    db.session.flush()
    db.session.add(PitchSlot(event_id=event.id, application_id=application.id, position=1, published=True,
                             starts_at=event.starts_at, ends_at=event.starts_at + timedelta(minutes=13)))
    start = event.starts_at + timedelta(hours=1)
    meetings.set_up_meetings(event.id, organizer, starts_at=start, ends_at=start + timedelta(hours=1),
                             tables=["A1", "A2"], now=utcnow())
    db.session.commit()
    event_id = event.id
    db.session.rollback()

    phone = signed_in_phone(browser, app, live_server, investor, browser_context_args)
    phone.goto(f"{live_server}/mentoring/roadshow/{event_id}/meetings")
    wishes = phone.get_by_test_id("wishes")
    expect(wishes).to_contain_text("灵犀医疗AI")
    assert_fits_phone(phone)
    wishes.get_by_role("button", name="想约见").click()
    expect(phone.get_by_test_id("wishes").get_by_role("button", name="已标记")).to_be_visible()
    assert meetings.wishes_of(event_id, investor.id) == {founder.id}
    db.session.rollback()
