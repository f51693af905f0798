"""Live arrival: a new message appears at once on every open page of its recipient (the personal room
`user:<id>` that app.realtime joins on connect). Called after COMMIT only; the payload is the message itself, so no
query runs here. Pages re-fetch the inbox and the unread count over HTTP after a reconnect: a missed emit costs
nothing."""

from __future__ import annotations

import logging

from app.extensions import socketio
from app.realtime import emit_to_user, user_room

log = logging.getLogger(__name__)

NEW_EVENT = "notification"
READ_EVENT = "notifications_read"


def announce(created: list[dict]) -> None:
    """Each new message to its recipient's open pages: one emit (one Redis publish) per message. A transaction
    that wrote several (sign-ups decided together) hands them to a background task, so that whoever committed (a
    batch's leader, which the next batch waits for) does not wait on the publishes."""
    if len(created) > 1:
        socketio.start_background_task(_announce_each, created)
    else:
        _announce_each(created)


def _announce_each(created: list[dict]) -> None:
    for payload in created:
        try:
            emit_to_user(payload["user_id"], NEW_EVENT, payload)
        except Exception:  # committed already; the page catches up on its next fetch
            log.exception("live notification to user %s failed", payload.get("user_id"))


def tell_read(user_id: int) -> None:
    """The person read messages on one device: their other pages refresh their badge."""
    emit_to_user(user_id, READ_EVENT, {"user_id": user_id})


def announce_to_many(user_ids: list[int], payload: dict) -> None:
    """One message to many people's open pages at once (an announcement's chunk): one emit addressed to all their
    personal rooms, not one per person (a thousand Redis publishes per chunk cost more than writing the rows). The
    payload is the same for all, so it carries the announcement, not each person's message id."""
    if not user_ids:
        return
    try:
        socketio.emit(NEW_EVENT, payload, to=[user_room(user_id) for user_id in user_ids])
    except Exception:  # committed already; the pages catch up on their next fetch
        log.exception("live announcement to %d people failed", len(user_ids))
