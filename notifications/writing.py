"""Writing messages: who gets which message, in which language, with which deliveries, in the caller's transaction.

No Flask request objects in here. Functions take the session's ids and `now`; they flush, the caller commits.
Messages are written inside the caller's transaction (the signal handlers run inside the domain service's
transaction), so a message exists exactly when the change that promised it does. Side effects (the live Socket.IO
message, the delivery job) are booked with app.after_commit and dropped on rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.after_commit import run_after_commit
from app.errors import DomainError
from app.extensions import db, dialect_insert
from app.i18n import normalise_locale
from notifications import jobs, realtime
from notifications.deliveries import Probe, plan_deliveries
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
from notifications.preferences import DeliverySettings, default_enabled, default_settings

DEFAULT_LOCALE = "zh_Hans_CN"
_SESSION_KEY = "notifications.created"  # session.info: messages created in this transaction, told after commit


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
        for channel, due in plan_deliveries(person, Probe(draft.category, draft.urgent), prefs=prefs,
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
    realtime.announce([{k: v for k, v in payload.items() if k not in ("deliver_now", "written_at")}
                       for payload in created])
    due = [payload for payload in created if payload["deliver_now"]]
    if due:
        jobs.start("deliver_soon", [payload["id"] for payload in due],
                   due_by=max(payload["written_at"] for payload in due))


def forget_on_rollback(session, *args) -> None:
    session.info.pop(_SESSION_KEY, None)
