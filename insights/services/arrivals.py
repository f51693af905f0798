"""On the day and after: arrivals per gate per 5 minutes, the share of expected people already in, attendance,
no-shows and how early people came.

Definitions are check-in's (checkin.numbers): expected = confirmed tickets; an arrival is a person's first admission
(`checkin_admissions`, one row per ticket, at the gate where they first came in); came = confirmed tickets admitted;
no-shows = confirmed tickets never admitted. All counts are grouped in the database (index on event_id). Arrivals
more than 12 hours before the start or after the end (an offline scanner with a wrong clock) stay in the totals but
not on the time axis: `outside_window` says how many."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from checkin.models import Admission, CheckinConfig
from checkin.tickets import TICKET_STATUSES
from events.models import Event, Registration
from insights.services.buckets import epoch_bucket

BUCKET = timedelta(minutes=5)
WINDOW_MARGIN = timedelta(hours=12)
DEFAULT_DOORS_OPEN_MINUTES = 120  # CheckinConfig's default
# How early people came, by their first admission relative to the start (the last is the catch-all).
PUNCTUALITY = (("early_30", timedelta(minutes=-30)), ("early_15", timedelta(minutes=-15)),
               ("early_0", timedelta(0)), ("late_15", timedelta(minutes=15)), ("late_more", None))
# Why there is nothing to draw.
EMPTY_DRAFT = "draft"
EMPTY_NO_TICKETS = "no_tickets"
EMPTY_NOT_YET = "no_arrivals_yet"
EMPTY_NOBODY_CAME = "nobody_came"


@dataclass(frozen=True)
class ArrivalBucket:
    start: datetime
    counts: list[int]  # per gate, in the order of Arrivals.gates
    arrived: int  # arrivals so far, every gate, up to the end of this slice


@dataclass(frozen=True)
class Arrivals:
    event_id: int
    phase: str  # before (doors not open yet), open (doors open, until the end), after
    doors_open_at: datetime
    gates: list[str]
    buckets: list[ArrivalBucket]
    expected: int
    came: int
    admitted: int
    outside_window: int
    punctuality: dict[str, int]
    empty_reason: str | None

    @property
    def no_shows(self) -> int:
        return self.expected - self.came

    @property
    def share_in(self) -> float:
        """Percent of the expected people already in (one decimal)."""
        return round(100 * self.came / self.expected, 1) if self.expected else 0.0


def arrivals(event: Event, *, now: datetime) -> Arrivals:
    doors_open_at = event.starts_at - timedelta(minutes=_opens_minutes_before(event.id))
    phase = "before" if now < doors_open_at else "open" if now <= event.ends_at else "after"
    expected, came, admitted = _totals(event.id)
    gates, buckets, outside = _per_gate(event, now=now, phase=phase)
    empty_reason = None
    if not buckets:
        if event.status == "draft":
            empty_reason = EMPTY_DRAFT
        elif expected == 0 and admitted == 0:
            empty_reason = EMPTY_NO_TICKETS
        else:
            empty_reason = EMPTY_NOBODY_CAME if phase == "after" else EMPTY_NOT_YET
    return Arrivals(event_id=event.id, phase=phase, doors_open_at=doors_open_at, gates=gates, buckets=buckets,
                    expected=expected, came=came, admitted=admitted, outside_window=outside,
                    punctuality=_punctuality(event), empty_reason=empty_reason)


def _opens_minutes_before(event_id: int) -> int:
    minutes = db.session.scalar(sa.select(CheckinConfig.opens_minutes_before)
                                .where(CheckinConfig.event_id == event_id))
    return DEFAULT_DOORS_OPEN_MINUTES if minutes is None else minutes


def _totals(event_id: int) -> tuple[int, int, int]:
    confirmed = sa.and_(Registration.event_id == event_id, Registration.status.in_(TICKET_STATUSES))
    expected, came, admitted = db.session.execute(sa.select(
        sa.select(sa.func.count()).select_from(Registration).where(confirmed).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Admission)
        .join(Registration, Registration.id == Admission.registration_id).where(confirmed).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Admission).where(Admission.event_id == event_id).scalar_subquery(),
    )).one()
    return expected, came, admitted


def _per_gate(event: Event, *, now: datetime, phase: str) -> tuple[list[str], list[ArrivalBucket], int]:
    seconds = int(BUCKET.total_seconds())
    start, end = event.starts_at - WINDOW_MARGIN, event.ends_at + WINDOW_MARGIN
    in_window = Admission.first_admitted_at.between(start, end)
    slice_of = epoch_bucket(Admission.first_admitted_at, seconds)
    rows = db.session.execute(
        sa.select(Admission.gate, slice_of, sa.func.count())
        .where(Admission.event_id == event.id, in_window).group_by(Admission.gate, slice_of)
    ).all()
    outside = db.session.scalar(sa.select(sa.func.count()).select_from(Admission)
                                .where(Admission.event_id == event.id, sa.not_(in_window)))
    if not rows:
        return [], [], outside
    gates = sorted({gate for gate, _, _ in rows})
    counts = {(gate, index): n for gate, index, n in rows}
    first = min(index for _, index, _ in rows)
    last = max(index for _, index, _ in rows)
    if phase == "open":  # live: the axis runs to now, so a quiet gate shows as quiet
        last = max(last, min(int(now.timestamp()) // seconds, int(end.timestamp()) // seconds))
    buckets, arrived = [], 0
    for index in range(first, last + 1):
        per_gate = [counts.get((gate, index), 0) for gate in gates]
        arrived += sum(per_gate)
        buckets.append(ArrivalBucket(start=datetime.fromtimestamp(index * seconds, UTC), counts=per_gate,
                                     arrived=arrived))
    return gates, buckets, outside


def _punctuality(event: Event) -> dict[str, int]:
    """Confirmed people who came, by how long before (or after) the start they first came in."""
    whens = [(Admission.first_admitted_at < event.starts_at + offset, key)
             for key, offset in PUNCTUALITY if offset is not None]
    band = sa.case(*whens, else_=PUNCTUALITY[-1][0])
    rows = db.session.execute(
        sa.select(band, sa.func.count()).select_from(Admission)
        .join(Registration, Registration.id == Admission.registration_id)
        .where(Registration.event_id == event.id, Registration.status.in_(TICKET_STATUSES))
        .group_by(band)
    ).all()
    found = dict(rows)
    return {key: found.get(key, 0) for key, _ in PUNCTUALITY}
