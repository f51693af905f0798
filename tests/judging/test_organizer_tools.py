"""What organizers needed beyond scoring: re-send an invitation, add and remove a team, change the criteria before
scoring began, lift a recusal; the stage's timers moving from pitch to Q&A by themselves; the page where a team
sees its results; the judging home page. Every endpoint refuses judges and strangers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from judging import presenters, services
from judging.models import AuditEntry
from tests.conftest import sign_in
from tests.judging.conftest import CRITERIA, invite_path_sent_to


@pytest.fixture
def bearer():
    def make(user):
        token = issue_api_token(user, now=utcnow())
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as error:
        call()
    db.session.rollback()
    return error.value


# ---- timers ----------------------------------------------------------------------------------------------------

def live_round_on_stage(make_competition, organizer, *, at):
    _, _, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=at)
    services.configure_round(final.id, organizer, pitch_seconds=480, qa_seconds=300, now=at)
    services.open_round(final.id, organizer, now=at)
    team = services.teams_of(final.id)[0]
    services.set_stage(final.id, organizer, round_team_id=team.id, phase="pitch", now=at)
    db.session.commit()
    return final, team


def test_the_pitch_becomes_q_and_a_and_then_scoring_by_itself(make_competition, organizer):
    start = utcnow()
    final, team = live_round_on_stage(make_competition, organizer, at=start)
    during = presenters.stage_state(final, now=start + timedelta(seconds=479))
    assert during["phase"] == "pitch" and during["phase_seconds"] == 480
    qa = presenters.stage_state(final, now=start + timedelta(seconds=481))
    assert qa["phase"] == "qa" and qa["phase_set"] == "pitch" and qa["phase_seconds"] == 300
    assert qa["phase_started_at"] == services.iso(start + timedelta(seconds=480))
    assert qa["phase_ends_at"] == services.iso(start + timedelta(seconds=780))
    after = presenters.stage_state(final, now=start + timedelta(seconds=781))
    assert after["phase"] == "scoring" and after["phase_ends_at"] is None
    assert [e["phase"] for e in after["timeline"]] == ["pitch", "qa", "scoring"]
    assert after["current_team"]["id"] == team.id


def test_the_organizer_moving_on_early_starts_the_q_and_a_timer_from_then(make_competition, organizer):
    start = utcnow()
    final, team = live_round_on_stage(make_competition, organizer, at=start)
    services.set_stage(final.id, organizer, round_team_id=team.id, phase="qa", now=start + timedelta(seconds=200))
    db.session.commit()
    state = presenters.stage_state(final, now=start + timedelta(seconds=250))
    assert state["phase"] == "qa" and state["phase_ends_at"] == services.iso(start + timedelta(seconds=500))
    assert [e["phase"] for e in state["timeline"]] == ["qa", "scoring"]


def test_a_judges_view_and_the_api_agree_on_the_derived_phase(client, make_competition, organizer, judge_users,
                                                               bearer):
    start = utcnow() - timedelta(seconds=500)  # the pitch began 500 s ago: Q&A for 20 s now
    final, _ = live_round_on_stage(make_competition, organizer, at=start)
    judge = judge_users(final)[0]
    stage = client.get(f"/api/v1/rounds/{final.id}/judge", headers=bearer(judge)).get_json()["stage"]
    assert stage["phase"] == "qa" and stage["phase_set"] == "pitch"
    console = client.get(f"/api/v1/rounds/{final.id}/console", headers=bearer(organizer)).get_json()
    assert console["stage"]["phase"] == "qa"


# ---- invitations ------------------------------------------------------------------------------------------------

def test_re_sending_an_invitation_makes_a_new_link_and_the_old_one_stops(client, make_competition, organizer,
                                                                          judge_users, bearer, app):
    _, prelim, final, tokens = make_competition()
    judge = services.judges_of(prelim.id)[0]
    old = tokens[judge.id]
    response = client.post(f"/api/v1/rounds/{prelim.id}/judges/{judge.id}/invitation", headers=bearer(organizer))
    assert response.status_code == 201, response.get_json()
    assert "/judging/invite/" not in response.get_data(as_text=True)
    assert set(response.get_json()) == {"id", "user_id", "is_shadow", "invitation"}
    new_path = invite_path_sent_to(judge_users(prelim)[0].phone)
    assert not new_path.endswith(old)
    assert app.test_client().get(f"/judging/invite/{old}").status_code == 404
    assert app.test_client().get(new_path).status_code == 302
    other_round = client.post(f"/api/v1/rounds/{final.id}/judges/{judge.id}/invitation", headers=bearer(organizer))
    assert other_round.status_code == 404 and other_round.get_json()["error"]["code"] == "judge_not_found"
    as_judge = client.post(f"/api/v1/rounds/{prelim.id}/judges/{judge.id}/invitation",
                           headers=bearer(judge_users(prelim)[1]))
    assert as_judge.status_code == 403
    assert db.session.query(AuditEntry).filter_by(action="invitation_resent").count() == 1


# ---- teams ------------------------------------------------------------------------------------------------------

def test_a_team_leaves_a_round_only_before_anyone_scored_it(client, make_competition, organizer, judge_users,
                                                            bearer, score):
    _, prelim, _, _ = make_competition(teams=3)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    first, second, third = services.teams_of(prelim.id)
    second_id, third_id = second.id, third.id
    score(prelim, judge_users(prelim)[0], first, 7)
    refused_ = client.delete(f"/api/v1/rounds/{prelim.id}/teams/{first.id}", headers=bearer(organizer))
    assert refused_.status_code == 409 and refused_.get_json()["error"]["code"] == "scores_exist"
    db.session.expire_all()
    assert services.round_team(prelim, first.id).scoring_state == "open"  # the refusal changed nothing
    as_judge = client.delete(f"/api/v1/rounds/{prelim.id}/teams/{second_id}", headers=bearer(judge_users(prelim)[0]))
    assert as_judge.status_code == 403
    removed = client.delete(f"/api/v1/rounds/{prelim.id}/teams/{second_id}", headers=bearer(organizer))
    assert removed.status_code == 204
    db.session.expire_all()
    assert [t.id for t in services.teams_of(prelim.id)] == [first.id, third_id]
    late = client.post(f"/api/v1/rounds/{prelim.id}/scores", headers=bearer(judge_users(prelim)[0]),
                       json={"round_team_id": second_id, "submission_id": "late-1", "base_revision": 0,
                             "scores": {c["key"]: 5 for c in CRITERIA}})
    assert late.status_code == 404 and late.get_json()["error"]["code"] == "team_not_in_round"


def test_organizers_put_a_removed_team_back(client, make_competition, organizer, bearer):
    _, prelim, _, _ = make_competition(teams=2)
    team = services.teams_of(prelim.id)[1]
    team_id, application_id = team.id, team.application_id
    assert client.delete(f"/api/v1/rounds/{prelim.id}/teams/{team_id}", headers=bearer(organizer)).status_code == 204
    added = client.post(f"/api/v1/rounds/{prelim.id}/teams", json={"application_ids": [application_id]},
                        headers=bearer(organizer))
    assert added.status_code == 201 and added.get_json()["added"][0]["application_id"] == application_id
    wrong = client.post(f"/api/v1/rounds/{prelim.id}/teams", json={"application_ids": [999999]},
                        headers=bearer(organizer))
    assert wrong.status_code == 409 and wrong.get_json()["error"]["code"] == "team_not_accepted"


# ---- criteria ---------------------------------------------------------------------------------------------------

def test_criteria_change_before_scoring_began_and_are_refused_after(client, make_competition, organizer, bearer):
    _, prelim, _, _ = make_competition()
    new = [{"key": "innovation", "label": "创新性", "weight": 50, "min": 0, "max": 10, "step": 1},
           {"key": "market", "label": "市场", "weight": 50, "min": 0, "max": 10, "step": 1}]
    changed = client.put(f"/api/v1/rounds/{prelim.id}/criteria", json={"criteria": new}, headers=bearer(organizer))
    assert changed.status_code == 200, changed.get_json()
    assert [(c["key"], c["weight"], c["step"]) for c in changed.get_json()["criteria"]] == [
        ("innovation", 50, 1), ("market", 50, 1)]
    bad = client.put(f"/api/v1/rounds/{prelim.id}/criteria", headers={**bearer(organizer), "Accept-Language": "en"},
                     json={"criteria": [{**new[0], "weight": 60}, new[1]]})
    assert bad.status_code == 422 and "110%" in bad.get_json()["error"]["details"]["fields"]["criteria"]
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    late = client.put(f"/api/v1/rounds/{prelim.id}/criteria", json={"criteria": new},
                      headers={**bearer(organizer), "Accept-Language": "zh-CN"})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "scoring_started"
    db.session.expire_all()
    assert [c.key for c in services.get_round(prelim.id).criteria] == ["innovation", "market"]


def test_judges_cannot_change_criteria(client, make_competition, judge_users, bearer):
    _, prelim, _, _ = make_competition()
    answer = client.put(f"/api/v1/rounds/{prelim.id}/criteria", json={"criteria": CRITERIA},
                        headers=bearer(judge_users(prelim)[0]))
    assert answer.status_code == 403


# ---- recusals ---------------------------------------------------------------------------------------------------

def test_an_organizer_lifts_a_recusal_and_the_judge_may_then_score(client, make_competition, organizer, judge_users,
                                                                   bearer, score):
    _, prelim, _, _ = make_competition(teams=2)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    judge_user = judge_users(prelim)[0]
    judge = services.judge_of(prelim.id, judge_user)
    team = services.teams_of(prelim.id)[0]
    services.declare_recusal(prelim.id, team.id, judge_user, now=utcnow(), reason="前同事")
    db.session.commit()
    assert refused(lambda: score(prelim, judge_user, team, 7)).code == "recused"
    path = f"/api/v1/rounds/{prelim.id}/judges/{judge.id}/recusals/{team.id}"
    assert client.delete(path, headers=bearer(judge_user)).status_code == 403  # only organizers lift it
    assert client.delete(path, headers=bearer(organizer)).status_code == 204
    assert score(prelim, judge_user, team, 7).scorecard.revision == 1
    again = client.delete(path, headers=bearer(organizer))
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "recusal_not_found"
    actions = [a.action for a in services.audit_log(prelim.id, organizer)]
    assert "recusal" in actions and "recusal_withdrawn" in actions


# ---- a team's results -------------------------------------------------------------------------------------------

def published_round_with_feedback(make_competition, organizer, judge_users, score):
    _, prelim, _, _ = make_competition(teams=2)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    first, second = services.teams_of(prelim.id)
    judges = judge_users(prelim)
    score(prelim, judges[0], first, 8, comment="市场分析扎实", tags=["fundraising"])
    score(prelim, judges[1], first, 7, comment="团队需要补充销售", tags=["go_to_market", "fundraising"])
    score(prelim, judges[2], first, 9)
    for judge in judges:
        score(prelim, judge, second, 5)
    return prelim, first, second


def member_of(team):
    from app.accounts.models import User
    from judging.models import TeamApplication

    application = db.session.get(TeamApplication, team.application_id)
    phone = application.members[0].phone
    return db.session.query(User).filter_by(phone=phone).one_or_none() or _account(phone)


def _account(phone):
    from app.accounts.services import get_or_create_user
    from judging import teams

    user = get_or_create_user(phone, now=utcnow(), name="队长")
    teams.link_member_accounts(user)
    db.session.commit()
    return user


def test_a_team_sees_its_results_comments_and_weak_points_once_published(client, make_competition, organizer,
                                                                         judge_users, score, create_resident):
    prelim, first, _ = published_round_with_feedback(make_competition, organizer, judge_users, score)
    member = member_of(first)
    path = f"/judging/rounds/{prelim.id}/teams/{first.application_id}/results"
    sign_in(client, member)
    pending = client.get(path, headers={"Accept-Language": "zh-CN"})
    assert pending.status_code == 409 and b'data-testid="results-pending"' in pending.data
    assert "市场分析扎实" not in pending.get_data(as_text=True)

    services.publish_results(prelim.id, organizer, now=utcnow())
    db.session.commit()
    page = client.get(path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'data-testid="team-results"' in page and "市场分析扎实" in page and "团队需要补充销售" in page
    assert 'data-tag="fundraising"' in page and "× 2" in page and 'data-tag="go_to_market"' in page
    assert "80" in page  # the mean of 8, 7 and 9, weighted: 80 / 100
    for judge in judge_users(prelim):  # no judge's name on the team's page
        assert judge.name not in page
    home = client.get("/judging/").get_data(as_text=True)
    assert f'data-testid="results-{prelim.id}"' in home

    sign_in(client, create_resident())
    assert client.get(path).status_code == 404
    sign_in(client, judge_users(prelim)[0])
    assert client.get(path).status_code == 404


def test_the_judging_home_shows_each_person_their_part(client, make_competition, organizer, judge_users,
                                                       create_resident):
    _, prelim, final, _ = make_competition()
    sign_in(client, judge_users(prelim)[0])
    page = client.get("/judging/").get_data(as_text=True)
    assert f'data-testid="judge-round-{prelim.id}"' in page and f'data-testid="judge-round-{final.id}"' in page
    assert 'data-testid="console-' not in page
    sign_in(client, organizer)
    page = client.get("/judging/").get_data(as_text=True)
    assert f'data-testid="console-{final.id}"' in page and 'data-testid="judge-round-' not in page
    sign_in(client, create_resident())
    assert 'data-testid="nothing"' in client.get("/judging/").get_data(as_text=True)
    assert client.get(f"/judging/rounds/{prelim.id}/console").status_code == 403


def test_the_answer_to_a_score_counts_progress_like_the_judges_view(make_competition, organizer, judge_users,
                                                                     score):
    _, prelim, _, _ = make_competition(teams=4)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    user = judge_users(prelim)[0]
    teams = services.teams_of(prelim.id)
    services.declare_recusal(prelim.id, teams[3].id, user, now=utcnow())
    db.session.commit()
    score(prelim, user, teams[0], 7)
    judge = services.judge_of(prelim.id, user)
    progress = presenters.judge_view(prelim.id, user, now=utcnow())["progress"]
    assert services.judge_progress(judge.id, judge.round_id) == progress == {"scored": 1, "total": 3}
