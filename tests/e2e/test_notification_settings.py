"""Notification settings on a phone (issue 17, item 14): 375 × 812, zh-CN. Only channels that can work are offered,
every switch and button is a tap target of at least 44 px, nothing scrolls sideways, and saving changes only the
channels shown (a channel that cannot work now keeps its choice for when it can)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.extensions import db
from notifications import services
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.e2e.test_team_application import signed_in_phone

pytestmark = pytest.mark.browser

SMALL_TARGETS = """() => {
  const small = [];
  for (const el of document.querySelectorAll('main label.switch-row, main .switch, main .channel-action, main button,'
                                             + ' main input[type=time]')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if (box.height < 44 && !el.classList.contains('switch')) small.push(el.outerHTML.slice(0, 80) + ' ' + box.height);
    if (el.classList.contains('switch') && box.width < 44) small.push(el.outerHTML.slice(0, 80) + ' ' + box.width);
  }
  return small;
}"""


def channels_offered(phone) -> dict:
    return phone.evaluate("""() => ({
      rows: [...document.querySelectorAll('[data-testid=channel-list] li')].map(li => li.dataset.channel),
      switches: [...new Set([...document.querySelectorAll('.prefs-category input.switch')]
                           .map(input => input.name.split('.')[1]))],
    })""")


def test_with_push_and_wechat_set_up_the_page_offers_push_for_this_device_and_asks_to_link_wechat(
        app, browser: Browser, browser_context_args, live_server, create_resident):
    from notifications.channels.webpush import generate_vapid_keys

    private, public = generate_vapid_keys()
    app.config.update(NOTIFICATIONS_VAPID_PRIVATE_KEY=private, NOTIFICATIONS_VAPID_PUBLIC_KEY=public,
                      WECHAT_APP_ID="wx-test", WECHAT_APP_SECRET="secret", DEMO_MODE=True)
    founder = create_resident(name="林晓舟")  # a phone, no e-mail, WeChat not linked
    phone = signed_in_phone(browser, app, live_server, founder, browser_context_args)
    phone.goto(f"{live_server}/notifications/settings")

    assert channels_offered(phone) == {"rows": ["inbox", "webpush", "wechat", "sms"],
                                       "switches": ["inbox", "webpush", "sms"]}
    expect(phone.get_by_test_id("push-device-state")).to_have_text("此设备尚未开启推送")
    expect(phone.get_by_test_id("push-enable")).to_be_visible()
    expect(phone.get_by_test_id("push-enable")).to_contain_text("在此设备上开启推送")
    expect(phone.get_by_test_id("wechat-link-first")).to_have_text("先绑定微信")
    assert phone.locator("input[name='announcements.wechat'], input[name$='.email']").count() == 0
    assert phone.evaluate(SMALL_TARGETS) == []
    assert_fits_phone(phone)

    # switch SMS on for announcements by tapping its row; WeChat (not offered) keeps its choice
    phone.locator("fieldset[data-category=announcements] label.switch-row", has_text="短信").tap()
    phone.locator(".prefs-save").tap()
    expect(phone.locator("input[name='announcements.sms']")).to_be_checked()
    db.session.expire_all()
    channels = services.preferences_view(founder.id)["channels"]["announcements"]
    assert channels["sms"] is True and channels["wechat"] is True and channels["webpush"] is True
    phone.context.close()


def test_without_channels_configured_only_the_inbox_is_offered(app, browser: Browser, browser_context_args,
                                                              live_server, create_resident):
    app.config.update(NOTIFICATIONS_VAPID_PRIVATE_KEY="", NOTIFICATIONS_VAPID_PUBLIC_KEY="", WECHAT_APP_ID="",
                      WECHAT_APP_SECRET="", NOTIFICATIONS_SMTP_HOST="", NOTIFICATIONS_SMS_PROVIDER="",
                      SMS_PROVIDER="console", DEMO_MODE=False)
    founder = create_resident(name="林晓舟")
    founder.email = "lin@example.com"
    db.session.commit()
    phone = signed_in_phone(browser, app, live_server, founder, browser_context_args)
    phone.goto(f"{live_server}/notifications/settings")

    assert channels_offered(phone) == {"rows": ["inbox"], "switches": ["inbox"]}
    expect(phone.locator("[data-push-toggle]")).to_have_count(0)
    expect(phone.locator("input[name='registrations.inbox']")).to_be_disabled()
    assert phone.evaluate(SMALL_TARGETS) == []
    assert_fits_phone(phone)
    phone.context.close()
