"""Scanners without a network: the kit they download (public key, door hours, valid tickets) and the sync of the
scans they queued, which go through the same verdict and the same exactly-once admission as online scans."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.errors import DomainError
from app.extensions import db
from checkin import tokens
from checkin.admission import (
    DOORS_CLOSE_AFTER_END,
    ScanOutcome,
    Verdict,
    clean_scan_input,
    find_scan,
    record_scan,
    replay,
    verdict_for_token,
)
from checkin.door import door_role, event_of
from checkin.models import SCAN_RESULTS, Admission, WalkIn
from checkin.tickets import TICKET_STATUSES, config_for, ensure_config
from events.models import Registration

MAX_SYNC_BATCH = 500
CLOCK_SKEW = timedelta(minutes=5)


def offline_kit(event_id: int, actor, *, now: datetime) -> dict:
    """What a scanner needs to keep working without a network: the event's public key, the door hours, and the
    valid tickets with just enough to show on the green screen and to search (name, masked phone, type). The
    private key never leaves the server. Stewards, supervisors and organizers of the event."""
    event = event_of(event_id)
    role = door_role(actor, event)
    config = ensure_config(event.id, now=now)
    rows = db.session.execute(
        sa.select(Registration.id, Registration.version, Registration.user_id, Admission.registration_id,
                  Admission.inside, WalkIn.registration_id, Admission.gate, Admission.first_admitted_at)
        .outerjoin(Admission, Admission.registration_id == Registration.id)
        .outerjoin(WalkIn, WalkIn.registration_id == Registration.id)
        .where(Registration.event_id == event.id, Registration.status.in_(TICKET_STATUSES))
        .order_by(Registration.id)
    ).all()
    users = {u.id: u for u in db.session.scalars(
        sa.select(User).where(User.id.in_({row[2] for row in rows})))} if rows else {}
    tickets = [{"registration_id": rid, "version": version, "name": users[uid].display_name,
                "phone": users[uid].masked_phone, "ticket_type": "walk_in" if walk_in else "standard",
                "admitted": admitted is not None, "inside": bool(inside) if admitted is not None else False,
                "gate": gate or "", "first_admitted_at": first_at.isoformat() if first_at else None}
               for rid, version, uid, admitted, inside, walk_in, gate, first_at in rows]
    opens = event.starts_at - timedelta(minutes=config.opens_minutes_before)
    return {"event_id": event.id, "public_key": config.public_key, "key_type": "Ed25519",
            "token_format": "base64url(payload 13 bytes: format=1, event_id, registration_id, version as u8 u32 u32 "
                            "u32 big-endian | Ed25519 signature 64 bytes)",
            "allow_reentry": config.allow_reentry, "doors_open_at": opens.isoformat(),
            "doors_close_at": (event.ends_at + DOORS_CLOSE_AFTER_END).isoformat(), "role": role,
            "generated_at": now.isoformat(), "tickets": tickets}


def record_offline_scan(event_id: int, actor, *, token, gate, scan_id, scanned_at: datetime, now: datetime,
                        device: str = "", direction: str = "in", offline_result: str = "admitted") -> ScanOutcome:
    """One scan a scanner made while offline, synced later. It goes through the same checks and the same
    exactly-once admission as an online scan, at the time it happened (the device's clock; a time in the future
    is taken as now). If the scanner let the person in and the ticket had been admitted elsewhere, both scans are
    kept and flagged as a conflict; the earlier one is the admission."""
    event = event_of(event_id)
    door_role(actor, event)
    scan_id, gate, device = clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction=direction)
    if scanned_at.tzinfo is None:
        raise DomainError("invalid_scan", _l("Please correct the highlighted fields."), status=422,
                          fields={"scanned_at": str(_l("Give the time with its offset."))})
    reason = ""
    if scanned_at > now + CLOCK_SKEW:
        scanned_at, reason = now, "device_clock_ahead"
    digest = tokens.token_digest(token if isinstance(token, str) else repr(token))
    existing = find_scan(event.id, scan_id)
    if existing is not None:
        return replay(existing, digest)
    config = config_for(event.id)
    judged = verdict_for_token(event, config, token, at=scanned_at)
    offline_result = offline_result if offline_result in SCAN_RESULTS else "admitted"
    if direction == "in" and offline_result != "admitted" and judged.result in (None, "not_open"):
        # The scanner turned the person away (its list was older, say): log what happened at the door, admit nobody.
        judged = Verdict(offline_result, "refused_offline", judged.registration)
    return record_scan(event, config, judged, actor, scan_id=scan_id, digest=digest, gate=gate, device=device,
                       direction=direction, mode="offline", scanned_at=scanned_at, now=now, reason=reason,
                       offline_result=offline_result)


def sync_order(scans: list[dict]) -> list[int]:
    """The order in which to apply a batch of queued scans: by scanned_at (the first admission wins), stable."""
    return sorted(range(len(scans)), key=lambda i: scans[i]["scanned_at"])
