"""Live registrations for organizers: a page of an event's organizers joins the room `event:<id>:organizers`
(authorised with events.services.reading.authorize_organizer, like every other organizer request) and hears
`registration_changed` whenever someone signs up, cancels, is approved, rejected, promoted, offered a seat or drawn.

The registration signals (events/signals.py) are sent inside the service's transaction. Here they are only
collected; once that transaction has COMMITTED and ended (app.after_commit), the changes wait a moment
(ANNOUNCE_DELAY_SECONDS) so that everything committed meanwhile in this process goes out together: each event's
changed registrations are read back with the event's counts and emitted, one message per registration, in arrival
order: {event_id, registration_id, status, counts}. Under a rush of hundreds of sign-ups a second this costs two
queries per event per batch instead of two per sign-up, and the organizer's page is not flooded. A rolled-back
sign-up is never announced. Emits go through the Socket.IO message queue when one is configured, so organizers
connected to another process hear them too. Clients re-fetch over HTTP after a reconnect: a missed message costs
nothing.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from flask import Flask
from flask_socketio import emit
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.after_commit import run_after_commit
from app.errors import DomainError, NotFound
from app.extensions import db, socketio
from app.inputs import parse_id
from app.realtime import join_authorised, leave
from events import signals
from events.models import REGISTRATION_STATUSES, Event, Registration
from events.services import reading

log = logging.getLogger(__name__)

JOIN_EVENT = "join_event_organizers"
LEAVE_EVENT = "leave_event_organizers"
CHANGED_EVENT = "registration_changed"
_PENDING_KEY = "events.realtime.changed"  # session.info: {event_id: [registration ids]} changed in this transaction
ANNOUNCE_DELAY_SECONDS = 0.1

_batches: dict[object, dict[int, list[int]]] = {}  # database (engine) -> {event_id: [registration ids]} to announce
_batches_lock = threading.Lock()

REGISTRATION_SIGNALS = (
    signals.registration_confirmed, signals.registration_waitlisted, signals.registration_pending,
    signals.registration_entered_lottery, signals.registration_approved, signals.registration_rejected,
    signals.registration_promoted, signals.registration_offered, signals.registration_offer_expired,
    signals.registration_cancelled,
)


def organizers_room(event_id: int) -> str:
    return f"event:{int(event_id)}:organizers"


# ---- joining the room ---------------------------------------------------------------------------------------------

def event_id_from(data) -> int:
    """The event a Socket.IO join/leave names ({"event_id": 5} or 5); event_not_found for anything else."""
    value = data.get("event_id") if isinstance(data, dict) else data
    try:
        return parse_id(value)  # a positive int within the database's range (app.inputs)
    except ValueError:
        raise NotFound("event_not_found", "event_id") from None


def may_hear_registrations(user, event_id: int) -> Event:
    """Who may be in an event's organizers' room: its organizers (checked at the join, and again whenever their
    access changes, app.realtime)."""
    return reading.organized_event(event_id, user)


def on_join(data=None):
    """Join the organizers' room of one event. The acknowledgement says whether it worked: {"ok": true, "room",
    "counts"} or {"ok": false, "code", "message"} (also sent as an "error" event, as every refused handler does)."""
    try:
        event_id = event_id_from(data)
        event = join_authorised(organizers_room(event_id), may_hear_registrations, event_id)
    except DomainError as error:
        payload = {"code": error.code, "message": str(error.message)}
        emit("error", payload)
        return {"ok": False, **payload}
    return {"ok": True, "room": organizers_room(event.id), "event_id": event.id, **_snapshot(event.id)}


def on_leave(data=None):
    try:
        leave(organizers_room(event_id_from(data)))
    except DomainError:
        pass
    return {"ok": True}


def _snapshot(event_id: int) -> dict:
    counts = dict.fromkeys(REGISTRATION_STATUSES, 0)
    counts.update(reading.registration_counts(event_id))
    seats = db.session.execute(sa.select(Event.seats_taken, Event.capacity).where(Event.id == event_id)).one()
    return {"counts": counts, "seats_taken": seats.seats_taken, "capacity": seats.capacity}


# ---- announcing changes after commit -------------------------------------------------------------------------------

def _on_registration_signal(sender, *, registration_id: int, event_id: int, **_extra) -> None:
    """Collect what changed in this transaction; the first change books the after-commit step."""
    session = db.session()
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = {}
        run_after_commit(lambda: _committed(session, pending), session)
    changed = pending.setdefault(event_id, [])
    if registration_id not in changed:
        changed.append(registration_id)


def _on_registrations_signed_up(sender, *, event_id: int, registrations: list[dict], **_extra) -> None:
    for registration in registrations:
        _on_registration_signal(sender, registration_id=registration["registration_id"], event_id=event_id)


def _committed(session: Session, pending: dict) -> None:
    """COMMIT succeeded and the transaction has ended (app.after_commit): add the changes to this database's batch.
    The batch is read in a thread of its own a moment later (reading before COMMIT would lengthen the time the
    event's row lock is held, which every sign-up waits for)."""
    if session.info.get(_PENDING_KEY) is pending:
        session.info.pop(_PENDING_KEY)
    bind = session.get_bind(mapper=Registration)
    with _batches_lock:
        first = bind not in _batches
        batch = _batches.setdefault(bind, {})
        for event_id, registration_ids in pending.items():
            known = batch.setdefault(event_id, [])
            known.extend(i for i in registration_ids if i not in known)
    if first:
        socketio.start_background_task(_announce_batch, bind)


def _announce_batch(bind) -> None:
    socketio.sleep(ANNOUNCE_DELAY_SECONDS)
    with _batches_lock:
        batch = _batches.pop(bind, {})
    try:
        _announce(bind, batch)
    except Exception:  # the data is committed; a lost broadcast only delays a page (it re-fetches on reconnect)
        log.exception("announcing registration changes failed")


def _announce(bind, committed: dict) -> None:
    messages = []
    with bind.connect() as connection:
        for event_id, registration_ids in committed.items():
            statuses = dict(connection.execute(
                sa.select(Registration.id, Registration.status).where(Registration.id.in_(registration_ids))).all())
            counts = dict.fromkeys(REGISTRATION_STATUSES, 0)
            counts.update(connection.execute(
                sa.select(Registration.status, sa.func.count()).where(Registration.event_id == event_id)
                .group_by(Registration.status)).all())
            messages.extend((event_id, {"event_id": event_id, "registration_id": registration_id,
                                        "status": statuses[registration_id], "counts": counts})
                            for registration_id in registration_ids if registration_id in statuses)
    for event_id, payload in messages:
        socketio.emit(CHANGED_EVENT, payload, to=organizers_room(event_id))


@sa_event.listens_for(Session, "after_rollback")
@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, *args) -> None:
    """Nothing rolled back is announced; the next transaction collects afresh (app.after_commit drops the
    callback at the same moment)."""
    session.info.pop(_PENDING_KEY, None)


def init_app(app: Flask) -> None:
    socketio.on_event(JOIN_EVENT, on_join)
    socketio.on_event(LEAVE_EVENT, on_leave)
    for signal in REGISTRATION_SIGNALS:
        signal.connect(_on_registration_signal)  # blinker keeps one connection per receiver, however many apps
    signals.registrations_signed_up.connect(_on_registrations_signed_up)
