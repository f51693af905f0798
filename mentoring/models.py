"""Tables of mentoring: mentor profiles, matching cycles, founders' requests, pins and forbidden pairs, priority
groups, matches (proposed, offered to the mentor, accepted or declined), and office hours (recurring availability,
slots, bookings, feedback). People are referred to by user id everywhere, mentors included."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

CYCLE_STATUSES = ("open", "proposed", "published", "closed")
MATCHING_MODES = ("optimal", "stable")
RULE_KINDS = ("pin", "forbid")
MATCH_STATUSES = (
    "proposed",  # in the organizers' draft proposal; nobody else sees it
    "offered",   # published: the mentor is asked to accept or decline
    "accepted",
    "declined",  # the founder was offered the next best mentor
)
LIVE_MATCH_STATUSES = ("offered", "accepted")  # take a place of the mentor's capacity
BOOKING_STATUSES = ("booked", "cancelled")


class MentorProfile(db.Model):
    __tablename__ = "mentor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    expertise: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    stages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    capacity: Mapped[int] = mapped_column(default=3)  # founders per cycle

    user = relationship("User", foreign_keys=[user_id])


class MentoringCycle(db.Model):
    """One round of matching: founders ask, organizers run and review the matching, then publish it."""

    __tablename__ = "mentoring_cycles"
    __table_args__ = (sa.CheckConstraint("per_founder >= 1", name="per_founder_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    mode: Mapped[str] = mapped_column(sa.String(16), default="optimal")
    per_founder: Mapped[int] = mapped_column(default=1)  # mentors each founder may get
    version: Mapped[int] = mapped_column(default=0)  # bumped under the cycle's lock by every change of matches
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    total_score: Mapped[int | None] = mapped_column()
    greedy_score: Mapped[int | None] = mapped_column()  # the greedy baseline of the same run, for comparison
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PriorityGroup(db.Model):
    """Founders weighted up in one cycle (competition finalists, Young Plan teams): their fit is multiplied."""

    __tablename__ = "mentoring_priority_groups"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "name"),
                      sa.CheckConstraint("weight > 0", name="weight_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_cycles.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    weight: Mapped[float] = mapped_column(sa.Float, default=1.5)
    member_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)  # founders' user ids


class MentoringRequest(db.Model):
    """A founder's request in one cycle: one per founder and cycle (a second one is refused)."""

    __tablename__ = "mentoring_requests"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "founder_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_cycles.id", ondelete="CASCADE"), index=True)
    founder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    needs: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # ranked, most important first
    industry: Mapped[str] = mapped_column(sa.String(40), default="")
    stage: Mapped[str] = mapped_column(sa.String(32), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    prefer_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)  # mentors' user ids
    avoid_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    founder = relationship("User", foreign_keys=[founder_id])


class PairRule(db.Model):
    """An organizer's decision about one pair in a cycle: pinned (always matched) or forbidden (never)."""

    __tablename__ = "mentoring_pair_rules"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "founder_id", "mentor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_cycles.id", ondelete="CASCADE"), index=True)
    founder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(8))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentorMatch(db.Model):
    """A founder-mentor pair of a cycle, with its fit score and reasons. A declined pair stays (never re-offered)."""

    __tablename__ = "mentoring_matches"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "founder_id", "mentor_id"),
                      sa.Index("ix_mentoring_matches_mentor_status", "mentor_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_cycles.id", ondelete="CASCADE"), index=True)
    founder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16), default="proposed")
    score: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    pinned: Mapped[bool] = mapped_column(default=False)
    decline_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cycle: Mapped[MentoringCycle] = relationship()
    founder = relationship("User", foreign_keys=[founder_id])
    mentor = relationship("User", foreign_keys=[mentor_id])


