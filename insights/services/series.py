"""Attendance per occurrence of a recurring event (an `EventSeries`: each occurrence is an Event of its own): for each
published occurrence, the confirmed registrations and those of them who came (`checked_in_at`, the events' record of
a first admission). One grouped count over the series' registrations (index on events.series_id, then event_id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from events.models import Event, EventSeries, Registration

TOWN_SERIES = 5  # the town's page draws the series with the most occurrences in its twelve months


@dataclass(frozen=True)
class Occurrence:
    event_id: int
    starts_at: datetime
    confirmed: int
    came: int
    past: bool  # over: its `came` is final (before, nobody has come yet)

    @property
    def rate(self) -> float | None:
        """Percent of the confirmed who came; None before the occurrence or without a confirmed person."""
        return round(100 * self.came / self.confirmed, 1) if self.past and self.confirmed else None


@dataclass(frozen=True)
class SeriesAttendance:
    series_id: int
    title: str
    occurrences: list[Occurrence]


def series_attendance(series_ids: list[int], *, now: datetime, since: datetime | None = None,
                      until: datetime | None = None) -> list[SeriesAttendance]:
    """Each series' published occurrences (starting in [since, until] when given), oldest first."""
    if not series_ids:
        return []
    window = [Event.series_id.in_(series_ids), Event.status == "published"]
    if since is not None:
        window.append(Event.starts_at >= since)
    if until is not None:
        window.append(Event.starts_at <= until)
    confirmed = sa.and_(Registration.id.is_not(None), Registration.status == "confirmed")
    rows = db.session.execute(
        sa.select(Event.series_id, Event.id, Event.starts_at, Event.ends_at,
                  sa.func.count(sa.case((confirmed, Registration.id))),
                  sa.func.count(sa.case((confirmed, Registration.checked_in_at))))
        .select_from(Event).outerjoin(Registration, Registration.event_id == Event.id)
        .where(*window).group_by(Event.series_id, Event.id, Event.starts_at, Event.ends_at)
        .order_by(Event.starts_at, Event.id)
    ).all()
    titles = dict(db.session.execute(sa.select(EventSeries.id, EventSeries.title)
                                     .where(EventSeries.id.in_(series_ids))).all())
    by_series: dict[int, list[Occurrence]] = {series_id: [] for series_id in series_ids if series_id in titles}
    for series_id, event_id, starts_at, ends_at, n_confirmed, came in rows:
        by_series[series_id].append(Occurrence(event_id, starts_at, n_confirmed, came, past=ends_at < now))
    return [SeriesAttendance(series_id, titles[series_id], occurrences)
            for series_id, occurrences in by_series.items()]


def busiest_series(*, since: datetime, until: datetime, limit: int = TOWN_SERIES) -> list[int]:
    """The series with the most published occurrences starting in [since, until] (two or more), most first."""
    occurrences = sa.func.count()
    return list(db.session.scalars(
        sa.select(Event.series_id)
        .where(Event.series_id.is_not(None), Event.status == "published", Event.starts_at >= since,
               Event.starts_at <= until)
        .group_by(Event.series_id).having(occurrences >= 2).order_by(occurrences.desc(), Event.series_id)
        .limit(limit)))


EMPTY_NOT_RECURRING = "not_recurring"
EMPTY_NOBODY_YET = "nobody_yet"


def event_series_numbers(event: Event, *, now: datetime) -> dict:
    """The event's series with every published occurrence, and why there is nothing to draw if so."""
    if event.series_id is None:
        return {"event_id": event.id, "series": None, "empty_reason": EMPTY_NOT_RECURRING}
    found = series_attendance([event.series_id], now=now)
    series = found[0] if found else None
    nobody = series is None or not any(o.confirmed for o in series.occurrences)
    return {"event_id": event.id, "series": series, "empty_reason": EMPTY_NOBODY_YET if nobody else None}
