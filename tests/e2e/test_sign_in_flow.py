"""A newcomer on a phone (375 × 812, touch, zh-CN): sees the events, switches language, signs in with phone and
code, fills in the profile. Real Chromium against a live server; the SMS code is read from the demo outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from tests.conftest import last_sms_code

pytestmark = pytest.mark.browser

PHONE_TYPED = "13812345678"
PHONE = "+8613812345678"
PHONE_WIDTH = 375


def assert_fits_phone(page: Page) -> None:
    """Nothing sticks out sideways at 375 px: no horizontal scroll."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"{page.url} scrolls sideways: scrollWidth {scroll_width} > {PHONE_WIDTH}"


def code_from_outbox(phone: str) -> str:
    """Read the latest code from the database outbox, then end this thread's transaction so it never holds a lock
    the live server's threads could wait on."""
    try:
        return last_sms_code(phone)
    finally:
        db.session.rollback()


def ask_for_a_code(page: Page, base_url: str, typed_phone: str = PHONE_TYPED) -> None:
    page.goto(base_url + "/")
    page.get_by_role("link", name="登录").tap()
    expect(page).to_have_url(re.compile(r"/auth/login"))
    expect(page.get_by_role("heading", name="手机号登录")).to_be_visible()
    phone_field = page.locator('input[type="tel"]')
    expect(phone_field).to_be_focused()
    phone_field.fill(typed_phone)
    page.get_by_role("button", name="发送验证码").tap()


def test_a_newcomer_sees_upcoming_events_in_chinese_then_in_english(page: Page, live_server, create_event, tmp_path):
    create_event(title="技术沙龙：RAG 落地实践", title_en="Salon: RAG in practice", summary="大模型应用的检索增强实践")
    create_event(title="路演日：AI 硬件专场", title_en="Roadshow: AI hardware", kind="roadshow",
                 starts_in=timedelta(days=5))
    create_event(title="草稿活动", status="draft")
    db.session.rollback()

    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("近期活动")
    events = page.get_by_test_id("event-list")
    expect(events.get_by_role("heading", name="技术沙龙：RAG 落地实践")).to_be_visible()
    expect(events.get_by_role("heading", name="路演日：AI 硬件专场")).to_be_visible()
    expect(events).not_to_contain_text("草稿活动")
    expect(page.get_by_role("link", name="登录")).to_be_visible()
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "home-zh.png"), full_page=True)

    page.get_by_test_id("lang-switch").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
    expect(events.get_by_role("heading", name="Salon: RAG in practice")).to_be_visible()
    expect(events.get_by_role("heading", name="Roadshow: AI hardware")).to_be_visible()
    expect(page.get_by_test_id("lang-switch")).to_have_text("中文")
    assert_fits_phone(page)

    page.reload()  # the choice is remembered for this browser
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
    page.get_by_test_id("lang-switch").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("近期活动")


def test_a_newcomer_signs_in_with_phone_and_code_and_fills_in_the_profile(page: Page, live_server, create_event,
                                                                           tmp_path):
    from app.accounts.models import User

    create_event(title="技术沙龙：RAG 落地实践", title_en="Salon: RAG in practice")
    db.session.rollback()

    ask_for_a_code(page, live_server)
    expect(page).to_have_url(re.compile(r"/auth/verify"))
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    expect(page.get_by_text("138****5678")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(PHONE)
    assert_fits_phone(page)

    code = code_from_outbox(PHONE)

    code_field = page.get_by_label("验证码", exact=True)
    expect(code_field).to_have_attribute("inputmode", "numeric")
    expect(code_field).to_have_attribute("autocomplete", "one-time-code")
    code_field.fill(code)
    page.get_by_role("button", name="登录").tap()

    expect(page).to_have_url(re.compile(r"/profile\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("欢迎来到北杨小镇")
    expect(page.get_by_test_id("current-user")).to_be_visible()  # signed in, profile still empty
    assert_fits_phone(page)
    page.get_by_label("姓名", exact=True).fill("林晓舟")
    page.get_by_label("公司", exact=True).fill("星河智算")
    page.get_by_label("职位", exact=True).fill("CEO")
    page.get_by_label("创业者").check()
    page.get_by_label("兴趣（用逗号分隔）").fill("大模型应用，融资")
    page.screenshot(path=str(tmp_path / "profile-zh.png"), full_page=True)
    page.get_by_role("button", name="保存").tap()

    expect(page).to_have_url(re.compile(r"^" + re.escape(live_server) + r"/\??$"))  # "/?": see the report
    expect(page.get_by_role("status")).to_contain_text("个人资料已保存")
    expect(page.get_by_test_id("current-user")).to_have_text("林晓舟")
    expect(page.get_by_role("heading", name="技术沙龙：RAG 落地实践")).to_be_visible()
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "home-signed-in-zh.png"), full_page=True)

    user = db.session.scalars(sa.select(User).where(User.phone == PHONE)).one()
    assert (user.name, user.company, user.title, user.persona) == ("林晓舟", "星河智算", "CEO", "founder")
    assert user.profile_complete
    db.session.rollback()


def test_a_wrong_code_is_explained_in_chinese_with_the_tries_left(page: Page, live_server):
    ask_for_a_code(page, live_server)
    expect(page).to_have_url(re.compile(r"/auth/verify"))
    real_code = code_from_outbox(PHONE)
    wrong_code = f"{(int(real_code) + 1) % 1_000_000:06d}"

    page.get_by_label("验证码", exact=True).fill(wrong_code)
    page.get_by_role("button", name="登录").tap()

    expect(page).to_have_url(re.compile(r"/auth/verify"))
    expect(page.get_by_role("alert")).to_contain_text("验证码错误，还可尝试 4 次")
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    assert_fits_phone(page)


def test_an_invalid_phone_is_explained_in_chinese_and_kept_in_the_field(page: Page, live_server):
    ask_for_a_code(page, live_server, typed_phone="1381234")

    expect(page).to_have_url(re.compile(r"/auth/login"))
    expect(page.get_by_role("alert")).to_contain_text("手机号码无效")
    expect(page.locator('input[type="tel"]')).to_have_value("1381234")
    assert_fits_phone(page)


def test_the_demo_sms_outbox_shows_the_code_in_a_second_tab(page: Page, live_server):
    """The verify page links to the outbox (target=_blank) in demo mode; a tester reads the code there."""
    ask_for_a_code(page, live_server)
    expect(page).to_have_url(re.compile(r"/auth/verify"))

    with page.context.expect_page() as new_tab:
        page.locator("main").get_by_role("link", name="短信发件箱").tap()  # target=_blank: a new tab
    outbox = new_tab.value
    expect(outbox.get_by_role("heading", name="短信发件箱")).to_be_visible(timeout=5_000)
    body = outbox.locator(f'li[data-phone="{PHONE}"] .sms-body').first.inner_text()
    code = re.search(r"\d{6}", body).group(0)
    assert code == code_from_outbox(PHONE)
    assert_fits_phone(outbox)
    outbox.close()

    page.get_by_label("验证码", exact=True).fill(code)
    page.get_by_role("button", name="登录").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("欢迎来到北杨小镇")
