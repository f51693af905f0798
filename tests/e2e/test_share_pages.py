"""The pages made to be shared in a chat, on a phone (Chromium, 375 × 812, zh-CN): the competition's public results
(long names wrap, nothing scrolls sideways, the empty state before any round is published) and an event's
invitation (邀请函), opened in WeChat's browser, which hands WeChat its share card and leads to the sign-up."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from app.db_types import utcnow
from app.extensions import db
from judging import services
from judging.realtime import wait_until_announced
from tests.e2e.test_sign_in_flow import assert_fits_phone
from tests.e2e.test_wechat_share_card import BRIDGE
from tests.e2e.test_wechat_sign_in_flow import WECHAT_UA
from tests.judging.conftest import setup_payload

pytestmark = pytest.mark.browser

LONG_TEAM = "北杨小镇具身智能与多模态大模型联合实验室创业团队第一梯队"  # no space to break at


def competition_with_a_published_round(create_resident) -> tuple[int, int]:
    """A competition whose preliminary round is published (4 teams, one with a very long name); the final is not."""
    organizer = create_resident(name="王珂", roles=["organizer"])
    payload = setup_payload(teams=4)
    payload["name"] = "港科大百万元奖金创业大赛（2026 秋季·上海徐汇北杨人工智能创新小镇站）"
    payload["teams"][1]["team_name"] = LONG_TEAM
    competition, _ = services.create_setup(payload, organizer, now=utcnow())
    db.session.commit()
    prelim = competition.rounds[0]
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    for judge in services.judges_of(prelim.id):
        user = db.session.get(type(organizer), judge.user_id)
        for team, value in zip(services.teams_of(prelim.id), [5, 9, 7, 3], strict=True):
            services.submit_score(prelim.id, user, round_team_id=team.id, submission_id=str(uuid.uuid4()),
                                  base_revision=0, scores={c.key: value for c in prelim.criteria},
                                  comment="评语不公开", now=utcnow())
            db.session.commit()
    services.publish_results(prelim.id, organizer, now=utcnow())
    db.session.commit()
    assert wait_until_announced(10)  # the live rooms' reads after COMMIT end before the tables are emptied
    ids = competition.id, prelim.id
    db.session.rollback()
    return ids


def test_the_results_page_reads_on_a_phone(page: Page, live_server, create_resident, tmp_path):
    competition_id, prelim_id = competition_with_a_published_round(create_resident)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server}/competitions/{competition_id}/results")
    expect(page.get_by_role("heading", level=1)).to_contain_text("港科大百万元奖金创业大赛")
    round_card = page.get_by_test_id(f"round-{prelim_id}")
    expect(round_card.get_by_role("heading", level=2)).to_have_text("初赛")
    rows = round_card.get_by_role("listitem")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text(LONG_TEAM)
    expect(rows.first.locator(".public-rank")).to_have_text("1")
    expect(page.get_by_text("评语不公开")).to_have_count(0)
    expect(page.get_by_text("决赛")).to_have_count(0)
    box = rows.first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "public-results.png"), full_page=True)
    assert problems == []

    page.goto(f"{live_server}/competitions/{competition_id + 1000}/results")  # unknown: a page in words
    expect(page.get_by_text(re.compile("不存在"))).to_be_visible()


def test_before_publication_the_results_page_says_so(page: Page, live_server, create_resident):
    organizer = create_resident(name="王珂", roles=["organizer"])
    competition, _ = services.create_setup(setup_payload(teams=2), organizer, now=utcnow())
    db.session.commit()
    competition_id = competition.id
    db.session.rollback()
    page.goto(f"{live_server}/competitions/{competition_id}/results")
    expect(page.get_by_test_id("no-results")).to_contain_text("比赛结果尚未公布")
    assert_fits_phone(page)


def test_the_invitation_in_wechat_hands_over_its_card_and_leads_to_the_sign_up(
        app, browser: Browser, browser_context_args, live_server, wechat, create_event, tmp_path):
    event = create_event(title="技术沙龙：具身智能与多模态大模型在工业质检中的落地实践（第十二期）",
                         summary="三位一线工程师分享从数据采集、模型训练到产线部署的完整经验")
    event_id = event.id
    db.session.rollback()
    context = browser.new_context(**{**browser_context_args, "user_agent": WECHAT_UA})
    context.add_init_script(BRIDGE)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server}/events/{event_id}/invite")
    invitation = page.get_by_test_id("invitation")
    expect(invitation).to_contain_text("邀请函")
    expect(page.get_by_role("heading", level=1)).to_contain_text("工业质检")
    expect(page.get_by_test_id("invitation-where")).to_have_text("北杨小镇")
    expect(page.get_by_test_id("invitation-summary")).to_contain_text("产线部署")
    expect(page.locator("html")).to_have_attribute("data-wechat-share", "ready")
    shared = {call["name"]: call["params"] for call in page.evaluate("window.__wechatCalls")[1:]}
    chat = shared["updateAppMessageShareData"]
    assert chat["title"].startswith("邀请函：技术沙龙：具身智能") and chat["desc"].startswith("三位一线工程师")
    assert chat["link"] == f"{live_server}/events/{event_id}/invite"
    assert_fits_phone(page)
    page.screenshot(path=str(tmp_path / "invitation.png"), full_page=True)

    page.get_by_test_id("invitation-sign-up").tap()
    expect(page).to_have_url(re.compile(rf"/events/{event_id}#signup$"))
    expect(page.get_by_test_id("signup-card")).to_be_visible()
    assert problems == []
    context.close()
