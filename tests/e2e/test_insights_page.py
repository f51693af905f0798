"""An organizer opens an event's insights from its management page, on a phone (375 px) and on a projector
(1920 px): the sign-ups chart is drawn (a canvas with pixels on it) and nothing scrolls sideways; on the day, the
arrivals chart moves when a ticket is scanned at a gate, without a reload (Socket.IO); after a round, each judge's
box is drawn (SVG) next to the others'."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.db_types import utcnow
from app.extensions import db
from checkin.admission import admit_registration
from events import services
from judging import services as judging_services
from tests.e2e.test_signup_flow import signed_in_phone
from tests.judging.conftest import CRITERIA, setup_payload
from tests.mentoring.conftest import create_mentor  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

CANVAS_HAS_INK = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
  return false;
}"""


@pytest.mark.parametrize("width", [375, 1920])
def test_the_sign_ups_chart_is_drawn_on_a_phone_and_on_a_projector(
        app, browser: Browser, browser_context_args, live_server, create_resident, create_event, width):
    from events.models import EventSeries, Registration

    organizer = create_resident(name="王珂", roles=["organizer"])
    weekly = EventSeries(title="多模态检索系列", rrule="FREQ=WEEKLY;COUNT=2")
    db.session.add(weekly)
    db.session.commit()
    earlier = create_event(title="技术沙龙：多模态检索（上）", starts_in=timedelta(days=-5), series_id=weekly.id)
    event = create_event(title="技术沙龙：多模态检索", capacity=2, starts_in=timedelta(days=2), series_id=weekly.id)
    now = utcnow()
    for i, persona in enumerate(("founder", "investor", "engineer", "founder")):
        person = create_resident(name=f"居民{i}", persona=persona,
                                 company=("深空智能科技有限公司（北杨小镇创新中心）", "云帆资本", "")[i % 3])
        services.register_for_event(event.id, person, now=now - timedelta(days=3 - i))
        db.session.add(Registration(event_id=earlier.id, user_id=person.id, status="confirmed", waitlist_seq=i + 1,
                                    checked_in_at=earlier.starts_at if i % 2 else None))
        db.session.commit()
    db.session.rollback()

    context_args = {**browser_context_args, "viewport": {"width": width, "height": 900 if width < 1000 else 1080}}
    if width > 1000:
        context_args.update(is_mobile=False, has_touch=False)
    page = signed_in_phone(browser, app, live_server, organizer, context_args)
    page.goto(f"{live_server}/manage/events/{event.id}")
    page.get_by_test_id("open-insights").click()
    expect(page.get_by_role("heading", name="数据图表")).to_be_visible()
    chart = page.get_by_test_id("signups-chart")
    expect(chart).to_have_attribute("data-drawn", "yes")
    canvas = chart.locator("canvas").first
    assert canvas.evaluate(CANVAS_HAS_INK)
    box = canvas.bounding_box()
    assert box["width"] > width * 0.6 and box["height"] >= 200
    expect(chart.locator(".u-legend")).to_contain_text("累计报名")
    expect(chart.locator(".u-legend")).to_contain_text("人数上限")
    expect(page.get_by_test_id("signups-personas")).to_contain_text("投资人")
    companies = page.get_by_test_id("companies-chart")
    expect(companies).to_have_attribute("data-drawn", "yes")
    expect(companies.locator("svg rect[data-bar]")).not_to_have_count(0)
    assert companies.locator("svg").bounding_box()["width"] > width * 0.6
    series = page.get_by_test_id("series-chart")
    expect(series).to_have_attribute("data-drawn", "yes")
    expect(series.locator(f'svg rect[data-bar="{earlier.id}"]')).to_have_count(2)  # came and no-shows
    expect(series.locator(f'svg rect[data-bar="{event.id}"]')).to_have_count(1)  # confirmed, not held yet
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"scrolls sideways at {width} px: scrollWidth {scroll_width}"
    page.context.close()


