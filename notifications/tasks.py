"""The delivery worker. Messages are written with pending deliveries in the domain's transaction; here workers claim
what is due (services.claim_due_deliveries: a conditional UPDATE with a lease, safe for many workers), send on the
channels with many requests in flight (threads: the work waits on the network), and record each outcome. A failed
attempt is retried with exponential backoff; a worker killed mid-way loses only its lease, after which the rows fall
due again: at least once, and the inbox row is unique per person, so it is shown once.

Triggers: a job right after each commit that created messages (deliver_notifications), a job scheduled at the next
retry time, the every-minute sweep, and the worker's start (so a restarted worker resumes at once)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from huey import crontab

from app.db_types import utcnow
from app.extensions import db
from app.tasks import huey, task
from notifications import services
from notifications.channels import Outcome, Outgoing, PermanentFailure, Skip, TemporaryFailure, sender_for
from notifications.models import Delivery, Notification, NotificationSettings, PushSubscription

log = logging.getLogger(__name__)
_started = threading.Event()


def deliver_soon(notification_ids: list[int]) -> None:
    """After a commit that created messages: send what is due now (held deliveries wait for the sweep)."""
    if notification_ids:
        deliver_notifications(list(notification_ids))


@task(retries=2, retry_delay=5)
def deliver_notifications(notification_ids: list[int]) -> int:
    ids = list(db.session.scalars(sa.select(Delivery.id).where(Delivery.notification_id.in_(notification_ids))))
    return drain(ids=ids) if ids else 0


@task(retries=2, retry_delay=5)
def announce_chunk(notification_ids: list[int]) -> int:
    """One chunk of an announcement, after its commit: the live message to each recipient's open pages, then its
    deliveries. A job of its own, so that the fan-out only writes rows and other workers do this meanwhile."""
    from notifications import realtime

    rows = db.session.execute(sa.select(Notification.user_id, Notification.locale, Notification.announcement_id,
                                        Notification.title, Notification.body, Notification.link,
                                        Notification.urgent, Notification.created_at)
                              .where(Notification.id.in_(notification_ids))).all()
    db.session.rollback()
    by_text: dict[tuple, list[int]] = {}
    for row in rows:  # one emit per language: everyone reading the same text shares it
        by_text.setdefault((row.announcement_id, row.title, row.body, row.link, row.urgent, row.created_at),
                           []).append(row.user_id)
    for (announcement_id, title, body, link, urgent, created_at), user_ids in by_text.items():
        realtime.announce_to_many(user_ids, {
            "id": None, "announcement_id": announcement_id, "category": "announcements", "kind": "announcement",
            "title": title, "body": body, "link": link, "urgent": urgent, "created_at": created_at.isoformat()})
    ids = list(db.session.scalars(sa.select(Delivery.id).where(Delivery.notification_id.in_(notification_ids))))
    return drain(ids=ids) if ids else 0


@task()
def process_due_deliveries() -> int:
    """Send everything due; then book a run for the next retry that falls due within the next minutes."""
    from notifications.webhooks import deliver_due_alerts

    sent = drain() + deliver_due_alerts(now_fn=utcnow)
    schedule_next_run()
    return sent


@huey.periodic_task(crontab(minute="*"), name="notifications.every_minute")
def every_minute() -> None:
    resume_announcements()
    send_reminders()
    process_due_deliveries()


@task()
def send_reminders() -> int:
    """Reminders before events and office hours (idempotent: safe when several workers sweep at once)."""
    from notifications import reminders

    now = utcnow()
    return reminders.send_event_reminders(now=now) + reminders.send_office_hour_reminders(now=now)


@task()
def fan_out_announcement(announcement_id: int) -> int:
    """Write every recipient's inbox row, chunk after chunk (each chunk commits with its cursor)."""
    from notifications.announcements import fan_out, fanout_busy_until

    written = fan_out(announcement_id)
    busy_until = None if huey.immediate else fanout_busy_until(announcement_id, now=utcnow())
    if busy_until is not None:  # another worker holds it; if that one died, take over when its lease ends
        fan_out_announcement.schedule((announcement_id,), delay=(busy_until - utcnow()).total_seconds() + 0.5)
    return written


@task()
def resume_announcements() -> int:
    """Fan-outs that a dead worker left unfinished go on from their cursor."""
    from notifications.announcements import unfinished_announcement_ids

    ids = unfinished_announcement_ids()
    for announcement_id in ids:
        fan_out_announcement(announcement_id)
    return len(ids)


@task()
def resume_after_start() -> None:
    resume_announcements()
    process_due_deliveries()


@huey.on_startup()
def _resume_after_start() -> None:
    """A restarted worker (after a crash or a SIGKILL) picks up unfinished fan-outs and due deliveries at once.
    Once per process: on_startup runs in every worker thread, outside any app context (hence the task)."""
    if _started.is_set():
        return
    _started.set()
    resume_after_start()


@task()
def deliver_webhook_alerts() -> int:
    """Post the organizers' robot alerts that are due (rows written with the sign-ups; retried with backoff)."""
    from notifications.webhooks import deliver_due_alerts

    return deliver_due_alerts(now_fn=utcnow)


def schedule_next_run(*, now: datetime | None = None) -> None:
    if huey.immediate:
        return  # tests drive time themselves
    now = now or utcnow()
    from notifications.models import WebhookDelivery

    soonest = min((moment for moment in (
        db.session.scalar(sa.select(sa.func.min(model.next_attempt_at)).where(model.status == "pending"))
        for model in (Delivery, WebhookDelivery)) if moment is not None), default=None)
    if soonest is not None and soonest <= now + timedelta(minutes=2):
        delay = max(1.0, (soonest - now).total_seconds() + 0.5)
        process_due_deliveries.schedule(delay=delay)


