"""Live judging over Socket.IO and the pages: judges hear the stage and never a score; the console hears who has
submitted; the leaderboard room refuses the round's judges; the invitation link signs a judge in once."""

from __future__ import annotations

import contextvars
import time

from app.db_types import utcnow
from app.extensions import db, socketio
from judging import services
from judging.realtime import wait_until_announced
from tests.conftest import eventually, sign_in, socket_rooms


def connect(app, user):
    http = app.test_client()
    sign_in(http, user)
    return contextvars.Context().run(socketio.test_client, app, flask_test_client=http)


def emit(sio, event, data):
    return contextvars.Context().run(sio.emit, event, data, callback=True)


def received(sio, name):
    wait_until_announced(5)
    time.sleep(0.05)
    return [e["args"][0] for e in sio.get_received() if e["name"] == name]


def live_final(make_competition, organizer):
    _, _, final, _ = make_competition(teams=3)
    services.add_teams(final.id, organizer, None, now=utcnow())
    services.configure_round(final.id, organizer, leaderboard_mode="live", now=utcnow())
    services.open_round(final.id, organizer, now=utcnow())
    db.session.commit()
    return final


def test_judges_hear_the_stage_and_never_a_score(app, make_competition, organizer, judge_users, score):
    final = live_final(make_competition, organizer)
    first, second = judge_users(final)[:2]
    phones = [connect(app, first), connect(app, second)]
    for sio in phones:
        assert emit(sio, "join_round_judges", {"round_id": final.id})["ok"]
        sio.get_received()
    team = services.teams_of(final.id)[0]
    services.set_stage(final.id, organizer, round_team_id=team.id, phase="pitch", now=utcnow())
    db.session.commit()
    stage = received(phones[0], "stage")[-1]
    assert stage["current_team"]["id"] == team.id and stage["phase"] == "pitch" and stage["phase_ends_at"]
    score(final, first, team, 9)
    wait_until_announced(5)
    for sio in phones:
        everything = sio.get_received()
        assert all(e["name"] not in ("leaderboard", "console") for e in everything)
        assert not any(keys_named(e["args"], {"score", "scores", "my_scorecard", "raw_mean"}) for e in everything)


def keys_named(value, names) -> bool:
    if isinstance(value, dict):
        return bool(names & set(value)) or any(keys_named(v, names) for v in value.values())
    if isinstance(value, list):
        return any(keys_named(v, names) for v in value)
    return False


def test_the_console_hears_who_submitted_and_the_leaderboard_moves(app, make_competition, organizer, judge_users,
                                                                    score, create_resident):
    final = live_final(make_competition, organizer)
    judge = judge_users(final)[0]
    console, audience = connect(app, organizer), connect(app, create_resident())
    assert emit(console, "join_round_console", {"round_id": final.id})["ok"]
    board_ack = emit(audience, "join_round_leaderboard", {"round_id": final.id})
    assert board_ack["ok"] and board_ack["leaderboard"]["rows"][0]["score"] is None
    team = services.teams_of(final.id)[0]
    services.set_stage(final.id, organizer, round_team_id=team.id, phase="pitch", now=utcnow())
    db.session.commit()
    score(final, judge, team, 8)
    seen = received(console, "console")[-1]
    assert seen["teams"][0]["submitted"] == 1 and seen["teams"][0]["judges"][0]["status"] == "submitted"
    boards = received(audience, "leaderboard")
    assert boards[-1]["rows"][0]["score"] == 80


def test_rooms_refuse_those_they_are_not_for(app, make_competition, organizer, judge_users, create_resident):
    final = live_final(make_competition, organizer)
    judge, stranger = judge_users(final)[0], create_resident()
    judge_sio, stranger_sio = connect(app, judge), connect(app, stranger)
    assert emit(judge_sio, "join_round_leaderboard", {"round_id": final.id})["code"] == "judges_no_leaderboard"
    assert emit(judge_sio, "join_round_console", {"round_id": final.id})["code"] == "forbidden"
    assert emit(stranger_sio, "join_round_judges", {"round_id": final.id})["code"] == "not_a_judge"
    assert emit(stranger_sio, "join_round_console", {"round_id": final.id})["code"] == "forbidden"
    assert emit(stranger_sio, "join_round_judges", {"round_id": "x"})["code"] == "round_not_found"


