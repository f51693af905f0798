"""The town over the last twelve months (admins): events per month by kind, returning attendees (of the people who
came to an event in a month, how many came to another within 90 days), no-show rate by kind of event, and the reach
of announcements per channel; the companies that come most, and the no-show rate by how long before the event
people signed up.

Attendance is the events' own record (`registrations.checked_in_at`, set at a person's first admission); a no-show is
a confirmed registration of a past, published event never checked in. Every number is a grouped count in the
database (the returning attendees with a window function, LEAD, over each person's attendances)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from events.models import EVENT_KINDS, Event, Registration
from insights.services.buckets import epoch_bucket, last_months, local_month, start_of_month
from insights.services.series import SeriesAttendance, busiest_series, series_attendance
from notifications.models import CHANNELS, DELIVERY_STATUSES, Announcement, Delivery, Notification

MONTHS = 12
RETURN_WITHIN = timedelta(days=90)
TOP_COMPANIES = 10
# How long before the event's start people signed up (the last band is open-ended).
LEAD_TIMES = (("under_1d", timedelta(days=1)), ("1_3d", timedelta(days=3)), ("3_7d", timedelta(days=7)),
              ("1_2w", timedelta(days=14)), ("over_2w", None))


@dataclass(frozen=True)
class MonthReturns:
    month: str
    attendees: int  # distinct people who came to an event that month
    returned: int  # of them, those who came to another event within 90 days after
    complete: bool  # the 90 days after the month's end are over (else the number can still grow)

    @property
    def rate(self) -> float | None:
        return round(100 * self.returned / self.attendees, 1) if self.attendees else None


@dataclass(frozen=True)
class NoShows:
    """Confirmed registrations of past events in one group, and of them those who came."""

    group: str  # a kind of event (no-shows by kind), or a key of LEAD_TIMES (by how long before people signed up)
    confirmed: int
    attended: int

    @property
    def no_shows(self) -> int:
        return self.confirmed - self.attended

    @property
    def rate(self) -> float | None:
        return round(100 * self.no_shows / self.confirmed, 1) if self.confirmed else None


@dataclass(frozen=True)
class CompanyAttendance:
    company: str
    attendances: int  # check-ins of people of the company, every event counted
    people: int  # distinct people of the company who came
    events: int  # distinct events they came to


@dataclass(frozen=True)
class Town:
    months: list[str]
    events: dict[str, list[int]]  # kind -> events per month (published), in `months` order
    returns: list[MonthReturns]
    no_shows: list[NoShows]
    inbox: dict[str, int]  # written, opened
    channels: dict[str, dict[str, int]]  # channel -> status -> deliveries
    companies: list[CompanyAttendance]
    lead_times: list[NoShows]
    series: list[SeriesAttendance]


def town(*, now: datetime) -> Town:
    months = last_months(now, MONTHS)
    since = start_of_month(months[0])
    return Town(months=months, events=_events_per_month(months, since, now=now),
                returns=_returning(months, since, now=now), no_shows=_no_shows(since, now=now),
                companies=_companies(since, now=now), lead_times=_lead_times(since, now=now),
                series=series_attendance(busiest_series(since=since, until=now), now=now, since=since, until=now),
                **_reach(since))


def _events_per_month(months: list[str], since: datetime, *, now: datetime) -> dict[str, list[int]]:
    month = local_month(Event.starts_at)
    until = start_of_month(_next_month(months[-1]))
    rows = db.session.execute(
        sa.select(Event.kind, month, sa.func.count())
        .where(Event.status == "published", Event.starts_at >= since, Event.starts_at < until)
        .group_by(Event.kind, month)
    ).all()
    counts = {(kind, text): n for kind, text, n in rows}
    return {kind: [counts.get((kind, m), 0) for m in months] for kind in EVENT_KINDS}


def _next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _returning(months: list[str], since: datetime, *, now: datetime) -> list[MonthReturns]:
    """Per month: the people who came to an event, and those of them whose next attendance (LEAD over the person's
    attendances in time order) came within 90 days. One statement; times compared in whole seconds since 1970."""
    at = epoch_bucket(Event.starts_at, 1)
    attendances = (
        sa.select(Registration.user_id.label("user_id"), local_month(Event.starts_at).label("month"),
                  at.label("at"), sa.func.lead(at).over(partition_by=Registration.user_id, order_by=at).label("next"))
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.checked_in_at.is_not(None), Event.starts_at >= since, Event.starts_at <= now)
    ).subquery()
    came_back = sa.and_(attendances.c.next > attendances.c.at,
                        attendances.c.next <= attendances.c.at + int(RETURN_WITHIN.total_seconds()))
    rows = db.session.execute(
        sa.select(attendances.c.month, sa.func.count(sa.distinct(attendances.c.user_id)),
                  sa.func.count(sa.distinct(sa.case((came_back, attendances.c.user_id)))))
        .group_by(attendances.c.month)
    ).all()
    found = {month: (people, back) for month, people, back in rows}
    return [MonthReturns(month=m, attendees=found.get(m, (0, 0))[0], returned=found.get(m, (0, 0))[1],
                         complete=start_of_month(_next_month(m)) + RETURN_WITHIN <= now) for m in months]


def _no_shows(since: datetime, *, now: datetime) -> list[NoShows]:
    rows = db.session.execute(
        sa.select(Event.kind, sa.func.count(), sa.func.count(Registration.checked_in_at))
        .select_from(Registration).join(Event, Event.id == Registration.event_id)
        .where(Event.status == "published", Event.ends_at < now, Event.starts_at >= since,
               Registration.status == "confirmed")
        .group_by(Event.kind)
    ).all()
    found = {kind: (confirmed, attended) for kind, confirmed, attended in rows}
    return [NoShows(kind, *found.get(kind, (0, 0))) for kind in EVENT_KINDS]


def _reach(since: datetime) -> dict:
    of_period = sa.select(Announcement.id).where(Announcement.created_at >= since).scalar_subquery()
    written, opened = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(Notification.read_at))
        .where(Notification.announcement_id.in_(of_period))
    ).one()
    rows = db.session.execute(
        sa.select(Delivery.channel, Delivery.status, sa.func.count())
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.announcement_id.in_(of_period))
        .group_by(Delivery.channel, Delivery.status)
    ).all()
    channels = {channel: dict.fromkeys(DELIVERY_STATUSES, 0) for channel in CHANNELS}
    for channel, status, count in rows:
        channels.setdefault(channel, dict.fromkeys(DELIVERY_STATUSES, 0))[status] = count
    return {"inbox": {"written": written, "opened": opened}, "channels": channels}


def _companies(since: datetime, *, now: datetime) -> list[CompanyAttendance]:
    """The companies whose people came most (check-ins at published events of the twelve months; a person without a
    company is left out), most first, ties by name."""
    company = sa.func.trim(User.company)
    attendances = sa.func.count()
    rows = db.session.execute(
        sa.select(company, attendances, sa.func.count(sa.distinct(Registration.user_id)),
                  sa.func.count(sa.distinct(Registration.event_id)))
        .select_from(Registration).join(Event, Event.id == Registration.event_id)
        .join(User, User.id == Registration.user_id)
        .where(Registration.checked_in_at.is_not(None), Event.status == "published", Event.starts_at >= since,
               Event.starts_at <= now, company != "")
        .group_by(company).order_by(attendances.desc(), company).limit(TOP_COMPANIES)
    ).all()
    return [CompanyAttendance(name, n, people, events) for name, n, people, events in rows]


def _lead_times(since: datetime, *, now: datetime) -> list[NoShows]:
    """Confirmed registrations of past published events, by how long before the start they were made, and how many
    of them came (the events' own record, `checked_in_at`). Seconds compared since 1970, as for returns."""
    lead = epoch_bucket(Event.starts_at, 1) - epoch_bucket(Registration.created_at, 1)
    band = sa.case(*[(lead < int(limit.total_seconds()), key) for key, limit in LEAD_TIMES if limit is not None],
                   else_=LEAD_TIMES[-1][0])
    rows = db.session.execute(
        sa.select(band, sa.func.count(), sa.func.count(Registration.checked_in_at))
        .select_from(Registration).join(Event, Event.id == Registration.event_id)
        .where(Event.status == "published", Event.ends_at < now, Event.starts_at >= since,
               Registration.status == "confirmed")
        .group_by(band)
    ).all()
    found = {key: (confirmed, attended) for key, confirmed, attended in rows}
    return [NoShows(key, *found.get(key, (0, 0))) for key, _ in LEAD_TIMES]
