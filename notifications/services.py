"""The rules of notifications: who gets which message, in which language, on which channels and when; the inbox;
preferences and quiet hours; claiming due deliveries for workers.

No Flask request objects in here. Functions take the session's ids and `now`; they flush, the caller commits.
Messages are written inside the caller's transaction (the signal handlers run inside the domain service's
transaction), so a message exists exactly when the change that promised it does. Side effects (the live Socket.IO
message, the delivery job) are booked with app.after_commit and dropped on rollback."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.after_commit import run_after_commit
from app.errors import DomainError, NotFound
from app.extensions import db, dialect_insert
from notifications.models import (
    CATEGORIES,
    CHANNELS,
    PREFERENCE_CHANNELS,
    TRANSACTIONAL_CATEGORIES,
    Delivery,
    Notification,
    NotificationSettings,
    Preference,
    PushSubscription,
)

DEFAULT_LOCALE = "zh_Hans_CN"
HELD_IN_QUIET_HOURS = ("webpush", "sms", "wechat")  # channels that make a phone buzz; e-mail and the inbox wait anyway
_SESSION_KEY = "notifications.created"  # session.info: messages created in this transaction, told after commit


# ---- writing messages ----------------------------------------------------------------------------------------------

@dataclass
class Draft:
    """What a message says, rendered once per recipient under that person's language (`render` is called inside
    force_locale, so its _() strings and dates come out in the right language)."""

    kind: str
    category: str
    render: Callable[[str], tuple[str, str]]  # locale -> (title, body)
    dedupe_key: str
    link: str = ""
    urgent: bool = False
    transactional: bool | None = None  # default: by category
    event_id: int | None = None
    announcement_id: int | None = None
    extra_channels: tuple[str, ...] = field(default_factory=tuple)
    text_key: str | None = None  # drafts with the same key say the same thing: rendered once per language


def locale_of(user) -> str:
    from app.i18n import normalise_locale

    return normalise_locale(getattr(user, "locale", None)) or DEFAULT_LOCALE


def render_in(locale: str, render: Callable[[str], tuple[str, str]]) -> tuple[str, str]:
    with force_locale(locale):
        title, body = render(locale)
    return str(title)[:200], str(body)


def notify(user_id: int, draft: Draft, *, now: datetime) -> int | None:
    """Write `draft` to one person's inbox with its pending deliveries, in the current transaction. Returns the new
    message's id, or None when the same message (same dedupe key) is already there, or when the person turned this
    category off entirely (or the account is closed).

    This runs inside every sign-up's transaction while the event's row is locked, so it costs one SELECT (the
    person, their settings, their choices for this category, whether they have a push subscription), one INSERT ...
    ON CONFLICT DO NOTHING of the message (a repeat, even from a concurrent transaction, is silently not written) and,
    only when the message goes out on a channel, one INSERT of its deliveries."""
    written = notify_many([user_id], draft, now=now)
    return written[0] if written else None


def notify_many(user_ids: Iterable[int], draft: Draft, *, now: datetime) -> list[int]:
    """Write `draft` to each person's inbox (in their language) with its deliveries, in the current transaction, in
    a constant number of statements whatever the number of people. Safe to repeat and to run in several workers at
    once: a person who already has this message (same dedupe key) is skipped by the database's unique key. Returns
    the ids of the messages written."""
    return notify_each([(user_id, draft) for user_id in user_ids], now=now)


def notify_each(messages: Iterable[tuple[int, Draft]], *, now: datetime) -> list[int]:
    """notify_many for messages that differ per person: (user id, draft) pairs, written in a constant number of
    statements per category whatever their number (a batch of sign-ups decided together tells each person of their
    own registration this way). Returns the ids of the messages written."""
    by_key: dict[tuple[int, str], tuple[int, Draft]] = {}
    for user_id, draft in messages:
        if draft.category not in CATEGORIES:
            raise DomainError("unknown_category", _l("Unknown message category."))
        by_key.setdefault((int(user_id), draft.dedupe_key), (int(user_id), draft))
    pairs = sorted(by_key.values(), key=lambda pair: pair[0])
    if not pairs:
        return []
    people = {}
    for category in {draft.category for _, draft in pairs}:
        users = sorted({user_id for user_id, draft in pairs if draft.category == category})
        people[category] = {row.id: row for row in db.session.execute(recipients_query(users, category))}
    rendered: dict[tuple[int, str], tuple[str, str]] = {}
    rows, drafts = [], {}
    for user_id, draft in pairs:
        person = people[draft.category].get(user_id)
        if person is None or not person.is_active_account:
            continue
        transactional = (draft.category in TRANSACTIONAL_CATEGORIES if draft.transactional is None
                         else draft.transactional)
        if not transactional and not _chosen(person, "inbox", draft.category):
            continue
        locale = locale_of(person)
        text_key = (id(draft.render) if draft.text_key is None else draft.text_key, locale)
        if text_key not in rendered:
            rendered[text_key] = render_in(locale, draft.render)
        title, body = rendered[text_key]
        drafts[(user_id, draft.dedupe_key)] = draft
        rows.append({"user_id": user_id, "category": draft.category, "kind": draft.kind,
                     "transactional": transactional, "urgent": draft.urgent, "title": title, "body": body,
                     "link": draft.link, "locale": locale, "dedupe_key": draft.dedupe_key, "event_id": draft.event_id,
                     "announcement_id": draft.announcement_id, "created_at": now})
    inserted = insert_ignoring_duplicates(rows)
    if not inserted:
        return []
    deliveries, due_now = [], set()
    for notification_id, user_id, dedupe_key in inserted:
        draft = drafts[(user_id, dedupe_key)]
        person = people[draft.category][user_id]
        prefs = {(draft.category, channel): _chosen(person, channel, draft.category) for channel in CHANNELS}
        for channel, due in plan_deliveries(person, _Probe(draft.category, draft.urgent), prefs=prefs,
                                            settings=_settings_from(person), now=now, has_push=bool(person.has_push)):
            deliveries.append({"notification_id": notification_id, "channel": channel, "status": "pending",
                               "attempts": 0, "next_attempt_at": due, "last_error": "", "created_at": now})
            if due <= now:
                due_now.add(notification_id)
    if deliveries:
        db.session.execute(sa.insert(Delivery), deliveries)
    by_key_row = {(row["user_id"], row["dedupe_key"]): row for row in rows}
    for notification_id, user_id, dedupe_key in inserted:
        row = by_key_row[(user_id, dedupe_key)]
        _tell_after_commit({"id": notification_id, "user_id": user_id, "category": row["category"],
                            "kind": row["kind"], "title": row["title"], "body": row["body"], "link": row["link"],
                            "urgent": row["urgent"], "created_at": now.isoformat()},
                           deliver_now=notification_id in due_now, written_at=now)
    return [notification_id for notification_id, _, _ in inserted]


def recipients_query(user_ids: list[int], category: str):
    """One SELECT for everything the writing of a message needs about its recipients: the account, the settings row
    (outer-joined: most people have none), whether they have a push subscription, and their choice (or NULL: the
    default) for each channel of this category."""
    from app.accounts.models import User

    def choice(channel: str):
        return (sa.select(Preference.enabled).where(Preference.user_id == User.id, Preference.category == category,
                                                    Preference.channel == channel)
                .scalar_subquery().label(f"pref_{channel}"))

    has_push = sa.exists().where(PushSubscription.user_id == User.id).label("has_push")
    return (sa.select(User.id, User.is_active_account, User.locale, User.email, User.phone,
                      NotificationSettings.user_id.label("settings_user_id"), NotificationSettings.quiet_hours_enabled,
                      NotificationSettings.quiet_start_minute, NotificationSettings.quiet_end_minute,
                      NotificationSettings.timezone, NotificationSettings.wechat_openid, has_push,
                      *[choice(channel) for channel in PREFERENCE_CHANNELS])
            .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
            .where(User.id.in_(user_ids)))


def _chosen(person, channel: str, category: str) -> bool:
    if channel == "inbox" and category in TRANSACTIONAL_CATEGORIES:
        return True
    value = getattr(person, f"pref_{channel}")
    return default_enabled(category, channel) if value is None else bool(value)


def _settings_from(person) -> DeliverySettings:
    if person.settings_user_id is None:
        return default_settings(person.id)
    return DeliverySettings(quiet_hours_enabled=person.quiet_hours_enabled,
                            quiet_start_minute=person.quiet_start_minute, quiet_end_minute=person.quiet_end_minute,
                            timezone=person.timezone or "Asia/Shanghai", wechat_openid=person.wechat_openid)


@dataclass
class _Probe:
    """What plan_deliveries needs of a message before it exists."""

    category: str
    urgent: bool


def insert_ignoring_duplicates(rows: list[dict]) -> list[tuple[int, int, str]]:
    """INSERT ... ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id, user_id, dedupe_key: a message someone
    already has (an earlier run, a killed worker's committed chunk, a concurrent worker) is skipped, never doubled,
    and never fails the transaction."""
    if not rows:
        return []
    table = Notification.__table__
    statement = dialect_insert(table).on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"]).returning(
        table.c.id, table.c.user_id, table.c.dedupe_key)
    # executemany with RETURNING: compiled once and sent in batches (SQLAlchemy's "insertmanyvalues"), not one huge
    # VALUES clause compiled anew for every chunk
    return [(row.id, row.user_id, row.dedupe_key) for row in db.session.connection().execute(statement, rows)]


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
    from app.accounts.models import User

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
    return plan_deliveries(person, _Probe(category, urgent), prefs=prefs, settings=settings, now=now,
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
    from app.accounts.models import User
    from app.db_types import UTCDateTime

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


def _tell_after_commit(payload: dict, *, deliver_now: bool, written_at: datetime) -> None:
    """Book, once per transaction, the live message to each recipient's open pages and the job that delivers what
    is due now (only when something is: an inbox-only message needs no job, which spares a queue write per sign-up
    in a rush). Both run only after COMMIT; on ROLLBACK app.after_commit drops them. "Due now" is judged by the
    clock the message was written with (`written_at`), never by the wall clock when the job runs: a push held for
    quiet hours stays held even if the job runs later, and a test's fixed clock holds for the work it triggers."""
    session = db.session()
    created = session.info.get(_SESSION_KEY)
    if created is None:
        created = session.info[_SESSION_KEY] = []
        run_after_commit(lambda: _committed(session, created), session)
    created.append({**payload, "deliver_now": deliver_now, "written_at": written_at})


def _committed(session, created: list[dict]) -> None:
    if session.info.get(_SESSION_KEY) is created:
        session.info.pop(_SESSION_KEY)
    from notifications import realtime, tasks

    realtime.announce([{k: v for k, v in payload.items() if k not in ("deliver_now", "written_at")}
                       for payload in created])
    due = [payload for payload in created if payload["deliver_now"]]
    if due:
        tasks.deliver_soon([payload["id"] for payload in due], due_by=max(payload["written_at"] for payload in due))


def forget_on_rollback(session, *args) -> None:
    session.info.pop(_SESSION_KEY, None)


# ---- the inbox -----------------------------------------------------------------------------------------------------

def inbox(user_id: int, *, unread_only: bool = False, before_id: int | None = None, limit: int = 30
          ) -> list[Notification]:
    """One person's messages, newest first; page with `before_id` (the smallest id of the previous page)."""
    query = sa.select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id:
        query = query.where(Notification.id < before_id)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(max(1, min(limit, 100)))))


