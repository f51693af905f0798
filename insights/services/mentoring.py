"""A mentoring cycle, drawn: the fit scores of its matches (a histogram: current matches, and the pairs a mentor
declined), each mentor's load (live matches and booked meetings of the cycle against their capacity), and the ratings
of the feedback after its meetings (1 to 5, by founders and by mentors).

"Current" matches are the draft's (proposed) and the published ones still standing (offered, accepted); a live match
takes a place of the mentor's capacity (mentoring's LIVE_MATCH_STATUSES), a proposed one would. Meetings are office
hours booked through a match of the cycle and not cancelled. All counts are grouped in the database (indexes on
mentoring_matches.cycle_id, mentoring_bookings.match_id, mentoring_feedback.booking_id)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from mentoring.models import LIVE_MATCH_STATUSES, Booking, Feedback, MentoringCycle, MentorMatch, MentorProfile

CURRENT = ("proposed", *LIVE_MATCH_STATUSES)
MAX_BINS = 10
NICE_WIDTHS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
RATINGS = (1, 2, 3, 4, 5)
EMPTY_NO_MATCHES = "no_matches"


@dataclass(frozen=True)
class ScoreBin:
    low: int  # scores from low to high, both included
    high: int
    current: int
    declined: int


@dataclass(frozen=True)
class MentorLoad:
    mentor_id: int
    name: str
    capacity: int
    proposed: int
    live: int  # offered + accepted
    meetings: int

    @property
    def over(self) -> bool:
        return self.live + self.proposed > self.capacity


@dataclass(frozen=True)
class CycleNumbers:
    cycle_id: int
    name: str
    status: str
    scores: list[ScoreBin]
    mentors: list[MentorLoad]
    ratings: dict[str, list[int]]  # founder, mentor -> how many gave 1, 2, 3, 4, 5
    empty_reason: str | None


def cycle_numbers(cycle: MentoringCycle) -> CycleNumbers:
    scores = _score_bins(cycle.id)
    return CycleNumbers(cycle_id=cycle.id, name=cycle.name, status=cycle.status, scores=scores,
                        mentors=_loads(cycle.id), ratings=_ratings(cycle.id),
                        empty_reason=None if scores else EMPTY_NO_MATCHES)


def bin_width(low: int, high: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, ... that cuts low..high into at most MAX_BINS bins."""
    span = high - low + 1
    return next((w for w in NICE_WIDTHS if math.ceil(span / w) <= MAX_BINS), NICE_WIDTHS[-1])


def _score_bins(cycle_id: int) -> list[ScoreBin]:
    current = sa.case((MentorMatch.status.in_(CURRENT), "current"), else_="declined")
    rows = db.session.execute(
        sa.select(MentorMatch.score, current, sa.func.count()).where(MentorMatch.cycle_id == cycle_id)
        .group_by(MentorMatch.score, current)).all()
    if not rows:
        return []
    low, high = min(r[0] for r in rows), max(r[0] for r in rows)
    width = bin_width(low, high)
    start = (low // width) * width
    count = (high - start) // width + 1
    bins = [{"current": 0, "declined": 0} for _ in range(count)]
    for score, group, n in rows:
        bins[(score - start) // width][group] += n
    return [ScoreBin(start + i * width, start + (i + 1) * width - 1, b["current"], b["declined"])
            for i, b in enumerate(bins)]


def _loads(cycle_id: int) -> list[MentorLoad]:
    """Every mentor with a match in the cycle (declined ones included: they show a load of zero), most loaded
    first."""
    matches = db.session.execute(
        sa.select(MentorMatch.mentor_id,
                  sa.func.count(sa.case((MentorMatch.status == "proposed", MentorMatch.id))),
                  sa.func.count(sa.case((MentorMatch.status.in_(LIVE_MATCH_STATUSES), MentorMatch.id))))
        .where(MentorMatch.cycle_id == cycle_id).group_by(MentorMatch.mentor_id)).all()
    if not matches:
        return []
    meetings = dict(db.session.execute(
        sa.select(Booking.mentor_id, sa.func.count()).join(MentorMatch, MentorMatch.id == Booking.match_id)
        .where(MentorMatch.cycle_id == cycle_id, Booking.status == "booked").group_by(Booking.mentor_id)).all())
    ids = [mentor_id for mentor_id, _, _ in matches]
    names = {u.id: u.display_name for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    capacity = dict(db.session.execute(sa.select(MentorProfile.user_id, MentorProfile.capacity)
                                       .where(MentorProfile.user_id.in_(ids))).all())
    loads = [MentorLoad(mentor_id, names.get(mentor_id, str(mentor_id)), capacity.get(mentor_id, 0), proposed, live,
                        meetings.get(mentor_id, 0)) for mentor_id, proposed, live in matches]
    return sorted(loads, key=lambda m: (-(m.live + m.proposed), -m.meetings, m.name, m.mentor_id))


def _ratings(cycle_id: int) -> dict[str, list[int]]:
    side = sa.case((Feedback.author_id == Booking.founder_id, "founder"), else_="mentor")
    rows = db.session.execute(
        sa.select(side, Feedback.rating, sa.func.count()).select_from(Feedback)
        .join(Booking, Booking.id == Feedback.booking_id).join(MentorMatch, MentorMatch.id == Booking.match_id)
        .where(MentorMatch.cycle_id == cycle_id).group_by(side, Feedback.rating)).all()
    ratings = {"founder": [0] * len(RATINGS), "mentor": [0] * len(RATINGS)}
    for who, rating, n in rows:
        ratings[who][RATINGS.index(rating)] += n
    return ratings