def test_the_arrivals_chart_moves_when_a_ticket_is_scanned_at_a_gate(
        app, browser: Browser, browser_context_args, live_server, create_resident, create_event):
    organizer = create_resident(name="王珂", roles=["organizer"])
    event = create_event(title="技术沙龙：端侧模型", capacity=10, starts_in=timedelta(minutes=30))
    now = utcnow()
    registrations = []
    for i in range(3):
        registration, _ = services.register_for_event(event.id, create_resident(name=f"观众{i}"),
                                                      now=now - timedelta(days=1))
        db.session.commit()
        registrations.append(registration)
    admit_registration(event.id, registrations[0].id, organizer, gate="A", scan_id=str(uuid.uuid4()),
                       now=now - timedelta(minutes=20))
    db.session.commit()
    db.session.rollback()

    page = signed_in_phone(browser, app, live_server, organizer, browser_context_args)
    page.goto(f"{live_server}/manage/events/{event.id}/insights")
    chart = page.get_by_test_id("arrivals-chart")
    expect(chart).to_have_attribute("data-drawn", "yes")
    expect(chart).to_have_attribute("data-live", "joined")
    expect(page.get_by_test_id("arrivals-came")).to_have_text("1")
    assert chart.locator("canvas").first.evaluate(CANVAS_HAS_INK)
    before = chart.locator("canvas").first.evaluate("(c) => c.toDataURL()")

    try:  # a steward's phone admits the second person at gate B: the organizer's chart moves without a reload
        admit_registration(event.id, registrations[1].id, organizer, gate="B", scan_id=str(uuid.uuid4()),
                           now=utcnow())
        db.session.commit()
    finally:
        db.session.rollback()
    expect(page.get_by_test_id("arrivals-came")).to_have_text("2")
    expect(page.get_by_test_id("arrivals-share")).to_have_text("66.7%")
    expect(chart.locator(".u-legend")).to_contain_text("入口 B")
    assert chart.locator("canvas").first.evaluate("(c) => c.toDataURL()") != before
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.context.close()


@pytest.mark.parametrize("width", [375, 1920])
def test_each_judges_box_is_drawn(app, browser: Browser, browser_context_args, live_server, create_resident, width):
    from app.accounts.models import User
    from judging.realtime import wait_until_announced

    organizer = create_resident(name="王珂", roles=["organizer"])
    competition, _tokens = judging_services.create_setup(setup_payload(teams=4, judges=3, shadow=1), organizer,
                                                         now=utcnow())
    db.session.commit()
    prelim = competition.rounds[0]
    judging_services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    teams = judging_services.teams_of(prelim.id)
    judges = [db.session.get(User, j.user_id) for j in judging_services.judges_of(prelim.id)]
    for judge, values in zip(judges, [[4, 3, 2.5, 2], [6, 7, 9, 10], [8, 7, 6, 5.5], [1, 10, 1, 10]], strict=True):
        for team, value in zip(teams, values, strict=True):
            judging_services.submit_score(prelim.id, judge, round_team_id=team.id, submission_id=str(uuid.uuid4()),
                                          base_revision=0, scores={c["key"]: value for c in CRITERIA}, now=utcnow())
            db.session.commit()
    assert wait_until_announced(10)
    db.session.rollback()

    context_args = {**browser_context_args, "viewport": {"width": width, "height": 900 if width < 1000 else 1080}}
    if width > 1000:
        context_args.update(is_mobile=False, has_touch=False)
    page = signed_in_phone(browser, app, live_server, organizer, context_args)
    page.goto(f"{live_server}/judging/rounds/{prelim.id}/fairness")
    page.get_by_test_id("open-judges-insights").click()
    chart = page.get_by_test_id("judges-chart")
    expect(chart).to_have_attribute("data-drawn", "yes")
    expect(chart.locator("svg rect[data-judge]")).to_have_count(4)
    expect(chart.locator("svg")).to_contain_text("评委4（见习）")
    assert chart.locator("svg").bounding_box()["width"] > min(width * 0.6, 900)
    expect(page.get_by_test_id("rank-moves").first).to_be_visible()
    agreement = page.get_by_test_id("agreement-chart")
    expect(agreement).to_have_attribute("data-drawn", "yes")
    expect(agreement.locator("svg rect[data-judge]")).to_have_count(4)
    pairs = page.get_by_test_id("pairs-chart")
    expect(pairs).to_have_attribute("data-drawn", "yes")
    expect(pairs.locator('svg rect[data-pair]:not([data-pair=""])')).to_have_count(12)  # 4 x 3, both halves
    rankings = page.get_by_test_id("rankings-chart")
    expect(rankings).to_have_attribute("data-drawn", "yes")
    expect(rankings.locator('svg polyline[data-moves="yes"]').first).to_be_visible()
    for drawn in (agreement, pairs, rankings):
        assert drawn.locator("svg").bounding_box()["width"] > min(width * 0.4, 400)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()


