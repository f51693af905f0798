"""Socket.IO: authenticated connections and personal rooms, with Flask-SocketIO's test client."""

import contextvars

import pytest

from app.accounts.services import issue_api_token
from app.db_types import utcnow
from app.extensions import db, socketio
from app.realtime import emit_to_user
from tests.conftest import csrf_token_from, sign_in


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
