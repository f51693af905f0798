"""What a phone walk-through of the town found (issue 17): 375 × 812, touch, zh-CN (and English where it matters),
real Chromium against a live server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.db_types import utcnow
from app.extensions import db
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.e2e.test_team_application import signed_in_phone
from tests.judging.test_browser import wait_until
from tests.judging.test_teams import TRACKS, valid

pytestmark = pytest.mark.browser


@pytest.fixture
def open_competition(create_event):
    from judging.models import Competition

    event = create_event(title="港科大百万元奖金创业大赛 · 决赛", kind="competition", capacity=300,
                         starts_in=timedelta(days=20), hours=8)
    item = Competition(name="港科大百万元奖金创业大赛", event_id=event.id, prize_pool_yuan=1_000_000,
                       tracks=TRACKS, applications_open=True)
    db.session.add(item)
    db.session.commit()
    return item


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
    # polled from outside the page: wait_for_function evaluates a string, which the page's CSP refuses
    wait_until(phone, "!!(window.beiyangNotifications && window.beiyangNotifications.socket.connected)")

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


def test_a_founder_on_the_competition_tab_can_apply_and_then_sees_the_team_status(
        app, browser: Browser, browser_context_args, live_server, create_resident, open_competition):
    competition = open_competition
    founder = create_resident(name="林晓舟", company="星河智算")
    phone = signed_in_phone(browser, app, live_server, founder, browser_context_args)
    phone.goto(f"{live_server}/")
    phone.get_by_test_id("subnav").get_by_role("link", name="创业大赛").click()
    card = phone.get_by_test_id(f"open-competition-{competition.id}")
    expect(card).to_contain_text("港科大百万元奖金创业大赛")
    expect(phone.get_by_text("你还没有参与任何大赛轮次")).to_have_count(0)
    card.get_by_role("link", name="报名参赛").click()
    expect(phone).to_have_url(f"{live_server}/competitions/{competition.id}/teams/apply")
    assert_fits_phone(phone)

    from judging import teams
    teams.submit_application(competition.id, founder, now=utcnow(), **valid(team_name="星河智算队"))
    db.session.commit()
    db.session.rollback()
    phone.goto(f"{live_server}/judging/")
    status = phone.get_by_test_id(f"open-competition-{competition.id}").get_by_test_id("my-team-status")
    expect(status).to_contain_text("星河智算队")
    expect(status).to_contain_text("审核中")
    assert_fits_phone(phone)
