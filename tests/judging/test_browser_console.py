"""In Chromium against a live server, the organizer's console drives the live final: "on stage" puts a team on the
judges' phones at once, the pitch becomes Q&A by itself on the console and on the phones (the same moment, from
the server's timeline), a judge scores and the console counts it, "close scoring" closes the form on the phone,
the big screen reveals the hidden leaderboard rank by rank and the results are published from the console."""

from __future__ import annotations

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from judging import services
from judging.models import Scorecard
from tests.judging.test_browser import (  # noqa: F401  (fixtures: the Chromium checks and the live server)
    PHONE,
    browser_type_launch_args,
    pytestmark,
    scored_of_three,
    server,
    signed_in,
    wait_for,
    wait_until,
)

DESK = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}


def test_the_console_drives_the_stage_the_phones_and_the_big_screen(browser, app, server, make_competition,  # noqa: F811
                                                                     organizer, judge_users):
    from playwright.sync_api import expect

    _, _, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.configure_round(final.id, organizer, pitch_seconds=4, qa_seconds=120, now=utcnow())
    db.session.commit()
    first_judge, second_judge = judge_users(final)[:2]
    teams = services.teams_of(final.id)

    console = signed_in(browser, app, server, organizer, **DESK).new_page()
    console.on("dialog", lambda dialog: dialog.accept())
    console.goto(f"{server}/judging/rounds/{final.id}/console")
    console.wait_for_selector(f"[data-testid=team-{teams[0].id}]")
    phones = []
    for judge in (first_judge, second_judge):
        phone = signed_in(browser, app, server, judge, **PHONE).new_page()
        phone.goto(f"{server}/judging/rounds/{final.id}/judge")
        expect(phone.get_by_test_id("progress")).to_have_text(scored_of_three(0))  # its state is read
        phones.append(phone)
    assert all(p.is_hidden("[data-testid=form]") for p in phones)

    console.click("[data-testid=open]")
    console.wait_for_selector(f"[data-testid=stage-{teams[1].id}]")
    console.click(f"[data-testid=stage-{teams[1].id}]")  # now pitching: 队伍2
    wait_until(console, "document.querySelector('[data-testid=now-pitching]').textContent.endsWith('队伍2')")
    for phone in phones:  # the phones show its form at once, on the pitch
        phone.wait_for_selector("[data-testid=form]:not([hidden])", timeout=5000)
        assert phone.text_content("[data-testid=team-name]").endswith("队伍2")
        phone.wait_for_selector("[data-testid=stage][data-phase=pitch]", timeout=2000)

    # Four seconds later the pitch has become Q&A on every screen, with no one pressing anything.
    console.wait_for_selector("[data-testid=phase][data-phase=qa]", timeout=9000)
    for phone in phones:
        phone.wait_for_selector("[data-testid=stage][data-phase=qa]", timeout=3000)
        wait_until(phone, "document.querySelector('[data-testid=timer]').textContent.startsWith('1:')"
                                " || document.querySelector('[data-testid=timer]').textContent.startsWith('2:')")

    phone = phones[0]
    for key in ("innovation", "market", "team", "feasibility"):
        phone.click(f"[data-testid=criterion-{key}] .judge-step[data-d='1']")
    phone.click("[data-testid=submit]")
    assert wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Scorecard)) == 1)
    wait_until(console,
               f"document.querySelector('[data-testid=count-{teams[1].id}]').textContent.trim().startsWith('1')")

    console.click(f"[data-testid=close-{teams[1].id}]")  # close scoring: the second judge's form closes
    phones[1].wait_for_selector("[data-testid=form-note]:not([hidden])", timeout=5000)
    console.wait_for_selector(f"[data-testid=reopen-{teams[1].id}]")
    db.session.expire_all()
    assert services.round_team(final, teams[1].id).scoring_state == "closed"

    screen = signed_in(browser, app, server, organizer, viewport={"width": 1920, "height": 1080},
                       locale="zh-CN").new_page()
    screen.goto(f"{server}/judging/rounds/{final.id}/screen")
    screen.wait_for_selector("[data-testid=hidden]:not([hidden])")
    assert screen.locator("[data-testid=row]").count() == 0
    console.click("[data-testid=reveal]")  # one rank: 队伍2, the only team with scores
    screen.wait_for_selector("[data-testid=row]", timeout=5000)
    assert screen.text_content("[data-testid=row] .team") == "队伍2"

    console.click("[data-testid=publish]")
    wait_until(console, "document.querySelector('[data-testid=round-state]').textContent === '已发布'"
                              " || document.querySelector('[data-testid=round-state]').textContent === 'Published'")
    db.session.expire_all()
    assert services.get_round(final.id).state == "published"
    wait_until(screen, "document.querySelectorAll('[data-testid=row]').length >= 1")
    for page in (console, screen, *phones):
        page.context.close()
