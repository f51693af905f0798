"""What a phone walk-through on stage found (issue 17), in Chromium against a live server: the big screen names
tracks (never their keys) in both languages, an unscored criterion looks unscored on the judge's phone, the console
shows each judge's true state live and re-sends an invitation, reveal warns about judges who have not submitted,
and a self-paced round shows no empty timer."""

from __future__ import annotations

import pytest

from app.db_types import utcnow
from app.extensions import db
from judging import services
from tests.judging.conftest import setup_payload
from tests.judging.test_browser import (  # noqa: F401  (fixtures: the Chromium checks and the live server)
    PHONE,
    browser_type_launch_args,
    pytestmark,
    server,
    signed_in,
    wait_for,
    wait_until,
)

SCREEN = {"viewport": {"width": 1920, "height": 1080}}
DESK = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}


@pytest.fixture
def named_tracks(organizer):
    """A competition whose tracks have keys and labels in both languages (teams 1 and 3: AI+医疗)."""
    payload = setup_payload(teams=3)
    payload["tracks"] = [{"key": "ai-healthcare", "label": "AI+医疗", "label_en": "AI + healthcare"},
                         {"key": "ai-manufacturing", "label": "AI+制造", "label_en": "AI + manufacturing"}]
    for i, team in enumerate(payload["teams"]):
        team["track"] = "ai-healthcare" if i % 2 == 0 else "ai-manufacturing"
    competition, _ = services.create_setup(payload, organizer, now=utcnow())
    db.session.commit()
    return competition


def test_the_big_screen_names_the_tracks_in_the_screens_language(browser, app, server, named_tracks, organizer,  # noqa: F811
                                                                  judge_users, score):
    prelim = named_tracks.rounds[0]
    services.configure_round(prelim.id, organizer, leaderboard_mode="live", now=utcnow())
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    for judge in judge_users(prelim):
        for team, value in zip(services.teams_of(prelim.id), (9, 7, 5), strict=True):
            score(prelim, judge, team, value)
    for locale, expected in (("zh-CN", ["AI+医疗", "AI+制造", "AI+医疗"]),
                             ("en-US", ["AI + healthcare", "AI + manufacturing", "AI + healthcare"])):
        context = signed_in(browser, app, server, organizer, locale=locale, **SCREEN)
        page = context.new_page()
        page.goto(f"{server}/judging/rounds/{prelim.id}/screen")
        wait_until(page, "document.querySelectorAll('[data-testid=row]').length === 3")
        assert page.locator("[data-testid=row] .track").all_text_contents() == expected, locale
        assert "ai-healthcare" not in page.inner_text("[data-testid=rows]")
        context.close()


def open_judge_page(browser, base, round_, judge_user):
    """The judge taps the link of their SMS on a phone (375x812, zh-CN) and lands on their round."""
    from tests.judging.test_invitation_passes import invite_path_sent_to_round

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(base + invite_path_sent_to_round(judge_user.phone, round_))
    page.wait_for_selector("[data-testid=teams] li")
    return page


def test_an_unscored_criterion_looks_unscored_and_submit_waits_for_every_value(browser, app, server,  # noqa: F811
                                                                             make_competition, organizer,
                                                                             judge_users):
    _, _, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    services.set_stage(final.id, organizer, round_team_id=services.teams_of(final.id)[0].id, phase="pitch",
                       now=utcnow())
    db.session.commit()
    page = open_judge_page(browser, server, final, judge_users(final)[0])
    page.wait_for_selector("[data-testid=form]:not([hidden])")
    keys = ("innovation", "market", "team", "feasibility")
    for key in keys:
        row = f"[data-testid=criterion-{key}]"
        assert page.text_content(f"[data-testid=value-{key}]") == "–"
        assert page.eval_on_selector(row, "e => e.classList.contains('judge-unset')")
        # No thumb at all (a thumb at the maximum read as "10" while the number said "–"), and a grey track.
        assert page.eval_on_selector(f"[data-testid=range-{key}]",
                                     "e => e.classList.contains('judge-range-unset') && "
                                     "getComputedStyle(e).appearance === 'none' && e.value !== e.max")
    page.screenshot(path="/tmp/stage/unscored.png")
    assert page.is_disabled("[data-testid=submit]")
    page.click("[data-testid=criterion-innovation] .judge-step[data-d='1']")  # from the middle: 5.5
    assert page.text_content("[data-testid=value-innovation]") == "5.5"
    assert not page.eval_on_selector("[data-testid=criterion-innovation]", "e => e.classList.contains('judge-unset')")
    assert page.is_disabled("[data-testid=submit]")  # three criteria still without a value
    box = page.locator("[data-testid=range-market]").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)  # a tap near the end of the track
    assert float(page.text_content("[data-testid=value-market]")) >= 9
    for key in ("team", "feasibility"):
        page.click(f"[data-testid=criterion-{key}] .judge-step[data-d='-1']")
    assert page.is_enabled("[data-testid=submit]")
    page.screenshot(path="/tmp/stage/scored.png")
    page.context.close()


