"""In Chromium against a live server, as people would: two attendees' phones (375x812, zh-CN) are in the live room;
one asks, the other upvotes and the first sees the question move to the top; the moderator (a laptop) merges a
duplicate into it and hides another, and both phones follow; the big screen (1920x1080) shows the QR code that
opens the room and the pinned question, live; polls and the people's choice from the moderators' page to phones and
the screen, and a phone not admitted at the door is told why it cannot vote."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from app.db_types import utcnow
from app.extensions import db
from live.services import questions
from tests import services as test_services
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
LAPTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
SCREEN = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": test_services.CHROMIUM,
            "args": test_services.CHROMIUM_ARGS}


@pytest.fixture
def server(app):
    from werkzeug.serving import make_server

    logging.getLogger("app.errors").disabled = False
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def opened(browser, app, base, user, path, **context_args):
    context = browser.new_context(**context_args)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": session_cookie_for(app, user),
                          "url": base}])
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(base + path)
    wait_until(page, "document.querySelector('[data-testid=live]').classList.contains('on')")
    page.problems = problems
    return page


def wait_until(page, expression: str, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression (page.evaluate: the CSP refuses wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.1)


def texts(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid=questions] [data-testid=question-text]",
                                     "els => els.map(e => e.textContent)")


def test_two_phones_ask_and_upvote_the_moderator_hides_and_the_screen_pins(browser, app, server, room_event,
                                                                              attendee, event_organizer):
    first_user, second_user = attendee(room_event, name="第一部手机"), attendee(room_event, name="第二部手机")
    organizer = event_organizer(room_event)
    earlier = questions.ask(room_event.id, attendee(room_event, name="早到的人"), text="早先的问题",
                            anonymous=False, now=utcnow())
    db.session.commit()
    path = f"/events/{room_event.id}/live"
    first = opened(browser, app, server, first_user, path, **PHONE)
    second = opened(browser, app, server, second_user, path, **PHONE)
    assert texts(first) == ["早先的问题"]
    assert first.get_by_text("匿名提问").is_visible() and first.get_by_role("button", name="发送问题").is_visible()
    assert first.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone

    first.get_by_test_id("ask-text").fill("端侧模型的功耗怎么控制？")
    first.get_by_test_id("ask-anonymous").check()
    first.get_by_role("button", name="发送问题").click()
    first.get_by_text("已发送。").wait_for()
    wait_until(second, "document.querySelectorAll('[data-testid=question]').length === 2")
    assert texts(second) == ["早先的问题", "端侧模型的功耗怎么控制？"]
    asked = second.locator("[data-testid=question]").nth(1)
    assert "匿名" in asked.inner_text() and "第一部手机" not in asked.inner_text()

    asked.get_by_role("button", name="点赞").click()
    wait_until(second, "document.querySelector('[data-testid=question] [data-testid=upvote]')"
                       ".getAttribute('aria-pressed') === 'true'")
    wait_until(first, "document.querySelector('[data-testid=question-text]').textContent.startsWith('端侧')")
    assert texts(first) == ["端侧模型的功耗怎么控制？", "早先的问题"]  # it moved to the top on the other phone
    assert first.locator("[data-testid=question]").first.get_by_test_id("votes").inner_text() == "1"

    moderator = opened(browser, app, server, organizer, f"/events/{room_event.id}/live/moderate", **LAPTOP)
    screen = opened(browser, app, server, organizer, f"/events/{room_event.id}/live/screen", **SCREEN)
    assert texts(screen) == ["端侧模型的功耗怎么控制？", "早先的问题"]
    from tests.live.test_joining import decoded_qr

    assert decoded_qr(screen.get_by_test_id("join-qr").screenshot()) == [f"{server}/l/{room_event.id}"]
    assert screen.get_by_test_id("join-link").inner_text() == f"{server.split('://')[1]}/l/{room_event.id}"
    late = questions.ask(room_event.id, attendee(room_event, name="重复者"), text="端侧功耗？", anonymous=False,
                         now=utcnow())
    db.session.commit()
    wait_until(moderator, "document.querySelectorAll('[data-testid=question]').length === 3")
    duplicate = moderator.locator(f"[data-testid=question][data-id='{late.id}']")
    duplicate.get_by_test_id("merge-into").select_option(label="端侧模型的功耗怎么控制？")
    duplicate.get_by_role("button", name="合并").click()
    wait_until(first, "document.querySelector('[data-testid=votes]').textContent === '2'")  # its author's wish
    wait_until(moderator, f"document.querySelector('[data-id=\"{late.id}\"]').dataset.status === 'merged'")
    moderator.locator(f"[data-testid=question][data-id='{earlier.id}']").get_by_role("button", name="隐藏").click()
    for page in (first, second, screen):
        wait_until(page, "document.querySelectorAll('[data-testid=questions] [data-testid=question]').length === 1")
    assert texts(second) == ["端侧模型的功耗怎么控制？"]

    moderator.locator("[data-testid=question]").first.get_by_role("button", name="置顶").click()
    wait_until(screen, "!document.querySelector('[data-testid=pinned]').hidden")
    assert screen.get_by_test_id("pinned").inner_text().startswith("2")
    assert "端侧模型的功耗怎么控制？" in screen.get_by_test_id("pinned").inner_text()
    assert texts(screen) == []
    for page in (first, second, moderator, screen):
        assert page.problems == [], page.problems


def test_a_poll_prepared_opened_answered_and_its_bars_on_phones_and_the_screen(browser, app, server, room_event,
                                                                              attendee, event_organizer, tmp_path):
    organizer = event_organizer(room_event)
    phone = opened(browser, app, server, attendee(room_event, name="观众甲"), f"/events/{room_event.id}/live",
                   **PHONE)
    moderator = opened(browser, app, server, organizer, f"/events/{room_event.id}/live/moderate", **LAPTOP)
    screen = opened(browser, app, server, organizer, f"/events/{room_event.id}/live/screen", **SCREEN)

    moderator.get_by_test_id("poll-new-question").fill("下期沙龙的主题？")
    moderator.get_by_test_id("poll-new-options").fill("RAG 实践\n智能体\n\n端侧模型")
    moderator.get_by_role("button", name="保存投票").click()
    moderator.get_by_test_id("poll").get_by_text("尚未开始").wait_for()
    assert phone.get_by_test_id("poll").count() == 0  # a draft stays backstage
    moderator.get_by_role("button", name="开始投票").click()

    phone.get_by_test_id("poll").get_by_text("下期沙龙的主题？").wait_for()
    phone.get_by_label("智能体").check()
    phone.get_by_role("button", name="投票", exact=True).click()
    phone.get_by_text("已投票。投票结束前可以修改。").wait_for()
    assert phone.get_by_test_id("bars").count() == 0  # no results until the organizer shows them
    wait_until(moderator, "[...document.querySelectorAll('[data-testid=bar-value]')].map(e => e.textContent)"
                          ".join('|') === '0 · 0%|1 · 100%|0 · 0%'")
    assert screen.get_by_test_id("poll-question").inner_text() == "下期沙龙的主题？"

    moderator.get_by_role("button", name="结束投票").click()
    moderator.get_by_role("button", name="向现场公布结果").click()
    for page in (phone, screen):
        wait_until(page, "document.querySelectorAll('[data-testid=bar]').length === 3")
        assert page.get_by_test_id("poll-total").inner_text() == "1 人作答"
    assert phone.get_by_test_id("poll-mine").inner_text() == "我的选择：智能体"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    screen.screenshot(path=str(tmp_path / "screen.png"))
    moderator.screenshot(path=str(tmp_path / "moderator.png"), full_page=True)
    for page in (phone, moderator, screen):
        assert page.problems == [], page.problems


def test_the_peoples_choice_from_the_moderators_page_to_phones_and_the_screen(browser, app, server, room_event,
                                                                             attendee, create_resident):
    from checkin.models import Admission
    from events.services import reading
    from judging import services
    from tests.judging.conftest import setup_payload

    organizer = create_resident(name="大赛组织者", roles=["organizer"])
    competition, _ = services.create_setup(setup_payload(teams=3), organizer, now=utcnow())
    db.session.commit()
    final = competition.rounds[1]
    final.event_id = room_event.id
    services.add_teams(final.id, organizer, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    team = services.teams_of(final.id)[0]
    services.set_stage(final.id, organizer, round_team_id=team.id, phase="pitch", now=utcnow())
    inside, outside = attendee(room_event, name="已入场"), attendee(room_event, name="未入场")
    registration = reading.registration_of(room_event.id, inside.id)
    db.session.add(Admission(registration_id=registration.id, event_id=room_event.id, first_admitted_at=utcnow(),
                             gate="A", inside=True, entries=1, last_moved_at=utcnow()))
    db.session.commit()
    path = f"/events/{room_event.id}/live"

    moderator = opened(browser, app, server, organizer, path + "/moderate", **LAPTOP)
    moderator.get_by_role("button", name="开始观众投票").click()
    phone = opened(browser, app, server, inside, path, **PHONE)
    refused = opened(browser, app, server, outside, path, **PHONE)
    screen = opened(browser, app, server, organizer, path + "/screen", **SCREEN)

    refused.get_by_role("button", name="投给 队伍1 · 正在路演").click()
    refused.get_by_text("只有在本活动现场验票入场的观众才能投票评选人气奖。").wait_for()
    phone.get_by_role("button", name="投给 队伍1 · 正在路演").click()
    phone.get_by_text("投票成功，谢谢！").wait_for()
    assert phone.get_by_test_id("pc-mine").inner_text() == "你投给了：队伍1"
    wait_until(screen, "document.querySelector('[data-testid=pc-status]').textContent.includes('1 票')")
    assert screen.get_by_test_id("pc-row").count() == 0  # hidden until revealed

    moderator.get_by_role("button", name="结束观众投票").click()
    moderator.get_by_role("button", name="全部揭晓").click()
    wait_until(screen, "document.querySelectorAll('[data-testid=pc-row]').length === 3")
    assert screen.get_by_test_id("pc-row").first.inner_text().startswith("1. 队伍1")
    wait_until(phone, "document.querySelectorAll('[data-testid=pc-row]').length === 3")
    for page in (phone, refused, moderator, screen):
        assert [p for p in page.problems if "403" not in p] == [], page.problems


def test_a_phone_and_the_screen_say_the_event_is_cancelled_the_moment_it_is(browser, app, server, room_event,
                                                                            attendee, event_organizer):
    from events.services import events as event_changes

    organizer = event_organizer(room_event)
    phone = opened(browser, app, server, attendee(room_event, name="现场观众"), f"/events/{room_event.id}/live",
                   **PHONE)
    screen = opened(browser, app, server, organizer, f"/events/{room_event.id}/live/screen", **SCREEN)
    assert phone.is_visible("[data-testid=ask-form]") and not phone.is_visible("[data-testid=live-cancelled]")
    event_changes.cancel_event(room_event.id, organizer, reason="台风", now=utcnow())
    db.session.commit()
    for page in (phone, screen):
        wait_until(page, "!document.querySelector('[data-testid=live-cancelled]').hidden")
        assert page.inner_text("[data-testid=live-cancelled]") == "活动已取消"
        wait_until(page, "!document.querySelector('[data-testid=live]').classList.contains('on')")
    assert not phone.is_visible("[data-testid=ask-form]")  # nothing left to do in a closed room
    phone.reload()
    wait_until(phone, "!document.querySelector('[data-testid=live-cancelled]').hidden")
    assert not phone.is_visible("[data-testid=ask-form]")
    assert phone.problems == [] and screen.problems == []


def test_the_moderator_chooses_the_speaker_and_sends_the_answered_questions(browser, app, server, room_event,
                                                                            attendee, event_organizer):
    organizer = event_organizer(room_event)
    question = questions.ask(room_event.id, attendee(room_event, name="提问者"), text="模型怎么部署？",
                             anonymous=True, now=utcnow())
    db.session.commit()
    questions.moderate(question.id, organizer, status="answered", now=utcnow())
    db.session.commit()
    page = opened(browser, app, server, organizer, f"/events/{room_event.id}/live/moderate", **LAPTOP)
    assert page.inner_text("[data-testid=speaker-now]") == "尚未选定讲者。"
    page.click("[data-testid=send-to-speaker]")
    wait_until(page, "document.querySelector('[data-testid=ask-note]').textContent.includes('请先选定讲者')")
    page.fill("[data-testid=speaker-phone]", "13912345678")
    page.fill("[data-testid=speaker-name]", "张教授")
    page.click("[data-testid=speaker-save]")
    wait_until(page, "document.querySelector('[data-testid=speaker-now]').textContent.includes('张教授')")
    page.click("[data-testid=send-to-speaker]")
    wait_until(page, "document.querySelector('[data-testid=ask-note]').textContent.includes('发送给 张教授')")
    assert page.inner_text("[data-testid=ask-note]") == "已将 1 个已回答的问题发送给 张教授。"
    assert [p for p in page.problems if "409 (CONFLICT)" not in p] == []  # the first send was refused, as shown
