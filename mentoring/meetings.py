"""Investor meetings on roadshow days (路演日 1:1 约见): after the pitches, investors and the pitching founders (their
applications accepted) meet one to one in short slots at tables or rooms.

Organizers set the window (after the last pitch), the slot length (15 minutes) and the tables; investors and founders
mark whom they want to meet and when they can; organizers build the schedule with the matching engine
(`matching.schedule_meetings`) and publish it; everyone then sees their own schedule and its .ics.

Never double-booked: the schedule is built so, and the database makes it impossible anyway (unique person / table /
start per event, every slot on one grid). Nobody is in two places at once either: a founder never meets an investor
while pitching. The planner leaves out each founder's pitch time; a line-up change that would put a founder's pitch
over one of their published meetings is refused (`meeting_clash`, naming who and when), and one that crosses a draft
meeting takes that meeting out of the draft (organizers see it among the wishes not met and rebuild). Everything that
changes meetings takes the event's lock first (app.locking.lock_event, as line-up changes do), then the plan's (a
conditional UPDATE of its row), so a line-up change and a schedule never cross. (Re)scheduling replaces the draft
whole. Services flush; callers commit once. docs/matching.md tells the whole policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.authz import has_role, scope_key
from app.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.locking import lock_event
from events.models import Event, PitchApplication, PitchSlot
from mentoring import matching, signals
from mentoring.models import MeetingAvailability, MeetingPlan, MeetingWish, RoadshowMeeting
from mentoring.office_hours import SHANGHAI

SLOT_LENGTHS = (10, 15, 20, 30)
MAX_TABLES = 50
MAX_TABLE_NAME = 40
MAX_WINDOW = timedelta(hours=8)
# How much a pair wants to meet: the investor's wish counts a little more than the founder's (investors' time is the
# scarcer); both wanting it is worth the most (docs/matching.md).
INVESTOR_WISH, FOUNDER_WISH, MUTUAL_BONUS = 3, 2, 3


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or event.kind != "roadshow":
        raise NotFound("event_not_found", _l("This roadshow day does not exist."))
    return event


def can_organize(user, event_id: int) -> bool:
    return has_role(user, "organizer") or has_role(user, "organizer", scope_key("event", event_id))


def _require_organizer(user, event_id: int) -> None:
    if not can_organize(user, event_id):
        raise Forbidden("forbidden", _l("Only the organizers of this roadshow day can do this."))


def upcoming_roadshows(*, now: datetime) -> list[Event]:
    """Published roadshow days not over yet (where investor meetings may happen), soonest first."""
    return list(db.session.scalars(sa.select(Event).where(Event.kind == "roadshow", Event.status == "published",
                                                          Event.ends_at > now).order_by(Event.starts_at).limit(5)))


def get_plan(event_id: int) -> MeetingPlan | None:
    return db.session.scalars(sa.select(MeetingPlan).where(MeetingPlan.event_id == event_id)).first()


def require_plan(event_id: int) -> MeetingPlan:
    plan = get_plan(event_id)
    if plan is None:
        raise NotFound("meetings_not_set_up", _l("The organizers have not set up meetings for this day yet."))
    return plan


def last_pitch_end(event_id: int) -> datetime | None:
    return db.session.scalar(sa.select(sa.func.max(PitchSlot.ends_at)).where(PitchSlot.event_id == event_id))


def set_up_meetings(event_id: int, organizer, *, starts_at: datetime, ends_at: datetime, slot_minutes: int = 15,
                    tables=(), now: datetime) -> MeetingPlan:
    """Open (or change, before publishing) the meetings of a roadshow day: a window after the pitches, cut into
    slots of `slot_minutes`, and the tables or rooms."""
    event = _event(event_id)
    _require_organizer(organizer, event_id)
    errors = {}
    if starts_at.tzinfo is None or ends_at.tzinfo is None or starts_at >= ends_at:
        errors["ends_at"] = _l("Give a start and a later end.")
    elif ends_at - starts_at > MAX_WINDOW:
        errors["ends_at"] = _l("At most %(n)d hours.", n=int(MAX_WINDOW.total_seconds() // 3600))
    else:
        pitches_end = last_pitch_end(event_id) or event.starts_at
        if starts_at < pitches_end:
            errors["starts_at"] = _l("Meetings start after the pitches (from %(time)s).",
                                     time=pitches_end.astimezone(SHANGHAI).strftime("%H:%M"))
        elif starts_at <= now:
            errors["starts_at"] = _l("This time has passed.")
    if slot_minutes not in SLOT_LENGTHS:
        errors["slot_minutes"] = _l("Choose a slot length.")
    names = [str(t).strip() for t in (tables or ()) if str(t).strip()]
    if not names or len(names) > MAX_TABLES or len(set(names)) != len(names) or any(
            len(n) > MAX_TABLE_NAME for n in names):
        errors["tables"] = _l("Name between 1 and %(n)d different tables or rooms.", n=MAX_TABLES)
    if errors:
        raise DomainError("invalid_meeting_plan", _l("Please correct the highlighted fields."),
                          fields={k: str(v) for k, v in errors.items()})
    lock_event(event_id)
    if starts_at < (last_pitch_end(event_id) or event.starts_at):  # the line-up moved while we checked
        raise DomainError("invalid_meeting_plan", _l("Please correct the highlighted fields."),
                          fields={"starts_at": str(_l("Meetings start after the pitches (from %(time)s).",
                                                      time=_hm(last_pitch_end(event_id) or event.starts_at)))})
    plan = get_plan(event_id)
    if plan is None:
        plan = MeetingPlan(event_id=event_id, created_by_id=organizer.id, created_at=now)
        db.session.add(plan)
    else:
        plan = _lock_plan(event_id)
        _require_unpublished(plan)
        if plan.status == "scheduled":  # the draft no longer fits the new window: drop it
            _drop_draft(plan)
    plan.starts_at, plan.ends_at, plan.slot_minutes, plan.tables = starts_at, ends_at, slot_minutes, names
    plan.updated_at = now
    db.session.flush()
    return plan


def _hm(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%H:%M") if value else ""


def slot_starts(plan: MeetingPlan) -> list[datetime]:
    step = timedelta(minutes=plan.slot_minutes)
    starts, current = [], plan.starts_at
    while current + step <= plan.ends_at:
        starts.append(current)
        current += step
    return starts


def _lock_plan(event_id: int) -> MeetingPlan:
    updated = db.session.execute(sa.update(MeetingPlan).where(MeetingPlan.event_id == event_id)
                                 .values(version=MeetingPlan.version + 1)
                                 .execution_options(synchronize_session=False)).rowcount
    if not updated:
        raise NotFound("meetings_not_set_up", _l("The organizers have not set up meetings for this day yet."))
    plan = get_plan(event_id)
    db.session.refresh(plan)
    return plan


def _require_unpublished(plan: MeetingPlan) -> None:
    if plan.status == "published":
        raise DomainError("meetings_published", _l("The meeting schedule is already published."), status=409)


def _drop_draft(plan: MeetingPlan) -> None:
    db.session.execute(sa.delete(RoadshowMeeting).where(RoadshowMeeting.event_id == plan.event_id)
                       .execution_options(synchronize_session=False))
    plan.status, plan.total_score = "open", None


# ---- who takes part ------------------------------------------------------------------------------------------------

def is_investor(user) -> bool:
    return getattr(user, "persona", "") == "investor"


def pitching_founder_ids(event_id: int) -> list[int]:
    """Founders whose pitch application to this roadshow day is accepted."""
    return list(db.session.scalars(sa.select(PitchApplication.applicant_id).where(
        PitchApplication.event_id == event_id, PitchApplication.status == "accepted").order_by(PitchApplication.id)))


def pitching_projects(event_id: int) -> list[PitchApplication]:
    return list(db.session.scalars(sa.select(PitchApplication).where(
        PitchApplication.event_id == event_id, PitchApplication.status == "accepted").order_by(PitchApplication.id)))


def investors() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.persona == "investor",
                                                         User.is_active_account.is_(True))
                                   .order_by(User.name, User.id)))


def side_of(user, event_id: int) -> str | None:
    """"founder" (accepted pitch), "investor", or None (cannot take part)."""
    if user.id in pitching_founder_ids(event_id):
        return "founder"
    if is_investor(user):
        return "investor"
    return None


def _require_open(event_id: int) -> MeetingPlan:
    plan = require_plan(event_id)
    if plan.status == "published":
        raise DomainError("meetings_published", _l("The meeting schedule is already published."), status=409)
    return plan


# ---- wishes and availability ---------------------------------------------------------------------------------------

def set_wish(event_id: int, user, *, target_id: int, wanted: bool, now: datetime) -> bool:
    """An investor marks a pitching founder they want to meet, or a pitching founder an investor (and takes it back
    with wanted=False). Until the schedule is published. Repeating it is a harmless retry."""
    _event(event_id)
    _require_open(event_id)
    side = side_of(user, event_id)
    if side is None:
        raise Forbidden("not_a_participant", _l("Only investors and the pitching founders meet on this day."))
    target = db.session.get(User, target_id)
    other_side_ok = target is not None and target.id != user.id and (
        target.id in pitching_founder_ids(event_id) if side == "investor" else is_investor(target))
    if not other_side_ok:
        raise DomainError("invalid_wish", _l("Choose someone from the other side: an investor or a pitching team."),
                          fields={"target_id": str(_l("Choose from the list."))})
    existing = db.session.scalars(sa.select(MeetingWish).where(
        MeetingWish.event_id == event_id, MeetingWish.from_id == user.id, MeetingWish.to_id == target_id)).first()
    if wanted and existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(MeetingWish(event_id=event_id, from_id=user.id, to_id=target_id, created_at=now))
        except sa.exc.IntegrityError:
            pass  # the same tap twice at once: one row, the same answer
    elif not wanted and existing is not None:
        db.session.delete(existing)
    db.session.flush()
    return wanted


def wishes_of(event_id: int, user_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(MeetingWish.to_id).where(MeetingWish.event_id == event_id,
                                                                     MeetingWish.from_id == user_id)))


def set_availability(event_id: int, user, *, available_from: datetime, available_until: datetime) -> None:
    """When this person can meet on the day (inside the meetings' window). Their draft meetings outside it leave
    the draft (organizers see them among the wishes not met); a published schedule no longer changes."""
    require_plan(event_id)
    lock_event(event_id)
    plan = _lock_plan(event_id)
    _require_unpublished(plan)
    if side_of(user, event_id) is None:
        raise Forbidden("not_a_participant", _l("Only investors and the pitching founders meet on this day."))
    if (available_from.tzinfo is None or available_until.tzinfo is None or available_from >= available_until
            or available_from < plan.starts_at or available_until > plan.ends_at):
        raise DomainError("invalid_availability", _l("Please correct the highlighted fields."),
                          fields={"available_until": str(_l("Choose a range inside the meetings' window."))})
    row = db.session.scalars(sa.select(MeetingAvailability).where(MeetingAvailability.event_id == event_id,
                                                                  MeetingAvailability.user_id == user.id)).first()
    if row is None:
        row = MeetingAvailability(event_id=event_id, user_id=user.id)
        db.session.add(row)
    row.available_from, row.available_until = available_from, available_until
    if plan.status == "scheduled":
        _drop_meetings(plan, [m for m in meetings_of_event(event_id) if user.id in (m.investor_id, m.founder_id)
                              and (m.starts_at < available_from or m.ends_at > available_until)])
    db.session.flush()


def availability_of(event_id: int, user_id: int) -> MeetingAvailability | None:
    return db.session.scalars(sa.select(MeetingAvailability).where(MeetingAvailability.event_id == event_id,
                                                                   MeetingAvailability.user_id == user_id)).first()


# ---- scheduling ----------------------------------------------------------------------------------------------------

def wanted_pairs(event_id: int) -> dict[tuple[int, int], int]:
    """(investor, founder) -> how much they want to meet, from both sides' wishes (current participants only)."""
    founders = set(pitching_founder_ids(event_id))
    investor_ids = {u.id for u in investors()}
    pairs: dict[tuple[int, int], list[bool]] = {}
    for from_id, to_id in db.session.execute(sa.select(MeetingWish.from_id, MeetingWish.to_id)
                                             .where(MeetingWish.event_id == event_id)):
        if from_id in investor_ids and to_id in founders:
            pairs.setdefault((from_id, to_id), [False, False])[0] = True
        elif from_id in founders and to_id in investor_ids:
            pairs.setdefault((to_id, from_id), [False, False])[1] = True
    return {pair: INVESTOR_WISH * by_investor + FOUNDER_WISH * by_founder + MUTUAL_BONUS * (by_investor and by_founder)
            for pair, (by_investor, by_founder) in pairs.items()}


def schedule(event_id: int, organizer, *, now: datetime) -> dict:
    """Build (or rebuild) the draft schedule from everyone's wishes and availability; answers the summary."""
    _event(event_id)
    _require_organizer(organizer, event_id)
    require_plan(event_id)
    lock_event(event_id)
    plan = _lock_plan(event_id)
    _require_unpublished(plan)
    wanted = wanted_pairs(event_id)
    if not wanted:
        raise DomainError("no_wishes", _l("Nobody has marked whom they want to meet yet."), status=409)
    starts = slot_starts(plan)
    length = timedelta(minutes=plan.slot_minutes)
    available = {}
    for row in db.session.scalars(sa.select(MeetingAvailability).where(MeetingAvailability.event_id == event_id)):
        available[row.user_id] = {i for i, start in enumerate(starts)
                                  if start >= row.available_from and start + length <= row.available_until}
    for founder_id, pitches in pitch_times(event_id).items():  # nobody meets an investor while pitching
        free = {i for i, start in enumerate(starts)
                if not any(_overlap(start, start + length, p_start, p_end) for p_start, p_end in pitches)}
        available[founder_id] = available.get(founder_id, set(range(len(starts)))) & free
    meetings = matching.schedule_meetings(wanted, slots=len(starts), tables=len(plan.tables), available=available)
    _drop_draft(plan)
    for m in meetings:
        db.session.add(RoadshowMeeting(
            event_id=event_id, investor_id=m.investor, founder_id=m.founder, table=plan.tables[m.table],
            starts_at=starts[m.slot], ends_at=starts[m.slot] + length, score=m.score,
            mutual=m.score == INVESTOR_WISH + FOUNDER_WISH + MUTUAL_BONUS, created_at=now))
    plan.status, plan.total_score, plan.updated_at = "scheduled", sum(m.score for m in meetings), now
    db.session.flush()
    return summary(event_id, organizer)


def summary(event_id: int, organizer) -> dict:
    """Organizers: the plan, its meetings, and the wished pairs left without a meeting."""
    _require_organizer(organizer, event_id)
    plan = require_plan(event_id)
    meetings = meetings_of_event(event_id)
    met = {(m.investor_id, m.founder_id) for m in meetings}
    unmet = [pair for pair in wanted_pairs(event_id) if pair not in met]
    return {"plan": plan, "meetings": meetings, "unmet": sorted(unmet)}


def meetings_of_event(event_id: int) -> list[RoadshowMeeting]:
    return list(db.session.scalars(sa.select(RoadshowMeeting).where(RoadshowMeeting.event_id == event_id)
                                   .order_by(RoadshowMeeting.starts_at, RoadshowMeeting.table)))


def publish(event_id: int, organizer, *, now: datetime) -> MeetingPlan:
    """Publish the schedule: everyone sees their meetings (and gets them in their calendar)."""
    _require_organizer(organizer, event_id)
    require_plan(event_id)
    lock_event(event_id)
    plan = _lock_plan(event_id)
    _require_unpublished(plan)
    meetings = meetings_of_event(event_id)
    if plan.status != "scheduled" or not meetings:
        raise DomainError("not_scheduled", _l("Build the schedule before publishing it."), status=409)
    clashes = _clashes(meetings, [(f, a, b) for f, times in pitch_times(event_id).items() for a, b in times])
    if clashes:  # cannot happen (line-up changes prune the draft); checked anyway, so publishing never breaks it
        raise _clash_error(event_id, *clashes[0], published=False)
    plan.status, plan.updated_at = "published", now
    db.session.flush()
    people = sorted({m.investor_id for m in meetings} | {m.founder_id for m in meetings})
    signals.roadshow_meetings_published.send(None, event_id=event_id, person_ids=people,
                                             meeting_ids=[m.id for m in meetings])
    return plan


def my_meetings(user, *, event_id: int | None = None) -> list[RoadshowMeeting]:
    """A person's own published meetings, soonest first."""
    query = (sa.select(RoadshowMeeting).join(MeetingPlan, MeetingPlan.event_id == RoadshowMeeting.event_id)
             .where(MeetingPlan.status == "published",
                    sa.or_(RoadshowMeeting.investor_id == user.id, RoadshowMeeting.founder_id == user.id)))
    if event_id is not None:
        query = query.where(RoadshowMeeting.event_id == event_id)
    return list(db.session.scalars(query.order_by(RoadshowMeeting.starts_at)))


def project_names(event_id: int) -> dict[int, str]:
    """Founder id -> project name, for schedules."""
    return {a.applicant_id: a.project_name for a in pitching_projects(event_id)}


# ---- nobody in two places at once: pitches and meetings ------------------------------------------------------------

def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def pitch_times(event_id: int) -> dict[int, list[tuple[datetime, datetime]]]:
    """Founder id -> the times of their pitch slots in this day's line-up (published or not: organizers may
    publish it at any moment)."""
    times: dict[int, list] = {}
    for founder_id, starts_at, ends_at in db.session.execute(
            sa.select(PitchApplication.applicant_id, PitchSlot.starts_at, PitchSlot.ends_at)
            .join(PitchApplication, PitchApplication.id == PitchSlot.application_id)
            .where(PitchSlot.event_id == event_id)):
        times.setdefault(founder_id, []).append((starts_at, ends_at))
    return times


def _clashes(meetings: list[RoadshowMeeting], pitches) -> list[tuple]:
    """(meeting, pitch start, pitch end) for each meeting whose founder would be pitching at the same time."""
    return [(m, start, end) for m in meetings for founder_id, start, end in pitches
            if founder_id == m.founder_id and _overlap(m.starts_at, m.ends_at, start, end)]


def _clash_error(event_id: int, meeting: RoadshowMeeting, pitch_start: datetime, pitch_end: datetime, *,
                 published: bool = True) -> DomainError:
    names = {"founder": meeting.founder.display_name, "project": project_names(event_id).get(meeting.founder_id, ""),
             "pitch": f"{_hm(pitch_start)}–{_hm(pitch_end)}", "investor": meeting.investor.display_name,
             "meeting": f"{_hm(meeting.starts_at)}–{_hm(meeting.ends_at)}"}
    if published:
        message = _l("%(founder)s (%(project)s) would pitch %(pitch)s while meeting investor %(investor)s "
                     "%(meeting)s. The meetings are published: choose other times for this pitch.", **names)
    else:
        message = _l("%(founder)s (%(project)s) would pitch %(pitch)s while meeting investor %(investor)s "
                     "%(meeting)s. Build the schedule again.", **names)
    return DomainError("meeting_clash", message, status=409, founder_id=meeting.founder_id,
                       investor_id=meeting.investor_id, meeting_id=meeting.id,
                       pitch={"starts_at": pitch_start.isoformat(), "ends_at": pitch_end.isoformat()},
                       meeting={"starts_at": meeting.starts_at.isoformat(), "ends_at": meeting.ends_at.isoformat()})


def _drop_meetings(plan: MeetingPlan, meetings: list[RoadshowMeeting]) -> None:
    """Take these meetings out of the draft (their pairs show among the wishes not met)."""
    if not meetings:
        return
    for meeting in meetings:
        db.session.delete(meeting)
    db.session.flush()
    plan.total_score = sum(m.score for m in meetings_of_event(plan.event_id))
    plan.version += 1


def check_lineup(event_id: int, pitches) -> None:
    """events.pitching's line-up check (registered by mentoring.init_app), under the event's lock: a pitch that
    would cross one of its founder's published meetings refuses the change; one that crosses a draft meeting takes
    that meeting out of the draft."""
    plan = get_plan(event_id)
    if plan is None or plan.status == "open":
        return
    clashes = _clashes(meetings_of_event(event_id), pitches)
    if not clashes:
        return
    if plan.status == "published":
        raise _clash_error(event_id, *clashes[0])
    _drop_meetings(plan, list({m.id: m for m, _start, _end in clashes}.values()))
