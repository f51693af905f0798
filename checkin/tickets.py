"""Tickets: an event's key pair (created on first use), the signed token of a registration, its re-issue, and its
type (standard or walk-in).

Services take plain arguments, the acting user and `now`; they flush, callers commit once. An event's key pair is
created with INSERT ... ON CONFLICT DO NOTHING, so two first tickets at once share one key.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.extensions import db, dialect_insert
from checkin import tokens
from checkin.models import CheckinConfig, WalkIn
from events import services as event_services
from events.models import Registration

TICKET_STATUSES = ("confirmed",)  # only a held seat has a ticket
MAX_TOKEN = 2000  # what a camera read; longer is not a ticket of ours, and is not kept
_TICKET_TYPES = "checkin.ticket_types"


# ---- keys --------------------------------------------------------------------------------------------------------

def config_for(event_id: int) -> CheckinConfig | None:
    return db.session.get(CheckinConfig, event_id)


def ensure_config(event_id: int, *, now: datetime) -> CheckinConfig:
    """The event's check-in settings and key pair, created on first use. Two requests creating it at the same
    moment end up with the same key: the row is inserted with ON CONFLICT DO NOTHING and read back."""
    config = config_for(event_id)
    if config is not None:
        return config
    private, public_text = tokens.new_key_pair()
    sealed = tokens.seal_private_key(private, event_id=event_id, secret_key=current_app.config["SECRET_KEY"])
    db.session.execute(
        dialect_insert(CheckinConfig).values(event_id=event_id, public_key=public_text, sealed_private_key=sealed,
                                      allow_reentry=False, opens_minutes_before=120, created_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    return db.session.scalars(
        sa.select(CheckinConfig).where(CheckinConfig.event_id == event_id).execution_options(populate_existing=True)
    ).one()


def public_key_of(event_id: int) -> str | None:
    return db.session.scalar(sa.select(CheckinConfig.public_key).where(CheckinConfig.event_id == event_id))


# ---- tickets -----------------------------------------------------------------------------------------------------

def ticket_registration(registration_id: int, actor) -> Registration:
    """A registration whose ticket `actor` may see: their own, or one of an event they organize. Only confirmed
    registrations of events that are not cancelled have a ticket."""
    registration = event_services.get_registration(registration_id)
    if registration.user_id != getattr(actor, "id", None):
        event_services.authorize_organizer(actor, registration.event)
    if registration.event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if registration.status not in TICKET_STATUSES:
        raise DomainError("no_ticket", _l("Only confirmed registrations have a ticket."), status=409)
    return registration


def issue_token(registration: Registration, *, now: datetime) -> str:
    """The ticket's token: event, registration and version signed with the event's key. Ed25519 signatures are
    deterministic, so the same ticket version always gives the same token (and the same QR code)."""
    config = ensure_config(registration.event_id, now=now)
    private = tokens.unseal_private_key(config.sealed_private_key, event_id=registration.event_id,
                                        secret_key=current_app.config["SECRET_KEY"])
    return tokens.sign_token(private, tokens.TicketClaims(registration.event_id, registration.id,
                                                          registration.version))


def ticket_for(registration_id: int, actor, *, now: datetime) -> tuple[Registration, str]:
    """(registration, token) for the owner or an organizer of the event."""
    registration = ticket_registration(registration_id, actor)
    return registration, issue_token(registration, now=now)


def reissue_ticket(registration_id: int, actor, *, now: datetime) -> tuple[Registration, str]:
    """A new ticket (a screenshot went round, a phone was lost): the version goes up, so the old code is revoked
    at every door, online at once and offline from the next ticket-list download."""
    registration = ticket_registration(registration_id, actor)
    db.session.execute(
        sa.update(Registration).where(Registration.id == registration.id)
        .values(version=Registration.version + 1).execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)
    return registration, issue_token(registration, now=now)


# ---- ticket types ------------------------------------------------------------------------------------------------

def ticket_type(registration: Registration) -> str:
    """standard or walk_in, remembered for the session (checkin.walk_ins records a new walk-in there too), so a
    scan reads it before it queues to write, not while it holds the database."""
    known = db.session.info.setdefault(_TICKET_TYPES, {})
    if registration.id not in known:
        walk_in = db.session.scalar(sa.select(WalkIn.registration_id)
                                    .where(WalkIn.registration_id == registration.id))
        known[registration.id] = "walk_in" if walk_in else "standard"
    return known[registration.id]


def remember_walk_in(registration_id: int) -> None:
    """A walk-in registered in this session: ticket_type says so without reading it back."""
    db.session.info.setdefault(_TICKET_TYPES, {})[registration_id] = "walk_in"
