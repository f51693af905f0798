"""Socket.IO: authenticated connections, one personal room per user, and the helpers other packages emit with.

Connections carry the page's session cookie, or a bearer token in the `auth` payload ({"token": "..."}) for
API clients. Rooms are joined through `join_authorised`, like any other request. Clients re-fetch state over HTTP
after a reconnect, so a missed broadcast costs nothing.

Open connections follow revocation (DESIGN.md, Trust). Each process remembers, per connection (sid), whose it is and
by which credential (the bearer token's id, or the cookie session's Flask-Login id), and for each room it joined the
function that authorised it. When a person's access changes (`app.accounts.signals.access_changed`: sign-out, a
revoked token, a blocked account, a removed role, a new judging duty), after COMMIT every process is told "recheck
user N" (through Redis pub/sub when REDIS_URL is set; in one process it is simply called) and checks each of that
person's connections again: a credential that no longer holds (token revoked, session ended, account blocked)
closes the connection; otherwise each room's own authorisation runs again, and the connection leaves every room it
may no longer be in (telling the page with `room_left`). A periodic sweep (REALTIME_RECHECK_SECONDS) is the safety
net for a message lost while Redis was away; after (re)subscribing, a process also rechecks all its connections.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app, request, session
from flask_login import current_user, login_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.accounts.auth import API_TOKEN_ID, device_passes
from app.accounts.models import User
from app.accounts.services import (
    live_pass_user_ids,
    user_and_token_id_for_api_token,
    user_for_api_token_id,
)
from app.accounts.signals import access_changed, profile_changed
from app.after_commit import run_after_commit
from app.db_types import utcnow
from app.errors import DomainError, rollback_quietly
from app.extensions import db, login_manager, socketio

log = logging.getLogger(__name__)

ROOM_LEFT = "room_left"  # sent to a connection taken out of a room: {"room", "code": "access_changed" | ...}
NAMESPACE = "/"
_PENDING_KEY = "app.realtime.access_changed"  # session.info: user ids whose access changed in this transaction
HOST_ID = uuid.uuid4().hex  # this process, so it ignores its own pub/sub messages (it has already acted)


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def emit_to_user(user_id: int, event: str, payload: dict) -> None:
    """Send to every open page of one person, from any process (the Redis message queue carries it across)."""
    socketio.emit(event, payload, to=user_room(user_id))


# ---- what this process remembers of its connections ----------------------------------------------------------------

@dataclass
class _Connection:
    app: Flask
    user_id: int
    credential: tuple[str, object]  # ("token", api token id), ("session", Flask-Login's id) or ("passes", tokens)
    rooms: dict[str, tuple[Callable, tuple]] = field(default_factory=dict)  # room -> (check, args)


_lock = threading.RLock()
_connections: dict[str, _Connection] = {}  # sid -> connection
_generations: dict[int, int] = {}  # user id -> how many rechecks began (a join racing a recheck sees it moved)
_idle = threading.Condition(_lock)
_rechecks_running = 0
_started: set[tuple[int, str]] = set()  # (id(app), what) background loops started in this process


def _generation(user_id: int) -> int:
    with _lock:
        return _generations.get(user_id, 0)


def join_authorised(room: str, check: Callable, *args):
    """Authorise with `check(current_user, *args)` (a DomainError refuses, and is raised to the caller), join `room`,
    and remember how it was authorised: whenever this person's access changes, the same `check` runs again with the
    person as they are then, and the connection leaves the room if it fails. Returns what `check` returned."""
    user_id = current_user.id if current_user.is_authenticated else None
    generation = _generation(user_id) if user_id is not None else 0
    result = check(current_user, *args)
    join_room(room)
    sid = request.sid
    with _lock:
        connection = _connections.get(sid)
        if connection is not None:
            connection.rooms[room] = (check, args)
    if connection is not None and _generation(user_id) != generation:
        # access changed while we were authorising with what was read before: check again with what is committed
        _recheck_soon(current_app._get_current_object(), [user_id])
    return result


def leave(room: str) -> None:
    """Leave a room joined with join_authorised (or never joined: nothing happens)."""
    leave_room(room)
    with _lock:
        connection = _connections.get(request.sid)
        if connection is not None:
            connection.rooms.pop(room, None)


# ---- connecting ------------------------------------------------------------------------------------------------------

def on_connect(auth=None):
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        try:
            user, token_id, _recorded_use = user_and_token_id_for_api_token(token, now=utcnow())
        except DomainError:
            raise ConnectionRefusedError({"code": "invalid_token"}) from None
        generation = _generation(user.id)
        db.session.commit()  # the use, if recorded; and no transaction stays open for the socket's lifetime

        user.auth_id = API_TOKEN_ID + token  # each event loads the user through the token: revoked, it stops
        login_user(user)  # into this connection's own session copy, not the browser's cookie
        credential = ("token", token_id)
    elif not current_user.is_authenticated:
        holder = _judge_pass_holder()
        if holder is None:
            raise ConnectionRefusedError({"code": "unauthorized"})
        # Judging only: it may join its round's judges room (judging.realtime), no more; no personal room. It is
        # remembered like any connection, so that a pass that ends (resent invitation, sign-out) closes it.
        user_id, passes = holder
        with _lock:
            _connections[request.sid] = _Connection(app=current_app._get_current_object(), user_id=user_id,
                                                    credential=("passes", passes))
        _start_background_loops(current_app._get_current_object())
        return
    else:
        generation = _generation(current_user.id)
        credential = ("session", session.get("_user_id") or current_user.get_id())
    user_id = current_user.id
    app = current_app._get_current_object()
    with _lock:
        _connections[request.sid] = _Connection(app=app, user_id=user_id, credential=credential)
    join_room(user_room(user_id))
    emit("welcome", {"user_id": user_id, "room": user_room(user_id)})
    _start_background_loops(app)
    if _generation(user_id) != generation:
        _recheck_soon(app, [user_id])


def on_disconnect(reason=None):
    with _lock:
        _connections.pop(request.sid, None)


def _judge_pass_holder() -> tuple[int, tuple[str, ...]] | None:
    """(the holder's user id, the device's pass tokens) when this device holds a live judge pass, else None."""
    passes = tuple(device_passes())
    holders = live_pass_user_ids(passes, now=utcnow()) if passes else set()
    db.session.commit()  # no transaction stays open for the socket's lifetime
    return (min(holders), passes) if holders else None


def on_error(error):
    """Handlers raise the same DomainErrors as views; the client gets the same code and message."""
    rollback_quietly()
    if isinstance(error, DomainError):
        emit("error", {"code": error.code, "message": str(error.message)})
        return
    log.exception("socket handler failed on %s", getattr(request, "event", None))
    emit("error", {"code": "internal_error", "message": "internal error"})


# ---- access changed: collected in the transaction, announced after COMMIT ------------------------------------------

def _on_access_changed(sender, *, user_id: int, **_extra) -> None:
    session_ = db.session()
    pending = session_.info.get(_PENDING_KEY)
    if pending is None:
        pending = session_.info[_PENDING_KEY] = set()
        app = current_app._get_current_object()
        run_after_commit(lambda: _committed(app, session_, pending), session_)
    pending.add(int(user_id))


@sa_event.listens_for(Session, "after_rollback")
@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session_: Session, *args) -> None:
    session_.info.pop(_PENDING_KEY, None)


def _committed(app: Flask, session_: Session, pending: set[int]) -> None:
    if session_.info.get(_PENDING_KEY) is pending:
        session_.info.pop(_PENDING_KEY)
    access_changed_for(app, sorted(pending))


def access_changed_for(app: Flask, user_ids: Iterable[int]) -> None:
    """Every process rechecks these people's connections: this one at once (in a background task), the others
    through Redis when REDIS_URL is set. Called after COMMIT (a receiver of access_changed does it for you)."""
    user_ids = sorted({int(i) for i in user_ids})
    if not user_ids:
        return
    _recheck_soon(app, user_ids)
    url = app.config.get("REDIS_URL")
    if url:
        try:
            redis_client(url).publish(_channel(app), json.dumps({"host": HOST_ID, "user_ids": user_ids}))
        except Exception:  # the sweep (REALTIME_RECHECK_SECONDS) catches up; nothing else can be done here
            log.exception("publishing access changes of %s failed", user_ids)


def close_rooms(app: Flask, rooms: Iterable[str], code: str) -> None:
    """Take every connection, in every process, out of these rooms at once, telling each page with `room_left`
    ({"room", "code"}: the page says why, e.g. "room_closed" when its event is cancelled). For rooms whose reason to
    exist has ended for everyone (not one person's access: access_changed_for); their join checks refuse anyone who
    tries again. Called after COMMIT."""
    rooms = sorted(set(rooms))
    if not rooms:
        return
    _close_rooms_here(app, rooms, code)
    url = app.config.get("REDIS_URL")
    if url:
        try:
            redis_client(url).publish(_channel(app), json.dumps({"host": HOST_ID, "close_rooms": rooms, "code": code}))
        except Exception:  # the other processes' connections leave at their next recheck (their join checks refuse)
            log.exception("publishing the closing of %s failed", rooms)


def _close_rooms_here(app: Flask, rooms: list[str], code: str) -> None:
    closing = set(rooms)
    with _lock:
        targets = [(sid, connection, sorted(closing & connection.rooms.keys()))
                   for sid, connection in _connections.items() if connection.app is app]
        for _sid, connection, left in targets:
            for room in left:
                connection.rooms.pop(room, None)
    for sid, _connection, left in targets:
        for room in left:
            socketio.server.leave_room(sid, room, namespace=NAMESPACE)
            socketio.server.emit(ROOM_LEFT, {"room": room, "code": code}, to=sid, namespace=NAMESPACE,
                                 ignore_queue=True)


def _channel(app: Flask) -> str:
    return f"{app.config['SOCKETIO_CHANNEL']}:access"


_redis_clients: dict[str, object] = {}


def redis_client(url: str):
    """One Redis client per URL in this process (thread-safe, pooled)."""
    import redis  # optional: only with REDIS_URL (several processes); one process never loads it

    with _lock:
        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        return client


def shared_redis(app: Flask):
    """The Redis client the processes of this deployment share (REDIS_URL), or None for a single process."""
    url = app.config.get("REDIS_URL")
    return redis_client(url) if url else None


def _recheck_soon(app: Flask, user_ids: list[int]) -> None:
    global _rechecks_running
    with _lock:
        if not any(c.app is app and c.user_id in user_ids for c in _connections.values()):
            return  # nobody of theirs is connected to this process (a CLI command, a worker)
        _rechecks_running += 1
    socketio.start_background_task(_recheck_task, app, user_ids)


def _recheck_task(app: Flask, user_ids: list[int]) -> None:
    global _rechecks_running
    try:
        recheck_users(app, user_ids)
    except Exception:
        log.exception("rechecking the connections of %s failed", user_ids)
    finally:
        with _idle:
            _rechecks_running -= 1
            _idle.notify_all()


def wait_until_rechecked(timeout: float = 5.0) -> bool:
    """Block until every recheck this process started has finished (tests, benchmarks)."""
    with _idle:
        return _idle.wait_for(lambda: _rechecks_running == 0, timeout=timeout)


def recheck_users(app: Flask, user_ids: Iterable[int]) -> None:
    """Check again every connection of these people to this process: close those whose credential no longer holds,
    take the others out of the rooms they may no longer be in."""
    user_ids = set(user_ids)
    with _lock:
        for user_id in user_ids:
            _generations[user_id] = _generations.get(user_id, 0) + 1
        targets = [(sid, c) for sid, c in _connections.items() if c.app is app and c.user_id in user_ids]
    if not targets:
        return
    with app.app_context():
        try:
            for sid, connection in targets:
                _recheck_connection(sid, connection)
                db.session.rollback()
        finally:
            db.session.remove()


def _recheck_connection(sid: str, connection: _Connection) -> None:
    try:
        user = _holder(connection)
    except Exception:  # cannot tell: close it (the client reconnects and is authenticated afresh)
        log.exception("checking the credential of connection %s failed", sid)
        user = None
    if user is None:
        with _lock:
            _connections.pop(sid, None)
        socketio.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
        return
    with _lock:
        rooms = list(connection.rooms.items())
    for room, (check, args) in rooms:
        try:
            check(user, *args)
            continue
        except DomainError:
            pass
        except Exception:  # cannot tell: leave (the page may join again, through the same check)
            log.exception("rechecking room %s of connection %s failed", room, sid)
        with _lock:
            connection.rooms.pop(room, None)
        socketio.server.leave_room(sid, room, namespace=NAMESPACE)
        socketio.server.emit(ROOM_LEFT, {"room": room, "code": "access_changed"}, to=sid, namespace=NAMESPACE,
                             ignore_queue=True)


def _holder(connection: _Connection):
    """The active person this connection's credential still stands for, or None."""
    kind, value = connection.credential
    if kind == "token":
        user = user_for_api_token_id(value)
    elif kind == "passes":  # a judge pass's connection: its rooms' checks decide what the pass still allows

        live = connection.user_id in live_pass_user_ids(value, now=utcnow())
        user = db.session.get(User, connection.user_id) if live else None
    else:
        user = login_manager._user_callback(value) if value is not None else None  # the app's user loader
    if user is None or not user.is_active or user.id != connection.user_id:
        return None
    return user


# ---- across processes: the Redis subscriber, and the periodic safety net ---------------------------------------------

def _start_background_loops(app: Flask) -> None:
    wanted = []
    if app.config.get("REDIS_URL"):
        wanted.append(("subscriber", _subscribe))
    if app.config.get("REALTIME_RECHECK_SECONDS", 0) > 0:
        wanted.append(("sweep", _sweep))
    for name, loop in wanted:
        with _lock:
            if (id(app), name) in _started:
                continue
            _started.add((id(app), name))
        socketio.start_background_task(loop, app)


def _subscribe(app: Flask) -> None:
    """Listen for "recheck user N" from the other processes; after each (re)subscription recheck everyone here,
    since a message may have been missed while Redis was away."""
    import redis  # optional: only with REDIS_URL (several processes); one process never loads it

    url, channel, backoff = app.config["REDIS_URL"], _channel(app), 0.5
    while True:
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
            pubsub = client.pubsub()
            pubsub.subscribe(channel)
            for message in pubsub.listen():
                backoff = 0.5
                try:
                    if message["type"] == "subscribe":
                        recheck_users(app, _local_user_ids(app))
                    elif message["type"] == "message":
                        heard_from_another_process(app, json.loads(message["data"]))
                except Exception:
                    log.exception("handling the access change %r failed", message.get("data"))
        except Exception:
            log.exception("the access-change subscriber lost Redis; subscribing again in %.1f s", backoff)
        socketio.sleep(backoff)
        backoff = min(backoff * 2, 10.0)


def heard_from_another_process(app: Flask, data: dict) -> None:
    """What another process published on the access channel: close rooms, or recheck people's connections (this
    process's own messages are ignored: it has acted already)."""
    if data.get("host") == HOST_ID:
        return
    if "close_rooms" in data:
        _close_rooms_here(app, [str(r) for r in data["close_rooms"]], str(data.get("code")))
    else:
        recheck_users(app, [int(i) for i in data.get("user_ids", [])])


def _sweep(app: Flask) -> None:
    interval = app.config["REALTIME_RECHECK_SECONDS"]
    while True:
        socketio.sleep(interval)
        try:
            recheck_users(app, _local_user_ids(app))
        except Exception:
            log.exception("the periodic recheck of connections failed")


def _local_user_ids(app: Flask) -> set[int]:
    with _lock:
        return {c.user_id for c in _connections.values() if c.app is app}


def _on_profile_changed(sender, *, user_id: int, **_extra) -> None:
    """Every open page and app of this person (on any server process) hears that the profile changed, after COMMIT."""
    run_after_commit(lambda: emit_to_user(user_id, "profile_updated", {"user_id": user_id}))


def init_app(app: Flask) -> None:
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_error_default(on_error)
    access_changed.connect(_on_access_changed)  # blinker keeps one connection per receiver, however many apps
    profile_changed.connect(_on_profile_changed)
