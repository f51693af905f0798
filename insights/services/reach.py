"""An announcement's reach over time, per channel: inbox messages written and opened, and for each channel the
deliveries queued (created), delivered (`sent_at`) and failed, cumulative, per hour for the first three days after
it was written (per town day after that, or when it goes on longer).

A failed delivery keeps no time of its failure: it is placed at its last scheduled attempt (`next_attempt_at`), when
the channel gave up. Every number is a count grouped by time slice in the database over the announcement's rows
(index on notifications.announcement_id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from insights.services.buckets import TOWN_ZONE, day_from_text, epoch_bucket, local_date
from notifications.models import Announcement, Delivery, Notification

HOURLY_FOR = timedelta(days=3)
HOUR = 3600
SERIES = ("written", "opened")
CHANNEL_SERIES = ("queued", "sent", "failed")
EMPTY_NO_RECIPIENTS = "no_recipients"


@dataclass(frozen=True)
class Reach:
    announcement_id: int
    title: str
    step: str  # hour or day
    times: list[datetime]  # the start of each slice (UTC), oldest first
    inbox: dict[str, list[int]]  # written, opened -> cumulative counts per slice
    channels: dict[str, dict[str, list[int]]]  # channel -> queued, sent, failed -> cumulative counts per slice
    empty_reason: str | None


def reach_over_time(announcement: Announcement, *, now: datetime) -> Reach:
    ours = Notification.announcement_id == announcement.id
    columns = {"written": Notification.created_at, "opened": Notification.read_at}
    delivery_columns = {"queued": Delivery.created_at, "sent": Delivery.sent_at, "failed": Delivery.next_attempt_at}
    last = db.session.scalar(sa.select(sa.func.max(sa.func.coalesce(Notification.read_at, Notification.created_at)))
                             .where(ours))
    settled = sa.case((Delivery.status == "sent", Delivery.sent_at),
                      (Delivery.status == "failed", Delivery.next_attempt_at), else_=Delivery.created_at)
    last_delivery = db.session.scalar(sa.select(sa.func.max(settled))
                                      .join(Notification, Notification.id == Delivery.notification_id).where(ours))
    if last is None:
        return Reach(announcement.id, announcement.title, "hour", [], {k: [] for k in SERIES}, {},
                     EMPTY_NO_RECIPIENTS)
    start = announcement.created_at
    end = max(moment for moment in (last, last_delivery, min(now, start + HOURLY_FOR)) if moment is not None)
    step = "hour" if end - start <= HOURLY_FOR else "day"
    if step == "hour":
        first = int(start.timestamp()) // HOUR
        keys = list(range(first, int(end.timestamp()) // HOUR + 1))
        times = [datetime.fromtimestamp(k * HOUR, UTC) for k in keys]

        def slice_of(column):
            return epoch_bucket(column, HOUR)
    else:
        day = start.astimezone(TOWN_ZONE).date()
        last_day = end.astimezone(TOWN_ZONE).date()
        days = [day + timedelta(days=n) for n in range((last_day - day).days + 1)]
        keys = [d.isoformat() for d in days]
        times = [datetime(d.year, d.month, d.day, tzinfo=TOWN_ZONE).astimezone(UTC) for d in days]

        def slice_of(column):
            return local_date(column)

    def cumulative(found: dict) -> list[int]:
        before = sum(n for k, n in found.items() if k < keys[0])  # none expected: rows are after the announcement
        out, total = [], before
        for key in keys:
            total += found.get(key, 0)
            out.append(total)
        return out

    inbox = {}
    for name, column in columns.items():
        slice_ = slice_of(column)
        rows = db.session.execute(sa.select(slice_, sa.func.count()).where(ours, column.is_not(None))
                                  .group_by(slice_)).all()
        inbox[name] = cumulative(_keyed(rows, step))
    channels: dict[str, dict[str, list[int]]] = {}
    for name, column in delivery_columns.items():
        slice_ = slice_of(column)
        # The status is counted, not filtered on: a WHERE on it invites PostgreSQL to walk the deliveries by their
        # (status, next_attempt_at) index once per notification when its statistics are stale (a 400 ms plan on
        # 4,000 rows, seen in bench/insights.py right after a bulk insert).
        counted = {"queued": sa.func.count(), "sent": sa.func.count(sa.case((Delivery.status == "sent", 1))),
                   "failed": sa.func.count(sa.case((Delivery.status == "failed", 1)))}[name]
        rows = db.session.execute(
            sa.select(Delivery.channel, slice_, counted)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(ours, column.is_not(None)).group_by(Delivery.channel, slice_)).all()
        per_channel: dict[str, list] = {}
        for channel, key, count in rows:
            per_channel.setdefault(channel, []).append((key, count))
        for channel, pairs in per_channel.items():
            channels.setdefault(channel, {})[name] = cumulative(_keyed(pairs, step))
    for series in channels.values():
        for name in CHANNEL_SERIES:
            series.setdefault(name, [0] * len(keys))
    channels = {c: {n: channels[c][n] for n in CHANNEL_SERIES} for c in sorted(channels)}
    return Reach(announcement.id, announcement.title, step, times, inbox, channels, None)


def _keyed(rows, step: str) -> dict:
    if step == "hour":
        return {int(key): count for key, count in rows}
    return {day_from_text(key).isoformat(): count for key, count in rows}
