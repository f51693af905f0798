"""Lotteries: an event whose seats are drawn. Sign-ups before the draw enter it (events.services.registration);
the seed is committed when the lottery is set up (its hash published) and revealed at the draw, and the published
rule ranks the entries, so anyone can recompute the result."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.extensions import db
from app.locking import lock_event
from events import signals
from events.models import Event, LotterySecret, Registration
from events.services.reading import get_event
from events.services.seats import send, status_signal, take_seat


def lottery_order_key(seed: str, registration_id: int) -> str:
    """The published rule: entries are ranked by SHA-256("<seed>:<registration id>") in hex, ascending."""
    return hashlib.sha256(f"{seed}:{registration_id}".encode()).hexdigest()


def prepare_lottery(event: Event) -> None:
    """Commit to the seed now (publish its hash, keep the seed apart); reveal it at the draw, so nobody can pick
    a convenient seed afterwards."""
    seed = secrets.token_hex(32)
    event.lottery_seed = None
    event.lottery_seed_hash = hashlib.sha256(seed.encode()).hexdigest()
    db.session.flush()
    db.session.merge(LotterySecret(event_id=event.id, seed=seed))


def draw_lottery(event_id: int, *, now: datetime) -> Event:
    """Reveal the committed seed and rank all entries by the published rule: the first `capacity` get seats,
    the rest join the waitlist in drawn order. Anyone can recompute it from the seed and the entry ids."""
    event = get_event(event_id, include_drafts=True)
    if event.waitlist_mode != "lottery":
        raise DomainError("not_a_lottery", _l("This event has no lottery."), status=409)
    locked = lock_event(event.id, "registration_seq")
    db.session.refresh(event)
    if event.lottery_drawn_at is not None:
        return event
    seed = db.session.scalar(sa.select(LotterySecret.seed).where(LotterySecret.event_id == event.id))
    entries = db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id, Registration.status == "entered")
    ).all()
    ranked = sorted(entries, key=lambda r: lottery_order_key(seed, r.id))
    base_seq = locked.registration_seq + 1  # the entries arrive again, in drawn order, after everyone before
    for rank, registration in enumerate(ranked, start=1):
        registration.lottery_rank = rank
        registration.waitlist_seq = base_seq + rank
        if take_seat(event.id):
            registration.status, registration.confirmed_at = "confirmed", now
        else:
            registration.status = "waitlisted"
    db.session.execute(
        sa.update(Event).where(Event.id == event.id)
        .values(registration_seq=base_seq + len(ranked) + 1, lottery_seed=seed, lottery_drawn_at=now)
    )
    db.session.flush()
    db.session.refresh(event)
    signals.lottery_drawn.send(None, event_id=event.id)
    for registration in ranked:
        send(status_signal(registration.status), registration)
    return event


def draw_due_lotteries(*, now: datetime) -> int:
    due = db.session.scalars(
        sa.select(Event.id).where(Event.waitlist_mode == "lottery", Event.lottery_drawn_at.is_(None),
                                  Event.lottery_draw_at <= now, Event.status == "published")
    ).all()
    for event_id in due:
        draw_lottery(event_id, now=now)
    return len(due)
