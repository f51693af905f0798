"""Signing up on phones (375 × 812, touch, zh-CN): a founder answers the salon's question and signs up in one tap, a
second founder joins the waitlist, a double tap or a resubmitted form never makes two registrations, a cancellation
moves the waitlist up, and a visitor signs in with phone and code and comes back to the event. Real Chromium against
a live server."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from app.extensions import db
from events.models import Registration
from tests.conftest import session_cookie_for
from tests.e2e.test_sign_in_flow import assert_fits_phone, code_from_outbox

pytestmark = pytest.mark.browser

QUESTIONS = [
    {"id": "track", "label": "你关注哪个方向？", "kind": "choice", "required": True,
     "choices": ["大模型应用", "AI 基础设施", "具身智能"]},
    {"id": "intro", "label": "一句话介绍你的项目", "kind": "text", "required": False},
]


def signed_in_phone(browser: Browser, app, live_server: str, user, browser_context_args) -> Page:
    """A phone-sized browser already signed in as `user` (the phone-and-code flow is the last test here)."""
    cookie = session_cookie_for(app, user)
    context = browser.new_context(**browser_context_args)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context.new_page()


def statuses(event) -> list[str]:
    """Read in the test's own session, then end its transaction so it never holds a lock the server waits on."""
    try:
        return [r.status for r in db.session.scalars(
            sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.waitlist_seq))]
    finally:
        db.session.rollback()


def test_two_founders_sign_up_for_a_small_salon_and_the_waitlist_moves_up(
        app, browser: Browser, browser_context_args, live_server, create_resident, create_event, tmp_path):
    event = create_event(title="技术沙龙：RAG 落地实践", title_en="Salon: RAG in practice", capacity=1,
                         questions=QUESTIONS)
    lin = create_resident(name="林晓舟", company="星河智算")
    zhao = create_resident(name="赵一鸣", company="深言科技")
    db.session.rollback()

    # ---- the first founder: finds the salon, forgets the required question, then signs up with a double tap
    first = signed_in_phone(browser, app, live_server, lin, browser_context_args)
    first.goto(live_server + "/")
    first.get_by_test_id("event-list").get_by_role("heading", name="技术沙龙：RAG 落地实践").tap()
    card = first.get_by_test_id("signup-card")
    expect(card.get_by_test_id("seats")).to_have_text("还剩 1 个名额")
    expect(card).to_contain_text("报名人：林晓舟 · 星河智算")
    card.get_by_label("一句话介绍你的项目").fill("<b>法律检索</b> 的 RAG")
    card.get_by_role("button", name="立即报名").tap()
    expect(card.get_by_test_id("signup-error")).to_have_text("请修改标出的回答。")
    expect(card.get_by_role("alert").filter(has_text="请回答这个问题")).to_be_visible()
    expect(card.get_by_label("一句话介绍你的项目")).to_have_value("<b>法律检索</b> 的 RAG")  # nothing typed is lost
    assert_fits_phone(first)
    first.screenshot(path=str(tmp_path / "signup-error.png"), full_page=True)

    choice = card.get_by_label("AI 基础设施")
    choice.check()
    expect(choice).to_be_checked()
    box = card.locator("label.option").first.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300, box  # a large tap target on a phone
    card.get_by_role("button", name="立即报名").dblclick()  # two quick taps
    expect(first.get_by_role("status").filter(has_text="报名成功，活动见！")).to_be_visible()
    expect(card.get_by_test_id("signup-status")).to_contain_text("已确认")
    card.get_by_text("你的回答", exact=True).tap()
    expect(card.locator(".signup-answers dd").first).to_have_text("AI 基础设施")
    expect(card.locator(".signup-answers")).to_contain_text("<b>法律检索</b> 的 RAG")  # shown as text
    assert_fits_phone(first)
    first.screenshot(path=str(tmp_path / "signup-confirmed.png"), full_page=True)
    assert statuses(event) == ["confirmed"]

    # ---- the second founder: the salon is full, joins the waitlist (with the event also open in a second tab)
    second = signed_in_phone(browser, app, live_server, zhao, browser_context_args)
    stale = second.context.new_page()
    for tab in (second, stale):
        tab.goto(f"{live_server}/events/{event.id}")
    card2 = second.get_by_test_id("signup-card")
    expect(card2.get_by_test_id("seats")).to_have_text("名额已满")
    card2.get_by_label("大模型应用").check()
    card2.get_by_role("button", name="加入候补").tap()
    expect(second.get_by_role("status").filter(has_text="名额已满，你已进入候补，当前排第 1 位。")).to_be_visible()
    expect(card2.get_by_test_id("waitlist-position")).to_have_text("候补第 1 位")
    assert_fits_phone(second)
    second.screenshot(path=str(tmp_path / "signup-waitlisted.png"), full_page=True)

    # a retry: the same form sent again from the other tab
    stale_card = stale.get_by_test_id("signup-card")
    stale_card.get_by_label("大模型应用").check()
    stale_card.get_by_role("button", name="加入候补").tap()
    expect(stale.get_by_role("status").filter(has_text="你已经报过名了")).to_be_visible()
    expect(stale_card.get_by_test_id("waitlist-position")).to_have_text("候补第 1 位")
    stale.close()
    # and two sends at the same moment, as a flaky connection may do
    results = second.evaluate("""async (url) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const send = () => fetch(url, {method: "POST", body: new URLSearchParams(
            {csrf_token: token, "answer-track": "大模型应用"}), redirect: "manual"}).then(r => r.type);
        return Promise.all([send(), send()]);
    }""", f"{live_server}/events/{event.id}/signup")
    assert results == ["opaqueredirect", "opaqueredirect"]
    assert statuses(event) == ["confirmed", "waitlisted"]

    # ---- my events, from the index's filter
    first.goto(live_server + "/")
    first.get_by_test_id("filter-mine").tap()
    expect(first).to_have_url(re.compile(r"/me/events$"))
    expect(first.get_by_test_id("my-upcoming")).to_contain_text("技术沙龙：RAG 落地实践")
    expect(first.get_by_test_id("my-upcoming")).to_contain_text("已确认")
    assert_fits_phone(first)

    # ---- the first founder cancels (two taps: a stray one never gives a seat away); the second moves up
    first.goto(f"{live_server}/events/{event.id}")
    card = first.get_by_test_id("signup-card")
    card.get_by_text("取消报名", exact=True).tap()
    card.get_by_role("button", name="确认取消报名").tap()
    expect(first.get_by_role("status").filter(has_text="已取消报名")).to_be_visible()
    expect(card.get_by_test_id("signup-note")).to_have_text("你已取消报名。")
    assert statuses(event) == ["cancelled", "confirmed"]

    second.goto(f"{live_server}/events/{event.id}")
    expect(second.get_by_test_id("signup-status")).to_contain_text("已确认")
    expect(second.get_by_test_id("waitlist-position")).to_have_count(0)

    # ---- in English
    second.get_by_test_id("lang-switch").tap()
    expect(second.locator("html")).to_have_attribute("lang", "en")
    card2 = second.get_by_test_id("signup-card")
    expect(card2.get_by_role("heading", name="Sign-up")).to_be_visible()
    expect(card2.get_by_test_id("signup-status")).to_contain_text("Confirmed")
    expect(card2.get_by_test_id("signup-status")).to_contain_text("Your seat is confirmed. See you there!")
    expect(card2.get_by_text("Cancel my registration", exact=True)).to_be_visible()
    assert_fits_phone(second)
    second.screenshot(path=str(tmp_path / "signup-confirmed-en.png"), full_page=True)
    first.context.close()
    second.context.close()


