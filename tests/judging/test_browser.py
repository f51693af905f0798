"""In Chromium against a live server: a judge opens the invitation link on a phone (signed in), the organizer puts a
team on stage and the phone shows its form at once with the countdown; the judge scores with the big controls, the
network drops, the score waits on the phone and arrives when the network is back; the big screen (1920x1080) shows
nothing of a hidden leaderboard until the organizer reveals it rank by rank."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from judging import services
from judging.models import Scorecard
from tests import services as test_services
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript expression until it is true. Playwright's wait_for_function compiles its predicate with
    eval inside the page, which the Content-Security-Policy refuses; page.evaluate goes through DevTools."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.1)


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


def signed_in(browser, app, base, user, **context_args):
    cookie = session_cookie_for(app, user)
    context = browser.new_context(**context_args)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base}])
    return context


def scored_of_three(scored: int) -> re.Pattern:
    """The judge's progress, "0 of 3 scored" in any language."""
    return re.compile(rf"\b{scored}\b\D*\b3\b")


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_judge_scores_on_the_phone_and_a_score_made_offline_arrives_when_back(browser, app, server,
                                                                                  make_competition, organizer):
    from playwright.sync_api import expect

    _, _, final, tokens = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    db.session.commit()
    judge = services.judges_of(final.id)[0]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    from tests.judging.test_invitation_passes import invite_path_sent_to_round

    judge_phone = db.session.get(User, judge.user_id).phone
    page.goto(server + invite_path_sent_to_round(judge_phone, final))  # the link of the judge's SMS
    # The page is served with a placeholder ("–"); the progress appears when its state has been read over HTTP.
    expect(page.get_by_test_id("progress")).to_have_text(scored_of_three(0))
    assert page.is_hidden("[data-testid=form]")

    team = services.teams_of(final.id)[1]
    services.set_stage(final.id, organizer, round_team_id=team.id, phase="pitch", now=utcnow())
    db.session.commit()
    page.wait_for_selector("[data-testid=form]:not([hidden])")
    assert page.text_content("[data-testid=team-name]").endswith("队伍2")
    wait_until(page, "document.querySelector('[data-testid=timer]').textContent.startsWith('7:')"
                           " || document.querySelector('[data-testid=timer]').textContent.startsWith('8:')")

    for key in ("innovation", "market", "team", "feasibility"):
        page.click(f"[data-testid=criterion-{key}] .judge-step[data-d='1']")  # from the middle: 5.5
    page.click("[data-testid=criterion-innovation] .judge-step[data-d='1']")  # 6
    assert page.text_content("[data-testid=value-innovation]") == "6"
    page.fill("[data-testid=comment]", "路演清晰")
    page.reload()  # the draft survives a reload
    page.wait_for_selector("[data-testid=form]:not([hidden])")
    assert page.text_content("[data-testid=value-innovation]") == "6"
    assert page.input_value("[data-testid=comment]") == "路演清晰"

    context.set_offline(True)
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=net]:not([hidden])")
    assert page.evaluate(f"JSON.parse(localStorage.getItem('judging:{final.id}:outbox')).length") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Scorecard)) == 0

    context.set_offline(False)
    assert wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Scorecard)) == 1)
    card = db.session.scalars(sa.select(Scorecard)).one()
    assert card.round_team_id == team.id and card.comment == "路演清晰" and card.revision == 1
    assert sorted(s.value for s in card.scores) == [5.5, 5.5, 5.5, 6]
    wait_until(page, f"localStorage.getItem('judging:{final.id}:outbox') === '[]'")
    expect(page.get_by_test_id("progress")).to_have_text(scored_of_three(1))
    context.close()


def test_the_big_screen_reveals_a_hidden_leaderboard_rank_by_rank(browser, app, server, make_competition, organizer,
                                                                  judge_users, score):
    _, prelim, _, _ = make_competition(teams=3)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    for judge in judge_users(prelim):
        for team, value in zip(services.teams_of(prelim.id), (6, 9, 7), strict=True):
            score(prelim, judge, team, value)
    context = signed_in(browser, app, server, organizer, viewport={"width": 1920, "height": 1080},
                        locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/judging/rounds/{prelim.id}/screen")
    page.wait_for_selector("[data-testid=hidden]:not([hidden])")
    assert page.locator("[data-testid=row]").count() == 0  # even the organizer's screen keeps it hidden

    services.reveal_next(prelim.id, organizer, now=utcnow())
    db.session.commit()
    page.wait_for_selector("[data-testid=row]")
    assert page.text_content("[data-testid=row] .team") == "队伍1"
    assert page.text_content("[data-testid=row] .rank") == "3"
    services.reveal_next(prelim.id, organizer, now=utcnow(), all_=True)
    db.session.commit()
    wait_until(page, "document.querySelectorAll('[data-testid=row]').length === 3")
    assert page.locator("[data-testid=row] .team").all_text_contents() == ["队伍2", "队伍3", "队伍1"]
    font = page.eval_on_selector("[data-testid=row]", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 48  # readable from the back of the hall
    box = page.eval_on_selector("[data-testid=screen]", "e => [e.offsetWidth, e.offsetHeight]")
    assert box == [1920, 1080]
    context.close()
