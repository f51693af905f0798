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

from flask import Flask
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.errors import DomainError, NotFound
from app.extensions import db, socketio

log = logging.getLogger(__name__)

JOIN = "join_checkin"
LEAVE = "leave_checkin"
COUNTERS = "checkin_counters"
_PENDING_KEY = "checkin.realtime.changed"
_COMMITTED_KEY = "checkin.realtime.committed"


def checkin_room(event_id: int) -> str:
    return f"event:{int(event_id)}:checkin"


def _event_id_from(data) -> int:
    value = data.get("event_id") if isinstance(data, dict) else data
    try:
        event_id = int(value)
    except (TypeError, ValueError):
        raise NotFound("event_not_found", "event_id") from None
    if event_id <= 0:
        raise NotFound("event_not_found", "event_id")
    return event_id


def on_join(data=None):
    """Join the door room of one event. Acknowledged with {"ok": true, "room", "counters"} or {"ok": false, "code",
    "message"} (also sent as an "error" event)."""
    from checkin import services

    try:
        event = services.event_of(_event_id_from(data))
        services.door_role(current_user, event)
    except DomainError as error:
        payload = {"code": error.code, "message": str(error.message)}
        emit("error", payload)
        return {"ok": False, **payload}
    room = checkin_room(event.id)
    join_room(room)
    return {"ok": True, "room": room, "counters": services.counters(event.id)}


def on_leave(data=None):
    try:
        leave_room(checkin_room(_event_id_from(data)))
    except DomainError:
        pass
    return {"ok": True}


def counters_changed(event_id: int) -> None:
    """Called by the services inside the transaction: announce this event's counters after it commits."""
    from app.after_commit import run_after_commit

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
    try:
        from checkin import services
        from checkin.models import Admission

        with session.get_bind(mapper=Admission).connect() as connection:
            numbers = [services.counters(event_id, connection) for event_id in sorted(committed)]
        for payload in numbers:
            socketio.emit(COUNTERS, payload, to=checkin_room(payload["event_id"]))
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
