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
