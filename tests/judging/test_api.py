"""The JSON API of judging: setup in one call or from a spreadsheet, a judge's round and scores, organizers'
controls; every endpoint refuses whoever may not use it."""

import io
import uuid

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db
from judging import services
from judging.models import Competition
from tests.judging.conftest import CRITERIA, setup_payload


@pytest.fixture
def bearer():
    def make(user):
        token = issue_api_token(user, now=utcnow())
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


def all_scores(value):
    return {c["key"]: value for c in CRITERIA}


def test_a_whole_setup_in_one_call_sends_the_invitations_to_the_judges_phones_only(client, organizer, bearer):
    response = client.post("/api/v1/competitions/setup", json=setup_payload(), headers=bearer(organizer))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    prelim = body["rounds"][0]
    assert prelim["teams"] == 6 and len(prelim["judges"]) == 3
    invitation = prelim["judges"][0]["invitation"]
    assert invitation["sent_at"] and invitation["opened_at"] is None
    text = response.get_data(as_text=True)
    assert "invite" not in text.replace('"invitation"', "") and "/judging/" not in text


def test_a_bad_setup_answers_in_the_callers_language_and_saves_nothing(client, organizer, bearer):
    payload = setup_payload()
    payload["rounds"][0]["criteria"][0]["weight"] = 50
    response = client.post("/api/v1/competitions/setup", json=payload,
                           headers={**bearer(organizer), "Accept-Language": "en"})
    error = response.get_json()["error"]
    assert response.status_code == 422 and error["code"] == "invalid_setup"
    assert "120%" in error["details"]["fields"]["rounds.0.criteria"]
    assert db.session.query(Competition).count() == 0


CSV = """section,round,key,label,weight,min,max,step,mode,phone,name,shadow,track,team,project
competition,,,港科大百万元奖金创业大赛,,,,,,,,,,,
track,,ai,AI+制造,,,,,,,,,,,
round,初赛,preliminary,,,,,,online,,,,,,
criterion,初赛,innovation,创新性,60,0,10,0.5,,,,,,,
criterion,初赛,market,市场,40,0,10,0.5,,,,,,,
judge,初赛,,,,,,,,13800000001,李评委,no,,,
judge,初赛,,,,,,,,13800000002,见习评委,是,,,
team,,,,,,,,,13900000001,张三,,ai,智造队,智能质检
team,,,,,,,,,13900000002,李四,,ai,智造队,
team,,,,,,,,,13900000003,王五,,ai,医疗队,影像诊断
"""


def test_a_setup_imports_from_csv(client, organizer, bearer):
    response = client.post("/api/v1/competitions/setup/import", headers=bearer(organizer),
                           data={"file": (io.BytesIO(CSV.encode("utf-8-sig")), "setup.csv")})
    assert response.status_code == 201, response.get_json()
    round_ = services.get_round(response.get_json()["rounds"][0]["id"])
    assert [c.weight for c in round_.criteria] == [60, 40]
    assert [j.is_shadow for j in services.judges_of(round_.id)] == [False, True]
    teams = services.teams_of(round_.id)
    assert len(teams) == 2
    assert len(services.applications_by_id([teams[0].application_id])[teams[0].application_id].members) == 2


