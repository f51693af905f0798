"""Organizers' announcements to a segment of residents: everyone, an event's registrants, its checked-in attendees or
no-shows, residents by interest tag or by company.

Creating one writes only the announcement (fast, in the organizer's request); the fan-out job then writes the inbox
rows in chunks of recipients ordered by user id, four chunks at a time on PostgreSQL. Each chunk is one transaction:
rows inserted with ON CONFLICT DO NOTHING on (user, dedupe key), deliveries for exactly the rows it inserted, and
the count of recipients raised; after each round the announcement's cursor moves with a conditional UPDATE. A worker
killed mid-way loses at most its open round; the next run resumes from the cursor, and the unique key makes a
repeated chunk harmless: every resident ends with exactly one inbox message, and one delivery per channel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.after_commit import run_after_commit
from app.authz import authorize, has_role
from app.db_types import UTCDateTime, utcnow
from app.errors import DomainError, Forbidden, NotFound
from app.extensions import db, dialect_insert
from app.i18n import ALIASES
from app.safe_urls import safe_link
from events import services as events
from events.models import ACTIVE_STATUSES, Event, Registration
from notifications import jobs
from notifications.deliveries import insert_planned_deliveries
from notifications.locks import fanout_lock
from notifications.models import (
    SEGMENT_KINDS,
    Announcement,
    Delivery,
    Notification,
    Preference,
)
from notifications.writing import DEFAULT_LOCALE

EVENT_SEGMENTS = ("registrants", "checked_in", "no_show")
MAX_TITLE, MAX_BODY = 200, 4000


def clean_segment(segment: dict | None) -> dict:
    """{"kind": "all"} | {"kind": "registrants"|"checked_in"|"no_show", "event_id": 3} | {"kind": "interest",
    "tag": "大模型应用"} | {"kind": "company", "company": "..."}; anything else is refused with a clear code."""
    segment = segment if isinstance(segment, dict) else {}
    kind = segment.get("kind")
    if kind not in SEGMENT_KINDS:
        raise DomainError("invalid_segment", _l("Choose who the announcement is for."))
    if kind in EVENT_SEGMENTS:
        try:
            event_id = int(segment.get("event_id"))
        except (TypeError, ValueError):
            raise DomainError("invalid_segment", _l("Choose the event.")) from None
        return {"kind": kind, "event_id": event_id}
    if kind == "interest":
        tag = str(segment.get("tag") or "").strip()
        if not tag:
            raise DomainError("invalid_segment", _l("Choose an interest tag."))
        return {"kind": kind, "tag": tag[:40]}
    if kind == "company":
        company = str(segment.get("company") or "").strip()
        if not company:
            raise DomainError("invalid_segment", _l("Name the company."))
        return {"kind": kind, "company": company[:120]}
    return {"kind": "all"}


def authorize_segment(actor, segment: dict) -> None:
    """An event's organizers may write to that event's people; the whole town, a tag or a company needs a global
    organizer."""
    if segment["kind"] in EVENT_SEGMENTS:
        events.organized_event(segment["event_id"], actor)
    else:
        authorize(actor, "organizer")


def segment_query(segment: dict):
    """SELECT users.id of the segment's active residents (without order or paging)."""
    query = sa.select(User.id).where(User.is_active_account.is_(True))
    kind = segment["kind"]
    if kind in EVENT_SEGMENTS:
        registrations = sa.select(Registration.user_id).where(Registration.event_id == segment["event_id"])
        if kind == "registrants":
            registrations = registrations.where(Registration.status.in_(ACTIVE_STATUSES))
        elif kind == "checked_in":
            registrations = registrations.where(Registration.checked_in_at.is_not(None))
        else:  # no-show: held a confirmed seat of an event that has ended, never checked in
            ended = sa.select(Event.id).where(Event.id == segment["event_id"], Event.ends_at <= utcnow())
            registrations = registrations.where(Registration.status == "confirmed",
                                                Registration.checked_in_at.is_(None), Registration.event_id.in_(ended))
        query = query.where(User.id.in_(registrations))
    elif kind == "interest":
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.where(sa.cast(User.interests, sa.dialects.postgresql.JSONB).contains([segment["tag"]]))
        else:
            each = sa.func.json_each(User.interests).table_valued("value")
            query = query.where(sa.exists(sa.select(1).select_from(each).where(each.c.value == segment["tag"])))
    elif kind == "company":
        query = query.where(sa.func.lower(sa.func.trim(User.company)) == segment["company"].lower())
    return query


