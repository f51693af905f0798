"""A roadshow day on phones (375 × 812, touch, zh-CN): a founder applies to pitch (a mistake is explained next to
its field and nothing typed is lost), the organizer accepts the application, builds and publishes the line-up, and
the event page shows it to the founder and to everyone. Real Chromium against a live server."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from app.extensions import db
from events.models import PitchApplication, PitchSlot
from tests.conftest import session_cookie_for
from tests.e2e.test_sign_in_flow import assert_fits_phone

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")


def signed_in_phone(browser: Browser, app, live_server: str, user, browser_context_args) -> Page:
    """A phone-sized browser already signed in as `user` (the phone-and-code flow has its own browser tests)."""
    cookie = session_cookie_for(app, user)
    context = browser.new_context(**browser_context_args)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context.new_page()


@pytest.fixture
def roadshow_day(create_event):
    """A roadshow day in three days, 14:00–17:30 Shanghai time, taking pitch applications."""
    day = (datetime.now(SHANGHAI) + timedelta(days=3)).date()
    event = create_event(title="模速路演日 · 第 13 期：AI 应用专场", kind="roadshow", capacity=200,
                         pitch_slots_capacity=4, pitch_applications_open=True)
    event.starts_at = datetime.combine(day, time(14, 0), tzinfo=SHANGHAI)
    event.ends_at = datetime.combine(day, time(17, 30), tzinfo=SHANGHAI)
    db.session.commit()
    return event


def test_a_founder_applies_the_organizer_publishes_the_line_up_and_the_event_page_shows_it(
        app, browser: Browser, browser_context_args, live_server, create_resident, roadshow_day, tmp_path):
    event = roadshow_day
    founder = create_resident(name="孙雨桐", company="灵犀医疗AI", persona="founder")
    founder.title = "联合创始人"
    organizer = create_resident(name="王珂", company="北杨小镇服务团队", roles=["organizer"])
    db.session.commit()
    event_id, event_url = event.id, f"{live_server}/events/{event.id}"
    db.session.rollback()  # hold no lock the server's threads could wait on

    # ---- the founder, on the way to work ----
    phone = signed_in_phone(browser, app, live_server, founder, browser_context_args)
    phone.goto(event_url)
    panel = phone.get_by_test_id("pitch-panel")
    expect(panel.get_by_role("heading", name="路演安排")).to_be_visible()
    expect(panel).to_contain_text("路演名单将在这里公布")
    panel.get_by_role("link", name="申请路演").tap()

    expect(phone).to_have_url(re.compile(rf"/events/{event_id}/pitch/apply$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("申请路演")
    expect(phone.get_by_label("项目名称")).to_have_value("灵犀医疗AI")  # from the profile, filled in once
    expect(phone.get_by_label("第 1 位成员：姓名")).to_have_value("孙雨桐")
    expect(phone.get_by_label("第 1 位成员：角色")).to_have_value("联合创始人")
    phone.get_by_label("一句话介绍").fill("多模态大模型辅助基层医院读片，已在 12 家社区医院试点")
    phone.get_by_label("天使轮").check()
    phone.get_by_label("融资需求（选填）").fill("天使轮 800 万元")
    phone.get_by_label("BP 链接（选填）").fill("www.example.com/bp/lingxi.pdf")  # no https://
    phone.get_by_label("第 2 位成员：姓名").fill("陈博")
    phone.get_by_label("第 2 位成员：角色").fill("首席医学官")
    assert_fits_phone(phone)
    phone.get_by_role("button", name="提交申请").tap()

    expect(phone.get_by_test_id("form-error")).to_have_text("请修改标出的字段。")
    expect(phone.locator("#deck_url-error")).to_have_text("请填写以 https:// 开头的链接")
    expect(phone.get_by_label("一句话介绍")).to_have_value("多模态大模型辅助基层医院读片，已在 12 家社区医院试点")
    expect(phone.get_by_label("天使轮")).to_be_checked()
    expect(phone.get_by_label("第 2 位成员：角色")).to_have_value("首席医学官")
    expect(phone.get_by_label("BP 链接（选填）")).to_have_value("www.example.com/bp/lingxi.pdf")
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "apply-error-zh.png"), full_page=True)
    phone.get_by_label("BP 链接（选填）").fill("https://www.example.com/bp/lingxi.pdf")
    phone.get_by_role("button", name="提交申请").tap()

    expect(phone).to_have_url(re.compile(rf"/events/{event_id}/pitch/mine$"))
    expect(phone.get_by_role("status")).to_contain_text("申请已提交")
    expect(phone.get_by_test_id("application-status")).to_have_text("审核中")
    expect(phone.get_by_role("heading", level=1)).to_have_text("灵犀医疗AI")
    assert_fits_phone(phone)
    phone.goto(event_url)
    expect(phone.get_by_test_id("my-pitch-status")).to_contain_text(re.compile(r"你的申请：\s*审核中"))
    expect(phone.get_by_role("link", name="申请路演")).to_have_count(0)

    application = db.session.scalars(sa.select(PitchApplication)).one()
    assert application.team == [{"name": "孙雨桐", "role": "联合创始人"}, {"name": "陈博", "role": "首席医学官"}]
    assert (application.stage, application.deck_url) == ("angel", "https://www.example.com/bp/lingxi.pdf")
    db.session.rollback()

    # ---- the organizer reviews and builds the line-up ----
    desk = signed_in_phone(browser, app, live_server, organizer, browser_context_args)
    desk.goto(event_url)
    desk.get_by_test_id("pitch-organizer-links").get_by_role("link", name="审核申请").tap()
    expect(desk.get_by_role("heading", level=1)).to_have_text("路演申请")
    card = desk.locator(f'[data-application-id="{application.id}"]')
    expect(card).to_contain_text("灵犀医疗AI")
    expect(card).to_contain_text("审核中")
    assert_fits_phone(desk)
    card.get_by_role("checkbox").check()
    desk.get_by_label("给所选创始人的留言（对方可见）").fill("恭喜入选！请提前 30 分钟到场调试设备。")
    desk.get_by_role("button", name="通过所选").tap()
    expect(desk.get_by_role("status")).to_contain_text("已通过 1 份")
    expect(card).to_contain_text("已入选")
    assert_fits_phone(desk)
    desk.screenshot(path=str(tmp_path / "review-zh.png"), full_page=True)

    desk.get_by_role("link", name="安排路演").tap()
    expect(desk.get_by_role("heading", level=1)).to_have_text("路演安排")
    expect(desk.get_by_label("第一场开始时间")).to_have_value(
        event.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("第一场开始时间").fill(event.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%dT14:15"))
    desk.get_by_label("每场时长（分钟）").fill("13")
    expect(desk.get_by_test_id("arrange-list").get_by_role("checkbox")).to_be_checked()
    desk.get_by_role("button", name="保存路演安排").tap()
    expect(desk.get_by_role("status")).to_contain_text("路演安排已保存")
    expect(desk.get_by_test_id("lineup-builder")).to_contain_text("14:15–14:28")
    expect(desk.get_by_test_id("lineup-state")).to_have_text("未发布")
    assert_fits_phone(desk)
    desk.get_by_role("button", name="发布路演安排").tap()
    expect(desk.get_by_role("status")).to_contain_text("路演安排已发布到活动页")
    expect(desk.get_by_test_id("lineup-state")).to_have_text("已发布")
    desk.screenshot(path=str(tmp_path / "lineup-builder-zh.png"), full_page=True)

    slot = db.session.scalars(sa.select(PitchSlot)).one()
    assert slot.published and slot.starts_at == event.starts_at + timedelta(minutes=15)
    db.session.rollback()

    # ---- the founder sees the time; everyone sees the line-up ----
    phone.goto(event_url)
    lineup = phone.get_by_test_id("pitch-lineup")
    expect(lineup).to_contain_text("14:15–14:28")
    expect(lineup).to_contain_text("灵犀医疗AI")
    expect(lineup).to_contain_text("多模态大模型辅助基层医院读片")
    expect(phone.get_by_test_id("my-pitch-status")).to_contain_text("已入选")
    expect(phone.get_by_test_id("my-pitch-status")).to_contain_text("路演时间 14:15–14:28")
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "event-lineup-zh.png"), full_page=True)
    phone.get_by_test_id("my-pitch-status").get_by_role("link", name="详情").tap()
    expect(phone.get_by_test_id("my-slot")).to_have_text("你的路演时间：14:15–14:28。")
    expect(phone.get_by_test_id("my-application")).to_contain_text("恭喜入选！请提前 30 分钟到场调试设备。")

    visitor = browser.new_context(**browser_context_args).new_page()
    visitor.goto(event_url)
    expect(visitor.get_by_test_id("pitch-lineup")).to_contain_text("灵犀医疗AI")
    expect(visitor.locator("body")).not_to_contain_text(founder.phone[3:])
    expect(visitor.get_by_test_id("pitch-organizer-links")).to_have_count(0)
    assert_fits_phone(visitor)
