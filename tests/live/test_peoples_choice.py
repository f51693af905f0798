"""The people's choice of a competition round over the JSON API: the console opens and closes the audience vote;
only people admitted at the door of the round's event vote (403 not_admitted otherwise), one vote each (final),
for a team on stage or already pitched; the tally stays hidden until revealed rank by rank; the round's export has
it as a sheet of its own. Racing votes of one person count once, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from openpyxl import load_workbook

from app.db_types import utcnow
from app.extensions import db
from checkin.models import Admission
from live.models import AudienceVote
from tests.conftest import sign_in
from tests.judging.conftest import setup_payload
from tests.live_server import live_server


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="大赛组织者", roles=["organizer"])


@pytest.fixture
def final(app, organizer, room_event):
    """The live final of a competition with four teams on its line-up, held at `room_event`."""
    from judging import services

    competition, _ = services.create_setup(setup_payload(teams=4), organizer, now=utcnow())
    db.session.commit()
    final = competition.rounds[1]
    final.event_id = room_event.id
    services.add_teams(final.id, organizer, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    db.session.commit()
    return final


@pytest.fixture
def teams(final):
    from judging import services

    return services.teams_of(final.id)


@pytest.fixture
def admitted(attendee, room_event):
    """An attendee admitted at the door (the admission row check-in writes)."""
    from events.services import reading

    def make(name: str = "入场观众"):
        person = attendee(room_event, name=name)
        registration = reading.registration_of(room_event.id, person.id)
        db.session.add(Admission(registration_id=registration.id, event_id=room_event.id, first_admitted_at=utcnow(),
                                 gate="A", inside=True, entries=1, last_moved_at=utcnow()))
        db.session.commit()
        return person

    return make


def on_stage(final, organizer, team):
    from judging import services

    services.set_stage(final.id, organizer, round_team_id=team.id, phase="pitch", now=utcnow())
    db.session.commit()


def test_admitted_people_vote_once_and_the_tally_waits_for_the_reveal(app, final, teams, organizer, admitted,
                                                                       attendee, room_event, api):
    console = api(organizer)
    base = f"/api/v1/rounds/{final.id}/audience-vote"
    voters = [api(admitted(f"观众{i}")) for i in range(3)]
    early = voters[0].post(f"/api/v1/rounds/{final.id}/audience-votes", json={"round_team_id": teams[0].id})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "vote_closed"

    assert console.post(f"{base}/open").get_json()["status"] == "open"
    not_yet = voters[0].post(f"/api/v1/rounds/{final.id}/audience-votes", json={"round_team_id": teams[1].id})
    assert not_yet.status_code == 409 and not_yet.get_json()["error"] == {
        "code": "team_not_pitched", "message": "这支团队还没有上台路演。"}
    on_stage(final, organizer, teams[0])
    on_stage(final, organizer, teams[1])

    first = voters[0].post(f"/api/v1/rounds/{final.id}/audience-votes", json={"round_team_id": teams[0].id})
    assert first.status_code == 201 and first.get_json()["round_team_id"] == teams[0].id
    again = voters[0].post(f"/api/v1/rounds/{final.id}/audience-votes", json={"round_team_id": teams[0].id})
    assert again.status_code == 200 and again.get_json() == first.get_json()
    changed = voters[0].post(f"/api/v1/rounds/{final.id}/audience-votes", json={"round_team_id": teams[1].id})
    assert changed.status_code == 409 and changed.get_json()["error"]["code"] == "already_voted"
    for voter in voters[1:]:
        assert voter.post(f"/api/v1/rounds/{final.id}/audience-votes",
                          json={"round_team_id": teams[1].id}).status_code == 201

    outsider = api(attendee(room_event, name="没入场的人"))  # signed up, never admitted at the door
    refused = outsider.post(f"/api/v1/rounds/{final.id}/audience-votes", json={"round_team_id": teams[0].id})
    assert refused.status_code == 403 and refused.get_json()["error"] == {
        "code": "not_admitted", "message": "只有在本活动现场验票入场的观众才能投票评选人气奖。"}
    wrong = voters[0].post(f"/api/v1/rounds/{final.id}/audience-votes", json={"round_team_id": 999999})
    assert wrong.status_code == 404 and wrong.get_json()["error"]["code"] == "team_not_in_round"

    public = voters[0].get(base).get_json()
    assert public["status"] == "open" and public["votes_cast"] == 3 and public["ranking"] == []
    assert public["my_round_team_id"] == teams[0].id
    assert voters[0].get(f"{base}?audience=console").status_code == 403
    assert console.post(f"{base}/reveal", json={}).get_json()["error"]["code"] == "vote_still_open"

    console.post(f"{base}/close")
    late = api(admitted("迟到的人")).post(f"/api/v1/rounds/{final.id}/audience-votes",
                                         json={"round_team_id": teams[0].id})
    assert late.status_code == 409 and late.get_json()["error"]["message"] == "观众投票现在没有开放。"
    assert voters[1].get(base).get_json()["ranking"] == []
    console.post(f"{base}/reveal", json={})
    assert [(r["rank"], r["votes"]) for r in voters[1].get(base).get_json()["ranking"]] == [(3, 0)]
    console.post(f"{base}/reveal", json={"all": True})
    ranking = voters[1].get(base).get_json()["ranking"]
    assert [(r["rank"], r["round_team_id"], r["votes"]) for r in ranking[:2]] == [(1, teams[1].id, 2),
                                                                                   (2, teams[0].id, 1)]
    assert ranking[0]["team_name"] == "队伍2"


def test_only_organizers_run_the_vote(app, final, admitted, api):
    voter = api(admitted())
    for action in ("open", "close", "reveal"):
        assert voter.post(f"/api/v1/rounds/{final.id}/audience-vote/{action}", json={}).status_code == 403


def test_the_peoples_choice_is_a_sheet_of_the_rounds_export(app, client, final, teams, organizer, admitted):
    from live.services import peoples_choice

    peoples_choice.open_vote(final.id, organizer, now=utcnow())
    on_stage(final, organizer, teams[2])
    peoples_choice.cast_vote(final.id, admitted(), round_team_id=teams[2].id, now=utcnow())
    db.session.commit()
    sign_in(client, organizer)
    response = client.get(f"/judging/rounds/{final.id}/results.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert "人气奖" in workbook.sheetnames and len(workbook.sheetnames) > 1  # beside the judges' sheets
    sheet = workbook["人气奖"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["名次", "团队", "票数"]
    assert rows[1] == [1, "队伍3", 1]
    assert ["投票总数", 1, None] in rows


def test_racing_votes_of_one_admitted_person_count_once(app, final, teams, organizer, admitted):
    from app.accounts.services import issue_api_token
    from live.services import peoples_choice

    peoples_choice.open_vote(final.id, organizer, now=utcnow())
    on_stage(final, organizer, teams[0])
    on_stage(final, organizer, teams[1])
    token = issue_api_token(admitted("手快的观众"), name="phone", now=utcnow())
    db.session.commit()
    racers, team_ids, round_id = 10, [teams[0].id, teams[1].id], final.id
    with live_server(app) as base:
        barrier = threading.Barrier(racers)

        def send(i):
            barrier.wait(timeout=30)
            response = requests.post(f"{base}/api/v1/rounds/{round_id}/audience-votes", timeout=60,
                                     json={"round_team_id": team_ids[i % 2]},
                                     headers={"Authorization": f"Bearer {token}"})
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=racers) as pool:
            answers = list(pool.map(send, range(racers)))
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, answers
    db.session.rollback()
    [vote] = db.session.scalars(sa.select(AudienceVote)).all()
    winner = next(body for status, body in answers if status == 201)
    assert vote.round_team_id == winner["round_team_id"]
    assert all(body["round_team_id"] == vote.round_team_id for status, body in answers if status == 200)
    assert all(body["error"]["code"] == "already_voted" for status, body in answers if status == 409)


def test_the_room_and_the_big_screen_hear_the_vote_without_its_tally_until_revealed(app, final, teams, organizer,
                                                                                    admitted, room_event):
    from live.services import peoples_choice
    from tests.live.test_live_updates import connect, join

    person = admitted("现场观众")
    phone = connect(app, person)
    assert join(phone, room_event.id)["ok"]
    phone.get_received()
    peoples_choice.open_vote(final.id, organizer, now=utcnow())
    on_stage(final, organizer, teams[0])
    peoples_choice.cast_vote(final.id, person, round_team_id=teams[0].id, now=utcnow())
    db.session.commit()
    boards = [e["args"][0] for e in phone.get_received() if e["name"] == "audience_vote"]
    assert [b["status"] for b in boards] == ["open", "open"] and boards[-1]["votes_cast"] == 1
    assert all(b["ranking"] == [] and b["my_round_team_id"] is None for b in boards)
    peoples_choice.close_vote(final.id, organizer, now=utcnow())
    peoples_choice.reveal(final.id, organizer, all_=True)
    db.session.commit()
    last = [e["args"][0] for e in phone.get_received() if e["name"] == "audience_vote"][-1]
    assert last["status"] == "closed" and last["ranking"][0]["round_team_id"] == teams[0].id
