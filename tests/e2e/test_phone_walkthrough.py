"""What a phone walk-through of the town found (issue 17): 375 × 812, touch, zh-CN (and English where it matters),
real Chromium against a live server."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from app.db_types import utcnow
from app.extensions import db
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.e2e.test_team_application import signed_in_phone

pytestmark = pytest.mark.browser


def _notify(user, title: str, body: str) -> None:
    from notifications.services import Draft, notify

    notify(user.id, Draft(kind="announcement", category="announcements", render=lambda locale: (title, body),
                          dedupe_key=f"test:{title}"), now=utcnow())
    db.session.commit()
    db.session.rollback()


def test_a_message_arriving_appears_at_the_top_of_the_open_inbox(app, browser: Browser, browser_context_args,
                                                                   live_server, create_resident):
    founder = create_resident(name="林晓舟", company="星河智算")
    _notify(founder, "欢迎来到北杨小镇", "第一条消息")
    phone = signed_in_phone(browser, app, live_server, founder, browser_context_args)
    phone.goto(f"{live_server}/notifications")
    items = phone.get_by_test_id("inbox-list").locator(".inbox-item")
    expect(items).to_have_count(1)
    phone.wait_for_function("window.beiyangNotifications && window.beiyangNotifications.socket.connected")

    _notify(founder, "技术沙龙改期", "改到周五 19:00")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("技术沙龙改期")
    expect(phone.get_by_test_id("inbox-unread")).to_contain_text("2")
    expect(phone.locator("[data-unread-badge]")).to_have_text("2")
    assert_fits_phone(phone)


HEADER_CHECK = """() => {
  const out = {scroll: document.scrollingElement.scrollWidth, small: [], outside: []};
  for (const el of document.querySelectorAll('.topbar a, .topbar button, .subnav a')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
    const name = (el.innerText || el.getAttribute('aria-label') || '').trim() || el.className;
    if (box.height < 44) out.small.push(name + ' ' + Math.round(box.height) + 'px');
    if (box.right > 375.5 || box.left < 0) {
      out.outside.push(name + ' ' + Math.round(box.left) + '-' + Math.round(box.right));
    }
  }
  const who = document.querySelector('[data-testid=current-user] span');
  out.cut = who ? who.scrollWidth > who.clientWidth + 1 : false;
  return out;
}"""


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_header_and_main_pages_fit_a_phone_for_every_persona(app, browser: Browser, browser_context_args,
                                                                  live_server, create_resident, language):
    people = {
        "founder": create_resident(name="林晓舟", company="星河智算"),
        "organizer": create_resident(name="王珂", roles=["organizer"]),
        "mentor": create_resident(name="周静怡", persona="mentor", roles=["mentor"]),
        "judge": create_resident(name="陈立恒", persona="investor", roles=["judge"]),
    }
    pages = ["/", "/me/events", "/me/calendar", "/mentoring/", "/judging/", "/notifications",
             "/notifications/settings", "/profile"]
    problems = []
    for person in people.values():
        if language == "en":
            person.locale = "en"
    db.session.commit()
    for persona, person in people.items():
        phone = signed_in_phone(browser, app, live_server, person, {**browser_context_args, "locale": language})
        for path in pages + (["/manage/"] if persona == "organizer" else []):
            phone.goto(f"{live_server}{path}")
            found = phone.evaluate(HEADER_CHECK)
            if found["scroll"] > 375 or found["small"] or found["outside"] or found["cut"]:
                problems.append(f"{persona} {path}: {found}")
        if persona == "organizer":
            manage = "管理" if language == "zh-CN" else "Manage"
            expect(phone.get_by_test_id("subnav").get_by_role("link", name=manage)).to_be_in_viewport()
        phone.context.close()
    assert not problems, "\n".join(problems)