def test_a_visitor_signs_in_with_phone_and_code_and_comes_back_to_sign_up(page: Page, live_server, create_event):
    event = create_event(title="技术沙龙：Agent 工程化", capacity=20)
    db.session.rollback()

    page.goto(f"{live_server}/events/{event.id}")
    card = page.get_by_test_id("signup-card")
    expect(card.get_by_test_id("seats")).to_have_text("还剩 20 个名额")
    card.get_by_role("link", name="登录后报名").tap()
    expect(page).to_have_url(re.compile(rf"/auth/login\?next=/events/{event.id}$"))
    page.locator('input[type="tel"]').fill("13912345678")
    page.get_by_role("button", name="发送验证码").tap()
    expect(page).to_have_url(re.compile(r"/auth/verify"))
    page.get_by_label("验证码", exact=True).fill(code_from_outbox("+8613912345678"))
    page.get_by_role("button", name="登录").tap()

    # a newcomer fills in the profile once, then lands back on the event
    expect(page).to_have_url(re.compile(r"/profile\?next="))
    page.get_by_label("姓名", exact=True).fill("周沐")
    page.get_by_label("公司", exact=True).fill("沐光智能")
    page.get_by_label("创业者").check()
    page.get_by_role("button", name="保存").tap()
    expect(page).to_have_url(re.compile(rf"/events/{event.id}$"))
    card = page.get_by_test_id("signup-card")
    expect(card).to_contain_text("报名人：周沐 · 沐光智能")
    card.get_by_role("button", name="立即报名").tap()
    expect(card.get_by_test_id("signup-status")).to_contain_text("已确认")
    expect(page.get_by_role("status").filter(has_text="报名成功，活动见！")).to_be_visible()
    assert_fits_phone(page)
    assert statuses(event) == ["confirmed"]