def segment_size(segment: dict) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(segment_query(segment).subquery()))


def create_announcement(actor, *, segment: dict, title: str, body: str = "", title_en: str = "", body_en: str = "",
                        link: str = "", urgent: bool = False, now: datetime) -> Announcement:
    """Write an announcement to a segment; the inbox rows follow in the fan-out job (after commit). Refused when the
    segment is empty or the text is missing, so nothing is half-sent."""
    segment = clean_segment(segment)
    authorize_segment(actor, segment)
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = _l("A title is required.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _l("At most %(n)d characters.", n=MAX_TITLE)
    if len(body) > MAX_BODY or len(body_en or "") > MAX_BODY:
        errors["body"] = _l("At most %(n)d characters.", n=MAX_BODY)
    link = (link or "").strip()
    if link:
        link = safe_link(link)  # the same check as where it is followed (views.open_message, the push's URL)
        if link is None:
            errors["link"] = _l("Links point to a page of this site, e.g. /events/12.")
    if errors:
        raise DomainError("invalid_announcement", _l("Please correct the highlighted fields."), status=422,
                          fields={k: str(v) for k, v in errors.items()})
    if segment_size(segment) == 0:
        raise DomainError("empty_segment", _l("Nobody is in this group yet; nothing was sent."), status=409)
    announcement = Announcement(
        created_by_id=actor.id, segment=segment, event_id=segment.get("event_id"), title=title, body=body,
        title_en=(title_en or "").strip()[:MAX_TITLE], body_en=(body_en or "").strip(), urgent=bool(urgent),
        link=link or (f"/events/{segment['event_id']}" if segment.get("event_id") else ""), status="sending",
        created_at=now)
    db.session.add(announcement)
    db.session.flush()
    announcement_id = announcement.id
    run_after_commit(lambda: jobs.start("fan_out_announcement", announcement_id))
    return announcement


def unfinished_announcement_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Announcement.id).where(Announcement.status == "sending")
                                   .order_by(Announcement.id)))


def fan_out(announcement_id: int) -> int:
    """Write the inbox rows of every remaining recipient, chunk by chunk. Returns how many rows this run wrote (0 when
    another worker holds the fan-out: two workers on one announcement would only race for the same chunks).

    The fan-out is held with a lock that dies with its holder (notifications.locks.fanout_lock: an advisory lock on
    PostgreSQL, a file lock on SQLite): a worker killed mid-way leaves nothing to wait for, and the next one (a
    restarted worker's first job, or any worker's every-minute sweep) goes on from the cursor at once. Correctness
    does not depend on it (the unique key sees to that); it spares the other workers for deliveries."""
    with fanout_lock(announcement_id) as held:
        if not held:
            return 0
        written = 0
        while True:
            done, count = fan_out_chunk(announcement_id, now=utcnow())
            written += count
            if done:
                return written


