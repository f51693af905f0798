"""The delivery worker. Messages are written with pending deliveries in the domain's transaction; here workers claim
what is due (claim_due_deliveries: a conditional UPDATE with a lease, safe for many workers), send on the
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

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from app.safe_urls import safe_link
from app.tasks import huey, task
from notifications import jobs, realtime, reminders
from notifications.announcements import chunk_messages, fan_out, unfinished_announcement_ids
from notifications.channels import (
    Outcome,
    Outgoing,
    PermanentFailure,
    Skip,
    TemporaryFailure,
    sender_for,
    webpush,
)
from notifications.deliveries import add_sms_fallback, claim_due_deliveries, finish_deliveries
from notifications.models import Delivery, Notification, NotificationSettings, PushSubscription, WebhookDelivery
from notifications.unsubscribe import unsubscribe_url
from notifications.webhooks import deliver_due_alerts

log = logging.getLogger(__name__)
_started = threading.Event()


def deliver_soon(notification_ids: list[int], *, due_by: datetime) -> None:
    """After a commit that created messages: send what was due when they were written (`due_by`); deliveries held
    for later (quiet hours) wait for the sweep."""
    if notification_ids:
        deliver_notifications(list(notification_ids), due_by.isoformat())


@task(retries=2, retry_delay=5)
def deliver_notifications(notification_ids: list[int], due_by: str | None = None) -> int:
    query = sa.select(Delivery.id).where(Delivery.notification_id.in_(notification_ids))
    if due_by is not None:
        query = query.where(Delivery.next_attempt_at <= datetime.fromisoformat(due_by))
    ids = list(db.session.scalars(query))
    return drain(ids=ids) if ids else 0


@task(retries=2, retry_delay=5)
def announce_range(announcement_id: int, after_user_id: int, last_user_id: int, deliveries: int) -> int:
    """One chunk of an announcement (the residents with ids in (after_user_id, last_user_id]), after its commit: the
    live message to each recipient's open pages, then its `deliveries`. A job of its own, so that the fan-out only
    writes rows and other workers do this meanwhile; and the sending is shared: besides draining here, one more
    job per batch (up to NOTIFICATIONS_PARALLEL_DRAINS) lets the other idle workers claim batches at once."""
    messages = chunk_messages(announcement_id, after_user_id, last_user_id).subquery()
    texts = {(row.locale, row.created_at): row for row in db.session.execute(  # one per language (and write)
        sa.select(messages.c.locale, messages.c.created_at, messages.c.announcement_id, messages.c.title,
                  messages.c.body, messages.c.link, messages.c.urgent).distinct())}
    by_text: dict[tuple, list[int]] = {}
    for user_id, locale, created_at in db.session.execute(
            sa.select(messages.c.user_id, messages.c.locale, messages.c.created_at)):
        by_text.setdefault(_live_key(texts[(locale, created_at)]), []).append(user_id)
    db.session.rollback()
    _announce_live(by_text)
    if not deliveries:
        return 0
    helpers = min(-(-deliveries // current_app.config.get("NOTIFICATIONS_BATCH", 200)),
                  current_app.config.get("NOTIFICATIONS_PARALLEL_DRAINS", 8)) - 1
    for _ in range(max(0, helpers)):
        drain_due()
    return drain()


@task(retries=2, retry_delay=5)
def drain_due() -> int:
    """Send whatever is due (claimed a batch at a time: any number of these run side by side)."""
    return drain()


@task(retries=2, retry_delay=5)
def announce_chunk(notification_ids: list[int]) -> int:
    """An announcement's chunk by message ids (jobs queued before announce_range replaced it)."""
    rows = db.session.execute(sa.select(Notification.user_id, Notification.announcement_id, Notification.title,
                                        Notification.body, Notification.link, Notification.urgent,
                                        Notification.created_at)
                              .where(Notification.id.in_(notification_ids))).all()
    db.session.rollback()
    by_text: dict[tuple, list[int]] = {}
    for row in rows:
        by_text.setdefault(_live_key(row), []).append(row.user_id)
    _announce_live(by_text)
    ids = list(db.session.scalars(sa.select(Delivery.id).where(Delivery.notification_id.in_(notification_ids))))
    return drain(ids=ids) if ids else 0


