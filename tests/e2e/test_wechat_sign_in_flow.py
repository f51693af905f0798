"""A founder opens an event link in WeChat's browser (Chromium with WeChat's user agent, 375 × 812, zh-CN): taps
"微信一键登录", goes through WeChat's authorisation (a local stand-in of open.weixin.qq.com and api.weixin.qq.com),
confirms their phone once with an SMS code, signs out, taps again and is in, on the event page. Then, on the
profile page, unbinds WeChat and binds it again (a form that ends at WeChat: the page's form-action allows it)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.accounts.models import WeChatBinding
from app.extensions import db
from tests.e2e.test_sign_in_flow import assert_fits_phone, code_from_outbox

pytestmark = pytest.mark.browser

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like "
             "Gecko) Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1220099 MMWEBSDK/20240301 "
             "MMWEBID/1234 MicroMessenger/8.0.48.2580(0x28003035) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN "
             "ABI/arm64")
PHONE = "+8613812345678"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "user_agent": WECHAT_UA}


def bound_openids() -> list[str]:
    try:
        return list(db.session.scalars(sa.select(WeChatBinding.openid)))
    finally:
        db.session.rollback()


def test_tap_confirm_the_phone_once_sign_out_tap_again_and_in(page: Page, live_server, wechat, create_event,
                                                              tmp_path):
    event = create_event(title="技术沙龙：RAG 落地实践")
    event_id = event.id
    db.session.rollback()

    page.goto(f"{live_server}/auth/login?next=/events/{event_id}")
    one_tap = page.get_by_role("link", name="微信一键登录")
    expect(one_tap).to_be_visible()
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "wechat-login.png"), full_page=True)
    one_tap.tap()

    expect(page).to_have_url(re.compile(r"/auth/login\?next="))  # back from WeChat: the phone, once
    expect(page.get_by_test_id("wechat-pending")).to_contain_text("只需这一次")
    expect(page.get_by_role("link", name="微信一键登录")).to_have_count(0)
    page.locator('input[type="tel"]').fill("13812345678")
    page.get_by_role("button", name="发送验证码").tap()
    expect(page).to_have_url(re.compile(r"/auth/verify"))
    page.get_by_label("验证码", exact=True).fill(code_from_outbox(PHONE))
    page.get_by_role("button", name="登录").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("欢迎来到北杨小镇")  # first time: the profile
    expect(page.get_by_role("status")).to_contain_text("已绑定微信")
    assert bound_openids() == [wechat.person["openid"]]
    page.get_by_label("姓名", exact=True).fill("林晓舟")
    page.get_by_role("button", name="保存").tap()
    expect(page).to_have_url(re.compile(rf"/events/{event_id}(#wechat_redirect)?$"))  # a 302 keeps the fragment

    page.goto(f"{live_server}/profile")
    page.get_by_test_id("sign-out-here").get_by_role("button").tap()
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    page.goto(f"{live_server}/events/{event_id}")
    page.goto(f"{live_server}/auth/login?next=/events/{event_id}")
    page.get_by_role("link", name="微信一键登录").tap()
    expect(page).to_have_url(re.compile(rf"/events/{event_id}(#wechat_redirect)?$"))  # one tap: in, back on the event
    expect(page.get_by_test_id("current-user")).to_have_text("林晓舟")
    assert_fits_phone(page)

    page.goto(f"{live_server}/profile")
    expect(page.get_by_test_id("wechat-bound")).to_be_visible()
    page.get_by_role("button", name="解绑微信").tap()
    expect(page.get_by_role("status")).to_contain_text("已解绑微信")
    assert bound_openids() == []
    page.get_by_role("button", name="绑定微信").tap()  # off to WeChat and back through a form
    expect(page.get_by_role("status")).to_contain_text("已绑定微信")
    expect(page.get_by_test_id("wechat-bound")).to_be_visible()
    assert bound_openids() == [wechat.person["openid"]]
    assert_fits_phone(page)