def fan_out_chunk(announcement_id: int, *, now: datetime) -> tuple[bool, int]:
    """One round: the next NOTIFICATIONS_FANOUT_PARALLEL chunks of recipients (one on SQLite, which has one writer),
    each written in a transaction of its own, side by side on PostgreSQL (so the database works on every core);
    then the cursor moves past them with a compare-and-set. Returns (finished, rows written).

    Exactly one inbox row per resident does not depend on the cursor: a chunk done again (its round interrupted by
    a kill before the cursor moved) inserts nothing, thanks to the unique key, and
    so plans no delivery and counts no recipient (each chunk adds what it inserted)."""
    config = current_app.config
    chunk = config.get("NOTIFICATIONS_FANOUT_CHUNK", 5000)
    parallel = 1 if db.session.get_bind().dialect.name == "sqlite" else config.get("NOTIFICATIONS_FANOUT_PARALLEL", 4)
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or announcement.status != "sending":
        db.session.rollback()
        return True, 0
    cursor, segment = announcement.cursor, announcement.segment
    bounds: list[tuple[int, int]] = []
    after = cursor
    for _ in range(max(1, parallel)):
        window = segment_query(segment).where(User.id > after).order_by(User.id).limit(chunk).subquery("window")
        last = db.session.scalar(sa.select(sa.func.max(window.c.id)))
        if last is None:
            break
        bounds.append((after, last))
        after = last
    if not bounds:
        db.session.execute(
            sa.update(Announcement).where(Announcement.id == announcement_id, Announcement.status == "sending",
                                          Announcement.cursor == cursor)
            .values(status="sent", finished_at=now)
            .execution_options(synchronize_session=False))
        db.session.commit()
        return True, 0
    db.session.rollback()  # no snapshot or lock held while the chunks are written
    if len(bounds) == 1:
        written = [_write_chunk(announcement_id, *bounds[0], now=now)]
    else:
        app = current_app._get_current_object()

        def write(bound: tuple[int, int]) -> int:
            with app.app_context():
                return _write_chunk(announcement_id, *bound, now=now)

        with ThreadPoolExecutor(max_workers=len(bounds), thread_name_prefix="fan-out") as pool:
            written = list(pool.map(write, bounds))
    db.session.execute(
        sa.update(Announcement).where(Announcement.id == announcement_id, Announcement.cursor == cursor,
                                      Announcement.status == "sending")
        .values(cursor=bounds[-1][1])
        .execution_options(synchronize_session=False))
    db.session.commit()
    return False, sum(written)


def _write_chunk(announcement_id: int, after_user_id: int, last_user_id: int, *, now: datetime) -> int:
    """The recipients with ids in (after_user_id, last_user_id], in one transaction: their inbox rows in one
    INSERT ... SELECT, their deliveries in another (deliveries.insert_planned_deliveries), the announcement's count
    of recipients raised by what was inserted. Nothing per resident goes through Python. Returns the rows written."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or announcement.status != "sending":
        db.session.rollback()
        return 0
    in_chunk = segment_query(announcement.segment).where(User.id > after_user_id, User.id <= last_user_id)
    inserted = _insert_chunk(announcement, in_chunk, now=now)
    if not inserted:
        db.session.rollback()
        return 0
    deliveries = insert_planned_deliveries(
        in_chunk, category="announcements", urgent=bool(announcement.urgent),
        dedupe_key=_dedupe_key(announcement_id), now=now)
    db.session.execute(sa.update(Announcement).where(Announcement.id == announcement_id)
                       .values(recipients=Announcement.recipients + inserted)
                       .execution_options(synchronize_session=False))
    # live messages and deliveries: other workers' jobs, so that this one only writes rows
    run_after_commit(lambda: jobs.start("announce_range", announcement_id, after_user_id, last_user_id, deliveries))
    db.session.commit()
    return inserted


def _dedupe_key(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


def chunk_messages(announcement_id: int, after_user_id: int, last_user_id: int):
    """SELECT of the announcement's inbox rows for the residents with ids in (after_user_id, last_user_id] (by the
    unique key (user, dedupe key), so it reads only that chunk's rows)."""
    return sa.select(Notification).where(
        Notification.dedupe_key == _dedupe_key(announcement_id), Notification.user_id > after_user_id,
        Notification.user_id <= last_user_id, Notification.announcement_id == announcement_id)


def _text_in(announcement: Announcement, locale: str) -> tuple[str, str]:
    """(title, body) in a language: the English version where the organizer wrote one, else the Chinese."""
    if locale == "en" and announcement.title_en:
        return announcement.title_en, announcement.body_en or announcement.body
    return announcement.title, announcement.body


