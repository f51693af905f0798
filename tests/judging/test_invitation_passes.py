"""A judge's invitation (issue 16): it goes to the judge's phone alone, organizers see that it was sent and whether
it was opened (never the link), and opening it gives that device a judge pass (that competition's judging, nothing
else), once, until it expires or a new invitation replaces it."""

from __future__ import annotations

import contextvars
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import AuthSession, DevSmsMessage
from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db, socketio
from judging import services
from tests.conftest import csrf_token_from, sign_in
from tests.judging.conftest import CRITERIA, invite_path_sent_to

ADMIN_PHONE = "+8613900000099"


@pytest.fixture
def bearer():
    def make(user):
        token = issue_api_token(user, now=utcnow())
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


@pytest.fixture
def scoped_organizer(create_resident, make_competition):
    """An organizer of this competition only, and the competition."""
    competition, prelim, final, _ = make_competition()
    user = create_resident(name="赛事助理", roles=[("organizer", f"competition:{competition.id}")])
    return user, competition, prelim, final


def open_invitation(client, path):
    """The judge taps the link in the SMS: one request and a redirect to scoring."""
    response = client.get(path)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def no_link_in(text: str) -> bool:
    return "/judging/invite/" not in text and "invite_url" not in text


def test_inviting_answers_that_it_was_sent_never_the_link(client, scoped_organizer, create_resident, bearer, app):
    organizer, competition, prelim, _ = scoped_organizer
    headers = bearer(organizer)
    response = client.post(f"/api/v1/rounds/{prelim.id}/judges", json={"phone": "13912345678", "name": "新评委"},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert no_link_in(response.get_data(as_text=True))
    assert body["invitation"]["sent_at"] and body["invitation"]["opened_at"] is None
    resent = client.post(f"/api/v1/rounds/{prelim.id}/judges/{body['id']}/invitation", headers=headers)
    assert resent.status_code == 201 and no_link_in(resent.get_data(as_text=True))
    console = client.get(f"/api/v1/rounds/{prelim.id}/console", headers=headers)
    assert no_link_in(console.get_data(as_text=True))
    judge_row = next(j for j in console.get_json()["judges"] if j["id"] == body["id"])
    assert judge_row["invitation"]["sent_at"] and judge_row["invitation"]["opened_at"] is None
    spec = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "invite_url" not in spec and "sign-in link" not in spec
    with open(app.static_folder + "/js/judging-console.js", encoding="utf-8") as script:
        assert "invite_url" not in script.read()

    # the SMS outbox: the link went to the judge's phone, and to nobody else
    messages = db.session.scalars(sa.select(DevSmsMessage).where(DevSmsMessage.body.contains("/judging/invite/"))
                                  ).all()
    new_judge_messages = [m for m in messages if m.phone == "+8613912345678"]
    assert len(new_judge_messages) == 2 and "评委" in new_judge_messages[-1].body
    assert organizer.phone not in {m.phone for m in messages}
    assert all(m.phone in {"+8613912345678", *(f"+8613700000{i:03d}" for i in range(1, 8))} for m in messages)


def test_the_link_opens_scoring_in_one_tap_and_works_there(app, client, make_competition, judge_users):
    _, prelim, final, _ = make_competition()
    services.open_round(prelim.id, services.competition_of(prelim) and _organizer_of(prelim), now=utcnow())
    db.session.commit()
    judge = judge_users(prelim)[0]
    response = open_invitation(client, invite_path_sent_to_round(judge.phone, prelim))
    assert response.headers["Location"].endswith(f"/judging/rounds/{prelim.id}/judge")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and b'data-testid="judge-page"' in page.data
    state = client.get(f"/api/v1/rounds/{prelim.id}/judge")
    assert state.status_code == 200 and state.get_json()["judge"]["id"] == services.judge_of(prelim.id, judge).id
    team = services.teams_of(prelim.id)[0]
    csrf = csrf_token_from(client, f"/judging/rounds/{prelim.id}/judge")
    payload = {"round_team_id": team.id, "submission_id": str(uuid.uuid4()), "base_revision": 0,
               "scores": {c["key"]: 7 for c in CRITERIA}}
    assert client.post(f"/api/v1/rounds/{prelim.id}/scores", json=payload).status_code == 400  # CSRF, as for a form
    scored = client.post(f"/api/v1/rounds/{prelim.id}/scores", json=payload, headers={"X-CSRFToken": csrf})
    assert scored.status_code == 201, scored.get_json()
    assert client.get(f"/judging/invite/{_token_of(invite_path_sent_to_round(judge.phone, prelim))}"
                      ).status_code == 302  # the same phone again: straight to scoring
    # the pass is for the judge's rounds of this competition: the final too, the judge's Socket.IO room as well
    assert client.get(f"/api/v1/rounds/{final.id}/judge").status_code == 200
    sio = contextvars.Context().run(socketio.test_client, app, flask_test_client=client)
    assert sio.is_connected()
    ack = contextvars.Context().run(sio.emit, "join_round_judges", {"round_id": final.id}, callback=True)
    assert ack["ok"] is True
    refused = contextvars.Context().run(sio.emit, "join_round_leaderboard", {"round_id": final.id}, callback=True)
    assert refused["ok"] is False
    assert not [e for e in sio.get_received() if e["name"] == "welcome"]  # no personal room: not the account


def test_a_judge_pass_is_not_a_sign_in(app, client, make_competition, judge_users, create_event):
    from events import services as event_services

    _, prelim, _, _ = make_competition()
    judge = judge_users(prelim)[0]
    judge.profile_completed_at = utcnow()
    event = create_event()
    registration = event_services.register_for_event(event.id, judge, now=utcnow())[0]
    db.session.commit()
    open_invitation(client, invite_path_sent_to_round(judge.phone, prelim))
    for page in ("/profile", "/notifications", "/me/events", f"/tickets/{registration.id}", "/manage/",
                 "/judging/", f"/judging/rounds/{prelim.id}/console"):
        response = client.get(page)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], page
    for api in ("/api/v1/me", "/api/v1/me/registrations", f"/api/v1/rounds/{prelim.id}/console",
                f"/api/v1/rounds/{prelim.id}/leaderboard"):
        assert client.get(api).status_code == 401, api
    assert b'data-testid="current-user"' not in client.get("/").data