def _live_key(row) -> tuple:
    return row.announcement_id, row.title, row.body, row.link, row.urgent, row.created_at


def _announce_live(by_text: dict[tuple, list[int]]) -> None:
    """One emit per language: everyone reading the same text shares it."""
    for (announcement_id, title, body, link, urgent, created_at), user_ids in by_text.items():
        realtime.announce_to_many(user_ids, {
            "id": None, "announcement_id": announcement_id, "category": "announcements", "kind": "announcement",
            "title": title, "body": body, "link": link, "urgent": urgent, "created_at": created_at.isoformat()})


@task()
def process_due_deliveries() -> int:
    """Send everything due; then book a run for the next retry that falls due within the next minutes."""
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
    now = utcnow()
    return reminders.send_event_reminders(now=now) + reminders.send_office_hour_reminders(now=now)


@task()
def fan_out_announcement(announcement_id: int) -> int:
    """Write every recipient's inbox row, chunk after chunk (each chunk commits with its cursor). Nothing to do when
    another worker holds the fan-out: it is alive (its lock dies with it), and if it dies, a starting worker or the
    every-minute sweep (resume_announcements) takes over at once."""
    return fan_out(announcement_id)


@task()
def resume_announcements() -> int:
    """Fan-outs that a dead worker left unfinished go on from their cursor."""
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
    return deliver_due_alerts(now_fn=utcnow)


def schedule_next_run(*, now: datetime | None = None) -> None:
    if huey.immediate:
        return  # tests drive time themselves
    now = now or utcnow()
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
        token, claimed = claim_due_deliveries(now=now, limit=batch, lease_seconds=lease, ids=ids)
        outgoing = build_outgoing(claimed)
        db.session.commit()  # the claim (the lease) holds while we send
        if not claimed:
            return sent
        sent += send_batch(token, outgoing, now_fn=now_fn)
    return sent


