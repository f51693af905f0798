"""A person's inbox: their messages, the unread count, marking read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.after_commit import run_after_commit
from app.errors import NotFound
from app.extensions import db
from notifications import realtime
from notifications.models import Notification


def inbox(user_id: int, *, unread_only: bool = False, before_id: int | None = None, limit: int = 30
          ) -> list[Notification]:
    """One person's messages, newest first; page with `before_id` (the smallest id of the previous page)."""
    query = sa.select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id:
        query = query.where(Notification.id < before_id)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(max(1, min(limit, 100)))))


def unread_count(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))


def get_own_notification(notification_id: int, user_id: int) -> Notification:
    """A message of this person; someone else's answers exactly like one that does not exist."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("notification_not_found", _l("This message does not exist."))
    return notification


def mark_read(user_id: int, notification_ids: Iterable[int] | None = None, *, now: datetime) -> int:
    """Mark some (or, with None, all) of a person's messages read. Only their own; already-read ones keep their
    first read time. Returns how many changed."""
    query = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_ids is not None:
        ids = [int(i) for i in notification_ids]
        if not ids:
            return 0
        query = query.where(Notification.id.in_(ids))
    changed = db.session.execute(query.values(read_at=now).execution_options(synchronize_session=False)).rowcount
    if changed:
        count_user = user_id
        run_after_commit(lambda: realtime.tell_read(count_user))
    return changed