def unread_count(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))


def get_own_notification(notification_id: int, user_id: int) -> Notification:
    """A message of this person; someone else's answers exactly like one that does not exist."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("notification_not_found", _l("This message does not exist."))
    return notification


def mark_read(user_id: int, notification_ids: Iterable[int] | None = None, *, now: datetime) -> int:
    """Mark some (or, with None, all) of a person's messages read. Only their own; already-read ones keep their
    first read time. Returns how many changed."""
    query = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_ids is not None:
        ids = [int(i) for i in notification_ids]
        if not ids:
            return 0
        query = query.where(Notification.id.in_(ids))
    changed = db.session.execute(query.values(read_at=now).execution_options(synchronize_session=False)).rowcount
    if changed:
        from notifications import realtime

        count_user = user_id
        run_after_commit(lambda: realtime.tell_read(count_user))
    return changed


# ---- preferences and quiet hours -----------------------------------------------------------------------------------

def default_enabled(category: str, channel: str) -> bool:
    """Everything on, except SMS outside transactional categories (it costs money, so only what must arrive)."""
    if channel == "sms":
        return category in TRANSACTIONAL_CATEGORIES
    return True


def preferences_of(user_id: int) -> dict[tuple[str, str], bool]:
    prefs = {(c, ch): default_enabled(c, ch) for c in CATEGORIES for ch in PREFERENCE_CHANNELS}
    for row in db.session.execute(sa.select(Preference.category, Preference.channel, Preference.enabled)
                                  .where(Preference.user_id == user_id)):
        if (row.category, row.channel) in prefs:
            prefs[(row.category, row.channel)] = row.enabled
    for category in TRANSACTIONAL_CATEGORIES:
        prefs[(category, "inbox")] = True  # can be moved to the inbox, never switched off
    return prefs


def settings_of(user_id: int) -> NotificationSettings:
    """The person's settings row, or an unsaved one with the defaults (22:00–08:00 Asia/Shanghai)."""
    settings = db.session.get(NotificationSettings, user_id)
    if settings is None:
        settings = NotificationSettings(user_id=user_id, quiet_hours_enabled=True, quiet_start_minute=22 * 60,
                                        quiet_end_minute=8 * 60, timezone="Asia/Shanghai")
    return settings