def test_a_self_paced_round_shows_no_empty_timer(browser, app, server, make_competition, organizer,  # noqa: F811
                                                 judge_users):
    _, prelim, _, _ = make_competition(teams=3)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    page = open_judge_page(browser, server, prelim, judge_users(prelim)[0])
    page.wait_for_selector("[data-testid=form]:not([hidden])")
    assert page.is_hidden("[data-testid=stage]") and page.is_hidden("[data-testid=timer]")
    assert "--:--" not in page.inner_text("body")
    page.context.close()

    console = signed_in(browser, app, server, organizer, **DESK).new_page()
    console.goto(f"{server}/judging/rounds/{prelim.id}/console")
    console.wait_for_selector("[data-testid=judges] li")
    console.wait_for_timeout(600)  # the clock's tick has run
    assert console.is_hidden("[data-testid=clock]") and console.is_hidden("[data-testid=timer]")
    assert console.locator("[data-testid=phase-pitch]").count() == 0  # no stage to drive
    assert "--:--" not in console.inner_text("body")
    console.context.close()


def test_the_console_names_the_judges_missing_before_a_reveal(browser, app, server, make_competition,  # noqa: F811
                                                              organizer, judge_users, score):
    _, _, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    on_stage = services.teams_of(final.id)[0]
    services.set_stage(final.id, organizer, round_team_id=on_stage.id, phase="scoring", now=utcnow())
    db.session.commit()
    score(final, judge_users(final)[0], on_stage, 8)  # 1 of 3 judges
    console = signed_in(browser, app, server, organizer, **DESK).new_page()
    console.goto(f"{server}/judging/rounds/{final.id}/console")
    console.wait_for_selector(f"[data-testid=team-{on_stage.id}]")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    console.once("dialog", lambda dialog: answer(dialog, False))
    console.click("[data-testid=reveal]")
    for _ in range(100):  # the refusal's round trip, then the question
        if asked:
            break
        console.wait_for_timeout(100)
    assert asked == ["还有 2 位评委未提交：评委2、评委3；评分仍开放。仍要揭晓吗？"]
    console.wait_for_timeout(500)
    db.session.expire_all()
    assert services.get_round(final.id).revealed_count == 0  # the organizer said no: nothing revealed

    console.once("dialog", lambda dialog: answer(dialog, True))
    console.click("[data-testid=reveal]")
    for _ in range(100):  # Playwright answers the dialog while the test talks to the page
        console.wait_for_timeout(100)
        if wait_for(lambda: services.get_round(final.id).revealed_count == 1, timeout=0.01):
            break
    assert len(asked) == 2 and services.get_round(final.id).revealed_count == 1
    console.context.close()


def test_the_console_follows_each_judge_and_re_sends_an_invitation(browser, app, server, make_competition,  # noqa: F811
                                                                   organizer, judge_users, score):
    import sqlalchemy as sa

    from app.accounts.models import DevSmsMessage
    from tests.judging.test_invitation_passes import invite_path_sent_to_round

    _, _, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    services.set_stage(final.id, organizer, round_team_id=services.teams_of(final.id)[0].id, phase="scoring",
                       now=utcnow())
    db.session.commit()
    first, second, _ = judge_users(final)
    first_judge, second_judge = services.judges_of(final.id)[:2]
    console = signed_in(browser, app, server, organizer, **DESK).new_page()
    console.goto(f"{server}/judging/rounds/{final.id}/console")
    console.wait_for_selector(f"[data-testid=judge-state-{first_judge.id}][data-state=invited]")

    phone = open_judge_page(browser, server, final, first)  # the judge opens the link: the console follows
    console.wait_for_selector(f"[data-testid=judge-state-{first_judge.id}][data-state=opened]", timeout=5000)
    score(final, first, services.teams_of(final.id)[0], 8)
    console.wait_for_selector(f"[data-testid=judge-state-{first_judge.id}][data-state=submitted]", timeout=5000)
    assert console.text_content(f"[data-testid=judge-state-{first_judge.id}]") == "已提交"
    phone.context.close()

    old_link = invite_path_sent_to_round(second.phone, final)
    sent_before = db.session.scalar(sa.select(sa.func.count()).select_from(DevSmsMessage)
                                    .where(DevSmsMessage.phone == second.phone))
    console.click(f"[data-testid=resend-{second_judge.id}]")
    console.wait_for_selector("[data-testid=invite-status]:not([hidden])", timeout=5000)
    wait_until(console, f"document.querySelector('[data-testid=invitation-{second_judge.id}]')"
                        ".textContent.startsWith('已重新发送 · ')")
    assert wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(DevSmsMessage)
                                              .where(DevSmsMessage.phone == second.phone)) == sent_before + 1)
    assert invite_path_sent_to_round(second.phone, final) != old_link
    assert app.test_client().get(old_link).status_code == 404  # the old link no longer works
    console.context.close()
