"""The JSON API of mentor matching, as a mobile app or a script uses it (bearer tokens)."""

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db


def bearer(user) -> dict:
    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_whole_cycle_over_the_api(client, organizer, create_resident, create_mentor):
    org = bearer(organizer)
    mentor = create_mentor("陈导师", expertise=("fundraising", "legal"), capacity=2)
    founder = create_resident(name="创业者甲")
    me = bearer(founder)

    cycle = client.post("/api/v1/mentoring/cycles", json={"name": "冬季导师匹配"}, headers=org)
    assert cycle.status_code == 201, cycle.json
    cycle_id = cycle.json["id"]
    assert client.post("/api/v1/mentoring/cycles", json={"name": "x"}, headers=me).status_code == 403

    body = {"needs": ["legal", "fundraising"], "industry": "医疗AI", "stage": "seed", "description": "数据合规",
            "prefer_ids": [mentor.id]}
    created = client.post(f"/api/v1/mentoring/cycles/{cycle_id}/requests", json=body, headers=me)
    assert created.status_code == 201 and created.json["needs"] == ["legal", "fundraising"]
    again = client.post(f"/api/v1/mentoring/cycles/{cycle_id}/requests", json=body, headers=me)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_requested"

    assert client.post(f"/api/v1/mentoring/cycles/{cycle_id}/run", json={}, headers=me).status_code == 403
    proposal = client.post(f"/api/v1/mentoring/cycles/{cycle_id}/run", json={"mode": "stable"}, headers=org)
    assert proposal.status_code == 200, proposal.json
    [pair] = proposal.json["matches"]
    assert pair["mentor_id"] == mentor.id and pair["reasons"]["preferred"] and pair["score"] == 100
    assert proposal.json["cycle"]["mode"] == "stable" and proposal.json["unmatched_founder_ids"] == []

    assert client.get("/api/v1/mentoring/matches/mine", headers=me).json == []  # not published yet
    assert client.post(f"/api/v1/mentoring/cycles/{cycle_id}/publish", headers=org).json["status"] == "published"
    [mine] = client.get("/api/v1/mentoring/matches/mine", headers=me).json
    assert mine["status"] == "offered" and mine["mentor_name"] == "陈导师"
    accepted = client.post(f"/api/v1/mentoring/matches/{mine['id']}/accept", headers=bearer(mentor))
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    declined = client.post(f"/api/v1/mentoring/matches/{mine['id']}/decline", json={}, headers=bearer(mentor))
    assert declined.status_code == 409 and declined.json["error"]["code"] == "already_answered"


def test_bad_pins_answer_a_clear_json_error(client, organizer, create_resident, create_mentor, create_cycle, ask):
    org = bearer(organizer)
    cycle = create_cycle()
    mentor = create_mentor(capacity=1)
    founders = [create_resident(name=f"创业者{i}") for i in range(2)]
    for founder in founders:
        ask(cycle, founder)
        pinned = client.post(f"/api/v1/mentoring/cycles/{cycle.id}/rules", headers=org,
                             json={"founder_id": founder.id, "mentor_id": mentor.id, "kind": "pin"})
        assert pinned.status_code == 201
    answer = client.post(f"/api/v1/mentoring/cycles/{cycle.id}/run", json={}, headers=org)
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "pins_over_capacity" and answer.json["error"]["message"]
    empty = client.post("/api/v1/mentoring/cycles", json={"name": "空"}, headers=org).json
    answer = client.post(f"/api/v1/mentoring/cycles/{empty['id']}/run", json={}, headers=org)
    assert answer.json["error"]["code"] == "no_requests"


def test_strangers_do_not_see_matches_and_the_api_is_documented(client, create_resident):
    assert client.get("/api/v1/mentoring/matches/mine").status_code == 401
    assert client.get("/api/v1/mentoring/matches/1", headers=bearer(create_resident())).status_code == 404
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/mentoring/cycles/{cycle_id}/run" in paths
    assert "/api/v1/mentoring/matches/{match_id}/decline" in paths