def test_an_invitation_link_signs_the_judge_in_on_that_device_once(client, make_competition, app):
    _, prelim, _, tokens = make_competition()
    judge_id, token = next(iter(tokens.items()))
    response = client.get(f"/judging/invite/{token}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/judging/rounds/{prelim.id}/judge")
    page = client.get(f"/judging/rounds/{prelim.id}/judge")
    assert page.status_code == 200 and b'data-testid="judge-page"' in page.data
    again = client.get(f"/judging/invite/{token}")  # the same judge on the same device: straight in
    assert again.status_code == 302
    other_device = app.test_client()
    refused = other_device.get(f"/judging/invite/{token}", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 410 and b'data-code="invite_used"' in refused.data
    assert other_device.get("/judging/invite/nonsense-token-123").status_code == 404


def test_organizer_pages_and_exports(client, make_competition, organizer, judge_users, score):
    _, prelim, _, _ = make_competition(teams=2)
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    for judge in judge_users(prelim):
        score(prelim, judge, services.teams_of(prelim.id)[0], 7, comment="好")
    sign_in(client, organizer)
    for page in ("console", "screen", "fairness", "print"):
        assert client.get(f"/judging/rounds/{prelim.id}/{page}").status_code == 200, page
    export = client.get(f"/judging/rounds/{prelim.id}/results.xlsx")
    from io import BytesIO

    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(export.data))
    assert len(workbook.worksheets) == 1 + 3
    totals = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert totals[1][:4] == (1, "队伍1", "AI+制造", 70.0)  # the track's name, not its key
    assert list(workbook.worksheets[1].iter_rows(values_only=True))[1][:5] == ("队伍1", 7, 7, 7, 7)


def test_judges_and_strangers_cannot_open_organizer_pages(client, make_competition, judge_users, create_resident):
    _, prelim, _, _ = make_competition()
    for who in (judge_users(prelim)[0], create_resident()):
        sign_in(client, who)
        for page in ("console", "fairness", "print", "results.xlsx", "screen"):
            assert client.get(f"/judging/rounds/{prelim.id}/{page}").status_code == 403 or page == "screen" and \
                who.name != "评委1", (page, who.name)


def test_someone_invited_as_a_judge_leaves_the_leaderboard_and_hears_no_more_scores(
        app, make_competition, organizer, judge_users, score, create_resident):
    final = live_final(make_competition, organizer)
    judge = judge_users(final)[0]
    newcomer, audience = create_resident(name="新评委"), create_resident(name="观众")
    newcomer_sio, audience_sio = connect(app, newcomer), connect(app, audience)
    for sio in (newcomer_sio, audience_sio):
        assert emit(sio, "join_round_leaderboard", {"round_id": final.id})["ok"]
        sio.get_received()
    board = f"round:{final.id}:leaderboard"

    services.add_judge(final.id, organizer, phone=newcomer.phone, now=utcnow())
    db.session.commit()
    assert eventually(lambda: board not in socket_rooms(newcomer_sio)), "the new judge still watches the leaderboard"
    assert [e["args"][0] for e in newcomer_sio.get_received() if e["name"] == "room_left"] == [
        {"room": board, "code": "access_changed"}]
    assert board in socket_rooms(audience_sio) and newcomer_sio.is_connected()

    team = services.teams_of(final.id)[0]
    services.set_stage(final.id, organizer, round_team_id=team.id, phase="pitch", now=utcnow())
    db.session.commit()
    score(final, judge, team, 8)
    assert received(audience_sio, "leaderboard")[-1]["rows"][0]["score"] == 80
    assert received(newcomer_sio, "leaderboard") == []
    assert emit(newcomer_sio, "join_round_leaderboard", {"round_id": final.id})["code"] == "judges_no_leaderboard"
