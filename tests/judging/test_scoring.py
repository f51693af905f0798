"""Scores: a judge scores only their round's teams, never a recused team, never after closing; a retry is answered
the same and counts once; a stale revision is refused; every change is kept."""

import uuid

import pytest

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from judging import presenters, services
from judging.models import Scorecard, Submission


@pytest.fixture
def online(make_competition, organizer):
    competition, prelim, final, tokens = make_competition()
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    return prelim


def teams(round_):
    return services.teams_of(round_.id)


def code_of(call):
    with pytest.raises(DomainError) as error:
        call()
    db.session.rollback()
    return error.value.code


def test_a_judge_scores_a_team_and_sees_only_their_own_progress(online, judge_users, score):
    first, second = judge_users(online)[:2]
    outcome = score(online, first, teams(online)[0], 8, comment="很好", tags=["fundraising"])
    assert outcome.scorecard.revision == 1 and not outcome.replayed
    view = presenters.judge_view(online.id, first, now=utcnow())
    assert view["progress"] == {"scored": 1, "total": 6}
    assert view["teams"][0]["my_scorecard"]["scores"]["innovation"] == 8
    other = presenters.judge_view(online.id, second, now=utcnow())
    assert other["progress"]["scored"] == 0 and other["teams"][0]["my_scorecard"] is None


def test_the_same_submission_id_again_is_answered_the_same_and_counted_once(online, judge_users, score):
    judge = judge_users(online)[0]
    sid = str(uuid.uuid4())
    first = score(online, judge, teams(online)[0], 7.5, submission_id=sid)
    again = score(online, judge, teams(online)[0], 7.5, submission_id=sid)
    assert again.replayed and again.submission.id == first.submission.id and again.scorecard.revision == 1
    assert db.session.query(Submission).count() == 1 and db.session.query(Scorecard).count() == 1


def test_a_submission_id_reused_for_other_scores_is_refused(online, judge_users, score):
    judge = judge_users(online)[0]
    score(online, judge, teams(online)[0], 7, submission_id="s-1")
    assert code_of(lambda: score(online, judge, teams(online)[0], 9, submission_id="s-1")) == "submission_id_reused"


def test_a_revision_is_kept_and_a_stale_one_refused(online, judge_users, score):
    judge = judge_users(online)[0]
    team = teams(online)[0]
    score(online, judge, team, 6)
    revised = score(online, judge, team, 8, base_revision=1)
    assert revised.scorecard.revision == 2
    assert code_of(lambda: score(online, judge, team, 9, base_revision=1)) == "stale_revision"
    assert code_of(lambda: score(online, judge, team, 9, base_revision=0)) == "stale_revision"
    history = services.score_history(online.id, services.competition_of(online) and _organizer(online), team.id)
    assert [h.revision for h in history] == [1, 2]
    assert history[1].previous["scores"]["innovation"] == 6 and history[1].values["scores"]["innovation"] == 8


def _organizer(round_):
    from app.accounts.models import User

    return db.session.query(User).filter_by(name="王珂").one()


@pytest.mark.parametrize(("values", "field"), [
    ({"innovation": 11, "market": 5, "team": 5, "feasibility": 5}, "scores.innovation"),
    ({"innovation": 7.3, "market": 5, "team": 5, "feasibility": 5}, "scores.innovation"),
    ({"innovation": "7", "market": 5, "team": 5, "feasibility": 5}, "scores.innovation"),
    ({"innovation": 7, "market": 5, "team": 5}, "scores.feasibility"),
    ({"innovation": 7, "market": 5, "team": 5, "feasibility": 5, "luck": 3}, "scores.luck"),
])
def test_bad_scores_are_refused_with_the_field_and_nothing_is_saved(online, judge_users, score, values, field):
    judge = judge_users(online)[0]
    with pytest.raises(DomainError) as error:
        score(online, judge, teams(online)[0], values)
    db.session.rollback()
    assert error.value.code == "invalid_score" and field in error.value.details["fields"]
    assert db.session.query(Submission).count() == 0


