"""A competition's setup writes its teams by the same member rule as a team's own application (judging/teams.py):
at most MAX_MEMBERS, a name and a valid number each, exactly one lead, and a person (a phone number) in one active
team per competition, checked against the teams already written. Refused setups save nothing."""

from __future__ import annotations

from app.extensions import db
from judging import teams
from judging.models import Competition, TeamApplication
from tests.judging.conftest import setup_payload
from tests.judging.test_teams import bearer


def post_setup(client, organizer, payload, language="en"):
    response = client.post("/api/v1/competitions/setup", json=payload,
                           headers={**bearer(organizer), "Accept-Language": language})
    return response.status_code, response.get_json()


def nothing_saved() -> bool:
    return db.session.query(Competition).count() == 0 and db.session.query(TeamApplication).count() == 0


def test_the_same_phone_in_two_teams_is_refused_naming_the_number_and_the_team(client, organizer):
    payload = setup_payload(teams=3)
    payload["teams"][2]["members"].append({"name": "双面人", "phone": "136 0000 0000"})  # 队伍1's lead
    status, body = post_setup(client, organizer, payload)
    assert status == 422 and body["error"]["code"] == "invalid_setup"
    message = "136 0000 0000 is already in team “队伍1” in this competition."
    assert body["error"]["message"] == message
    assert body["error"]["details"]["fields"] == {"teams.2.members.1.phone": message}
    assert nothing_saved()

    status, body = post_setup(client, organizer, payload, language="zh-CN")
    assert status == 422 and body["error"]["message"] == "136 0000 0000 已在本届大赛的团队“队伍1”中。"


def test_a_team_of_nine_is_refused(client, organizer):
    payload = setup_payload(teams=2)
    payload["teams"][1]["members"] = [{"name": f"成员{i}", "phone": f"+86135000000{i:02d}"} for i in range(9)]
    status, body = post_setup(client, organizer, payload)
    assert status == 422 and body["error"]["code"] == "invalid_setup"
    assert body["error"]["details"]["fields"] == {
        "teams.1.members": f"A team has at most {teams.MAX_MEMBERS} members."}
    assert nothing_saved()


def test_members_follow_the_applications_rule_and_the_setups_shorthand_still_works(client, organizer):
    payload = setup_payload(teams=2)
    payload["teams"][0]["members"] = [{"name": "甲", "phone": "13500000001", "is_lead": True},
                                      {"name": "乙", "phone": "+86 135 0000 0001"},  # the same number, written apart
                                      {"name": "丙", "phone": "12345"},
                                      {"name": "丁", "phone": "13500000003", "is_lead": True}]
    status, body = post_setup(client, organizer, payload)
    assert status == 422 and set(body["error"]["details"]["fields"]) == {"teams.0.members.1.phone",
                                                                        "teams.0.members.2.phone"}
    payload["teams"][0]["members"] = [{"name": "甲", "phone": "13500000001", "is_lead": True},
                                      {"name": "丁", "phone": "13500000003", "is_lead": True}]
    status, body = post_setup(client, organizer, payload)
    assert status == 422 and body["error"]["details"]["fields"] == {"teams.0.members": "A team has exactly one lead."}
    assert nothing_saved()

    # No lead named: the first member leads; no name: the number's last digits. Numbers are stored as E.164.
    payload["teams"][0]["members"] = [{"phone": "135 0000 0001"}, {"name": "丁", "phone": "13500000003"}]
    status, body = post_setup(client, organizer, payload)
    assert status == 201, body
    team = db.session.query(TeamApplication).filter_by(team_name="队伍1").one()
    assert [(m.name, m.phone, m.is_lead) for m in team.members] == [("0001", "+8613500000001", True),
                                                                   ("丁", "+8613500000003", False)]


def test_setup_may_still_name_a_team_whose_members_are_not_known_yet(client, organizer):
    """The setup API always took teams by name alone (the members come later, with their applications): the shared
    member rule holds for the members a team lists, and a team listing none is still accepted."""
    payload = setup_payload(teams=2)
    del payload["teams"][0]["members"]
    payload["teams"][1]["members"] = []
    status, body = post_setup(client, organizer, payload)
    assert status == 201, body
