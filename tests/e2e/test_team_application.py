"""The competition on phones (375 × 812, touch, zh-CN): a founder applies as a team with two teammates (a mistyped
number is explained next to its row and nothing typed is lost), the organizer accepts the team in the review list,
and the founder, then a teammate who signs up only afterwards, see "accepted". Real Chromium against a live server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from app.authz import scope_key
from app.extensions import db
from judging.models import Competition, TeamApplication
from tests.conftest import session_cookie_for
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.judging.test_teams import TRACKS

pytestmark = pytest.mark.browser


def signed_in_phone(browser: Browser, app, live_server: str, user, browser_context_args) -> Page:
    """A phone-sized browser already signed in as `user` (the phone-and-code flow has its own browser tests)."""
    cookie = session_cookie_for(app, user)
    context = browser.new_context(**browser_context_args)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context.new_page()


@pytest.fixture
def competition(create_event):
    event = create_event(title="港科大百万元奖金创业大赛 · 决赛", kind="competition", capacity=300,
                         starts_in=timedelta(days=20), hours=8)
    item = Competition(name="港科大百万元奖金创业大赛", event_id=event.id, prize_pool_yuan=1_000_000,
                       tracks=TRACKS, applications_open=True)
    db.session.add(item)
    db.session.commit()
    return item


def test_a_founder_applies_with_two_teammates_the_organizer_accepts_and_the_team_sees_it(
        app, browser: Browser, browser_context_args, live_server, create_resident, competition, tmp_path):
    founder = create_resident(name="孙雨桐", company="灵犀医疗AI", persona="founder")
    founder.title = "联合创始人 & CEO"
    organizer = create_resident(name="黄蕾", company="港科大上海中心",
                                roles=[("organizer", scope_key("competition", competition.id))])
    db.session.commit()
    event_url = f"{live_server}/events/{competition.event_id}"
    competition_id = competition.id
    db.session.rollback()  # hold no lock the server's threads could wait on

    # ---- the founder, on the way to work ----
    phone = signed_in_phone(browser, app, live_server, founder, browser_context_args)
    phone.goto(event_url)
    panel = phone.get_by_test_id("team-panel")
    expect(panel.get_by_role("heading", name="港科大百万元奖金创业大赛")).to_be_visible()
    expect(panel.get_by_test_id("team-tracks")).to_contain_text("AI+医疗")
    panel.get_by_role("link", name="组队报名").tap()

    expect(phone).to_have_url(re.compile(rf"/competitions/{competition_id}/teams/apply$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("组队报名")
    expect(phone.get_by_label("项目名称")).to_have_value("灵犀医疗AI")  # from the profile, filled in once
    expect(phone.get_by_label("第 1 位成员：姓名")).to_have_value("孙雨桐")
    expect(phone.get_by_label("第 1 位成员：角色")).to_have_value("联合创始人 & CEO")
    expect(phone.get_by_label("第 1 位成员为负责人")).to_be_checked()
    expect(phone.get_by_test_id("member-row")).to_have_count(3)
    phone.get_by_label("团队名称").fill("灵犀医疗")
    phone.get_by_label("AI+医疗").check()
    phone.get_by_label("项目名称").fill("灵犀读片：基层医院多模态辅助诊断")
    phone.get_by_label("项目简介（选填）").fill("面向社区卫生服务中心的胸片与 CT 辅助读片系统。\n"
                                           "已在徐汇 12 家社区卫生服务中心试点。")
    phone.get_by_label("第 2 位成员：姓名").fill("陈博")
    phone.get_by_label("第 2 位成员：手机号码").fill("139 0000 2001")
    phone.get_by_label("第 2 位成员：角色").fill("首席医学官")
    phone.get_by_label("第 3 位成员：姓名").fill("苏晴")
    phone.get_by_label("第 3 位成员：手机号码").fill("139 0000 200")  # one digit short
    phone.get_by_label("第 3 位成员：角色").fill("算法负责人")
    phone.get_by_role("button", name="添加成员").tap()  # a fourth row appears in place, left empty
    expect(phone.get_by_test_id("member-row")).to_have_count(4)
    expect(phone.get_by_label("第 4 位成员：姓名")).to_be_visible()
    assert_fits_phone(phone)
    phone.get_by_role("button", name="提交申请").tap()

    expect(phone.get_by_test_id("form-error")).to_have_text("请修改标出的字段。")
    expect(phone.locator("#members-2-phone-error")).to_have_text("第 3 位成员：手机号码无效。")
    expect(phone.get_by_label("团队名称")).to_have_value("灵犀医疗")
    expect(phone.get_by_label("AI+医疗")).to_be_checked()
    expect(phone.get_by_label("第 2 位成员：手机号码")).to_have_value("139 0000 2001")
    expect(phone.get_by_label("第 3 位成员：角色")).to_have_value("算法负责人")
    expect(phone.get_by_label("第 1 位成员为负责人")).to_be_checked()
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "team-apply-error-zh.png"), full_page=True)
    phone.get_by_label("第 3 位成员：手机号码").fill("13900002002")
    phone.get_by_role("button", name="提交申请").tap()

    expect(phone).to_have_url(re.compile(r"/teams/\d+$"))
    expect(phone.get_by_role("status")).to_contain_text("团队申请已提交")
    expect(phone.get_by_test_id("team-status")).to_have_text("审核中")
    expect(phone.get_by_role("heading", level=1)).to_have_text("灵犀医疗")
    members = phone.get_by_test_id("team-members")
    expect(members).to_contain_text("陈博")
    expect(members).to_contain_text("139****2001")  # teammates' numbers masked
    expect(members).not_to_contain_text("13900002001")
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "team-page-zh.png"), full_page=True)

    application = db.session.scalars(sa.select(TeamApplication)).one()
    assert (application.team_name, application.track) == ("灵犀医疗", "ai-health")
    assert sorted((m.name, m.phone, m.is_lead) for m in application.members) == [
        ("孙雨桐", founder.phone, True), ("苏晴", "+8613900002002", False), ("陈博", "+8613900002001", False)]
    application_id = application.id
    db.session.rollback()

    # ---- the organizer reviews on a phone ----
    desk = signed_in_phone(browser, app, live_server, organizer, browser_context_args)
    desk.goto(event_url)
    desk.get_by_test_id("team-organizer-links").get_by_role("link", name="审核参赛申请").tap()
    expect(desk.get_by_role("heading", level=1)).to_have_text("参赛申请")
    card = desk.locator(f'[data-application-id="{application_id}"]')
    expect(card).to_contain_text("灵犀医疗")
    expect(card).to_contain_text("审核中")
    expect(card).to_contain_text("+8613900002001")  # organizers see whole numbers
    expect(desk.get_by_test_id("track-counts")).to_contain_text("AI+医疗")
    assert_fits_phone(desk)
    card.get_by_role("checkbox").check()
    desk.get_by_label("给所选团队的留言（对方可见）").fill("恭喜进入初赛！初赛为线上评审，请按时上传 BP。")
    desk.get_by_role("button", name="通过所选").tap()
    expect(desk.get_by_role("status")).to_contain_text("已通过 1 份")
    expect(card).to_contain_text("已入选")
    assert_fits_phone(desk)
    desk.screenshot(path=str(tmp_path / "team-review-zh.png"), full_page=True)

    # ---- the founder sees "accepted" ----
    phone.goto(event_url)
    expect(phone.get_by_test_id("my-team-status")).to_contain_text("已入选")
    expect(phone.get_by_role("link", name="组队报名")).to_have_count(0)
    phone.get_by_test_id("my-team-status").get_by_role("link", name="我的队伍").tap()
    expect(phone.get_by_test_id("team-status")).to_have_text("已入选")
    expect(phone.get_by_test_id("my-team")).to_contain_text("恭喜进入初赛！初赛为线上评审，请按时上传 BP。")
    expect(phone.get_by_test_id("edit-team")).to_have_count(0)
    assert_fits_phone(phone)
    phone.screenshot(path=str(tmp_path / "team-accepted-zh.png"), full_page=True)

    # ---- a teammate who signs up only now sees the team too ----
    teammate = create_resident(phone="+8613900002001", name="陈博")
    db.session.rollback()
    other = signed_in_phone(browser, app, live_server, teammate, browser_context_args)
    other.goto(event_url)
    expect(other.get_by_test_id("my-team-status")).to_contain_text("灵犀医疗")
    expect(other.get_by_test_id("my-team-status")).to_contain_text("已入选")
    other.get_by_test_id("my-team-status").get_by_role("link", name="我的队伍").tap()
    expect(other.get_by_test_id("team-members")).to_contain_text("+8613900002001")  # their own number, whole
    expect(other.get_by_test_id("team-members")).not_to_contain_text(founder.phone)
