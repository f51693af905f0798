"""From judging to mentoring: judges' weak-point tags become mentor suggestions (mentors whose expertise covers
them); organizers see every team's, a team member only their own teams'."""

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from judging.models import TeamApplication, TeamMember
from mentoring import suggestions
from tests.conftest import sign_in


@pytest.fixture
def mentors(create_mentor):
    return {
        "money": create_mentor("融资导师", expertise=("fundraising", "legal"), capacity=3),
        "cfo": create_mentor("财务导师", expertise=("finance",), capacity=1),
        "tech": create_mentor("技术导师", expertise=("ai-infrastructure",), capacity=2),
    }


@pytest.fixture
def judged(app):
    """A provider standing in for the judging package: {team application id: [tags]}."""
    tagged = {}
    provider = lambda for_teams: dict(tagged)  # noqa: E731
    suggestions.register_weak_points_provider(provider)
    yield tagged
    suggestions._providers.remove(provider)


def test_mentors_covering_the_most_weak_points_come_first(mentors):
    [result] = suggestions.suggest_mentors({7: ["fundraising", "legal", "team"]})
    assert result.team_id == 7 and result.uncovered == ["team"]
    assert [s.name for s in result.mentors] == ["融资导师", "财务导师"]
    assert result.mentors[0].covers == ["fundraising", "legal"] and result.mentors[1].expertise == ["finance"]
    [tech] = suggestions.suggest_mentors({8: ["tech"]})
    assert [s.name for s in tech.mentors] == ["技术导师"]


def test_judging_tags_are_accepted_with_underscores_and_unknown_ones_are_refused(mentors):
    [result] = suggestions.suggest_mentors({"3": ["go_to_market"]})
    assert result.weak_points == ["go-to-market"] and result.mentors == []
    for bad in ({1: ["charisma"]}, {"x": ["legal"]}, {1: "legal"}):
        with pytest.raises(DomainError) as caught:
            suggestions.suggest_mentors(bad)
        assert caught.value.code == "invalid_weak_points"


def test_organizers_see_every_tagged_team_and_members_only_their_own(mentors, judged, organizer, create_resident,
                                                                     client):
    from judging.models import Competition

    competition = Competition(name="港科大百万元奖金创业大赛")
    db.session.add(competition)
    db.session.flush()
    member, outsider = create_resident(name="队员"), create_resident(name="别队")
    ours = TeamApplication(competition_id=competition.id, team_name="星河队", project_name="星河", status="accepted")
    theirs = TeamApplication(competition_id=competition.id, team_name="墨子队", project_name="墨子",
                             status="accepted")
    ours.members = [TeamMember(user_id=member.id, name="队员", phone=member.phone, is_lead=True)]
    theirs.members = [TeamMember(user_id=outsider.id, name="别队", phone=outsider.phone, is_lead=True)]
    db.session.add_all([ours, theirs])
    db.session.commit()
    judged.update({ours.id: ["legal"], theirs.id: ["tech"]})
    assert {r.team_id for r in suggestions.suggestions_for_organizers(organizer)} == {ours.id, theirs.id}
    [mine] = suggestions.suggestions_for_member(member)
    assert mine.team_id == ours.id and [s.name for s in mine.mentors] == ["融资导师"]
    with pytest.raises(DomainError):
        suggestions.suggestions_for_organizers(member)

    tokens = {p.id: issue_api_token(p, now=utcnow()) for p in (member, organizer)}
    db.session.commit()
    api = client.get("/api/v1/mentoring/suggestions/mine", headers={"Authorization": f"Bearer {tokens[member.id]}"})
    assert [r["team_id"] for r in api.json] == [ours.id]
    asked = client.post("/api/v1/mentoring/suggestions", json={"weak_points": {str(theirs.id): ["fundraising"]}},
                        headers={"Authorization": f"Bearer {tokens[organizer.id]}"})
    assert asked.status_code == 200 and asked.json[0]["mentors"][0]["name"] == "融资导师"
    assert client.post("/api/v1/mentoring/suggestions", json={"weak_points": {"1": ["x"]}},
                       headers={"Authorization": f"Bearer {tokens[organizer.id]}"}).json["error"]["code"] \
        == "invalid_weak_points"
    sign_in(client, member)
    page = client.get("/mentoring/suggestions").get_data(as_text=True)
    assert "星河队" in page and "融资导师" in page and "墨子队" not in page
    sign_in(client, organizer)
    page = client.get(f"/mentoring/suggestions?team_id={theirs.id}&weak=tech").get_data(as_text=True)
    assert "技术导师" in page


def test_judges_tags_from_the_judging_tables_become_suggestions(mentors, organizer, create_resident):
    """The real connection: judges' scorecards (shadow and recused judges left out); teams see their own once the
    round's results are published."""
    from judging.models import Competition, CompetitionRound, Judge, Recusal, RoundTeam, Scorecard

    competition = Competition(name="港科大百万元奖金创业大赛")
    db.session.add(competition)
    db.session.flush()
    round_ = CompetitionRound(competition_id=competition.id, kind="semifinal", name="复赛", state="closed")
    member = create_resident(name="队员")
    team = TeamApplication(competition_id=competition.id, team_name="星河队", project_name="星河", status="accepted")
    team.members = [TeamMember(user_id=member.id, name="队员", phone=member.phone, is_lead=True)]
    db.session.add_all([round_, team])
    db.session.flush()
    in_round = RoundTeam(round_id=round_.id, application_id=team.id)
    db.session.add(in_round)
    db.session.flush()
    judges = [Judge(round_id=round_.id, user_id=create_resident(name=f"评委{i}").id, is_shadow=i == 3)
              for i in range(5)]
    db.session.add_all(judges)
    db.session.flush()
    tags = [["legal", "tech"], ["legal"], ["tech", "legal"], ["team"], ["team"]]  # judge 3 shadow, judge 4 recused
    for judge, judge_tags in zip(judges, tags, strict=True):
        db.session.add(Scorecard(round_id=round_.id, judge_id=judge.id, round_team_id=in_round.id, tags=judge_tags))
    db.session.add(Recusal(round_id=round_.id, judge_id=judges[4].id, round_team_id=in_round.id, reason="同公司"))
    db.session.commit()

    assert suggestions.judging_weak_points(for_teams=False) == {team.id: ["legal", "tech"]}
    [result] = suggestions.suggestions_for_organizers(organizer)
    assert result.team_id == team.id and [s.name for s in result.mentors] == ["融资导师", "技术导师"]
    assert suggestions.suggestions_for_member(member) == []  # not yet published: judges' notes stay with organizers
    round_.state = "published"
    db.session.commit()
    [mine] = suggestions.suggestions_for_member(member)
    assert mine.weak_points == ["legal", "tech"]
