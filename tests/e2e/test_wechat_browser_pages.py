"""The pages a founder opens from a WeChat chat work in WeChat's browser, which lacks what a phone's own browser has:
here Chromium with WeChat's user agent and, as in WeChat on iOS, no service worker, no Push API, no WebCrypto
Ed25519. The event page, the ticket (its QR code, without the offline copy) and the notification settings (push
said in words, WeChat messages offered) open without a script error. (The door's scanner, which verifies tickets
with Ed25519, falls back to the vendored @noble/ed25519: tests/checkin/test_browser_door.py.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from app.db_types import utcnow
from app.extensions import db
from tests.conftest import session_cookie_for
from tests.e2e.test_wechat_sign_in_flow import WECHAT_UA

pytestmark = pytest.mark.browser

LIKE_WECHAT_ON_IOS = """
delete Navigator.prototype.serviceWorker;
delete window.PushManager;
if (window.crypto && crypto.subtle) {
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = function (format, key, algorithm, ...rest) {
    const name = (algorithm && (algorithm.name || algorithm)) || "";
    if (String(name).toLowerCase() === "ed25519") {
      return Promise.reject(new DOMException("not supported", "NotSupportedError"));
    }
    return importKey(format, key, algorithm, ...rest);
  };
}
"""


def wechat_phone(browser: Browser, app, live_server: str, user, browser_context_args) -> tuple[Page, list[str]]:
    context = browser.new_context(**{**browser_context_args, "user_agent": WECHAT_UA})
    context.add_init_script(LIKE_WECHAT_ON_IOS)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": session_cookie_for(app, user),
                          "url": live_server}])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    return page, problems


def test_event_ticket_and_settings_work_in_wechats_browser(app, browser: Browser, browser_context_args, live_server,
                                                          wechat, create_event, create_resident):
    from events.services import register_for_event
    from notifications.channels.webpush import generate_vapid_keys

    private, public = generate_vapid_keys()
    app.config.update(NOTIFICATIONS_VAPID_PRIVATE_KEY=private, NOTIFICATIONS_VAPID_PUBLIC_KEY=public)
    event = create_event(title="技术沙龙：RAG 落地实践", capacity=40)
    founder = create_resident(name="林晓舟")
    registration, _ = register_for_event(event.id, founder, now=utcnow())
    db.session.commit()
    event_id, registration_id = event.id, registration.id
    db.session.rollback()
    page, problems = wechat_phone(browser, app, live_server, founder, browser_context_args)

    page.goto(f"{live_server}/events/{event_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("技术沙龙：RAG 落地实践")
    assert page.evaluate("'serviceWorker' in navigator || 'PushManager' in window") is False

    page.goto(f"{live_server}/tickets/{registration_id}")
    expect(page.get_by_test_id("ticket-qr").locator("svg")).to_be_visible()
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server}/notifications/settings")
    expect(page.get_by_test_id("push-in-wechat")).to_contain_text("微信内置浏览器收不到网页推送")
    expect(page.get_by_test_id("push-enable")).to_have_count(0)
    expect(page.get_by_test_id("wechat-link-first")).to_be_visible()
    assert problems == []
    page.context.close()