@pytest.mark.parametrize("width", [375, 1920])
def test_the_town_charts_are_drawn(app, browser: Browser, browser_context_args, live_server, create_resident,
                                   create_event, width):
    from events.models import EventSeries, Registration

    admin = create_resident(name="镇管理员", roles=["admin"])
    people = [create_resident(name=f"居民{i}") for i in range(3)]
    monthly = EventSeries(title="月度沙龙", rrule="FREQ=MONTHLY;COUNT=2")
    db.session.add(monthly)
    db.session.commit()
    for days, kind in ((-70, "salon"), (-40, "roadshow"), (-10, "salon")):
        event = create_event(kind=kind, starts_in=timedelta(days=days),
                             series_id=monthly.id if kind == "salon" else None)
        for seq, person in enumerate(people, start=1):
            db.session.add(Registration(event_id=event.id, user_id=person.id, status="confirmed", waitlist_seq=seq,
                                        created_at=event.starts_at - timedelta(days=3),
                                        checked_in_at=event.starts_at if seq < 3 else None))
    db.session.commit()
    db.session.rollback()

    context_args = {**browser_context_args, "viewport": {"width": width, "height": 900 if width < 1000 else 1080}}
    if width > 1000:
        context_args.update(is_mobile=False, has_touch=False)
    page = signed_in_phone(browser, app, live_server, admin, context_args)
    page.goto(f"{live_server}/insights/town")
    for key in ("events", "returns", "series"):
        chart = page.get_by_test_id(f"town-{key}-chart")
        expect(chart).to_have_attribute("data-drawn", "yes")
        assert chart.locator("canvas").first.evaluate(CANVAS_HAS_INK)
    no_shows = page.get_by_test_id("town-no-shows-chart")
    expect(no_shows).to_have_attribute("data-drawn", "yes")
    expect(no_shows.locator('svg rect[data-bar="salon"]')).to_have_count(1)
    lead_times = page.get_by_test_id("town-lead-times-chart")
    expect(lead_times).to_have_attribute("data-drawn", "yes")
    expect(lead_times.locator('svg rect[data-bar="3_7d"]')).to_have_count(1)
    companies = page.get_by_test_id("town-companies-chart")
    expect(companies).to_have_attribute("data-drawn", "yes")
    expect(companies.locator('svg rect[data-bar="北杨测试公司"]')).to_have_count(1)
    expect(page.get_by_test_id("town-reach-chart")).to_have_attribute("data-drawn", "empty")  # no announcement yet
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()


@pytest.mark.parametrize("width", [375, 1920])
def test_an_announcements_reach_is_drawn(app, browser: Browser, browser_context_args, live_server, create_resident,
                                         width):
    from tests.insights.test_announcement_reach import announce

    organizer = create_resident(name="王珂", roles=["organizer"])
    people = [create_resident(name=f"居民{i}") for i in range(8)]
    announcement = announce(people, written=utcnow() - timedelta(hours=20), spread=timedelta(hours=5))
    db.session.rollback()

    context_args = {**browser_context_args, "viewport": {"width": width, "height": 900 if width < 1000 else 1080}}
    if width > 1000:
        context_args.update(is_mobile=False, has_touch=False)
    page = signed_in_phone(browser, app, live_server, organizer, context_args)
    page.goto(f"{live_server}/notifications/announcements/{announcement.id}")
    page.get_by_test_id("open-reach-insights").click()
    chart = page.get_by_test_id("reach-chart")
    expect(chart).to_have_attribute("data-drawn", "yes")
    assert chart.locator("canvas").first.evaluate(CANVAS_HAS_INK)
    assert chart.locator("canvas").first.bounding_box()["width"] > width * 0.6
    expect(chart.locator(".u-legend")).to_contain_text("网页推送：已送达")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()


@pytest.mark.parametrize("width", [375, 1920])
def test_a_mentoring_cycle_is_drawn(app, browser: Browser, browser_context_args, live_server, create_resident,
                                    create_mentor, width):  # noqa: F811
    from mentoring.services import create_cycle
    from tests.insights.test_mentoring_cycle import build_cycle

    organizer = create_resident(name="王珂", roles=["organizer"])

    def new_cycle(name="2026 冬季导师匹配"):
        made = create_cycle(organizer, name=name, now=utcnow())
        db.session.commit()
        return made

    this = build_cycle(new_cycle, create_mentor, create_resident)
    db.session.rollback()

    context_args = {**browser_context_args, "viewport": {"width": width, "height": 900 if width < 1000 else 1080}}
    if width > 1000:
        context_args.update(is_mobile=False, has_touch=False)
    page = signed_in_phone(browser, app, live_server, organizer, context_args)
    page.goto(f"{live_server}/mentoring/cycles/{this.id}")
    page.get_by_test_id("open-mentoring-insights").click()
    for key, bars in (("scores", 7), ("load", 6), ("ratings", 5)):
        chart = page.get_by_test_id(f"mentoring-{key}-chart")
        expect(chart).to_have_attribute("data-drawn", "yes")
        assert chart.locator("svg rect[data-bar]").count() >= bars - 2, key
        assert chart.locator("svg").bounding_box()["width"] > width * 0.6
    expect(page.get_by_test_id("mentoring-load-chart").locator("svg line[data-mark]")).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.close()