@dataclass(frozen=True)
class DeliverySettings:
    """What planning a delivery reads of a person's settings: plain values (building an ORM object per recipient
    cost more than the whole INSERT of an announcement's chunk)."""

    quiet_hours_enabled: bool = True
    quiet_start_minute: int = 22 * 60
    quiet_end_minute: int = 8 * 60
    timezone: str = "Asia/Shanghai"
    wechat_openid: str | None = None


DEFAULT_SETTINGS = DeliverySettings()


def default_settings(user_id: int) -> DeliverySettings:
    """Settings of someone who never changed them: 22:00–08:00 Asia/Shanghai, no WeChat."""
    return DEFAULT_SETTINGS


def quiet_hours_end(settings: NotificationSettings | DeliverySettings, now: datetime) -> datetime | None:
    """When `now` falls in the person's quiet hours, the moment they end (UTC); otherwise None."""
    if not settings.quiet_hours_enabled:
        return None
    start, end = settings.quiet_start_minute, settings.quiet_end_minute
    if start == end:
        return None
    tz = ZoneInfo(settings.timezone or "Asia/Shanghai")
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    inside = (start <= minute or minute < end) if start > end else (start <= minute < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), datetime.min.time(), tzinfo=tz) + timedelta(minutes=end)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


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
    from app.accounts.models import User

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


