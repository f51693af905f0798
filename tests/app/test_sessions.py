"""Sessions that end (issue 16): every sign-in is a row; its cookies hold that row's token, never the user id, so
signing out (here, or everywhere) ends every copy of them at once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts import services
from app.accounts.models import AuthSession, User
from app.accounts.signals import access_changed
from app.db_types import utcnow
from app.extensions import db
from tests.app.test_sign_in_pages import PHONE, post_code, post_phone
from tests.conftest import csrf_token_from, empty_all_tables, last_sms_code, sign_in

REMEMBER = "remember_token"


def signed_in_with_code(client):
    """The full phone-and-code flow, as on a phone."""
    post_phone(client)
    response = post_code(client, last_sms_code(PHONE))
    assert response.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.phone == PHONE)).one()
    if not user.profile_complete:
        services.update_profile(user, name="林晓舟", now=utcnow())
        db.session.commit()
    return user


def cookies_of(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", REMEMBER) if client.get_cookie(name)}


def replay(app, cookies: dict[str, str]):
    """A stranger's browser with copies of these cookies."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def who(client) -> int:
    """200 with the person's id from the API, or the status of an anonymous request (401)."""
    response = client.get("/api/v1/me")
    return response.get_json()["id"] if response.status_code == 200 else response.status_code


def test_the_cookies_hold_a_sign_in_token_never_the_user_id(app, client):
    user = signed_in_with_code(client)
    cookies = cookies_of(client)
    assert REMEMBER in cookies and not cookies[REMEMBER].startswith(f"{user.id}|")
    rows = db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == user.id)).all()
    assert len(rows) == 1 and rows[0].ended_at is None and rows[0].scope == ""
    assert who(client) == user.id
    assert who(replay(app, {REMEMBER: cookies[REMEMBER]})) == user.id  # the remember cookie alone still works
    second = app.test_client()
    signed_in_with_code(second)
    assert cookies_of(second)[REMEMBER] != cookies[REMEMBER]  # a new token at every sign-in
    assert len(db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == user.id)).all()) == 2


def test_signing_out_ends_every_copy_of_that_devices_cookies(app, client):
    user = signed_in_with_code(client)
    copied = cookies_of(client)
    assert who(replay(app, copied)) == user.id
    heard = []
    with access_changed.connected_to(lambda sender, **kw: heard.append(kw["user_id"])):
        client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})
    assert heard == [user.id]
    assert who(client) == 401
    assert who(replay(app, copied)) == 401
    assert who(replay(app, {"session": copied["session"]})) == 401
    assert who(replay(app, {REMEMBER: copied[REMEMBER]})) == 401
    assert replay(app, copied).get("/profile").status_code == 302  # the page sends them to sign in


def test_signing_out_on_one_device_leaves_the_others_signed_in(app, client):
    user = signed_in_with_code(client)
    laptop = app.test_client()
    signed_in_with_code(laptop)
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client)})
    assert who(laptop) == user.id and who(client) == 401


def test_sign_out_everywhere_ends_every_session_and_api_token(app, client):
    user = signed_in_with_code(client)
    laptop = app.test_client()
    signed_in_with_code(laptop)
    laptop_cookies = cookies_of(laptop)
    token = services.issue_api_token(user, name="扫码枪", now=utcnow())
    db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = client.get("/profile").get_data(as_text=True)
    assert 'action="/auth/logout-everywhere"' in page and "退出所有设备" in page

    heard = []
    with access_changed.connected_to(lambda sender, **kw: heard.append(kw["user_id"])):
        response = client.post("/auth/logout-everywhere", data={"csrf_token": csrf_token_from(client, "/profile")})
    assert response.status_code == 302 and user.id in heard
    assert who(client) == 401 and who(laptop) == 401 and who(replay(app, laptop_cookies)) == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthSession)
                             .where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))) == 0


def test_sign_out_everywhere_needs_a_sign_in_and_its_csrf_token(app, client, create_resident):
    assert client.post("/auth/logout-everywhere").status_code in (302, 400, 401)
    user = create_resident()
    sign_in(client, user)
    assert client.post("/auth/logout-everywhere").status_code == 400  # no CSRF token: refused, nothing ended
    assert who(client) == user.id


def test_a_blocked_account_is_not_loaded_from_its_cookies(app, client):
    user = signed_in_with_code(client)
    user.is_active_account = False
    db.session.commit()
    assert who(client) == 401


def test_a_sign_in_unused_for_a_month_ends(app, client, create_resident):
    user = create_resident()
    sign_in(client, user)
    db.session.execute(sa.update(AuthSession).values(last_seen_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    assert who(client) == 401


def test_the_last_use_is_recorded_coarsely_not_on_every_request(app, client, create_resident):
    user = create_resident()
    sign_in(client, user)
    row = db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == user.id)).one()
    long_ago = utcnow() - timedelta(hours=1)
    db.session.execute(sa.update(AuthSession).values(last_seen_at=long_ago))
    db.session.commit()
    assert who(client) == user.id
    db.session.expire_all()
    seen = db.session.get(AuthSession, row.id).last_seen_at
    assert seen > long_ago
    assert who(client) == user.id  # a moment later: nothing written
    db.session.expire_all()
    assert db.session.get(AuthSession, row.id).last_seen_at == seen


def test_auth_cookies_are_secure_httponly_and_lax_when_the_site_is_https(app_config):
    from app import create_app

    app_config.SESSION_COOKIE_SECURE = True
    app = create_app(app_config)
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    client = app.test_client()
    with app.app_context():
        try:
            post_phone(client)
            response = post_code(client, last_sms_code(PHONE))
        finally:  # this app is not the `app` fixture: leave the database as the next test expects it
            db.session.remove()
            empty_all_tables()
            db.engine.dispose()
    headers = [h for h in response.headers.getlist("Set-Cookie")]
    for name in ("session", REMEMBER):
        header = next(h for h in headers if h.startswith(name + "="))
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header, header
