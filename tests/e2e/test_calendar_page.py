"""Calendars on a phone (375 × 812, touch, zh-CN): a founder adds a salon to the calendar from its page, opens "my
calendar", copies the private feed link, which a calendar app can fetch without any cookie, then replaces the link
and the old one stops working. Real Chromium against a live server."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import icalendar
import pytest
from playwright.sync_api import Browser, expect

from app.db_types import utcnow
from app.extensions import db
from events import services
from tests.conftest import session_cookie_for
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.events.test_calendar import check_rfc5545

pytestmark = pytest.mark.browser


def fetch(url: str) -> tuple[int, bytes]:
    """As a calendar app does: no cookie, no session."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (the test's own server)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_a_founder_adds_an_event_subscribes_to_the_private_feed_and_replaces_its_link(
        app, browser: Browser, browser_context_args, live_server, create_resident, create_event, tmp_path):
    founder = create_resident(name="林晓舟", company="星河智算")
    event = create_event(title="技术沙龙：RAG 落地实践")
    services.register_for_event(event.id, founder, now=utcnow())
    db.session.commit()

    context = browser.new_context(**browser_context_args)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "url": live_server,
                          "value": session_cookie_for(app, founder)}])
    page = context.new_page()

    # ---- the event page: "add to calendar" gives a real .ics
    page.goto(f"{live_server}/events/{event.id}")
    links = page.get_by_test_id("calendar-links")
    expect(links).to_contain_text("添加到日历")
    expect(links.get_by_test_id("google-link")).to_have_attribute("href", re.compile(r"^https://calendar\.google\.com/calendar/render\?action=TEMPLATE&"))
    ics = page.request.get(live_server + links.get_by_test_id("ics-link").get_attribute("href"))
    assert ics.status == 200 and ics.headers["content-type"] == "text/calendar; charset=utf-8"
    (vevent,) = check_rfc5545(ics.body()).walk("VEVENT")
    assert vevent["UID"] == f"event-{event.id}@beiyang-events"
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "event-page.png"), full_page=True)

    # ---- my calendar: both links, a copy button, hints for each app
    links.get_by_test_id("feed-page-link").tap()
    expect(page.get_by_role("heading", name="我的日历")).to_be_visible()
    feed_url = page.get_by_test_id("feed-url").input_value()
    assert feed_url.startswith(live_server + "/calendar/") and feed_url.endswith(".ics")
    expect(page.get_by_test_id("subscribe-link")).to_have_attribute("href", "webcal://" + feed_url.split("://")[1])
    page.get_by_test_id("copy-feed-url").tap()
    expect(page.get_by_test_id("copy-feed-url")).to_have_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == feed_url
    for app_name in ("iPhone / Mac", "Google 日历", "Outlook"):
        expect(page.get_by_test_id("my-calendar")).to_contain_text(app_name)
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "my-calendar.png"), full_page=True)

    status, body = fetch(feed_url)  # no cookie, like a calendar app
    assert status == 200
    feed = icalendar.Calendar.from_ical(body)
    assert feed["X-WR-CALNAME"] == "我的北杨小镇活动"
    assert [str(v["UID"]) for v in feed.walk("VEVENT")] == [f"event-{event.id}@beiyang-events"]

    # ---- replacing the link: confirm, the page shows the new one, the old one is gone
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("rotate-button").tap()
    expect(page.get_by_role("status")).to_contain_text("日历链接已更换")
    new_url = page.get_by_test_id("feed-url").input_value()
    assert new_url != feed_url
    assert fetch(feed_url)[0] == 404
    assert fetch(new_url)[0] == 200
    context.close()
