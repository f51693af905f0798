"""Tables of events: events and series, registrations, questions' answers, pitch applications and slots."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

EVENT_KINDS = ("roadshow", "salon", "competition", "other")
EVENT_STATUSES = ("draft", "published", "cancelled")
# How a freed seat moves: to the next waitlisted person at once, offered to them for a while, or (before the
# draw) by lottery among all entries.
WAITLIST_MODES = ("auto", "offer", "lottery")
REGISTRATION_STATUSES = (
    "confirmed",   # holds a seat
    "waitlisted",  # in line for a seat (position by waitlist_seq)
    "pending",     # waits for the organizer's approval; holds no seat
    "offered",     # a freed seat is held for this person until offer_expires_at
    "entered",     # in the lottery, before the draw
    "cancelled",   # by the person (or the event was cancelled)
    "rejected",    # by the organizer
    "expired",     # an offer that was not taken in time
)
# Statuses that count as "signed up" (a second sign-up returns the same registration).
ACTIVE_STATUSES = ("confirmed", "waitlisted", "pending", "offered", "entered")
SEAT_HOLDING_STATUSES = ("confirmed", "offered")


class EventSeries(db.Model):
    """A recurring event (every Thursday evening), created once; each occurrence is an Event of its own."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    rrule: Mapped[str] = mapped_column(sa.String(200))  # RFC 5545 RRULE value, e.g. FREQ=WEEKLY;BYDAY=TH;COUNT=8
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    events: Mapped[list[Event]] = relationship(back_populates="series", order_by="Event.starts_at")


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
        sa.CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft", index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    venue: Mapped[str] = mapped_column(sa.String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int | None] = mapped_column()  # audience seats; None = unlimited
    requires_approval: Mapped[bool] = mapped_column(default=False)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waitlist_mode: Mapped[str] = mapped_column(sa.String(16), default="auto")
    offer_hours: Mapped[int] = mapped_column(default=12)
    lottery_draw_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lottery_seed_hash: Mapped[str | None] = mapped_column(sa.String(64))  # published when entries open
    lottery_seed: Mapped[str | None] = mapped_column(sa.String(64))  # revealed at the draw
    lottery_drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    questions: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    # Pitching (roadshow days): how many pitch slots, and whether founders may apply now.
    pitch_slots_capacity: Mapped[int | None] = mapped_column()
    pitch_applications_open: Mapped[bool] = mapped_column(default=False)
    # Counters decided in the database with conditional UPDATEs; they are the truth for capacity.
    seats_taken: Mapped[int] = mapped_column(default=0)  # confirmed + offered
    registration_seq: Mapped[int] = mapped_column(default=0)  # arrival order of sign-ups
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event_series.id", ondelete="SET NULL"), index=True)
    # For an occurrence of a series: the start the series' RRULE gave it (iCalendar RECURRENCE-ID), kept when the
    # occurrence itself is moved.
    recurrence_id: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE: raised on every change people see
    cancelled_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    series: Mapped[EventSeries | None] = relationship(back_populates="events")

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.seats_taken)


class LotterySecret(db.Model):
    """A lottery's seed, kept apart from the event (whose API shows the seed only after the draw)."""

    __tablename__ = "lottery_secrets"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    seed: Mapped[str] = mapped_column(sa.String(64))


class Registration(db.Model):
    """One person's sign-up to one event (as audience). Unique per (event, person): a retry finds this row."""

    __tablename__ = "registrations"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "user_id"),
        sa.Index("ix_registrations_event_status_seq", "event_id", "status", "waitlist_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    waitlist_seq: Mapped[int] = mapped_column()  # arrival order within the event
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lottery_rank: Mapped[int | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)  # ticket version: bumped on cancel / re-issue
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    user = relationship("User", foreign_keys=[user_id])

    # Not stored: set by whoever just put this registration on the waitlist and knows its place (sign-ups decided
    # together count the waitlist once for all of them); events.services.reading.waitlist_position answers with it.
    known_waitlist_position = None  # int | None


class PitchApplication(db.Model):
    """A founder's application to pitch at a roadshow day."""

    __tablename__ = "pitch_applications"
    __table_args__ = (sa.UniqueConstraint("event_id", "applicant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    applicant_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    project_name: Mapped[str] = mapped_column(sa.String(120))
    one_liner: Mapped[str] = mapped_column(sa.String(200))
    stage: Mapped[str] = mapped_column(sa.String(32))
    funding_ask: Mapped[str] = mapped_column(sa.String(80), default="")
    deck_url: Mapped[str] = mapped_column(sa.String(500), default="")
    team: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="submitted")  # submitted accepted declined withdrawn
    review_note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    applicant = relationship("User", foreign_keys=[applicant_id])


class PitchSlot(db.Model):
    """A place in a roadshow day's line-up: an accepted application at a time."""

    __tablename__ = "pitch_slots"
    __table_args__ = (sa.UniqueConstraint("event_id", "position"), sa.UniqueConstraint("application_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("pitch_applications.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published: Mapped[bool] = mapped_column(default=False)
    # Raised when the slot's time moves; its calendar entry's SEQUENCE is the event's plus this (both only rise).
    sequence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    application: Mapped[PitchApplication] = relationship()