def test_a_setup_imports_from_xlsx_and_a_duplicate_team_is_refused_with_its_line(client, organizer, bearer):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in CSV.strip().splitlines():
        sheet.append(line.split(","))
    sheet.append(["team", "", "", "", "", "", "", "", "", "13900000004", "赵六", "", "ai", "医疗队", "又一个项目"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post("/api/v1/competitions/setup/import", headers=bearer(organizer),
                           data={"file": (io.BytesIO(buffer.getvalue()), "setup.xlsx")})
    error = response.get_json()["error"]
    assert response.status_code == 422 and error["code"] == "invalid_setup_file"
    assert list(error["details"]["fields"]) == ["line 12.team"]
    assert db.session.query(Competition).count() == 0


def test_a_file_that_is_not_a_spreadsheet_is_refused(client, organizer, bearer):
    response = client.post("/api/v1/competitions/setup/import", headers=bearer(organizer),
                           data={"file": (io.BytesIO(b"PK\x03\x04garbage"), "setup.xlsx")})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_setup_file"


@pytest.fixture
def open_round(make_competition, organizer):
    _, prelim, final, _ = make_competition()
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    return prelim


def test_a_judge_reads_the_round_and_submits_once_whatever_the_retries(client, open_round, judge_users, bearer,
                                                                       organizer):
    judge = judge_users(open_round)[0]
    headers = bearer(judge)
    state = client.get(f"/api/v1/rounds/{open_round.id}/judge", headers=headers).get_json()
    assert state["progress"] == {"scored": 0, "total": 6} and len(state["criteria"]) == 4
    team_id = state["teams"][0]["id"]
    body = {"round_team_id": team_id, "submission_id": str(uuid.uuid4()), "base_revision": 0,
            "scores": all_scores(8), "comment": "清晰", "tags": ["tech"]}
    first = client.post(f"/api/v1/rounds/{open_round.id}/scores", json=body, headers=headers)
    again = client.post(f"/api/v1/rounds/{open_round.id}/scores", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["revision"] == again.get_json()["revision"] == 1
    assert again.get_json()["replayed"] is True and first.get_json()["progress"]["scored"] == 1
    stale = client.post(f"/api/v1/rounds/{open_round.id}/scores", headers=headers,
                        json={**body, "submission_id": str(uuid.uuid4()), "scores": all_scores(9)})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_revision"
    assert stale.get_json()["error"]["details"]["current_revision"] == 1
    assert [s.revision for s in services.score_history(open_round.id, organizer)] == [1]  # nothing of the stale one
    bad = client.post(f"/api/v1/rounds/{open_round.id}/scores", headers={**headers, "Accept-Language": "zh-CN"},
                      json={**body, "submission_id": "x1", "base_revision": 1, "scores": all_scores(10.25)})
    assert bad.status_code == 422 and "scores.innovation" in bad.get_json()["error"]["details"]["fields"]


def test_every_endpoint_refuses_those_it_is_not_for(client, open_round, judge_users, organizer, create_resident,
                                                    bearer):
    judge, stranger = judge_users(open_round)[0], create_resident()
    team_id = services.teams_of(open_round.id)[0].id
    rid = open_round.id
    organizer_only = [("GET", f"/api/v1/rounds/{rid}/console", None),
                      ("POST", f"/api/v1/rounds/{rid}/stage", {"phase": "idle"}),
                      ("POST", f"/api/v1/rounds/{rid}/close", {}),
                      ("POST", f"/api/v1/rounds/{rid}/publish", {}),
                      ("POST", f"/api/v1/rounds/{rid}/teams/{team_id}/close", {}),
                      ("POST", f"/api/v1/rounds/{rid}/teams/{team_id}/reopen", {}),
                      ("POST", f"/api/v1/rounds/{rid}/reveal", {}),
                      ("POST", f"/api/v1/rounds/{rid}/advance", {"to_round_id": rid}),
                      ("PATCH", f"/api/v1/rounds/{rid}", {"normalize": True}),
                      ("GET", f"/api/v1/rounds/{rid}/fairness", None),
                      ("GET", f"/api/v1/rounds/{rid}/history", None),
                      ("POST", f"/api/v1/rounds/{rid}/judges", {"phone": "13912345670"}),
                      ("POST", "/api/v1/competitions/setup", setup_payload())]
    for who in (judge, stranger):
        headers = bearer(who)
        for method, url, body in organizer_only:
            response = client.open(url, method=method, json=body, headers=headers)
            assert response.status_code == 403, (method, url, response.get_json())
    judges_only = [("GET", f"/api/v1/rounds/{rid}/judge", None),
                   ("POST", f"/api/v1/rounds/{rid}/scores", {"round_team_id": team_id, "submission_id": "a",
                                                             "base_revision": 0, "scores": all_scores(5)}),
                   ("POST", f"/api/v1/rounds/{rid}/recusals", {"round_team_id": team_id})]
    for method, url, body in judges_only:
        response = client.open(url, method=method, json=body, headers=bearer(stranger))
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_a_judge"
        assert client.open(url, method=method, json=body).status_code == 401
    # A judge never sees the leaderboard's scores during the round, even asking as the big screen.
    for query in ("", "?audience=screen"):
        board = client.get(f"/api/v1/rounds/{rid}/leaderboard{query}", headers=bearer(judge)).get_json()
        assert board["rows"] == []


def test_the_organizer_drives_a_live_round(client, make_competition, organizer, judge_users, bearer):
    _, prelim, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    db.session.commit()
    org, judge = bearer(organizer), bearer(judge_users(final)[0])
    rid = final.id
    assert client.post(f"/api/v1/rounds/{rid}", json={"normalize": True}, headers=org).status_code == 405
    assert client.patch(f"/api/v1/rounds/{rid}", json={"normalize": True, "leaderboard_mode": "live"},
                        headers=org).get_json()["normalize"] is True
    assert client.post(f"/api/v1/rounds/{rid}/open", headers=org).get_json()["state"] == "open"
    team_id = services.teams_of(rid)[0].id
    stage = client.post(f"/api/v1/rounds/{rid}/stage", json={"round_team_id": team_id, "phase": "pitch"},
                        headers=org).get_json()
    assert stage["current_team"]["id"] == team_id and stage["phase_seconds"] == 480 and stage["phase_ends_at"]
    body = {"round_team_id": team_id, "submission_id": "s1", "base_revision": 0, "scores": all_scores(7)}
    assert client.post(f"/api/v1/rounds/{rid}/scores", json=body, headers=judge).status_code == 201
    console = client.get(f"/api/v1/rounds/{rid}/console", headers=org).get_json()
    assert [j["status"] for j in console["teams"][0]["judges"]] == ["submitted", "waiting", "waiting"]
    assert "scores" not in str(console["teams"][0])
    assert client.post(f"/api/v1/rounds/{rid}/teams/{team_id}/close", headers=org).get_json()["scoring_state"] == \
        "closed"
    late = client.post(f"/api/v1/rounds/{rid}/scores", json={**body, "submission_id": "s2", "base_revision": 1},
                       headers=judge)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "scoring_closed"
    assert client.post(f"/api/v1/rounds/{rid}/teams/{team_id}/reopen", json={"reason": "手误"},
                       headers=org).get_json()["scoring_state"] == "open"
    assert client.post(f"/api/v1/rounds/{rid}/publish", headers=org).get_json()["state"] == "published"
    board = client.get(f"/api/v1/rounds/{rid}/leaderboard", headers={**judge, "Accept-Language": "en"}).get_json()
    assert board["rows"][0]["score"] == 70 and any(word in board["rule"] for word in ("z 分数", "z-scores"))
    history = client.get(f"/api/v1/rounds/{rid}/history", headers=org).get_json()
    assert [a["action"] for a in history["actions"]][-3:] == ["scoring_closed", "scoring_reopened", "published"]
    fairness = client.get(f"/api/v1/rounds/{rid}/fairness", headers=org).get_json()
    assert fairness["judges"][0]["teams_scored"] == 1


def test_the_openapi_document_describes_judging(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/rounds/{round_id}/scores" in paths and "/api/v1/competitions/setup" in paths
    assert "submission_id" in str(paths["/api/v1/rounds/{round_id}/scores"])
