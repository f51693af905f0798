"""Deliveries: planning which channels a message goes out on and when (quiet hours, SMS only when it must), writing
an announcement chunk's deliveries set-based, and the workers' side: claiming due deliveries under a lease,
recording outcomes, the SMS fallback. The caller commits."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import User
from app.db_types import UTCDateTime
from app.extensions import db, dialect_insert
from notifications.models import CHANNELS, Delivery, Notification, NotificationSettings, Preference, PushSubscription
from notifications.preferences import (
    DeliverySettings,
    default_enabled,
    default_settings,
    preferences_of,
    quiet_hours_end,
)

HELD_IN_QUIET_HOURS = ("webpush", "sms", "wechat")  # channels that make a phone buzz; e-mail and the inbox wait anyway


# ---- planning ------------------------------------------------------------------------------------------------------

@dataclass
class Probe:
    """What plan_deliveries needs of a message before it exists (notifications.writing plans with it too)."""

    category: str
    urgent: bool


def plan_deliveries(user, notification: Notification, *, prefs: dict, settings: NotificationSettings | DeliverySettings,
                    now: datetime, has_push: bool | None = None) -> list[tuple[str, datetime]]:
    """The channels this message goes out on, and when: a channel the person enabled and can be reached on; SMS
    only for urgent messages to someone without a push subscription (it costs money and wakes people); anything
    non-urgent that would make a phone buzz waits for the end of quiet hours."""
    if has_push is None:
        has_push = db.session.scalar(
            sa.select(sa.func.count()).select_from(PushSubscription).where(PushSubscription.user_id == user.id)) > 0
    reachable = {
        "webpush": has_push,
        "email": bool(user.email),
        "sms": bool(user.phone) and notification.urgent and not has_push,
        "wechat": bool(settings.wechat_openid),
    }
    held_until = None if notification.urgent else quiet_hours_end(settings, now)
    planned = []
    for channel in CHANNELS:
        if not reachable[channel] or not prefs[(notification.category, channel)]:
            continue
        due = held_until if held_until and channel in HELD_IN_QUIET_HOURS else now
        planned.append((channel, due))
    return planned


_PROFILE_SEPARATOR = "|"


def delivery_profile(category: str):
    """One SQL string per person (over `users`, with `notification_settings` outer-joined) holding everything
    plan_deliveries reads about them for a message of `category`: whether they have a push subscription, an e-mail,
    a phone, a WeChat openid, their choice for each channel ("d": the default), and their quiet hours ("" when they
    have no settings row). People with the same profile get the same plan, so the plan is made once per profile
    (plan_for_profile) and joined in SQL, instead of once per person in Python."""
    def flag(condition):
        return sa.case((condition, "1"), else_="0")

    def choice(channel: str):
        chosen = (sa.select(Preference.enabled).where(Preference.user_id == User.id, Preference.category == category,
                                                      Preference.channel == channel).scalar_subquery())
        return sa.case((chosen.is_(None), "d"), (chosen.is_(True), "1"), else_="0")

    def number(value):
        return sa.func.coalesce(sa.cast(value, sa.String), "")

    settings = NotificationSettings
    parts = [
        flag(sa.exists().where(PushSubscription.user_id == User.id)),
        flag(sa.func.coalesce(User.email, "") != ""),
        flag(sa.func.coalesce(User.phone, "") != ""),
        flag(sa.func.coalesce(settings.wechat_openid, "") != ""),
        *[choice(channel) for channel in CHANNELS],
        flag(settings.user_id.is_not(None)),
        sa.case((settings.quiet_hours_enabled.is_(True), "1"), else_="0"),
        number(settings.quiet_start_minute),
        number(settings.quiet_end_minute),
        sa.func.coalesce(settings.timezone, ""),  # last: the only free text
    ]
    profile = parts[0]
    for part in parts[1:]:
        profile = profile + _PROFILE_SEPARATOR + part
    return profile


def plan_for_profile(profile: str, *, category: str, urgent: bool, now: datetime) -> list[tuple[str, datetime]]:
    """plan_deliveries for anyone with this delivery_profile (the rule itself is not repeated here)."""
    push, email, phone, wechat, *rest = profile.split(_PROFILE_SEPARATOR, 4 + len(CHANNELS) + 4)
    choices, (has_settings, quiet, start, end, timezone) = rest[:len(CHANNELS)], rest[len(CHANNELS):]
    person = _Someone(email="@" if email == "1" else "", phone="+" if phone == "1" else "")
    prefs = {(category, channel): default_enabled(category, channel) if value == "d" else value == "1"
             for channel, value in zip(CHANNELS, choices, strict=True)}
    openid = "openid" if wechat == "1" else None
    if has_settings == "1":
        settings = DeliverySettings(quiet_hours_enabled=quiet == "1", quiet_start_minute=int(start),
                                    quiet_end_minute=int(end), timezone=timezone or "Asia/Shanghai",
                                    wechat_openid=openid)
    else:
        settings = default_settings(0)
    return plan_deliveries(person, Probe(category, urgent), prefs=prefs, settings=settings, now=now,
                           has_push=push == "1")


@dataclass
class _Someone:
    email: str
    phone: str
    id: int = 0


def insert_planned_deliveries(recipients, *, category: str, urgent: bool, dedupe_key: str, now: datetime) -> int:
    """The deliveries of the messages just written (dedupe key `dedupe_key`, created at `now`) to `recipients` (a
    SELECT of users.id), planned set-based: the distinct delivery profiles are read (a handful), each is planned
    once by plan_deliveries, and one INSERT ... SELECT joins each person's profile to its plan. ON CONFLICT DO
    NOTHING: a delivery that exists already is not doubled. Returns how many were written."""
    profile = delivery_profile(category)
    people = (recipients.outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
              .add_columns(profile.label("profile")).subquery("people"))
    plans = [(key, channel, due) for key in db.session.scalars(sa.select(people.c.profile).distinct())
             for channel, due in plan_for_profile(key, category=category, urgent=urgent, now=now)]
    if not plans:
        return 0
    selects = [sa.select(sa.literal(key, sa.String()).label("profile"),
                         sa.literal(channel, sa.String()).label("channel"),
                         sa.literal(due, UTCDateTime()).label("due")) for key, channel, due in plans]
    plan = (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery("plan")
    rows = (sa.select(Notification.id, plan.c.channel, sa.literal("pending"), sa.literal(0), plan.c.due,
                      sa.literal(""), sa.literal(now, UTCDateTime()))
            .select_from(people)
            .join(Notification, sa.and_(Notification.user_id == people.c.id, Notification.dedupe_key == dedupe_key,
                                        Notification.created_at == now))
            .join(plan, plan.c.profile == people.c.profile))
    statement = dialect_insert(Delivery.__table__).from_select(
        ["notification_id", "channel", "status", "attempts", "next_attempt_at", "last_error", "created_at"], rows
    ).on_conflict_do_nothing(index_elements=["notification_id", "channel"])
    return db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


# ---- claiming deliveries (workers) ---------------------------------------------------------------------------------

def claim_due_deliveries(*, now: datetime, limit: int, lease_seconds: int, ids: Iterable[int] | None = None,
                         model=Delivery) -> tuple[str, list]:
    """Claim up to `limit` due deliveries for this worker: one conditional UPDATE moves their `next_attempt_at` to
    the end of a lease and counts the attempt. Two workers never claim the same row (SQLite serialises writers;
    PostgreSQL skips rows another worker has locked and re-checks the condition on the rows it updates), and a
    worker killed mid-way loses its claims when the lease ends. The caller commits before sending. `model` is
    Delivery (residents' messages) or WebhookDelivery (organizers' robots): the same columns, the same rule."""
    token = secrets.token_hex(16)
    due = sa.select(model.id).where(model.status == "pending", model.next_attempt_at <= now)
    if ids is not None:
        due = due.where(model.id.in_(list(ids)))
    due = due.order_by(model.next_attempt_at, model.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    db.session.execute(
        sa.update(model)
        .where(model.id.in_(due.scalar_subquery()), model.status == "pending", model.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=lease_seconds), attempts=model.attempts + 1,
                claim_token=token)
        .execution_options(synchronize_session=False))
    claimed = list(db.session.scalars(sa.select(model).where(model.claim_token == token, model.status == "pending")
                                      .order_by(model.id)))
    return token, claimed


def backoff_seconds(attempts: int) -> int:
    """After the n-th failed attempt: 30 s, 1 min, 2 min, 4 min ... at most an hour."""
    base = current_app.config.get("NOTIFICATIONS_RETRY_BASE_SECONDS", 30)
    return int(min(base * 2 ** max(0, attempts - 1), 3600))


def finish_delivery(delivery_id: int, token: str, *, status: str, now: datetime, error: str = "",
                    retry_after: int | None = None, model=Delivery) -> bool:
    """Record the outcome of a claimed attempt; only the claim's holder may (a worker whose lease ran out and whose
    row was claimed again changes nothing). `status` "retry" schedules the next attempt with backoff, or fails the
    delivery after NOTIFICATIONS_MAX_ATTEMPTS."""
    values: dict = {"last_error": error[:500]}
    if status == "retry":
        delivery = db.session.get(model, delivery_id)
        if delivery is None:
            return False
        if delivery.attempts >= current_app.config.get("NOTIFICATIONS_MAX_ATTEMPTS", 8):
            values.update(status="failed", claim_token=None)
        else:
            values.update(next_attempt_at=now + timedelta(seconds=max(retry_after or 0,
                                                                      backoff_seconds(delivery.attempts))))
    else:
        values.update(status=status, claim_token=None)
        if status == "sent":
            values["sent_at"] = now
    changed = db.session.execute(
        sa.update(model).where(model.id == delivery_id, model.claim_token == token, model.status == "pending")
        .values(**values).execution_options(synchronize_session=False)).rowcount
    return bool(changed)


def finish_deliveries(token: str, results: Iterable[tuple[int, str, str, int | None]], *, now: datetime,
                      model=Delivery) -> set[int]:
    """finish_delivery for a whole batch: (delivery id, status, error, retry_after) each. Outcomes that need no
    per-row arithmetic (sent, failed, skipped: most of a batch) are recorded with one UPDATE per (status, error);
    retries go one by one (their backoff depends on each row's attempts). Returns the ids recorded as sent."""
    grouped: dict[tuple[str, str], list[int]] = {}
    sent: set[int] = set()
    for delivery_id, status, error, retry_after in results:
        if status == "retry":
            finish_delivery(delivery_id, token, status=status, now=now, error=error, retry_after=retry_after,
                            model=model)
        else:
            grouped.setdefault((status, error[:500]), []).append(delivery_id)
    for (status, error), ids in grouped.items():
        values: dict = {"status": status, "claim_token": None, "last_error": error}
        if status == "sent":
            values["sent_at"] = now
        changed = db.session.execute(
            sa.update(model).where(model.id.in_(ids), model.claim_token == token, model.status == "pending")
            .values(**values).returning(model.id).execution_options(synchronize_session=False)).scalars().all()
        if status == "sent":
            sent.update(changed)
    return sent


def add_sms_fallback(notification_id: int, *, now: datetime) -> None:
    """An urgent, transactional message whose push could not be delivered (no working subscription) goes by SMS,
    if the person keeps SMS on for that category."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or not (notification.urgent and notification.transactional):
        return
    user = db.session.get(User, notification.user_id)
    if user is None or not user.phone or not preferences_of(user.id)[(notification.category, "sms")]:
        return
    exists = db.session.scalar(sa.select(Delivery.id).where(Delivery.notification_id == notification_id,
                                                            Delivery.channel == "sms"))
    if exists is None:
        db.session.add(Delivery(notification_id=notification_id, channel="sms", next_attempt_at=now, created_at=now))
        db.session.flush()
