"""On a computer (Chromium, a desktop's window and user agent, zh-CN): "微信扫码登录" appears only once the open
platform's website app is set up; it goes to WeChat's QR code page (a local stand-in of open.weixin.qq.com, where a
link plays the person scanning the code and confirming on their phone), and WeChat sends the browser back. The first
time the person confirms their phone once with an SMS code (as with one tap in WeChat) and the WeChat account is
bound; after signing out, scanning again signs them in, back on the page they came from."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.accounts.models import WeChatBinding
from app.extensions import db
from tests.e2e.test_sign_in_flow import code_from_outbox
from tests.wechat_standin import WeChatStandIn

pytestmark = pytest.mark.browser

DESKTOP_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Safari/537.36")
PHONE = "+8613812345678"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "user_agent": DESKTOP_UA, "viewport": {"width": 1280, "height": 800},
            "is_mobile": False, "has_touch": False}


@pytest.fixture
def wechat(app):
    standin = WeChatStandIn()
    standin.qr_page = True
    yield standin
    standin.close()


def bindings() -> list[tuple[str, str]]:
    try:
        return [(b.app_id, b.openid) for b in db.session.scalars(sa.select(WeChatBinding))]
    finally:
        db.session.rollback()


def scan_at_wechat(page: Page, wechat: WeChatStandIn) -> None:
    """At WeChat's QR code page (the stand-in): check what our site asked for, then scan and confirm."""
    expect(page).to_have_url(re.compile(rf"^{re.escape(wechat.base)}/connect/qrconnect\?"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert (query["appid"], query["scope"], query["response_type"]) == (wechat.web_app_id, "snsapi_login", "code")
    assert query["redirect_uri"].endswith("/auth/wechat/callback") and len(query["state"]) >= 24
    expect(page.get_by_test_id("wechat-qr-code")).to_be_visible()
    page.get_by_test_id("scan-and-confirm").click()


def test_scan_confirm_the_phone_once_sign_out_scan_again_and_in(app, page: Page, live_server, wechat, create_event,
                                                                 tmp_path):
    event = create_event(title="技术沙龙：RAG 落地实践")
    event_id = event.id
    db.session.rollback()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server}/auth/login?next=/events/{event_id}")
    expect(page.locator('input[type="tel"]')).to_be_visible()
    expect(page.get_by_role("link", name="微信扫码登录")).to_have_count(0)  # the website app is not set up
    expect(page.get_by_role("link", name="微信一键登录")).to_have_count(0)

    wechat.configure_website(app)
    page.reload()
    qr = page.get_by_role("link", name="微信扫码登录")
    expect(qr).to_be_visible()
    expect(page.get_by_role("link", name="微信一键登录")).to_have_count(0)  # not WeChat's browser
    page.screenshot(path=str(tmp_path / "desktop-login.png"), full_page=True)
    qr.click()
    scan_at_wechat(page, wechat)

    expect(page).to_have_url(re.compile(r"/auth/login\?next="))  # back from WeChat: the phone, once
    expect(page.get_by_test_id("wechat-pending")).to_contain_text("只需这一次")
    expect(page.get_by_role("link", name="微信扫码登录")).to_have_count(0)
    page.locator('input[type="tel"]').fill("13812345678")
    page.get_by_role("button", name="发送验证码").click()
    expect(page).to_have_url(re.compile(r"/auth/verify"))
    page.get_by_label("验证码", exact=True).fill(code_from_outbox(PHONE))
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("欢迎来到北杨小镇")  # first time: the profile
    expect(page.get_by_role("status")).to_contain_text("已绑定微信")
    [(app_id, openid)] = bindings()
    assert app_id == wechat.web_app_id and openid.startswith("oWEB")  # the website app's own openid
    page.get_by_label("姓名", exact=True).fill("林晓舟")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(rf"/events/{event_id}(#wechat_redirect)?$"))

    page.goto(f"{live_server}/profile")
    page.get_by_test_id("sign-out-here").get_by_role("button").click()
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    page.goto(f"{live_server}/auth/login?next=/events/{event_id}")
    page.get_by_role("link", name="微信扫码登录").click()
    scan_at_wechat(page, wechat)
    expect(page).to_have_url(re.compile(rf"/events/{event_id}(#wechat_redirect)?$"))  # in, no phone this time
    expect(page.get_by_test_id("current-user")).to_have_text("林晓舟")
    assert bindings() == [(app_id, openid)]
    assert problems == []
