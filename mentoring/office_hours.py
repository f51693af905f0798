"""Office hours (约谈时段): a mentor's recurring availability becomes bookable slots; a founder matched with that
mentor books one; either side cancels, the founder may move to another slot.

No double booking, whatever the concurrency: a booking takes its slot with one conditional UPDATE
(`booked_by_id IS NULL AND starts_at > now`), decided by the database on SQLite and PostgreSQL alike; the loser is
told `slot_taken`. A move books the new slot before it frees the old one, in one transaction, so a failed move
changes nothing. Services flush; callers commit once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize
from app.errors import DomainError, NotFound
from app.extensions import db
from mentoring import signals
from mentoring.models import Availability, Booking, Feedback, MentorMatch, OfficeHourSlot

SHANGHAI = ZoneInfo("Asia/Shanghai")
SLOT_LENGTHS = (15, 20, 30, 45, 60)
WEEKS_AHEAD = 4
MAX_TOPIC = 300


def _parse_minute(value: str) -> int | None:
    try:
        hours, minutes = (int(x) for x in str(value).split(":"))
    except (TypeError, ValueError):
        return None
    return hours * 60 + minutes if 0 <= hours < 24 and 0 <= minutes < 60 else None


def add_availability(mentor, *, weekday: int, start: str, end: str, slot_minutes: int = 30, location: str = "",
                     now: datetime) -> Availability:
    """A weekly range (Shanghai time, e.g. Tuesday 14:00-16:00 in 30-minute slots); its slots for the next weeks
    are created at once."""
    authorize(mentor, "mentor")
    errors = {}
    start_minute, end_minute = _parse_minute(start), _parse_minute(end)
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        errors["weekday"] = _l("Choose a day of the week.")
    if start_minute is None or end_minute is None or start_minute >= end_minute:
        errors["end"] = _l("Give a start and a later end, e.g. 14:00 and 16:00.")
    elif slot_minutes not in SLOT_LENGTHS or end_minute - start_minute < slot_minutes:
        errors["slot_minutes"] = _l("Choose a slot length that fits in the time range.")
    if len(location or "") > 200:
        errors["location"] = _l("At most %(n)d characters.", n=200)
    if errors:
        raise DomainError("invalid_availability", _l("Please correct the highlighted fields."), fields={
            k: str(v) for k, v in errors.items()})
    availability = Availability(mentor_id=mentor.id, weekday=weekday, start_minute=start_minute,
                                end_minute=end_minute, slot_minutes=slot_minutes, location=(location or "").strip(),
                                created_at=now)
    db.session.add(availability)
    db.session.flush()
    generate_slots(mentor.id, now=now)
    return availability


def generate_slots(mentor_id: int, *, now: datetime, weeks: int = WEEKS_AHEAD) -> int:
    """Create the missing future slots of every availability of this mentor for the next `weeks`; returns how many."""
    existing = set(db.session.scalars(sa.select(OfficeHourSlot.starts_at).where(OfficeHourSlot.mentor_id == mentor_id,
                                                                                 OfficeHourSlot.starts_at > now)))
    created = 0
    today = now.astimezone(SHANGHAI).date()
    for availability in db.session.scalars(sa.select(Availability).where(Availability.mentor_id == mentor_id)):
        for offset in range(weeks * 7):
            day: date = today + timedelta(days=offset)
            if day.weekday() != availability.weekday:
                continue
            minute = availability.start_minute
            while minute + availability.slot_minutes <= availability.end_minute:
                local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=SHANGHAI)
                starts_at = local.astimezone(ZoneInfo("UTC"))
                if starts_at > now and starts_at not in existing:
                    db.session.add(OfficeHourSlot(mentor_id=mentor_id, starts_at=starts_at,
                                                  ends_at=starts_at + timedelta(minutes=availability.slot_minutes),
                                                  location=availability.location, availability_id=availability.id))
                    existing.add(starts_at)
                    created += 1
                minute += availability.slot_minutes
    db.session.flush()
    return created


def open_slots(mentor_id: int, *, now: datetime) -> list[OfficeHourSlot]:
    """Free future slots of a mentor, soonest first."""
    return list(db.session.scalars(sa.select(OfficeHourSlot).where(
        OfficeHourSlot.mentor_id == mentor_id, OfficeHourSlot.booked_by_id.is_(None), OfficeHourSlot.starts_at > now)
        .order_by(OfficeHourSlot.starts_at)))


def _match_between(founder_id: int, mentor_id: int) -> MentorMatch | None:
    return db.session.scalars(sa.select(MentorMatch).where(
        MentorMatch.founder_id == founder_id, MentorMatch.mentor_id == mentor_id, MentorMatch.status == "accepted")
        .order_by(MentorMatch.id.desc())).first()


def slots_for_founder(mentor_id: int, founder, *, now: datetime) -> list[OfficeHourSlot]:
    """The free slots a matched founder may book (nobody else sees a mentor's slots)."""
    if _match_between(founder.id, mentor_id) is None:
        raise NotFound("not_matched", _l("You can book office hours only with your own mentor."))
    return open_slots(mentor_id, now=now)


def book_slot(slot_id: int, founder, *, topic: str = "", now: datetime,
              moved_from_booking_id: int | None = None) -> Booking:
    """A founder with an accepted match books one of the mentor's free future slots."""
    authorize(founder, "resident")
    slot = db.session.get(OfficeHourSlot, slot_id)
    if slot is None:
        raise NotFound("slot_not_found", _l("This slot does not exist."))
    match = _match_between(founder.id, slot.mentor_id)
    if match is None:
        raise NotFound("not_matched", _l("You can book office hours only with your own mentor."))
    if len(topic or "") > MAX_TOPIC:
        raise DomainError("invalid_booking", _l("Please correct the highlighted fields."),
                          fields={"topic": str(_l("At most %(n)d characters.", n=MAX_TOPIC))})
    if slot.starts_at <= now:
        raise DomainError("slot_past", _l("This slot has already begun."), status=409)
    taken = db.session.execute(
        sa.update(OfficeHourSlot).where(OfficeHourSlot.id == slot_id, OfficeHourSlot.booked_by_id.is_(None),
                                        OfficeHourSlot.starts_at > now)
        .values(booked_by_id=founder.id).execution_options(synchronize_session=False)).rowcount
    if not taken:
        raise DomainError("slot_taken", _l("Someone has just booked this slot. Please choose another."), status=409)
    booking = Booking(slot_id=slot.id, match_id=match.id, founder_id=founder.id, mentor_id=slot.mentor_id,
                      topic=(topic or "").strip(), created_at=now, updated_at=now)
    db.session.add(booking)
    db.session.flush()
    db.session.refresh(slot)
    signals.office_hour_booked.send(None, booking_id=booking.id, slot_id=slot.id, founder_id=founder.id,
                                    mentor_id=slot.mentor_id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                                    moved_from_booking_id=moved_from_booking_id)
    return booking


def get_booking(booking_id: int, user) -> Booking:
    """A booking, for its founder or mentor only."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or user.id not in (booking.founder_id, booking.mentor_id):
        raise NotFound("booking_not_found", _l("This booking does not exist."))
    return booking


def cancel_booking(booking_id: int, actor, *, now: datetime, moved: bool = False) -> Booking:
    """The founder or the mentor cancels; the slot is free again (if it is still ahead). Cancelling twice is a
    harmless retry."""
    booking = get_booking(booking_id, actor)
    if booking.status == "cancelled":
        return booking
    if booking.slot.ends_at <= now:
        raise DomainError("booking_past", _l("This meeting is over; it can no longer be cancelled."), status=409)
    booking.status, booking.updated_at = "cancelled", now
    booking.sequence += 1
    db.session.execute(sa.update(OfficeHourSlot).where(OfficeHourSlot.id == booking.slot_id,
                                                       OfficeHourSlot.booked_by_id == booking.founder_id)
                       .values(booked_by_id=None).execution_options(synchronize_session=False))
    db.session.flush()
    slot = booking.slot
    signals.office_hour_cancelled.send(None, booking_id=booking.id, slot_id=slot.id, founder_id=booking.founder_id,
                                       mentor_id=booking.mentor_id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                                       cancelled_by_id=actor.id, moved=moved)
    return booking


def move_booking(booking_id: int, founder, *, new_slot_id: int, now: datetime) -> Booking:
    """Move to another slot of the same mentor: the new one is taken first, so a failed move changes nothing."""
    booking = get_booking(booking_id, founder)
    if booking.founder_id != founder.id or booking.status != "booked":
        raise DomainError("booking_not_movable", _l("Only your own current booking can be moved."), status=409)
    new_slot = db.session.get(OfficeHourSlot, new_slot_id)
    if new_slot is None or new_slot.mentor_id != booking.mentor_id:
        raise NotFound("slot_not_found", _l("This slot does not exist."))
    new_booking = book_slot(new_slot_id, founder, topic=booking.topic, now=now, moved_from_booking_id=booking.id)
    cancel_booking(booking.id, founder, now=now, moved=True)
    return new_booking


def bookings_of(user, *, now: datetime | None = None) -> list[Booking]:
    """A person's bookings, as founder or mentor, soonest first."""
    query = sa.select(Booking).join(OfficeHourSlot, OfficeHourSlot.id == Booking.slot_id).where(
        sa.or_(Booking.founder_id == user.id, Booking.mentor_id == user.id))
    if now is not None:
        query = query.where(OfficeHourSlot.ends_at >= now)
    return list(db.session.scalars(query.order_by(OfficeHourSlot.starts_at, Booking.id)))


# ---- reminders ---------------------------------------------------------------------------------------------------

REMINDER_AHEAD = timedelta(hours=24)


def send_due_reminders(*, now: datetime) -> int:
    """Remind both people of each booked meeting starting within the next 24 hours, once: each booking is claimed
    by a conditional UPDATE of `reminded_at`, so two workers never remind twice. Sends `office_hour_reminder`
    (notifications subscribes); returns how many bookings were reminded."""
    due = list(db.session.execute(
        sa.select(Booking.id).join(OfficeHourSlot, OfficeHourSlot.id == Booking.slot_id)
        .where(Booking.status == "booked", Booking.reminded_at.is_(None), OfficeHourSlot.starts_at > now,
               OfficeHourSlot.starts_at <= now + REMINDER_AHEAD).order_by(OfficeHourSlot.starts_at)).scalars())
    sent = 0
    for booking_id in due:
        claimed = db.session.execute(
            sa.update(Booking).where(Booking.id == booking_id, Booking.reminded_at.is_(None),
                                     Booking.status == "booked")
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue
        booking = db.session.get(Booking, booking_id)
        slot = booking.slot
        signals.office_hour_reminder.send(None, booking_id=booking.id, slot_id=slot.id,
                                          founder_id=booking.founder_id, mentor_id=booking.mentor_id,
                                          starts_at=slot.starts_at, ends_at=slot.ends_at, location=slot.location)
        sent += 1
    db.session.flush()
    return sent


# ---- feedback after a meeting ------------------------------------------------------------------------------------

MAX_COMMENT = 1000


def give_feedback(booking_id: int, author, *, rating: int, comment: str = "", shared: bool = False,
                  now: datetime) -> Feedback:
    """The founder or the mentor of a meeting that has begun gives short feedback (1-5 stars, a comment) once; giving
    it again changes it. Organizers always see it; the other side only when `shared` (the author agreed)."""
    booking = get_booking(booking_id, author)
    if booking.status != "booked":
        raise DomainError("booking_cancelled", _l("This meeting was cancelled; there is nothing to rate."),
                          status=409)
    if booking.slot.starts_at > now:
        raise DomainError("meeting_not_held", _l("You can give feedback once the meeting has taken place."),
                          status=409)
    errors = {}
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors["rating"] = _l("Choose 1 to 5 stars.")
    if len(comment or "") > MAX_COMMENT:
        errors["comment"] = _l("At most %(n)d characters.", n=MAX_COMMENT)
    if errors:
        raise DomainError("invalid_feedback", _l("Please correct the highlighted fields."),
                          fields={k: str(v) for k, v in errors.items()})
    values = {"rating": rating, "comment": (comment or "").strip(), "shared": bool(shared)}
    feedback = _feedback_of(booking.id, author.id)
    if feedback is None:
        try:
            with db.session.begin_nested():  # two taps at once: the unique constraint keeps one row
                feedback = Feedback(booking_id=booking.id, author_id=author.id, created_at=now, **values)
                db.session.add(feedback)
        except sa.exc.IntegrityError:
            feedback = _feedback_of(booking.id, author.id)
    for key, value in values.items():
        setattr(feedback, key, value)
    db.session.flush()
    signals.feedback_given.send(None, feedback_id=feedback.id, booking_id=booking.id, author_id=author.id,
                                founder_id=booking.founder_id, mentor_id=booking.mentor_id)
    return feedback


def _feedback_of(booking_id: int, author_id: int) -> Feedback | None:
    return db.session.scalars(sa.select(Feedback).where(Feedback.booking_id == booking_id,
                                                        Feedback.author_id == author_id)).first()


def feedback_on_booking(booking_id: int, user) -> dict:
    """What this person may read about one meeting: their own feedback, and the other side's only if shared."""
    booking = get_booking(booking_id, user)
    rows = list(db.session.scalars(sa.select(Feedback).where(Feedback.booking_id == booking.id)))
    mine = next((f for f in rows if f.author_id == user.id), None)
    theirs = next((f for f in rows if f.author_id != user.id and f.shared), None)
    return {"booking": booking, "mine": mine, "theirs": theirs}


def meetings_to_rate(user, *, now: datetime) -> list[Booking]:
    """Meetings this person had (booked, begun in the last 30 days) and has not given feedback on yet."""
    rated = sa.select(Feedback.booking_id).where(Feedback.author_id == user.id)
    return list(db.session.scalars(
        sa.select(Booking).join(OfficeHourSlot, OfficeHourSlot.id == Booking.slot_id)
        .where(sa.or_(Booking.founder_id == user.id, Booking.mentor_id == user.id), Booking.status == "booked",
               OfficeHourSlot.starts_at <= now, OfficeHourSlot.starts_at > now - timedelta(days=30),
               Booking.id.not_in(rated))
        .order_by(OfficeHourSlot.starts_at.desc())))


def feedback_report(actor, *, cycle_id: int | None = None) -> dict:
    """Organizers: every piece of feedback (of one cycle, or all), with per mentor and per cycle summaries (meetings
    held, ratings by founders and by mentors)."""
    authorize(actor, "organizer")
    query = (sa.select(Feedback, Booking, MentorMatch.cycle_id)
             .join(Booking, Booking.id == Feedback.booking_id)
             .join(MentorMatch, MentorMatch.id == Booking.match_id)
             .order_by(Feedback.created_at.desc(), Feedback.id.desc()))
    if cycle_id is not None:
        query = query.where(MentorMatch.cycle_id == cycle_id)
    rows = db.session.execute(query).all()
    per_mentor: dict[int, dict] = {}
    per_cycle: dict[int, dict] = {}
    items = []
    for feedback, booking, cycle in rows:
        by_founder = feedback.author_id == booking.founder_id
        for bucket in (per_mentor.setdefault(booking.mentor_id, _summary(mentor_id=booking.mentor_id)),
                       per_cycle.setdefault(cycle, _summary(cycle_id=cycle))):
            bucket["meetings"].add(booking.id)
            side = "from_founders" if by_founder else "from_mentors"
            bucket[side].append(feedback.rating)
        items.append({"feedback": feedback, "booking": booking, "cycle_id": cycle,
                      "author_role": "founder" if by_founder else "mentor"})
    return {"items": items, "per_mentor": [_finish_summary(s) for s in per_mentor.values()],
            "per_cycle": [_finish_summary(s) for s in per_cycle.values()]}


def _summary(**key) -> dict:
    return {**key, "meetings": set(), "from_founders": [], "from_mentors": []}


def _finish_summary(summary: dict) -> dict:
    def average(values):
        return round(sum(values) / len(values), 2) if values else None

    return {**summary, "meetings": len(summary["meetings"]), "founder_ratings": len(summary["from_founders"]),
            "founder_average": average(summary.pop("from_founders")),
            "mentor_ratings": len(summary["from_mentors"]), "mentor_average": average(summary.pop("from_mentors"))}
