"""Sign-ups for one event decided together: a group commit.

In a rush, hundreds of people tap "sign up" for the same salon within a second. Decided one by one, every sign-up
holds the event's lock (a row lock on PostgreSQL, the write lock on SQLite) through its own statements and its own
commit while all the others queue behind it, and in a threaded server the holder also queues for the interpreter
lock after every statement. Here the threads of this process that sign up for the same event at the same time join
one queue. The first becomes the leader: it checks and decides everyone queued so far in one transaction
(events.services.sign_up_many: one read of the event, one lock, a constant number of statements, one commit),
gives each their registration or the error that refuses it, and hands the next batch to the first person still
waiting, who leads it. Nobody waits for a timer: a lone sign-up is a batch of one, and a batch is whatever arrived
while the previous one was being decided. The queue's order is the arrival order; other processes' batches queue
on the database's lock as single sign-ups do.

A batch that fails keeps nothing (its transaction is rolled back) and everyone in it is decided alone, so an error
reaches the person it concerns.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached

from app.errors import DomainError
from app.extensions import commit_keeping_loaded, db
from events.models import Registration

log = logging.getLogger(__name__)

MAX_BATCH = 200  # sign-ups in one transaction: bounds the time the lock is held and the size of its statements


@dataclass(eq=False)
class _SignUp:
    user_id: int
    answers: dict | None
    now: datetime
    decided: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to decide the next batch rather than with an outcome
    outcome: dict | None = None  # the new registration's columns (neither this nor an error: decide it alone)
    position: int | None = None  # its place on the waitlist
    registration: Registration | None = None  # the new registration, in the leader's session (for the leader)
    error: DomainError | None = None  # what refuses it


@dataclass(eq=False)
class _Queue:
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[_SignUp] = field(default_factory=list)
    deciding: bool = False  # a leader is at work; whoever arrives meanwhile waits for the next batch


_queues: dict[tuple[object, int], _Queue] = {}  # (database engine, event id) -> its queue in this process
_queues_lock = threading.Lock()


def sign_up_together(event_id: int, user_id: int, *, answers: dict | None, now: datetime
                     ) -> Registration | DomainError | None:
    """A sign-up checked, decided and committed in a batch (events.services.sign_up_many). Returns the new
    registration, the error that refuses it, or None when it must be decided alone."""
    queue = _queue_of(event_id)
    me = _SignUp(user_id, answers, now)
    with queue.lock:
        queue.waiting.append(me)
        leads = not queue.deciding
        queue.deciding = True
    if not leads:
        commit_keeping_loaded()  # ends this request's reads: its connection goes back to the pool while it waits
        me.decided.wait()
        leads = me.leads
    if leads:
        _lead(event_id, queue, me)
        return me.registration if me.error is None else me.error
    if me.error is not None:
        return me.error
    return _adopt(me) if me.outcome is not None else None


def _queue_of(event_id: int) -> _Queue:
    key = (db.engine, event_id)
    with _queues_lock:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = _Queue()
        return queue


def _lead(event_id: int, queue: _Queue, me: _SignUp) -> None:
    """Decide the batch that starts with `me` (the first waiting), then hand the queue on."""
    with queue.lock:
        batch = queue.waiting[:MAX_BATCH]
        del queue.waiting[:MAX_BATCH]
    try:
        _decide(event_id, batch)
    finally:
        for sign_up in batch:
            if sign_up is not me:
                sign_up.decided.set()
        with queue.lock:
            if queue.waiting:
                queue.waiting[0].leads = True
                queue.waiting[0].decided.set()
            else:
                queue.deciding = False


def _decide(event_id: int, batch: list[_SignUp]) -> None:
    from events.services import sign_up_many

    try:
        registrations = sign_up_many(event_id, [(s.user_id, s.answers, s.now) for s in batch])
        if any(isinstance(r, Registration) for r in registrations):
            commit_keeping_loaded()
        else:
            db.session.rollback()
    except Exception:
        log.exception("deciding %d sign-ups of event %s together failed; each is decided alone", len(batch), event_id)
        db.session.rollback()
        return
    columns = [attribute.key for attribute in sa.inspect(Registration).column_attrs]
    for sign_up, registration in zip(batch, registrations, strict=True):
        if isinstance(registration, DomainError):
            sign_up.error = registration
            continue
        sign_up.registration = registration
        if registration is not None:
            sign_up.outcome = {key: getattr(registration, key) for key in columns}
            sign_up.position = registration.known_waitlist_position


def _adopt(sign_up: _SignUp) -> Registration:
    """The registration as the leader committed it, in this thread's session (no query, no copy of the leader's
    object, which belongs to the leader's session)."""
    registration = Registration(**sign_up.outcome)
    make_transient_to_detached(registration)
    db.session.add(registration)
    registration.known_waitlist_position = sign_up.position
    return registration
