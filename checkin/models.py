"""Tables of check-in: each event's ticket key and door settings, the log of every scan, and one admission row per
registration that came in (the exactly-once decision), plus walk-ins registered at the door."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

# What a scan answers (the API's "result"). "exited" answers a scan out at an event that allows re-entry.
SCAN_RESULTS = ("admitted", "already_admitted", "invalid", "revoked", "wrong_event", "not_open", "exited",
                "not_inside")
# How the scan reached us: a camera scan answered online, one queued offline and synced later, a supervisor's
# manual admission (search by name or phone), an override of a refusal, a walk-in registered at the door.
SCAN_MODES = ("online", "offline", "manual", "override", "walk_in")
DIRECTIONS = ("in", "out")


class CheckinConfig(db.Model):
    """One event's ticket key pair and door settings, created with the first ticket. The private key never leaves
    the server and is stored sealed (AES-GCM under a key derived from SECRET_KEY); the public key is served to
    scanners so they can verify tickets offline."""

    __tablename__ = "checkin_configs"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    public_key: Mapped[str] = mapped_column(sa.String(64))  # raw 32-byte Ed25519 key, base64url
    sealed_private_key: Mapped[str] = mapped_column(sa.String(200))  # base64url(nonce | AES-GCM ciphertext)
    allow_reentry: Mapped[bool] = mapped_column(default=False)
    opens_minutes_before: Mapped[int] = mapped_column(default=120)  # the doors open this long before the start
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Scan(db.Model):
    """Every scan, admitted or refused, online or offline: the check-in log. (event, scan_id) is unique, so a
    retried scan finds its first answer instead of counting twice."""

    __tablename__ = "checkin_scans"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "scan_id"),
        sa.Index("ix_checkin_scans_event_received", "event_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    scan_id: Mapped[str] = mapped_column(sa.String(64))  # chosen by the scanner, unique per event
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    token_digest: Mapped[str] = mapped_column(sa.String(32), default="")  # a retry must carry the same token
    gate: Mapped[str] = mapped_column(sa.String(40), default="")
    device: Mapped[str] = mapped_column(sa.String(80), default="")
    direction: Mapped[str] = mapped_column(sa.String(8), default="in")
    mode: Mapped[str] = mapped_column(sa.String(16), default="online")
    result: Mapped[str] = mapped_column(sa.String(24))
    reason: Mapped[str] = mapped_column(sa.String(300), default="")  # an override's reason, or what was wrong
    offline_result: Mapped[str | None] = mapped_column(sa.String(24))  # what an offline scanner showed at the door
    conflict: Mapped[bool] = mapped_column(default=False)  # one of two admissions of one ticket (offline)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())  # at the door (the device's clock when offline)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Admission(db.Model):
    """A registration that came in. The primary key makes admission exactly-once: the row is inserted with
    ON CONFLICT DO NOTHING, and whoever inserts it admitted the person. With re-entry, `inside` flips with
    conditional UPDATEs (in when outside, out when inside)."""

    __tablename__ = "checkin_admissions"
    __table_args__ = (sa.Index("ix_checkin_admissions_event_gate", "event_id", "gate"),)

    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    first_admitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    gate: Mapped[str] = mapped_column(sa.String(40), default="")  # where the first admission happened
    first_scan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkin_scans.id", ondelete="SET NULL"))
    inside: Mapped[bool] = mapped_column(default=True)
    entries: Mapped[int] = mapped_column(default=1)
    last_moved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WalkIn(db.Model):
    """A registration made at the door by a supervisor (its ticket type reads "walk-in")."""

    __tablename__ = "checkin_walk_ins"

    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