# ---- push subscriptions --------------------------------------------------------------------------------------------

def _b64url_bytes(value: str) -> bytes | None:
    import base64
    import binascii

    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def validate_subscription(endpoint: str, p256dh: str, auth: str, *, allow_insecure: bool = False) -> dict:
    """A browser's PushSubscription.toJSON(): an endpoint the server may call (app.safe_urls.check_public_url: https,
    a public host after DNS resolution; `allow_insecure`, tests only, also a push service on 127.0.0.1), a P-256 public
    key (65 bytes, uncompressed) and a 16-byte auth secret, all base64url. Anything else is refused (422) with the
    field that is wrong."""
    from app.safe_urls import RefusedURL, check_public_url

    errors = {}
    endpoint = (endpoint or "").strip()
    try:
        if len(endpoint) > 1000:
            raise RefusedURL("host", "too long")
        check_public_url(endpoint, allow_local=allow_insecure)
    except RefusedURL as refused:
        errors["endpoint"] = (_l("The address of this push service could not be found; please try again later.")
                              if refused.code == "dns" else
                              _l("Not a push service address: it must be an HTTPS address on the internet."))
    key = _b64url_bytes((p256dh or "").strip())
    if key is None or len(key) != 65 or key[0] != 4:
        errors["keys.p256dh"] = _l("Not a P-256 public key.")
    secret = _b64url_bytes((auth or "").strip())
    if secret is None or len(secret) != 16:
        errors["keys.auth"] = _l("Not a 16-byte auth secret.")
    if errors:
        raise DomainError("invalid_subscription", _l("This push subscription is not valid."), status=422,
                          fields={k: str(v) for k, v in errors.items()})
    return {"endpoint": endpoint, "p256dh": p256dh.strip(), "auth": auth.strip()}