def drain(*, ids: list[int] | None = None, now_fn=utcnow, max_batches: int = 10_000) -> int:
    """Claim and send batches until nothing (of `ids`, when given) is due. Returns how many were sent."""
    config = current_app.config
    batch = config.get("NOTIFICATIONS_BATCH", 200)
    lease = config.get("NOTIFICATIONS_LEASE_SECONDS", 120)
    sent = 0
    for _ in range(max_batches):
        now = now_fn()
        token, claimed = services.claim_due_deliveries(now=now, limit=batch, lease_seconds=lease, ids=ids)
        outgoing = build_outgoing(claimed)
        db.session.commit()  # the claim (the lease) holds while we send
        if not claimed:
            return sent
        sent += send_batch(token, outgoing, now_fn=now_fn)
    return sent


def build_outgoing(deliveries: list[Delivery]) -> list[Outgoing]:
    """Plain data for the senders, read in a few queries for the whole batch."""
    from app.accounts.models import User

    if not deliveries:
        return []
    notifications = {n.id: n for n in db.session.scalars(
        sa.select(Notification).where(Notification.id.in_({d.notification_id for d in deliveries})))}
    user_ids = {n.user_id for n in notifications.values()}
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))}
    openids = dict(db.session.execute(sa.select(NotificationSettings.user_id, NotificationSettings.wechat_openid)
                                      .where(NotificationSettings.user_id.in_(user_ids))).all())
    subscriptions: dict[int, list[dict]] = {}
    if any(d.channel == "webpush" for d in deliveries):
        for sub in db.session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id.in_(user_ids))
                                      .order_by(PushSubscription.id)):
            subscriptions.setdefault(sub.user_id, []).append(
                {"id": sub.id, "endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth})
    base = current_app.config.get("SERVER_NAME_FOR_LINKS", "").rstrip("/")
    result = []
    for delivery in deliveries:
        notification = notifications[delivery.notification_id]
        user = users.get(notification.user_id)
        unsubscribe = ""
        if delivery.channel == "email" and notification.category == "announcements" and user is not None:
            from notifications.unsubscribe import unsubscribe_url

            unsubscribe = unsubscribe_url(user.id, "announcements", base)
        result.append(Outgoing(
            delivery_id=delivery.id, notification_id=notification.id, user_id=notification.user_id,
            channel=delivery.channel, category=notification.category, kind=notification.kind,
            urgent=notification.urgent, locale=notification.locale, title=notification.title, body=notification.body,
            url=(base + notification.link) if notification.link.startswith("/") else notification.link,
            dedupe_key=notification.dedupe_key, phone=user.phone if user else "", email=(user.email or "") if user
            else "", wechat_openid=openids.get(notification.user_id) or "", unsubscribe_url=unsubscribe,
            subscriptions=subscriptions.get(notification.user_id, [])))
    return result


def send_batch(token: str, outgoing: list[Outgoing], *, now_fn=utcnow) -> int:
    """Send in threads (many requests in flight), then record every outcome in one transaction."""
    app = current_app._get_current_object()
    config = dict(app.config)

    def send_one(item: Outgoing):
        with app.app_context():
            try:
                if item.channel == "webpush" and not item.subscriptions:
                    raise Skip("no push subscription")
                return "sent", sender_for(item.channel, config)(item, config) or Outcome(), "", None
            except TemporaryFailure as error:
                return "retry", getattr(error, "outcome", None), str(error), error.retry_after
            except PermanentFailure as error:
                return "failed", getattr(error, "outcome", None), str(error), None
            except Skip as error:
                return "skipped", None, str(error), None
            except Exception as error:  # a bug or an unexpected answer: retry with backoff, keep the reason
                log.exception("sending delivery %s failed", item.delivery_id)
                return "retry", None, f"{type(error).__name__}: {error}", None

    workers = max(1, min(len(outgoing), config.get("NOTIFICATIONS_SEND_CONCURRENCY", 32)))
    if workers == 1:
        results = [send_one(item) for item in outgoing]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
            results = list(pool.map(send_one, outgoing))

    now = now_fn()
    sent = 0
    fallbacks = []
    for item, (status, outcome, error, retry_after) in zip(outgoing, results, strict=True):
        if outcome is not None:
            _forget_gone_subscriptions(outcome, now=now)
            if item.channel == "webpush" and outcome.gone_subscription_ids and not outcome.delivered_subscription_ids:
                status, error = "failed", "subscription gone (404/410)"
        if status in ("failed", "skipped") and item.channel == "webpush" and item.urgent:
            fallbacks.append(item.notification_id)
        if services.finish_delivery(item.delivery_id, token, status=status, now=now, error=error,
                                    retry_after=retry_after) and status == "sent":
            sent += 1
    for notification_id in fallbacks:
        services.add_sms_fallback(notification_id, now=now)
    db.session.commit()
    return sent


def _forget_gone_subscriptions(outcome: Outcome, *, now: datetime) -> None:
    if outcome.gone_subscription_ids:
        db.session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(outcome.gone_subscription_ids)))
    if outcome.delivered_subscription_ids:
        db.session.execute(sa.update(PushSubscription).where(
            PushSubscription.id.in_(outcome.delivered_subscription_ids)).values(last_success_at=now))