def _insert_chunk(announcement: Announcement, in_chunk, *, now: datetime) -> int:
    """The chunk's inbox rows in one INSERT ... SELECT from the residents (nothing built row by row in Python),
    skipping people who switched announcements off in their inbox, and ON CONFLICT DO NOTHING: a row a killed
    worker already committed is not doubled. Returns how many rows were written."""
    english = sa.func.trim(sa.func.coalesce(User.locale, "")).in_([k for k, v in ALIASES.items() if v == "en"])
    (zh_title, zh_body), (en_title, en_body) = (_text_in(announcement, DEFAULT_LOCALE),
                                                _text_in(announcement, "en"))
    inbox_off = sa.exists().where(Preference.user_id == User.id, Preference.category == "announcements",
                                  Preference.channel == "inbox", Preference.enabled.is_(False))
    columns = {
        "user_id": User.id, "category": sa.literal("announcements"), "kind": sa.literal("announcement"),
        "transactional": sa.literal(False), "urgent": sa.literal(bool(announcement.urgent)),
        "title": sa.case((english, sa.literal(en_title)), else_=sa.literal(zh_title)),
        "body": sa.case((english, sa.literal(en_body)), else_=sa.literal(zh_body)),
        "link": sa.literal(announcement.link), "locale": sa.case((english, "en"), else_=DEFAULT_LOCALE),
        "dedupe_key": sa.literal(_dedupe_key(announcement.id)),
        "event_id": sa.literal(announcement.event_id, sa.Integer()),
        "announcement_id": sa.literal(announcement.id), "created_at": sa.literal(now, UTCDateTime()),
        "read_at": sa.null(),
    }
    rows = in_chunk.with_only_columns(*columns.values()).where(~inbox_off)
    statement = dialect_insert(Notification.__table__).from_select(list(columns), rows).on_conflict_do_nothing(
        index_elements=["user_id", "dedupe_key"])
    return db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


# ---- what organizers see -------------------------------------------------------------------------------------------

def get_announcement(announcement_id: int, actor) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:
        raise NotFound("announcement_not_found", _l("This announcement does not exist."))
    authorize_segment(actor, announcement.segment)
    return announcement


def announcement_stats(announcement_id: int) -> dict:
    """Reach per channel (sent / pending / failed / skipped, with the commonest reasons for failures) and reads."""
    recipients = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.announcement_id == announcement_id))
    read = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.announcement_id == announcement_id, Notification.read_at.is_not(None)))
    channels: dict[str, dict] = {}
    for channel, status, count in db.session.execute(
            sa.select(Delivery.channel, Delivery.status, sa.func.count()).join(Notification)
            .where(Notification.announcement_id == announcement_id).group_by(Delivery.channel, Delivery.status)):
        entry = channels.setdefault(channel, {"sent": 0, "pending": 0, "failed": 0, "skipped": 0, "reasons": {}})
        entry[status] = count
    for channel, reason, count in db.session.execute(
            sa.select(Delivery.channel, Delivery.last_error, sa.func.count()).join(Notification)
            .where(Notification.announcement_id == announcement_id, Delivery.status == "failed")
            .group_by(Delivery.channel, Delivery.last_error).order_by(sa.func.count().desc())):
        channels[channel]["reasons"][reason or "?"] = count
    return {"recipients": recipients, "read": read, "channels": channels}


def visible_announcements(actor, *, limit: int = 50) -> list[Announcement]:
    """Global organizers see every announcement; an event's organizers those of their events."""
    query = sa.select(Announcement).order_by(Announcement.id.desc()).limit(limit)
    if not has_role(actor, "organizer"):
        event_ids = [int(g.scope.split(":", 1)[1]) for g in actor.roles
                     if g.role == "organizer" and g.scope.startswith("event:")]
        if not event_ids:
            raise Forbidden("forbidden", _l("You are not allowed to do this."))
        query = query.where(Announcement.event_id.in_(event_ids))
    return list(db.session.scalars(query))