def subscribe_device(user_id: int, *, endpoint: str, p256dh: str, auth: str, user_agent: str = "",
                     now: datetime) -> PushSubscription:
    """Keep this browser's subscription for the signed-in person. The endpoint identifies one browser: when another
    account subscribed it before (a shared phone), it now belongs to whoever is signed in on it; nobody can attach
    a device to an account other than their own, since `user_id` is always the caller."""
    allow_insecure = current_app.config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH", False)
    cleaned = validate_subscription(endpoint, p256dh, auth, allow_insecure=allow_insecure)
    subscription = db.session.scalar(sa.select(PushSubscription).where(
        PushSubscription.endpoint == cleaned["endpoint"]))
    if subscription is None:
        subscription = PushSubscription(endpoint=cleaned["endpoint"], created_at=now)
        db.session.add(subscription)
    subscription.user_id = user_id
    subscription.p256dh, subscription.auth = cleaned["p256dh"], cleaned["auth"]
    subscription.user_agent = (user_agent or "")[:300]
    db.session.flush()
    return subscription


def unsubscribe_device(user_id: int, endpoint: str) -> bool:
    """Forget this browser's subscription, if it is the caller's."""
    return bool(db.session.execute(sa.delete(PushSubscription).where(
        PushSubscription.user_id == user_id, PushSubscription.endpoint == (endpoint or "").strip())).rowcount)


def set_preference(user_id: int, category: str, channel: str, enabled: bool) -> None:
    """Switch one (category, channel) on or off. The inbox of a transactional category cannot be switched off:
    such messages can be moved to the inbox (every other channel off), never lost."""
    if category not in CATEGORIES:
        raise DomainError("unknown_category", _l("Unknown message category."))
    if channel not in PREFERENCE_CHANNELS:
        raise DomainError("unknown_channel", _l("Unknown channel."))
    if channel == "inbox" and category in TRANSACTIONAL_CATEGORIES and not enabled:
        raise DomainError("transactional_inbox", _l("Messages about your own registrations and events always stay "
                                                   "in your inbox."), status=409)
    row = db.session.scalar(sa.select(Preference).where(Preference.user_id == user_id, Preference.category == category,
                                                        Preference.channel == channel))
    if row is None:
        db.session.add(Preference(user_id=user_id, category=category, channel=channel, enabled=bool(enabled)))
    else:
        row.enabled = bool(enabled)
    db.session.flush()


def _parse_clock(value: str) -> int | None:
    try:
        hours, minutes = str(value).strip().split(":")
        hours, minutes = int(hours), int(minutes)
    except (ValueError, AttributeError):
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        return None
    return hours * 60 + minutes


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def update_preferences(user_id: int, *, channels: dict | None = None, quiet_hours: dict | None = None) -> None:
    """Save a person's choices at once: `channels` {category: {channel: bool}} (only what is given changes) and
    `quiet_hours` {"enabled": bool, "start": "22:00", "end": "08:00"}. All or nothing: one bad value refuses all."""
    for category, by_channel in (channels or {}).items():
        if category not in CATEGORIES:
            raise DomainError("unknown_category", _l("Unknown message category."))
        for channel, enabled in (by_channel or {}).items():
            if channel not in PREFERENCE_CHANNELS:
                raise DomainError("unknown_channel", _l("Unknown channel."))
            if channel == "inbox" and category in TRANSACTIONAL_CATEGORIES and not enabled:
                raise DomainError("transactional_inbox", _l(
                    "Messages about your own registrations and events always stay in your inbox."), status=409)
    settings = None
    if quiet_hours is not None:
        start, end = _parse_clock(quiet_hours.get("start", "22:00")), _parse_clock(quiet_hours.get("end", "08:00"))
        if start is None or end is None:
            raise DomainError("invalid_quiet_hours", _l("Quiet hours are times like 22:00."))
        settings = db.session.get(NotificationSettings, user_id) or NotificationSettings(user_id=user_id)
        settings.quiet_hours_enabled = bool(quiet_hours.get("enabled", True))
        settings.quiet_start_minute, settings.quiet_end_minute = start, end
        settings.timezone = settings.timezone or "Asia/Shanghai"
        db.session.add(settings)
    for category, by_channel in (channels or {}).items():
        for channel, enabled in (by_channel or {}).items():
            set_preference(user_id, category, channel, bool(enabled))
    db.session.flush()


