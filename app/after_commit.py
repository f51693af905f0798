"""Side effects (jobs, socket emits, pushes) that run only once the database transaction has committed.

A rule that promises a side effect registers it with `run_after_commit`; it runs after COMMIT and is dropped on
ROLLBACK, so nobody is told about something that did not happen, and no job starts before its rows exist.

The callbacks run once the committed transaction has ended and its connection is back in the pool, not in the
middle of COMMIT: a callback that reads the database (a job run at once, in tests and in the embedded default)
then takes a connection of its own without the request still holding one. Two connections per request exhausted
the pool under a sign-up rush, and every request thread waited for the others: a deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
_KEY = "beiyang.after_commit"
_COMMITTED_KEY = "beiyang.after_commit.committed"


def run_after_commit(callback: Callable[[], object], session: Session | None = None) -> None:
    """Queue `callback` to run after the current transaction of `session` (default: db.session) commits."""
    session = session or db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, too, is seen and drops the callback
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    callbacks = session.info.pop(_KEY, [])
    if callbacks:
        session.info.setdefault(_COMMITTED_KEY, []).extend(callbacks)


@event.listens_for(Session, "after_transaction_end")
def _run_callbacks(session: Session, transaction) -> None:
    if transaction.parent is not None or _COMMITTED_KEY not in session.info:
        return
    callbacks = session.info.pop(_COMMITTED_KEY)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failed side effect must not hide the others; the data is already committed
            log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_callbacks(session: Session, *args) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_COMMITTED_KEY, None)
