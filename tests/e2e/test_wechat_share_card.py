"""An event page opened in WeChat's browser (Chromium with WeChat's user agent) hands WeChat its share card: the
vendored JS-SDK configures itself with the server's signature of this page's URL, and once WeChat accepts it the
page's title, summary, link and image go to "send to chat" and "share to Moments". WeChat's native bridge
(WeixinJSBridge) is played by the test, recording what the page asks of it; the page raises no error and no
Content-Security-Policy violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from tests.e2e.test_wechat_sign_in_flow import WECHAT_UA
from tests.wechat_standin import APP_ID

pytestmark = pytest.mark.browser

BRIDGE = """
window.__wechatCalls = [];
window.WeixinJSBridge = {
  invoke: function (name, params, callback) {
    window.__wechatCalls.push({name: name, params: JSON.parse(JSON.stringify(params))});
    if (callback) setTimeout(function () { callback({err_msg: name + ":ok"}); }, 0);
  },
  on: function () {},
};
"""


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "user_agent": WECHAT_UA}


def test_the_event_page_hands_wechat_its_signed_share_card(page: Page, live_server, wechat, create_event):
    event = create_event(title="技术沙龙：RAG 落地实践", summary="大模型应用的检索增强实践")
    event_id = event.id
    db.session.rollback()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.add_init_script(BRIDGE)

    page.goto(f"{live_server}/events/{event_id}")
    expect(page.locator("html")).to_have_attribute("data-wechat-share", "ready")
    calls = page.evaluate("window.__wechatCalls")
    signature = page.locator('meta[name="wechat:signature"]').get_attribute("content")
    verify = calls[0]
    assert verify["name"] == "preVerifyJSAPI"
    assert verify["params"]["verifyAppId"] == APP_ID and verify["params"]["verifySignature"] == signature
    assert set(verify["params"]["verifyJsApiList"]) == {"updateAppMessageShareData", "updateTimelineShareData"}
    shared = {call["name"]: call["params"] for call in calls[1:]}
    chat = shared["updateAppMessageShareData"]
    assert (chat["title"], chat["desc"]) == ("技术沙龙：RAG 落地实践", "大模型应用的检索增强实践")
    assert chat["link"] == f"{live_server}/events/{event_id}" and "/static/icons/icon-512.png" in chat["imgUrl"]
    assert shared["updateTimelineShareData"]["title"] == "技术沙龙：RAG 落地实践"
    assert problems == []
