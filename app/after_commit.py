"""Side effects (jobs, socket emits, pushes) that run only once the database transaction has committed.

A rule that promises a side effect registers it with `run_after_commit`; it runs after COMMIT and is dropped on
ROLLBACK, so nobody is told about something that did not happen, and no job starts before its rows exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
_KEY = "beiyang.after_commit"


def run_after_commit(callback: Callable[[], object], session: Session | None = None) -> None:
    """Queue `callback` to run after the current transaction of `session` (default: db.session) commits."""
    session = session or db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, too, is seen and drops the callback
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    callbacks = session.info.pop(_KEY, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failed side effect must not hide the others; the data is already committed
            log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_callbacks(session: Session, *args) -> None:
    session.info.pop(_KEY, None)