def build_outgoing(deliveries: list[Delivery]) -> list[Outgoing]:
    """Plain data for the senders, read in two queries for the whole batch (the messages with their people's
    contacts, and the push subscriptions when a push is among them)."""
    if not deliveries:
        return []
    rows = {row.id: row for row in db.session.execute(
        sa.select(Notification.id, Notification.user_id, Notification.category, Notification.kind,
                  Notification.urgent, Notification.locale, Notification.title, Notification.body, Notification.link,
                  Notification.dedupe_key, User.id.label("person"), User.phone, User.email,
                  NotificationSettings.wechat_openid)
        .outerjoin(User, User.id == Notification.user_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == Notification.user_id)
        .where(Notification.id.in_({d.notification_id for d in deliveries})))}
    subscriptions: dict[int, list[dict]] = {}
    if any(d.channel == "webpush" for d in deliveries):
        for sub in db.session.execute(
                sa.select(PushSubscription.id, PushSubscription.user_id, PushSubscription.endpoint,
                          PushSubscription.p256dh, PushSubscription.auth)
                .where(PushSubscription.user_id.in_({row.user_id for row in rows.values()}))
                .order_by(PushSubscription.id)):
            subscriptions.setdefault(sub.user_id, []).append(
                {"id": sub.id, "endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth})
    base = current_app.config.get("SERVER_NAME_FOR_LINKS", "").rstrip("/")
    result = []
    for delivery in deliveries:
        row = rows[delivery.notification_id]
        unsubscribe = ""
        if delivery.channel == "email" and row.category == "announcements" and row.person is not None:
            unsubscribe = unsubscribe_url(row.person, "announcements", base)
        result.append(Outgoing(
            delivery_id=delivery.id, notification_id=row.id, user_id=row.user_id, channel=delivery.channel,
            category=row.category, kind=row.kind, urgent=row.urgent, locale=row.locale, title=row.title,
            body=row.body, url=_absolute_link(base, row.link),
            dedupe_key=row.dedupe_key, phone=row.phone or "", email=row.email or "",
            wechat_openid=row.wechat_openid or "", unsubscribe_url=unsubscribe,
            subscriptions=subscriptions.get(row.user_id, [])))
    return result


def _absolute_link(base: str, link: str) -> str:
    """The message's link as the push opens it: a path on this site (app.safe_urls.safe_link), anything else the
    inbox ("" when the message has no link: the service worker opens the inbox)."""
    if not link:
        return ""
    return base + (safe_link(link) or "/notifications")


def _classify(call) -> tuple[str, Outcome | None, str, int | None]:
    """(status, outcome, error, retry_after) of one sending: `call` returns the outcome or raises."""
    try:
        result = call()
        if isinstance(result, BaseException):
            raise result
        return "sent", result or Outcome(), "", None
    except TemporaryFailure as error:
        return "retry", getattr(error, "outcome", None), str(error), error.retry_after
    except PermanentFailure as error:
        return "failed", getattr(error, "outcome", None), str(error), None
    except Skip as error:
        return "skipped", None, str(error), None
    except Exception as error:  # a bug or an unexpected answer: retry with backoff, keep the reason
        log.exception("sending a delivery failed")
        return "retry", None, f"{type(error).__name__}: {error}", None


def send_batch(token: str, outgoing: list[Outgoing], *, now_fn=utcnow) -> int:
    """Send the batch (pushes side by side from this process's push loop, other channels in threads), then record
    every outcome in one transaction, in bulk."""
    app = current_app._get_current_object()
    config = dict(app.config)
    pushes = [item for item in outgoing if item.channel == "webpush" and item.subscriptions]
    pushing = webpush.send_many(pushes, config) if pushes else None
    others = [item for item in outgoing if not (item.channel == "webpush" and item.subscriptions)]

    def send_one(item: Outgoing):
        with app.app_context():
            def call():
                if item.channel == "webpush":
                    raise Skip("no push subscription")
                return sender_for(item.channel, config)(item, config)
            return _classify(call)

    results: dict[int, tuple] = {}
    workers = max(1, min(len(others), config.get("NOTIFICATIONS_SEND_CONCURRENCY", 32)))
    if workers == 1:
        results.update((item.delivery_id, send_one(item)) for item in others)
    elif others:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
            results.update(zip((item.delivery_id for item in others), pool.map(send_one, others), strict=True))
    if pushing is not None:
        for item, result in zip(pushes, pushing.result(), strict=True):
            results[item.delivery_id] = _classify(lambda result=result: result)

    now = now_fn()
    finished, fallbacks, gone, delivered = [], [], [], []
    for item in outgoing:
        status, outcome, error, retry_after = results[item.delivery_id]
        if outcome is not None:
            gone += outcome.gone_subscription_ids
            delivered += outcome.delivered_subscription_ids
            if item.channel == "webpush" and outcome.gone_subscription_ids and not outcome.delivered_subscription_ids:
                status, error = "failed", "subscription gone (404/410)"
        if status in ("failed", "skipped") and item.channel == "webpush" and item.urgent:
            fallbacks.append(item.notification_id)
        finished.append((item.delivery_id, status, error, retry_after))
    _forget_gone_subscriptions(Outcome(gone_subscription_ids=gone, delivered_subscription_ids=delivered), now=now)
    sent = len(finish_deliveries(token, finished, now=now))
    for notification_id in fallbacks:
        add_sms_fallback(notification_id, now=now)
    db.session.commit()
    return sent


def _forget_gone_subscriptions(outcome: Outcome, *, now: datetime) -> None:
    if outcome.gone_subscription_ids:
        db.session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(outcome.gone_subscription_ids)))
    if outcome.delivered_subscription_ids:
        db.session.execute(sa.update(PushSubscription).where(
            PushSubscription.id.in_(outcome.delivered_subscription_ids)).values(last_success_at=now))


def _registered(name: str):
    """Looked up when started, not when registered: tests replace a task on this module (monkeypatch)."""
    return lambda *args, **kwargs: globals()[name](*args, **kwargs)


for _name in ("deliver_soon", "fan_out_announcement", "announce_range", "deliver_webhook_alerts"):
    jobs.register(_name, _registered(_name))
