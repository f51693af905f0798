"""Socket.IO: authenticated connections and personal rooms, with Flask-SocketIO's test client."""

import contextvars

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db, socketio
from app.realtime import emit_to_user
from tests.conftest import csrf_token_from, eventually, sign_in, socket_rooms


def received(client, name):
    """Payloads of the events `name` this client got (the test client unwraps a single argument)."""
    events = [event for event in client.get_received() if event["name"] == name]
    return [e["args"][0] if isinstance(e["args"], list) else e["args"] for e in events]


def connect(app, http=None, auth=None):
    """Connect in a fresh context, as a real connection would be (not inside the test's app context)."""
    return contextvars.Context().run(socketio.test_client, app, flask_test_client=http, auth=auth)


def test_an_anonymous_connection_is_refused(app, client):
    sio = connect(app, client)
    assert not sio.is_connected()


def test_a_signed_in_page_joins_its_personal_room(app, client, create_resident):
    user = create_resident()
    sign_in(client, user)
    sio = connect(app, client)
    assert sio.is_connected()
    assert received(sio, "welcome")[0] == {"user_id": user.id, "room": f"user:{user.id}"}
    emit_to_user(user.id, "message", {"text": "你好"})
    assert received(sio, "message")[0] == {"text": "你好"}


def test_personal_messages_reach_only_their_person(app, create_resident):
    alice, bob = create_resident(), create_resident()
    clients = {}
    for user in (alice, bob):
        http = app.test_client()
        sign_in(http, user)
        clients[user.id] = connect(app, http)
        clients[user.id].get_received()
    emit_to_user(alice.id, "message", {"text": "only alice"})
    assert received(clients[alice.id], "message") and not received(clients[bob.id], "message")


def test_api_clients_connect_with_a_bearer_token(app, create_resident):
    user = create_resident()
    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    sio = connect(app, auth={"token": token})
    assert sio.is_connected()
    assert received(sio, "welcome")[0]["user_id"] == user.id


@pytest.mark.parametrize("token", ["bye_forged", ""])
def test_a_bad_token_is_refused(app, token):
    assert not connect(app, auth={"token": token}).is_connected()


def test_saving_the_profile_tells_the_persons_other_pages(app, client, create_resident):
    user = create_resident()
    sign_in(client, user)
    sio = connect(app, client)
    sio.get_received()
    client.patch("/api/v1/me", json={"name": "新名字", "persona": "founder"},
                 headers={"X-CSRFToken": csrf_token_from(client)})
    assert received(sio, "profile_updated")[0] == {"user_id": user.id}


# ---- open connections follow revocation (DESIGN.md, Trust) -----------------------------------------------------

def test_a_revoked_token_closes_the_connection_it_opened_and_no_other(app, create_resident):
    user = create_resident()
    revoked = issue_api_token(user, name="旧手机", now=utcnow())
    kept = issue_api_token(user, name="扫码枪", now=utcnow())
    db.session.commit()
    old_phone, scanner = connect(app, auth={"token": revoked}), connect(app, auth={"token": kept})
    assert old_phone.is_connected() and scanner.is_connected()
    response = app.test_client().delete("/api/v1/auth/tokens/current", headers={"Authorization": f"Bearer {revoked}"})
    assert response.status_code == 204
    assert eventually(lambda: not old_phone.is_connected()), "the revoked token's connection is still open"
    assert socket_rooms(old_phone) == set()
    assert scanner.is_connected() and f"user:{user.id}" in socket_rooms(scanner)
    emit_to_user(user.id, "message", {"text": "still here"})
    assert received(scanner, "message") == [{"text": "still here"}]


def test_revoking_every_token_of_a_person_closes_their_token_connections(app, create_resident):
    from app.accounts.services import revoke_all_api_tokens

    user, other = create_resident(), create_resident()
    tokens = [issue_api_token(user, now=utcnow()), issue_api_token(user, now=utcnow())]
    others = issue_api_token(other, now=utcnow())
    db.session.commit()
    mine = [connect(app, auth={"token": token}) for token in tokens]
    theirs = connect(app, auth={"token": others})
    revoke_all_api_tokens(user, now=utcnow())
    db.session.commit()
    assert eventually(lambda: not any(sio.is_connected() for sio in mine))
    assert theirs.is_connected()


def test_a_blocked_accounts_connections_are_dropped_cookie_and_token(app, client, create_resident):
    from app.accounts.services import set_account_active

    user, bystander = create_resident(), create_resident()
    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    sign_in(client, user)
    page, app_client = connect(app, client), connect(app, auth={"token": token})
    other = app.test_client()
    sign_in(other, bystander)
    bystanders_page = connect(app, other)
    assert page.is_connected() and app_client.is_connected()
    set_account_active(user, False)
    db.session.commit()
    assert eventually(lambda: not page.is_connected() and not app_client.is_connected())
    assert bystanders_page.is_connected()
    assert not connect(app, auth={"token": token}).is_connected()  # and it cannot come back


def test_a_rolled_back_block_drops_nobody(app, client, create_resident):
    from app.accounts.services import set_account_active
    from app.realtime import wait_until_rechecked

    user = create_resident()
    sign_in(client, user)
    page = connect(app, client)
    set_account_active(user, False)
    db.session.rollback()
    assert wait_until_rechecked(5)
    assert page.is_connected() and f"user:{user.id}" in socket_rooms(page)


def test_signing_out_drops_the_pages_connection_but_not_the_apps(app, client, create_resident):
    """The page's sign-out ends its session row and sends access_changed: the connection that page opened with
    the cookie closes; the app's connection, opened with its own bearer token, stays."""
    user = create_resident()
    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    sign_in(client, user)
    page, app_client = connect(app, client), connect(app, auth={"token": token})
    assert page.is_connected() and app_client.is_connected()
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client, "/")})
    assert eventually(lambda: not page.is_connected()), "the signed-out page's connection is still open"
    assert app_client.is_connected()
