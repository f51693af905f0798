"""Live door counters: every scanner page of an event joins the room `event:<id>:checkin` (authorised like any
request: stewards, supervisors and organizers of that event) and hears `checkin_counters` whenever a scan admits
or lets out someone, at any gate, in any process (the Socket.IO message queue carries it).

As in events/realtime.py, changes are collected during the transaction and announced only after COMMIT, once the
transaction has ended and returned its connection (reading earlier would hold a second pooled connection during a
rush). A rolled-back scan is never announced. Several scans in one transaction cost one read per event. Clients
re-fetch /api/v1/events/<id>/checkins/counters after a reconnect, so a missed message costs nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app
from flask_socketio import emit
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

# Imported before this module's listeners are registered, so app.after_commit's after_transaction_end (which runs
# _committed below) always runs before ours (SQLAlchemy calls listeners in the order they were registered).
from app.after_commit import run_after_commit
from app.errors import DomainError
from app.extensions import db, socketio
from app.realtime import join_authorised, leave
from checkin import door, numbers
from events.realtime import event_id_from

log = logging.getLogger(__name__)

JOIN = "join_checkin"
LEAVE = "leave_checkin"
COUNTERS = "checkin_counters"
_PENDING_KEY = "checkin.realtime.changed"
_COMMITTED_KEY = "checkin.realtime.committed"


def checkin_room(event_id: int) -> str:
    return f"event:{int(event_id)}:checkin"


def may_hear_counters(user, event_id: int):
    """Who may be in an event's door room: its stewards, supervisors and organizers (checked at the join, and again
    whenever their access changes, app.realtime). Returns the event."""
    event = door.event_of(event_id)
    door.door_role(user, event)
    return event


def on_join(data=None):
    """Join the door room of one event. Acknowledged with {"ok": true, "room", "counters"} or {"ok": false, "code",
    "message"} (also sent as an "error" event)."""
    try:
        event_id = event_id_from(data)
        event = join_authorised(checkin_room(event_id), may_hear_counters, event_id)
    except DomainError as error:
        payload = {"code": error.code, "message": str(error.message)}
        emit("error", payload)
        return {"ok": False, **payload}
    return {"ok": True, "room": checkin_room(event.id), "counters": numbers.counters(event.id)}


def on_leave(data=None):
    try:
        leave(checkin_room(event_id_from(data)))
    except DomainError:
        pass
    return {"ok": True}


def counters_changed(event_id: int) -> None:
    """Called by the services inside the transaction: announce this event's counters after it commits."""
    session = db.session()
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = set()
        run_after_commit(lambda: _committed(session, pending), session)
    pending.add(event_id)


def _committed(session: Session, pending: set) -> None:
    if session.info.get(_PENDING_KEY) is pending:
        session.info.pop(_PENDING_KEY)
    session.info.setdefault(_COMMITTED_KEY, set()).update(pending)


@sa_event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None or not session.info.get(_COMMITTED_KEY):
        return
    committed = session.info.pop(_COMMITTED_KEY)
    app = current_app._get_current_object()
    interval = app.config.get("CHECKIN_COUNTERS_INTERVAL", 0.0 if app.testing else 0.25)
    for event_id in sorted(committed):
        _announce_soon(app, event_id, interval)


# At 9 a.m. a gate admits several people a second: reading and sending the counters after every scan would cost
# more than the scan. Each process announces an event's counters at once when it has not done so for `interval`
# seconds, otherwise once more at the end of that interval (so the last change is always sent), never more often.
_throttle_lock = threading.Lock()
_last_announced: dict[int, float] = {}
_scheduled: set[int] = set()


def _announce_soon(app, event_id: int, interval: float) -> None:
    now = time.monotonic()
    with _throttle_lock:
        if event_id in _scheduled:
            return  # a trailing announcement is on its way and will read the numbers as they are then
        wait = _last_announced.get(event_id, float("-inf")) + interval - now
        if wait <= 0:
            _last_announced[event_id] = now
        else:
            _scheduled.add(event_id)
    if wait <= 0:
        _announce(app, event_id)
    else:
        timer = threading.Timer(wait, _announce_later, (app, event_id))
        timer.daemon = True
        timer.start()


def _announce_later(app, event_id: int) -> None:
    with _throttle_lock:
        _scheduled.discard(event_id)
        _last_announced[event_id] = time.monotonic()
    with app.app_context():
        _announce(app, event_id)


def _announce(app, event_id: int) -> None:
    try:
        with db.engine.connect() as connection:
            payload = numbers.counters(event_id, connection)
        socketio.emit(COUNTERS, payload, to=checkin_room(event_id))
    except Exception:  # the scan is committed; a lost broadcast only delays a counter (clients re-fetch)
        log.exception("announcing check-in counters failed")


@sa_event.listens_for(Session, "after_rollback")
@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, *args) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_COMMITTED_KEY, None)


def init_app(app: Flask) -> None:
    socketio.on_event(JOIN, on_join)
    socketio.on_event(LEAVE, on_leave)
