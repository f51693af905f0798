"""Socket.IO: authenticated connections, one personal room per user, and the helpers other packages emit with.

Connections carry the page's session cookie, or a bearer token in the `auth` payload ({"token": "..."}) for
API clients. Rooms are joined through `authorize`, like any other request. Clients re-fetch state over HTTP
after a reconnect, so a missed broadcast costs nothing.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from flask_login import current_user, login_user
from flask_socketio import ConnectionRefusedError, emit, join_room

from app.errors import DomainError
from app.extensions import db, socketio

log = logging.getLogger(__name__)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def emit_to_user(user_id: int, event: str, payload: dict) -> None:
    """Send to every open page of one person, from any process (the Redis message queue carries it across)."""
    socketio.emit(event, payload, to=user_room(user_id))


def on_connect(auth=None):
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        from app.accounts.services import user_for_api_token
        from app.db_types import utcnow

        try:
            user, _recorded_use = user_for_api_token(token, now=utcnow())
        except DomainError:
            raise ConnectionRefusedError({"code": "invalid_token"}) from None
        db.session.commit()  # the use, if recorded; and no transaction stays open for the socket's lifetime
        login_user(user)  # into this connection's own session copy, not the browser's cookie
    elif not current_user.is_authenticated:
        raise ConnectionRefusedError({"code": "unauthorized"})
    join_room(user_room(current_user.id))
    emit("welcome", {"user_id": current_user.id, "room": user_room(current_user.id)})


def on_error(error):
    """Handlers raise the same DomainErrors as views; the client gets the same code and message."""
    from app.errors import rollback_quietly

    rollback_quietly()
    if isinstance(error, DomainError):
        emit("error", {"code": error.code, "message": str(error.message)})
        return
    log.exception("socket handler failed on %s", getattr(request, "event", None))
    emit("error", {"code": "internal_error", "message": "internal error"})


def init_app(app: Flask) -> None:
    socketio.on_event("connect", on_connect)
    socketio.on_error_default(on_error)
