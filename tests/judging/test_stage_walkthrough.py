"""What a phone walk-through on stage found (issue 17), over HTTP and Socket.IO: revealing a rank while judges have
not submitted is refused until the organizer confirms, naming them; the console shows each judge's true state
(invited, opened, scoring, submitted), live, and re-sending an invitation sends it."""

from __future__ import annotations

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from judging import services


@pytest.fixture
def bearer():
    def make(user):
        token = issue_api_token(user, now=utcnow())
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


@pytest.fixture
def live_final(make_competition, organizer):
    """The live final open, 队伍1 on stage (its scoring open), 3 judges (评委1, 评委2, 评委3)."""
    _, _, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    services.set_stage(final.id, organizer, round_team_id=services.teams_of(final.id)[0].id, phase="scoring",
                       now=utcnow())
    db.session.commit()
    return final


def test_revealing_before_every_judge_submitted_asks_the_organizer_to_confirm(client, live_final, organizer,
                                                                              judge_users, score, bearer):
    final = live_final
    on_stage = services.teams_of(final.id)[0]
    score(final, judge_users(final)[0], on_stage, 8)  # 1 of 3 judges
    headers = {**bearer(organizer), "Accept-Language": "zh-CN"}
    url = f"/api/v1/rounds/{final.id}/reveal"

    refused = client.post(url, json={}, headers=headers)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "judges_missing"
    assert error["message"] == "还有 2 位评委未提交：评委2、评委3；评分仍开放。仍要揭晓吗？"
    assert [j["name"] for j in error["details"]["missing_judges"]] == ["评委2", "评委3"]
    assert error["details"]["scoring_open"] is True
    db.session.expire_all()
    assert services.get_round(final.id).revealed_count == 0  # nothing shown to the audience

    english = client.post(url, json={"all": True}, headers={**headers, "Accept-Language": "en"}).get_json()
    assert english["error"]["message"].startswith("Not submitted yet by 2 judge(s): 评委2, 评委3; scoring is")

    confirmed = client.post(url, json={"confirm": True}, headers=headers)
    assert confirmed.status_code == 200 and confirmed.get_json() == {"revealed_count": 1}
    assert client.post(url, json={"hide": True}, headers=headers).status_code == 200  # hiding needs no confirmation


def test_revealing_once_every_judge_submitted_needs_no_confirmation(client, live_final, organizer, judge_users,
                                                                     score, bearer):
    final = live_final
    on_stage = services.teams_of(final.id)[0]
    for judge in judge_users(final):
        score(final, judge, on_stage, 7)
    response = client.post(f"/api/v1/rounds/{final.id}/reveal", json={}, headers=bearer(organizer))
    assert response.status_code == 200 and response.get_json() == {"revealed_count": 1}


def test_the_openapi_documents_the_reveal_confirmation(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/rounds/{round_id}/reveal"]["post"]
    assert "judges_missing" in operation["responses"]["409"]["description"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
    assert "confirm" in schema["properties"]


def test_the_console_shows_each_judges_true_state_live(app, client, live_final, organizer, judge_users, score,
                                                       bearer):
    import contextvars

    from app.extensions import socketio
    from judging.realtime import wait_until_announced
    from tests.conftest import sign_in
    from tests.judging.test_invitation_passes import invite_path_sent_to_round

    final = live_final
    first, second, third = judge_users(final)
    sign_in(client, organizer)
    sio = contextvars.Context().run(socketio.test_client, app, flask_test_client=client)
    ack = contextvars.Context().run(sio.emit, "join_round_console", {"round_id": final.id}, callback=True)
    assert [j["state"] for j in ack["console"]["judges"]] == ["invited", "invited", "invited"]

    app.test_client().get(invite_path_sent_to_round(second.phone, final))  # the second judge opens the link
    score(final, first, services.teams_of(final.id)[0], 8)  # the first submits the team on stage
    assert wait_until_announced(10)
    heard = [e["args"][0] for e in sio.get_received() if e["name"] == "console"]
    assert heard and [j["state"] for j in heard[-1]["judges"]] == ["submitted", "opened", "invited"]

    # A new link for the judge who submitted: scores come first, never "not opened"; the console hears it.
    services.reissue_invitation(services.judge_of(final.id, first).id, organizer, now=utcnow())
    db.session.commit()
    assert wait_until_announced(10)
    judges = [e["args"][0] for e in sio.get_received() if e["name"] == "console"][-1]["judges"]
    assert judges[0]["state"] == "submitted" and judges[0]["invitation"]["resent_at"]
    services.set_stage(final.id, organizer, round_team_id=services.teams_of(final.id)[1].id, phase="scoring",
                       now=utcnow())  # the next team: the first judge is scoring again
    db.session.commit()
    assert wait_until_announced(10)
    judges = [e["args"][0] for e in sio.get_received() if e["name"] == "console"][-1]["judges"]
    assert [j["state"] for j in judges] == ["scoring", "opened", "invited"]
