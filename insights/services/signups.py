"""An event's sign-ups: over time (per town day, cumulative) and by persona.

Over time, at the end of each day:
- `signed_up`: everyone who had signed up so far (cancelled or not);
- `confirmed`: those holding a confirmed seat (confirmed by then, not yet gone);
- `waiting`: signed up but neither confirmed nor gone: the waitlist, pending approval, in the lottery, a seat offered;
- `cancelled`: cancellations so far.
"Gone" is a cancellation (its `cancelled_at`), or a refusal or an expired offer (when the row last changed: these
are final states). Counted from four grouped counts over the event's rows (index on event_id): new sign-ups,
confirmations, departures of the confirmed and of the waiting, per day. A person who cancels and signs up again
reuses their registration (events.services.registration), so only their latest sign-up is in the history.

By persona: how many of each persona (founder, investor, engineer, other) are confirmed, waiting, cancelled, or
declined (refused or offer expired) now.

By company: the companies people wrote in their profile (trimmed; an empty one is "" = not given), the
`TOP_COMPANIES` with the most sign-ups by name, the rest summed as `other` (其他)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app.accounts.models import PERSONAS, User
from app.extensions import db
from events.models import Event, Registration
from insights.services.buckets import day_from_text, days_between, local_date, town_day

WAITING_STATUSES = ("waitlisted", "pending", "offered", "entered")
DECLINED_STATUSES = ("rejected", "expired")
STATUS_GROUPS = {"confirmed": ("confirmed",), "waiting": WAITING_STATUSES, "cancelled": ("cancelled",),
                 "declined": DECLINED_STATUSES}
TOP_COMPANIES = 8
OTHER_COMPANIES = None  # the key of the row that sums every company past the top ones
# Why a chart has nothing to draw (the page says it in words): a draft takes no sign-ups; a published event has none.
EMPTY_DRAFT = "draft"
EMPTY_NO_SIGNUPS = "no_signups"


@dataclass(frozen=True)
class SignupDay:
    day: date
    signed_up: int
    confirmed: int
    waiting: int
    cancelled: int


@dataclass(frozen=True)
class PersonaCounts:
    persona: str
    confirmed: int
    waiting: int
    cancelled: int
    declined: int

    @property
    def total(self) -> int:
        return self.confirmed + self.waiting + self.cancelled + self.declined


@dataclass(frozen=True)
class CompanyCounts:
    company: str | None  # "" = not given; None = every other company (past the top ones)
    confirmed: int
    waiting: int
    cancelled: int
    declined: int

    @property
    def total(self) -> int:
        return self.confirmed + self.waiting + self.cancelled + self.declined


@dataclass(frozen=True)
class SignupInsights:
    event_id: int
    capacity: int | None
    days: list[SignupDay]
    personas: list[PersonaCounts]
    companies: list[CompanyCounts]
    empty_reason: str | None

    @property
    def totals(self) -> dict[str, int]:
        return {group: sum(getattr(p, group) for p in self.personas) for group in STATUS_GROUPS}


def signup_insights(event: Event, *, now: datetime) -> SignupInsights:
    personas = signups_by_persona(event.id)
    days = signups_over_time(event, now=now)
    empty_reason = None
    if not days:
        empty_reason = EMPTY_DRAFT if event.status == "draft" else EMPTY_NO_SIGNUPS
    return SignupInsights(event_id=event.id, capacity=event.capacity, days=days, personas=personas,
                          companies=signups_by_company(event.id), empty_reason=empty_reason)


def _ended_at():
    """When a registration left (cancelled, refused, offer expired); NULL while it is active."""
    return sa.case(
        (Registration.status == "cancelled", Registration.cancelled_at),
        (Registration.status.in_(DECLINED_STATUSES), Registration.updated_at),
        else_=None,
    )


def _per_day(column, *conditions) -> dict[date, int]:
    day = local_date(column)
    rows = db.session.execute(
        sa.select(day, sa.func.count()).select_from(Registration)
        .where(*conditions, column.is_not(None)).group_by(day)
    ).all()
    return {day_from_text(text): count for text, count in rows}


def signups_over_time(event: Event, *, now: datetime) -> list[SignupDay]:
    """One entry per town day, from the first sign-up to today (or the event's day, if earlier, or the last
    change, if later); empty when nobody ever signed up."""
    of_event = Registration.event_id == event.id
    ended = _ended_at()
    new = _per_day(Registration.created_at, of_event)
    confirmations = _per_day(Registration.confirmed_at, of_event)
    left_confirmed = _per_day(ended, of_event, Registration.confirmed_at.is_not(None))
    left_waiting = _per_day(ended, of_event, Registration.confirmed_at.is_(None))
    cancellations = _per_day(Registration.cancelled_at, of_event, Registration.status == "cancelled")
    changes = set(new) | set(confirmations) | set(left_confirmed) | set(left_waiting) | set(cancellations)
    if not new:
        return []
    first = min(changes)
    last = max(max(changes), min(town_day(now), town_day(event.starts_at)))
    days, signed_up, confirmed, waiting, cancelled = [], 0, 0, 0, 0
    for day in days_between(first, last):
        signed_up += new.get(day, 0)
        confirmed += confirmations.get(day, 0) - left_confirmed.get(day, 0)
        waiting += new.get(day, 0) - confirmations.get(day, 0) - left_waiting.get(day, 0)
        cancelled += cancellations.get(day, 0)
        days.append(SignupDay(day=day, signed_up=signed_up, confirmed=confirmed, waiting=waiting,
                              cancelled=cancelled))
    return days


def signups_by_persona(event_id: int) -> list[PersonaCounts]:
    """Every persona, in the profile form's order (zeros included, so charts keep their shape)."""
    rows = db.session.execute(
        sa.select(User.persona, Registration.status, sa.func.count())
        .select_from(Registration).join(User, User.id == Registration.user_id)
        .where(Registration.event_id == event_id)
        .group_by(User.persona, Registration.status)
    ).all()
    group_of = {status: group for group, statuses in STATUS_GROUPS.items() for status in statuses}
    counts = {persona: dict.fromkeys(STATUS_GROUPS, 0) for persona in PERSONAS}
    for persona, status, count in rows:
        key = persona if persona in counts else "other"  # a persona no longer offered counts as "other"
        counts[key][group_of.get(status, "declined")] += count
    return [PersonaCounts(persona=persona, **groups) for persona, groups in counts.items()]


def signups_by_company(event_id: int, *, top: int = TOP_COMPANIES) -> list[CompanyCounts]:
    """The `top` companies by sign-ups (ties by name), then one row summing the others; empty without sign-ups."""
    company = sa.func.trim(User.company)
    rows = db.session.execute(
        sa.select(company, Registration.status, sa.func.count())
        .select_from(Registration).join(User, User.id == Registration.user_id)
        .where(Registration.event_id == event_id)
        .group_by(company, Registration.status)
    ).all()
    group_of = {status: group for group, statuses in STATUS_GROUPS.items() for status in statuses}
    counts: dict[str, dict[str, int]] = {}
    for name, status, count in rows:
        counts.setdefault(name or "", dict.fromkeys(STATUS_GROUPS, 0))[group_of.get(status, "declined")] += count
    ordered = sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    result = [CompanyCounts(company=name, **groups) for name, groups in ordered[:top]]
    if len(ordered) > top:
        rest = dict.fromkeys(STATUS_GROUPS, 0)
        for _name, groups in ordered[top:]:
            for group, count in groups.items():
                rest[group] += count
        result.append(CompanyCounts(company=OTHER_COMPANIES, **rest))
    return result
