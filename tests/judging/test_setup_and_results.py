"""Setting a competition up, inviting judges, publishing results and advancing teams."""

from datetime import timedelta

import pytest

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from judging import services, signals
from judging.models import Competition, Judge, TeamApplication
from tests.judging.conftest import CRITERIA, setup_payload


def refused(call):
    with pytest.raises(DomainError) as error:
        call()
    db.session.rollback()
    return error.value


def test_a_whole_setup_is_created_in_one_go(make_competition, judge_users):
    competition, prelim, final, tokens = make_competition(teams=4, judges=3, shadow=1)
    assert [r.name for r in competition.rounds] == ["初赛", "决赛"] and final.mode == "live"
    assert [c.weight for c in prelim.criteria] == [30, 25, 25, 20]
    assert len(services.teams_of(prelim.id)) == 4 and services.teams_of(final.id) == []
    assert [j.is_shadow for j in services.judges_of(prelim.id)] == [False, False, False, True]
    assert len(tokens) == 4 + 3
    assert all(a.status == "accepted" for a in db.session.query(TeamApplication))


@pytest.mark.parametrize(("change", "field"), [
    (lambda p: p["rounds"][0]["criteria"].__setitem__(0, {**CRITERIA[0], "weight": 40}), "rounds.0.criteria"),
    (lambda p: p["teams"][1].__setitem__("team_name", "队伍1"), "teams.1.team_name"),
    (lambda p: p["rounds"][0]["criteria"].__setitem__(1, {**CRITERIA[1], "step": 0.3}), "rounds.0.criteria.1.step"),
    (lambda p: p["rounds"][0]["judges"].append({"phone": "12345"}), "rounds.0.judges.3.phone"),
    (lambda p: p["teams"][0].__setitem__("track", "space"), "teams.0.track"),
])
def test_a_bad_setup_saves_nothing_and_names_the_problem(organizer, change, field):
    payload = setup_payload()
    change(payload)
    error = refused(lambda: services.create_setup(payload, organizer, now=utcnow()))
    assert error.code == "invalid_setup" and field in error.details["fields"], error.details
    assert db.session.query(Competition).count() == 0


def test_only_organizers_set_up_competitions(create_resident):
    error = refused(lambda: services.create_setup(setup_payload(), create_resident(), now=utcnow()))
    assert error.code == "forbidden"


def test_an_invitation_signs_in_once_and_expires(make_competition):
    _, prelim, _, tokens = make_competition()
    judge_id, token = next(iter(tokens.items()))
    judge, user = services.redeem_invitation(token, now=utcnow())
    db.session.commit()
    assert judge.id == judge_id and user.id == judge.user_id
    assert refused(lambda: services.redeem_invitation(token, now=utcnow())).code == "invite_used"
    later_id, later = list(tokens.items())[1]
    assert refused(lambda: services.redeem_invitation(later, now=utcnow() + timedelta(days=15))).code == \
        "invite_expired"
    assert refused(lambda: services.redeem_invitation("not-a-real-token", now=utcnow())).code == "invite_invalid"


def test_inviting_a_judge_sends_the_signal_with_the_link(make_competition, organizer):
    _, prelim, _, _ = make_competition()
    heard = []
    with signals.judge_invited.connected_to(lambda sender, **kw: heard.append(kw)):
        judge, token = services.add_judge(prelim.id, organizer, phone="13912345678", name="新评委", now=utcnow())
    db.session.commit()
    assert heard[0]["invite_path"] == f"/judging/invite/{token}" and heard[0]["user_id"] == judge.user_id
    assert db.session.get(Judge, judge.id).invite_token_hash != token  # only its hash is kept


def _score_all(round_, judge_users, score, by_team):
    teams = services.teams_of(round_.id)
    for judge in judge_users(round_):
        for team, value in zip(teams, by_team, strict=False):
            score(round_, judge, team, value)