def test_someone_who_is_not_a_judge_of_the_round_cannot_score(online, create_resident, score, make_competition):
    stranger = create_resident()
    assert code_of(lambda: score(online, stranger, teams(online)[0], 5)) == "not_a_judge"


def test_a_team_of_another_round_cannot_be_scored(online, judge_users, score):
    judge = judge_users(online)[0]
    final = services.competition_of(online).rounds[1]
    services.add_teams(final.id, _organizer(online), None, now=utcnow())
    db.session.commit()
    assert code_of(lambda: score(online, judge, teams(final)[0], 5)) == "team_not_in_round"


def test_a_recused_judge_cannot_score_the_team_and_their_earlier_score_stops_counting(online, judge_users, score,
                                                                                      organizer):
    a, b, c = judge_users(online)
    team = teams(online)[0]
    score(online, a, team, 10)
    score(online, b, team, 4)
    services.declare_recusal(online.id, team.id, a, now=utcnow(), reason="投资过该团队")
    db.session.commit()
    assert code_of(lambda: score(online, a, team, 9, base_revision=1)) == "recused"
    row = next(r for r in services.results_table(online) if r["id"] == team.id)
    assert row["score"] == 40 and row["judges_counted"] == 1
    console = presenters.console_view(online.id, organizer, now=utcnow())
    assert [j["status"] for j in console["teams"][0]["judges"]] == ["recused", "submitted", "waiting"]
    assert presenters.judge_view(online.id, a, now=utcnow())["progress"]["total"] == 5


def test_after_the_organizer_closes_scoring_only_an_organizer_reopens_it(online, judge_users, score, organizer):
    judge = judge_users(online)[0]
    team = teams(online)[0]
    score(online, judge, team, 6)
    services.close_team_scoring(online.id, team.id, organizer, now=utcnow())
    db.session.commit()
    assert code_of(lambda: score(online, judge, team, 7, base_revision=1)) == "scoring_closed"
    assert code_of(lambda: services.reopen_team_scoring(online.id, team.id, judge, now=utcnow())) == "forbidden"
    services.reopen_team_scoring(online.id, team.id, organizer, now=utcnow(), reason="评委手误")
    db.session.commit()
    assert score(online, judge, team, 7, base_revision=1).scorecard.revision == 2
    actions = [e.action for e in services.audit_log(online.id, organizer)]
    assert actions[-2:] == ["scoring_closed", "scoring_reopened"]


def test_a_live_round_refuses_a_team_that_has_not_been_on_stage(make_competition, organizer, judge_users, score):
    _, prelim, final, _ = make_competition()
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    db.session.commit()
    judge = judge_users(final)[0]
    first, second = teams(final)[:2]
    assert code_of(lambda: score(final, judge, first, 8)) == "team_not_on_stage"
    services.set_stage(final.id, organizer, round_team_id=first.id, phase="pitch", now=utcnow())
    db.session.commit()
    assert score(final, judge, first, 8).scorecard.revision == 1
    assert code_of(lambda: score(final, judge, second, 8)) == "team_not_on_stage"
    state = presenters.judge_view(final.id, judge, now=utcnow())["stage"]
    assert state["current_team"]["id"] == first.id and state["phase"] == "pitch" and state["phase_seconds"] == 480


def test_a_draft_round_takes_no_scores(make_competition, judge_users, score):
    _, prelim, _, _ = make_competition()
    assert code_of(lambda: score(prelim, judge_users(prelim)[0], teams(prelim)[0], 5)) == "round_not_open"


def test_shadow_judges_score_but_never_count(make_competition, organizer, judge_users, score):
    _, prelim, _, _ = make_competition(judges=2, shadow=1)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    a, b, shadow = judge_users(prelim)
    team = teams(prelim)[0]
    score(prelim, a, team, 6)
    score(prelim, b, team, 8)
    score(prelim, shadow, team, 0)
    row = next(r for r in services.results_table(prelim) if r["id"] == team.id)
    assert row["score"] == 70 and row["judges_counted"] == 2