def preferences_view(user_id: int) -> dict:
    """What the settings page and the API show."""
    prefs = preferences_of(user_id)
    settings = settings_of(user_id)
    return {
        "channels": {c: {ch: prefs[(c, ch)] for ch in PREFERENCE_CHANNELS} for c in CATEGORIES},
        "transactional": list(TRANSACTIONAL_CATEGORIES),
        "quiet_hours": {"enabled": settings.quiet_hours_enabled, "start": clock(settings.quiet_start_minute),
                        "end": clock(settings.quiet_end_minute), "timezone": settings.timezone or "Asia/Shanghai"},
    }



# ---- WeChat -------------------------------------------------------------------------------------------------------

def wechat_configured() -> bool:
    config = current_app.config
    return bool(config.get("WECHAT_APP_ID") and config.get("WECHAT_APP_SECRET"))


def link_wechat(user_id: int, code: str) -> str:
    """Bind the WeChat account that came back from the official account's authorisation (its one-time `code`) to
    this person: WeChat messages then reach them. One WeChat account belongs to one person here: a phone that
    linked it to another account before moves it to this one. Returns the openid."""
    from notifications.channels.wechat import OAuthRefused, openid_for_code

    if not wechat_configured():
        raise DomainError("wechat_not_configured", _l("WeChat is not set up on this site."), status=409)
    if not (code or "").strip() or len(code) > 200:
        raise DomainError("wechat_refused", _l("WeChat did not confirm your account. Please try again."))
    try:
        openid = openid_for_code(dict(current_app.config), code.strip())
    except OAuthRefused as error:
        current_app.logger.info("WeChat authorisation refused: %s", error)
        raise DomainError("wechat_refused", _l("WeChat did not confirm your account. Please try again.")) from None
    db.session.execute(sa.update(NotificationSettings).where(NotificationSettings.wechat_openid == openid,
                                                             NotificationSettings.user_id != user_id)
                       .values(wechat_openid=None).execution_options(synchronize_session=False))
    settings = db.session.get(NotificationSettings, user_id) or NotificationSettings(user_id=user_id)
    settings.wechat_openid = openid
    db.session.add(settings)
    db.session.flush()
    return openid


def unlink_wechat(user_id: int) -> None:
    settings = db.session.get(NotificationSettings, user_id)
    if settings is not None:
        settings.wechat_openid = None
        db.session.flush()


def wechat_linked(user_id: int) -> bool:
    return bool(db.session.scalar(sa.select(NotificationSettings.wechat_openid)
                                  .where(NotificationSettings.user_id == user_id)))


def resubscribe_device(*, old_endpoint: str, old_auth: str, endpoint: str, p256dh: str, auth: str,
                       now: datetime) -> PushSubscription:
    """The browser's push service replaced a subscription (the service worker's `pushsubscriptionchange`): move the
    old one's owner to the new one. No session is needed (a service worker has no CSRF token, and the person may
    be signed out); the proof is the old subscription's auth secret, which only that browser and we know."""
    import hmac

    old = db.session.scalar(sa.select(PushSubscription).where(
        PushSubscription.endpoint == (old_endpoint or "").strip()))
    if old is None or not hmac.compare_digest(old.auth.encode(), (old_auth or "").strip().encode()):
        raise NotFound("subscription_not_found", _l("This push subscription is unknown."))
    allow_insecure = current_app.config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH", False)
    cleaned = validate_subscription(endpoint, p256dh, auth, allow_insecure=allow_insecure)
    taken = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == cleaned["endpoint"],
                                                                PushSubscription.id != old.id))
    if taken is not None:
        if taken.user_id != old.user_id:
            raise DomainError("subscription_taken", _l("This push subscription belongs to someone else."),
                              status=409)
        db.session.delete(taken)
        db.session.flush()
    old.endpoint, old.p256dh, old.auth = cleaned["endpoint"], cleaned["p256dh"], cleaned["auth"]
    old.created_at = now
    db.session.flush()
    return old