def test_publishing_tells_every_team_and_fixes_the_results(make_competition, organizer, judge_users, score):
    _, prelim, _, _ = make_competition(teams=4)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    _score_all(prelim, judge_users, score, [5, 9, 7, 3])
    heard = []
    with signals.results_published.connected_to(lambda sender, **kw: heard.append(kw)):
        services.publish_results(prelim.id, organizer, now=utcnow())
        db.session.commit()
    ranking = [(t["rank"], t["score"]) for t in heard[0]["teams"]]
    assert ranking == [(1, 90), (2, 70), (3, 50), (4, 30)]
    assert all(t["member_user_ids"] == [] for t in heard[0]["teams"])  # members have no accounts yet
    judge = judge_users(prelim)[0]
    with pytest.raises(DomainError) as error:
        score(prelim, judge, services.teams_of(prelim.id)[0], 6, base_revision=1)
    assert error.value.code == "scoring_closed"


def test_advancing_top_n_per_track_with_manual_overrides(make_competition, organizer, judge_users, score):
    _, prelim, final, _ = make_competition(teams=6)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    # teams alternate tracks ai, health, ai, ...; scores 1..6 -> best ai is team 5, best health team 6
    _score_all(prelim, judge_users, score, [1, 2, 3, 4, 5, 6])
    services.publish_results(prelim.id, organizer, now=utcnow())
    db.session.commit()
    prelim_teams = services.teams_of(prelim.id)
    heard = []
    with signals.team_advanced.connected_to(lambda sender, **kw: heard.append(kw)):
        advanced = services.advance_teams(prelim.id, organizer, to_round_id=final.id, top_n=1, per_track=True,
                                          include=[prelim_teams[0].id], exclude=[prelim_teams[5].id], now=utcnow())
        db.session.commit()
    names = {a.id: a.team_name for a in db.session.query(TeamApplication)}
    assert [names[t.application_id] for t in advanced] == ["队伍5", "队伍1"]
    assert [t.added_by for t in advanced] == ["advanced", "manual"]
    assert [h["how"] for h in heard] == ["top_n", "manual"]


def test_advancing_needs_published_results(make_competition, organizer):
    _, prelim, final, _ = make_competition()
    error = refused(lambda: services.advance_teams(prelim.id, organizer, to_round_id=final.id, top_n=3,
                                                   now=utcnow()))
    assert error.code == "results_not_published"


def test_a_hidden_leaderboard_reveals_rank_by_rank_from_the_bottom(make_competition, organizer, judge_users, score,
                                                                    create_resident):
    _, prelim, _, _ = make_competition(teams=3)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    _score_all(prelim, judge_users, score, [5, 9, 7])
    audience = create_resident()
    assert services.leaderboard(prelim.id, audience, now=utcnow())["rows"] == []
    services.reveal_next(prelim.id, organizer, now=utcnow())
    db.session.commit()
    board = services.leaderboard(prelim.id, audience, now=utcnow())
    assert [r["rank"] for r in board["rows"]] == [3] and board["hidden_count"] == 2
    assert services.leaderboard(prelim.id, judge_users(prelim)[0], now=utcnow())["rows"] == []
    assert len(services.leaderboard(prelim.id, organizer, now=utcnow())["rows"]) == 3


def test_team_members_see_their_feedback_once_published(make_competition, organizer, judge_users, score,
                                                        create_resident):
    _, prelim, _, _ = make_competition(teams=2)
    member = create_resident(phone="+8613600000000")
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    team = services.teams_of(prelim.id)[0]
    for judge in judge_users(prelim):
        score(prelim, judge, team, 6, comment="市场验证不足", tags=["go_to_market"])
    error = refused(lambda: services.team_feedback(prelim.id, team.application_id, member))
    assert error.code == "results_not_published"
    services.publish_results(prelim.id, organizer, now=utcnow())
    db.session.commit()
    feedback = services.team_feedback(prelim.id, team.application_id, member)
    assert feedback["rank"] == 1 and feedback["tags"] == {"go_to_market": 3}
    assert feedback["comments"] == ["市场验证不足"] * 3