def test_an_organizer_who_invites_the_admins_phone_gets_no_admin_access(app, client, scoped_organizer,
                                                                         create_resident, bearer):
    organizer, competition, prelim, _ = scoped_organizer
    admin = create_resident(phone=ADMIN_PHONE, name="管理员", roles=["admin"])
    sign_in(client, organizer)
    csrf = csrf_token_from(client, f"/judging/rounds/{prelim.id}/console")
    response = client.post(f"/api/v1/rounds/{prelim.id}/judges", json={"phone": ADMIN_PHONE},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 201 and no_link_in(response.get_data(as_text=True))
    judge_id = response.get_json()["id"]
    resent = client.post(f"/api/v1/rounds/{prelim.id}/judges/{judge_id}/invitation", headers={"X-CSRFToken": csrf})
    assert no_link_in(resent.get_data(as_text=True))
    for page in (f"/judging/rounds/{prelim.id}/console", "/judging/"):
        assert no_link_in(client.get(page).get_data(as_text=True))
    assert no_link_in(client.get(f"/api/v1/rounds/{prelim.id}/console").get_data(as_text=True))
    assert no_link_in(client.get(f"/api/v1/rounds/{prelim.id}/history").get_data(as_text=True))
    assert no_link_in(client.get("/notifications").get_data(as_text=True))  # the organizer's own inbox
    assert client.get("/dev/sms").status_code in (200, 404)  # demo mode only; in production there is none

    # Even with the link itself (it went to the admin's phone), a device gets judging, not the admin's account.
    stranger = app.test_client()
    open_invitation(stranger, invite_path_sent_to(ADMIN_PHONE))
    assert stranger.get("/api/v1/me").status_code == 401
    assert stranger.post("/api/v1/competitions/setup", json={"name": "x", "rounds": []}).status_code in (400, 401)
    assert stranger.get("/manage/").status_code == 302
    assert stranger.get("/profile").status_code == 302
    assert admin.id not in {s.user_id for s in db.session.scalars(
        sa.select(AuthSession).where(AuthSession.scope == ""))}  # no sign-in of the admin was ever made


def test_a_second_device_is_refused_in_chinese(app, client, make_competition, judge_users):
    _, prelim, _, _ = make_competition()
    path = invite_path_sent_to_round(judge_users(prelim)[0].phone, prelim)
    open_invitation(client, path)
    other = app.test_client()
    refused = other.get(path, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 410 and b'data-code="invite_used"' in refused.data
    assert "已在另一台设备上打开" in refused.get_data(as_text=True) and "重新发送" in refused.get_data(as_text=True)
    assert other.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 401


def test_a_new_invitation_ends_the_old_link_and_the_passes_it_gave(app, client, make_competition, judge_users,
                                                                     organizer):
    _, prelim, _, _ = make_competition()
    judge = judge_users(prelim)[0]
    old = invite_path_sent_to_round(judge.phone, prelim)
    open_invitation(client, old)
    assert client.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 200
    services.reissue_invitation(services.judge_of(prelim.id, judge).id, organizer, now=utcnow())
    db.session.commit()
    assert client.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 401
    assert client.get(f"/judging/rounds/{prelim.id}/judge").status_code == 302
    assert client.get(old).status_code == 404
    new = invite_path_sent_to_round(judge.phone, prelim)
    assert new != old
    open_invitation(client, new)
    assert client.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 200


def test_a_new_invitation_closes_the_old_passs_open_connection(app, client, make_competition, judge_users,
                                                               organizer):
    from tests.conftest import eventually

    _, prelim, _, _ = make_competition()
    judge = judge_users(prelim)[0]
    open_invitation(client, invite_path_sent_to_round(judge.phone, prelim))
    sio = contextvars.Context().run(socketio.test_client, app, flask_test_client=client)
    ack = contextvars.Context().run(sio.emit, "join_round_judges", {"round_id": prelim.id}, callback=True)
    assert ack["ok"] is True
    services.reissue_invitation(services.judge_of(prelim.id, judge).id, organizer, now=utcnow())
    db.session.commit()
    assert eventually(lambda: not sio.is_connected()), "the old pass's connection still hears the stage"


def test_an_invitation_expires(app, client, make_competition, judge_users):
    _, prelim, _, _ = make_competition()
    judge = services.judges_of(prelim.id)[0]
    judge.invite_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    refused = client.get(invite_path_sent_to_round(judge_users(prelim)[0].phone, prelim))
    assert refused.status_code == 410 and b'data-code="invite_expired"' in refused.data
    assert client.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 401


def test_a_pass_expires_and_signing_out_ends_it(app, client, make_competition, judge_users):
    _, prelim, _, _ = make_competition()
    path = invite_path_sent_to_round(judge_users(prelim)[0].phone, prelim)
    open_invitation(client, path)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client, f"/judging/rounds/{prelim.id}/judge")})
    assert client.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 401
    assert copy.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 401

    other = app.test_client()
    services.reissue_invitation(services.judges_of(prelim.id)[0].id, _organizer_of(prelim), now=utcnow())
    db.session.commit()
    open_invitation(other, invite_path_sent_to_round(judge_users(prelim)[0].phone, prelim))
    db.session.execute(sa.update(AuthSession).where(AuthSession.scope != "")
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert other.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 401


def test_a_pass_of_one_competition_opens_no_other(app, client, make_competition, judge_users):
    _, prelim, _, tokens = make_competition()
    _, other_prelim, _, _ = make_competition()  # the same judges' phones, another competition
    judge = judge_users(prelim)[0]
    open_invitation(client, f"/judging/invite/{tokens[services.judge_of(prelim.id, judge).id]}")
    assert client.get(f"/api/v1/rounds/{prelim.id}/judge").status_code == 200
    assert client.get(f"/api/v1/rounds/{other_prelim.id}/judge").status_code == 401


# ---- helpers ---------------------------------------------------------------------------------------------------

def _organizer_of(round_):
    from app.accounts.models import RoleGrant, User

    return db.session.scalars(sa.select(User).join(RoleGrant).where(
        RoleGrant.role == "organizer", RoleGrant.scope == f"competition:{round_.competition_id}")).first()


def _token_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def invite_path_sent_to_round(phone: str, round_) -> str:
    """The link of the last SMS to this phone that invited them to this round."""
    messages = db.session.scalars(sa.select(DevSmsMessage).where(DevSmsMessage.phone == phone)
                                  .order_by(DevSmsMessage.id.desc())).all()
    for message in messages:
        if round_.name in message.body:
            return re.search(r"(/judging/invite/[A-Za-z0-9_-]+)", message.body).group(1)
    raise AssertionError(f"no invitation to {round_.name} sent to {phone}")
