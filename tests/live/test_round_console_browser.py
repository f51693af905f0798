"""The people's choice run from the competition round's own console (judging), drawn on the round's big screen
(judging's, 1920x1080): the console opens the audience vote, the screen counts the votes live, the console closes
it and reveals rank by rank, and the screen shows each rank as it is revealed, from the bottom, inside the screen."""

from __future__ import annotations

import pytest

from app.db_types import utcnow
from app.extensions import db
from tests.conftest import session_cookie_for
from tests.live.test_browser import (  # noqa: F401  (browser_type_launch_args and server: the fixtures, shared)
    LAPTOP,
    SCREEN,
    browser_type_launch_args,
    server,
    wait_until,
)

pytestmark = pytest.mark.browser


def page_of(browser, app, base, user, path, **context_args):
    context = browser.new_context(**context_args)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": session_cookie_for(app, user),
                          "url": base}])
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.goto(base + path)
    return page


def test_the_console_runs_the_peoples_choice_and_the_round_screen_reveals_it_rank_by_rank(
        browser, app, server, room_event, attendee, create_resident, tmp_path):  # noqa: F811
    from checkin.models import Admission
    from events.services import reading
    from judging import services
    from live.services import peoples_choice
    from tests.judging.conftest import setup_payload

    organizer = create_resident(name="大赛组织者", roles=["organizer"])
    competition, _ = services.create_setup(setup_payload(teams=3), organizer, now=utcnow())
    db.session.commit()
    final = competition.rounds[1]
    final.event_id = room_event.id
    services.add_teams(final.id, organizer, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    teams = services.teams_of(final.id)
    services.set_stage(final.id, organizer, round_team_id=teams[0].id, phase="pitch", now=utcnow())
    voters = [attendee(room_event, name=f"观众{i}") for i in range(3)]
    for voter in voters:
        registration = reading.registration_of(room_event.id, voter.id)
        db.session.add(Admission(registration_id=registration.id, event_id=room_event.id,
                                 first_admitted_at=utcnow(), gate="A", inside=True, entries=1,
                                 last_moved_at=utcnow()))
    db.session.commit()

    console = page_of(browser, app, server, organizer, f"/judging/rounds/{final.id}/console", **LAPTOP)
    screen = page_of(browser, app, server, organizer, f"/judging/rounds/{final.id}/screen", **SCREEN)
    wait_until(screen, "document.querySelector('[data-testid=live]').classList.contains('on')")
    assert screen.get_by_test_id("screen-peoples-choice").is_hidden()  # not opened: the leaderboard alone

    choice = console.get_by_test_id("console-peoples-choice")  # beside the console's own buttons (the judges' ranks)
    choice.get_by_role("button", name="开始观众投票").click()
    wait_until(screen, "!document.querySelector('[data-testid=screen-peoples-choice]').hidden")
    assert screen.get_by_test_id("pc-status").inner_text() == "人气奖投票进行中 · 0 票"
    for voter in voters[:2]:
        peoples_choice.cast_vote(final.id, voter, round_team_id=teams[0].id, now=utcnow())
        db.session.commit()
    services.set_stage(final.id, organizer, round_team_id=teams[1].id, phase="pitch", now=utcnow())
    db.session.commit()
    peoples_choice.cast_vote(final.id, voters[2], round_team_id=teams[1].id, now=utcnow())
    db.session.commit()
    wait_until(screen, "document.querySelector('[data-testid=pc-status]').textContent.includes('3 票')")
    wait_until(console, "document.querySelector('[data-testid=pc-status]').textContent.includes('3 票')")
    assert screen.get_by_test_id("pc-row").count() == 0  # hidden until revealed

    choice.get_by_role("button", name="结束观众投票").click()
    assert console.get_by_role("button", name="揭晓下一名", exact=True).count() == 1  # the judges' ranking's own
    choice.get_by_role("button", name="揭晓人气奖下一名").click()
    wait_until(screen, "document.querySelectorAll('[data-testid=pc-row]').length === 1")
    assert screen.get_by_test_id("pc-row").first.inner_text().split() == ["3", "队伍3", "0", "票"]
    assert screen.get_by_test_id("pc-hidden").inner_text() == "还有 2 个名次待揭晓"
    choice.get_by_test_id("pc-reveal").click()
    wait_until(screen, "document.querySelectorAll('[data-testid=pc-row]').length === 2")
    choice.get_by_test_id("pc-reveal").click()
    wait_until(screen, "document.querySelectorAll('[data-testid=pc-row]').length === 3")
    rows = [r.split() for r in screen.get_by_test_id("pc-row").all_inner_texts()]
    assert [r[:2] for r in rows] == [["1", "队伍1"], ["2", "队伍2"], ["3", "队伍3"]]
    assert screen.get_by_test_id("pc-hidden").is_hidden()

    box = screen.get_by_test_id("screen-peoples-choice").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 1920 and box["y"] + box["height"] <= 1080
    for row in screen.get_by_test_id("pc-row").all():
        row_box = row.bounding_box()
        assert row_box["y"] + row_box["height"] <= 1080
    assert screen.evaluate("document.documentElement.scrollWidth") <= 1920
    screen.screenshot(path=str(tmp_path / "round-screen.png"))
    for page in (console, screen):
        assert page.problems == [], page.problems
