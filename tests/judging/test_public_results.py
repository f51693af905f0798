"""The competition's public results page (/competitions/<id>/results): anyone with the link, signed in or not, sees
each published round's ranking (rank, team, track, advanced) and nothing else: no judge, no score, no comment, no
member, nothing of a round not published. It carries the share card (Open Graph; in WeChat's browser the JS-SDK
signature of its URL), and is linked from the competition's event page, the console once published and the
organizers' judging page. SQLite and PostgreSQL (TEST_DATABASE=postgres)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app.db_types import utcnow
from app.extensions import db
from judging import services
from tests.app.test_wechat_share import assert_signed_in_wechat, metas
from tests.conftest import sign_in
from tests.judging.conftest import CRITERIA

SECRET_COMMENT = "财务模型有硬伤，建议补充现金流测算"


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def ranking_of(html: str, round_id: int) -> list[str]:
    """Each row of a round's ranking, as its text reads ("1 队伍2 AI+医疗 晋级")."""
    section = re.search(rf'data-testid="round-{round_id}">(.*?)</section>', html, re.S)
    assert section, f"round {round_id} is not on the page"
    return [text_of(row) for row in re.findall(r"<li[^>]*>(.*?)</li>", section.group(1), re.S)]


@pytest.fixture
def scored_prelim(make_competition, organizer, judge_users, score):
    """A competition with 4 teams whose preliminary round is open and scored by 3 judges (totals 50, 90, 70, 30),
    each judge leaving a comment; not published yet. Its event is the competition's page."""

    def make(create_event):
        competition, prelim, final, _ = make_competition(teams=4)
        event = create_event(title="港科大百万元奖金创业大赛", kind="competition")
        competition.event_id = event.id
        services.open_round(prelim.id, organizer, now=utcnow())
        db.session.commit()
        teams = services.teams_of(prelim.id)
        for judge in judge_users(prelim):
            for team, value in zip(teams, [5, 9, 7, 3], strict=True):
                score(prelim, judge, team, {c["key"]: value for c in CRITERIA}, comment=SECRET_COMMENT)
        return competition, prelim, final, event

    return make


def publish(round_, organizer):
    services.publish_results(round_.id, organizer, now=utcnow())
    db.session.commit()


def test_before_any_round_is_published_the_page_says_so_and_shows_nothing(client, scored_prelim, create_event):
    competition, prelim, _, event = scored_prelim(create_event)
    response = client.get(f"/competitions/{competition.id}/results")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="no-results"' in page and "比赛结果尚未公布" in page
    assert "队伍" not in text_of(page) and f'data-testid="round-{prelim.id}"' not in page  # scored, not published
    assert metas(page)["og:description"] == "比赛结果尚未公布。"
    assert 'data-testid="public-results-link"' not in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_a_published_round_shows_rank_team_and_track_to_anyone_and_nothing_more(
        client, scored_prelim, create_event, organizer, judge_users):
    competition, prelim, final, _ = scored_prelim(create_event)
    publish(prelim, organizer)
    prelim_teams = services.teams_of(prelim.id)
    services.advance_teams(prelim.id, organizer, to_round_id=final.id, top_n=2, now=utcnow())
    db.session.commit()
    judges = [u.display_name for u in judge_users(prelim)]

    response = client.get(f"/competitions/{competition.id}/results")  # nobody signed in
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ranking_of(page, prelim.id) == ["1 队伍2 AI+医疗 晋级", "2 队伍3 AI+制造 晋级", "3 队伍1 AI+制造",
                                           "4 队伍4 AI+医疗"]
    assert "初赛" in page and "决赛" not in page and f'data-testid="round-{final.id}"' not in page  # not published
    words = text_of(page)
    for secret in [*judges, "王珂", SECRET_COMMENT, "队长1", "13600000000", "项目1", "/ 100"]:
        assert secret not in words, secret  # no judge, organizer, comment, member, phone, project or score
    for row in ranking_of(page, prelim.id):
        assert not re.search(r"\d{2}", row), row  # only the rank: no total, no criterion mean
    assert len(prelim_teams) == 4


def test_an_unknown_competition_is_not_found_in_words(client):
    for path in ("/competitions/999999/results", "/competitions/99999999999999999999/results"):
        response = client.get(path)
        assert response.status_code == 404
        assert "不存在" in response.get_data(as_text=True) or "找不到" in response.get_data(as_text=True)


def test_a_competition_whose_event_is_a_draft_is_not_found(client, make_competition, create_event):
    competition, *_ = make_competition(teams=2)
    event = create_event(title="尚未官宣的大赛", kind="competition", status="draft")
    competition.event_id = event.id
    db.session.commit()
    response = client.get(f"/competitions/{competition.id}/results")
    assert response.status_code == 404 and competition.name not in response.get_data(as_text=True)


def test_the_share_card_names_the_latest_rounds_winner(client, scored_prelim, create_event, organizer):
    competition, prelim, _, _ = scored_prelim(create_event)
    publish(prelim, organizer)
    page = client.get(f"/competitions/{competition.id}/results").get_data(as_text=True)
    tags = metas(page)
    assert tags["og:title"] == "港科大百万元奖金创业大赛 · 比赛结果"
    assert tags["og:description"] == "初赛结果：第一名 队伍2"
    assert tags["og:url"] == f"http://localhost/competitions/{competition.id}/results"
    assert tags["og:image"].startswith("http://localhost/static/icons/icon-512.png")
    assert "wechat:signature" not in tags  # WeChat is not set up here


def test_in_wechat_the_results_page_is_signed_for_its_url(app, client, scored_prelim, create_event, organizer):
    competition, prelim, _, _ = scored_prelim(create_event)
    publish(prelim, organizer)
    url = f"http://localhost/competitions/{competition.id}/results?from=timeline"
    assert_signed_in_wechat(app, client, url)


def test_it_is_linked_from_the_event_the_console_and_the_organizers_page(client, scored_prelim, create_event,
                                                                         organizer):
    competition, prelim, _, event = scored_prelim(create_event)
    link = f'href="/competitions/{competition.id}/results"'
    sign_in(client, organizer)
    console = client.get(f"/judging/rounds/{prelim.id}/console").get_data(as_text=True)
    assert re.search(r'data-testid="public-results-link" hidden', console)  # not before publishing
    publish(prelim, organizer)
    assert link in client.get(f"/events/{event.id}").get_data(as_text=True)
    console = client.get(f"/judging/rounds/{prelim.id}/console").get_data(as_text=True)
    assert link in console and not re.search(r'data-testid="public-results-link" hidden', console)
    assert link in client.get("/judging/").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)})
    assert link in client.get(f"/events/{event.id}").get_data(as_text=True)  # a visitor too