class Availability(db.Model):
    """A mentor's recurring office hours: a weekday and a time range in Shanghai time, cut into slots."""

    __tablename__ = "mentoring_availability"
    __table_args__ = (sa.CheckConstraint("start_minute < end_minute", name="range_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column()  # 0 = Monday
    start_minute: Mapped[int] = mapped_column()  # minutes after local midnight
    end_minute: Mapped[int] = mapped_column()
    slot_minutes: Mapped[int] = mapped_column(default=30)
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OfficeHourSlot(db.Model):
    """One bookable slot. `booked_by_id` is set by a conditional UPDATE, so two founders never get one slot."""

    __tablename__ = "mentoring_slots"
    __table_args__ = (sa.UniqueConstraint("mentor_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    availability_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mentoring_availability.id", ondelete="SET NULL"))

    mentor = relationship("User", foreign_keys=[mentor_id])


class Booking(db.Model):
    """A founder's booking of a slot. Cancelled and moved bookings stay (calendars show the cancellation)."""

    __tablename__ = "mentoring_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_slots.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_matches.id", ondelete="CASCADE"), index=True)
    founder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="booked")
    topic: Mapped[str] = mapped_column(sa.String(300), default="")
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # claimed once by the reminder task
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    slot: Mapped[OfficeHourSlot] = relationship()
    match: Mapped[MentorMatch] = relationship()


class Feedback(db.Model):
    """Short feedback after a meeting, by the founder or the mentor. Organizers see it; the other side only when
    its author agreed (`shared`)."""

    __tablename__ = "mentoring_feedback"
    __table_args__ = (sa.UniqueConstraint("booking_id", "author_id"),
                      sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_bookings.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(sa.String(1000), default="")
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentorRanking(db.Model):
    """A mentor's own ranking of the founders who asked in a cycle (best first), used by the stable mode; founders
    left out come after, by fit."""

    __tablename__ = "mentoring_rankings"
    __table_args__ = (sa.UniqueConstraint("cycle_id", "mentor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoring_cycles.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    founder_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# ---- investor meetings on roadshow days --------------------------------------------------------------------------

MEETING_PLAN_STATUSES = ("open", "scheduled", "published")


class MeetingPlan(db.Model):
    """The 1:1 meetings of a roadshow day after the pitches: a window cut into slots (15 minutes), and the tables or
    rooms where they happen. Investors and pitching founders mark whom they want to meet until it is scheduled."""

    __tablename__ = "roadshow_meeting_plans"
    __table_args__ = (sa.CheckConstraint("starts_at < ends_at", name="window_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    slot_minutes: Mapped[int] = mapped_column(default=15)
    tables: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    version: Mapped[int] = mapped_column(default=0)  # bumped by every change made under the plan's lock
    total_score: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class MeetingWish(db.Model):
    """One person (investor or pitching founder) wants to meet another at a roadshow day."""

    __tablename__ = "roadshow_meeting_wishes"
    __table_args__ = (sa.UniqueConstraint("event_id", "from_id", "to_id"),
                      sa.CheckConstraint("from_id <> to_id", name="not_self"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    from_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    to_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeetingAvailability(db.Model):
    """When a person can meet on the day (within the plan's window); no row means the whole window."""

    __tablename__ = "roadshow_meeting_availability"
    __table_args__ = (sa.UniqueConstraint("event_id", "user_id"),
                      sa.CheckConstraint("available_from < available_until", name="range_not_empty"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    available_from: Mapped[datetime] = mapped_column(UTCDateTime())
    available_until: Mapped[datetime] = mapped_column(UTCDateTime())


class RoadshowMeeting(db.Model):
    """A scheduled 1:1 meeting. The unique constraints make double booking impossible in the database: nobody (investor
    or founder) and no table has two meetings starting at the same time, and slots never overlap (one grid)."""

    __tablename__ = "roadshow_meetings"
    __table_args__ = (sa.UniqueConstraint("event_id", "investor_id", "starts_at"),
                      sa.UniqueConstraint("event_id", "founder_id", "starts_at"),
                      sa.UniqueConstraint("event_id", "table", "starts_at"),
                      sa.UniqueConstraint("event_id", "investor_id", "founder_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    investor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    founder_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    table: Mapped[str] = mapped_column(sa.String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[int] = mapped_column(default=0)
    mutual: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    investor = relationship("User", foreign_keys=[investor_id])
    founder = relationship("User", foreign_keys=[founder_id])
