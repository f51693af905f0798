"""Tables of notifications: one inbox message per recipient, one delivery row per (message, channel), browsers'
push subscriptions, per-person preferences and quiet hours, organizers' announcements and their robot webhooks.

A message is written in the same transaction as the change that promises it; its deliveries are claimed by workers
with a conditional UPDATE (a lease in `next_attempt_at`), so a killed worker's claims simply fall due again."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

# What a message is about; a person chooses channels per category. Transactional categories (their own
# registration, ticket, an event they signed up for moving) cannot be switched off, only moved to the inbox.
CATEGORIES = ("registrations", "reminders", "schedule", "results", "mentoring", "announcements")
TRANSACTIONAL_CATEGORIES = ("registrations", "schedule")
# Channels a message goes out on besides the inbox (which every message is in).
CHANNELS = ("webpush", "email", "sms", "wechat")
PREFERENCE_CHANNELS = ("inbox", *CHANNELS)
DELIVERY_STATUSES = ("pending", "sent", "failed", "skipped")
SEGMENT_KINDS = ("all", "registrants", "checked_in", "no_show", "interest", "company")
ANNOUNCEMENT_STATUSES = ("sending", "sent")
WEBHOOK_KINDS = ("wecom", "dingtalk", "feishu")
WEBHOOK_ALERTS = ("registration-confirmed", "registration-waitlisted", "registration-pending",
                  "registration-cancelled")


class Notification(db.Model):
    """One message to one person, in their language, as their inbox shows it. `dedupe_key` names what it is about
    (`registration:12:confirmed:1`, `announcement:3`): unique per recipient, so a retry never shows it twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "dedupe_key"),
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(40))  # registration_confirmed, event_changed, announcement ...
    transactional: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)  # goes out even in quiet hours
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str] = mapped_column(sa.String(500), default="")  # a path on this site: /events/12
    locale: Mapped[str] = mapped_column(sa.String(16), default="zh_Hans_CN")
    dedupe_key: Mapped[str] = mapped_column(sa.String(120))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"), index=True)
    announcement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("announcements.id", ondelete="CASCADE"),
                                                        index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="notification", cascade="all, delete-orphan",
                                                      passive_deletes=True)


class Delivery(db.Model):
    """A message on one channel. `pending` until sent; a worker claims it by moving `next_attempt_at` forward (its
    lease) and counting the attempt, so two workers never send it at once and a dead worker's claim expires."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel"),
        sa.Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notification: Mapped[Notification] = relationship(back_populates="deliveries")


class PushSubscription(db.Model):
    """A browser's Web Push subscription (RFC 8030 endpoint plus the RFC 8291 keys), owned by one person."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(200))
    auth: Mapped[str] = mapped_column(sa.String(100))
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Preference(db.Model):
    """A person's choice for one (category, channel). No row means the default (see preferences.default_enabled)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (sa.UniqueConstraint("user_id", "category", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(sa.String(16))
    channel: Mapped[str] = mapped_column(sa.String(16))
    enabled: Mapped[bool] = mapped_column()


class NotificationSettings(db.Model):
    """Per person: quiet hours (minutes after midnight in `timezone`; 22:00–08:00 Asia/Shanghai unless changed),
    and the WeChat official-account openid when the person has bound one."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    quiet_hours_enabled: Mapped[bool] = mapped_column(default=True)
    quiet_start_minute: Mapped[int] = mapped_column(default=22 * 60)
    quiet_end_minute: Mapped[int] = mapped_column(default=8 * 60)
    timezone: Mapped[str] = mapped_column(sa.String(40), default="Asia/Shanghai")
    wechat_openid: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Announcement(db.Model):
    """An organizer's message to a segment of residents. Fanned out in chunks of recipients ordered by user id;
    `cursor` is the last user id done, committed with its chunk, so a killed worker resumes where it stopped."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    segment: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {"kind": "registrants", "event_id": 3}
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    body_en: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(16), default="sending")
    cursor: Mapped[int] = mapped_column(default=0)
    # No longer used: one worker fans out at a time by holding a lock that dies with it (notifications.locks), so
    # the next worker goes on from the cursor at once. Kept until a migration drops it (docs/decisions.md).
    fanout_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrganizerWebhook(db.Model):
    """A group robot (WeCom, DingTalk, Feishu) that an event's organizers receive their alerts in."""

    __tablename__ = "organizer_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(200), default="")  # DingTalk / Feishu signing secret
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status: Mapped[str] = mapped_column(sa.String(200), default="")


class WebhookDelivery(db.Model):
    """One alert to one group robot, written in the sign-up's own transaction (so it exists exactly when the sign-up
    does) and delivered like residents' messages: claimed with a lease, retried with backoff, failed with its reason
    after NOTIFICATIONS_MAX_ATTEMPTS. The text is composed when it is sent (the seats taken at that moment), so the
    sign-up itself pays one INSERT ... SELECT and nothing else."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("webhook_id", "dedupe_key"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("organizer_webhooks.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registrations.id", ondelete="SET NULL"))
    signal: Mapped[str] = mapped_column(sa.String(40))
    dedupe_key: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
