"""One module on purpose, despite its length: a roadshow application's life (apply, decide under
the event's lock, line-up, publish) is one state machine whose rules read best in one place.

Roadshow days (模速路演日): founders apply to pitch, organizers review, then build and publish the line-up.

An application moves submitted -> accepted | declined (organizers may change their mind either way, as in pretalx),
or -> withdrawn (by its founder, from submitted or accepted). One application per founder per event: a retry or a
double tap returns the same one; a withdrawn one can be submitted again while applications are open.

Accepted applications never exceed the event's `pitch_slots_capacity` (None = no limit): decisions lock the event
row first (app.locking.lock_event: a row lock on PostgreSQL, the write lock on SQLite) and count the accepted
applications inside the same transaction, so two organizers accepting at the same moment cannot both take the last
slot. The line-up is the ordered PitchSlot rows of accepted applications; a slot row follows its application (its id
stays stable when the line-up is reordered or re-timed), and the whole line-up is published or not.

Services flush; callers commit once. Times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.authz import authorize, has_role, scope_key
from app.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.locking import lock_event
from events import signals
from events.models import Event, PitchApplication, PitchSlot
from events.services.reading import accepted_count, authorize_organizer, get_event

# ---- vocabulary ------------------------------------------------------------------------------------------------

STAGES = ("idea", "prototype", "seed", "angel", "pre_a", "series_a", "series_b_plus")
STAGE_LABELS = {
    "idea": _l("Idea"),
    "prototype": _l("Prototype / demo"),
    "seed": _l("Seed round"),
    "angel": _l("Angel round"),
    "pre_a": _l("Pre-A round"),
    "series_a": _l("Series A"),
    "series_b_plus": _l("Series B or later"),
}
APPLICATION_STATUSES = ("submitted", "accepted", "declined", "withdrawn")
STATUS_LABELS = {
    "submitted": _l("Under review"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}
DECISIONS = {"accept": "accepted", "decline": "declined"}

LIMITS = {"project_name": 120, "one_liner": 200, "funding_ask": 80, "deck_url": 500}
MAX_TEAM = 10
MEMBER_NAME_MAX = 80
MEMBER_ROLE_MAX = 40
NOTE_MAX = 500
MAX_SLOT_MINUTES = 240
MAX_GAP_MINUTES = 120
MAX_BATCH = 500


def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


# ---- reading -------------------------------------------------------------------------------------------------------

def get_application(application_id: int) -> PitchApplication:
    application = db.session.get(PitchApplication, application_id)
    if application is None:
        raise NotFound("application_not_found", _l("This pitch application does not exist."))
    return application


def application_of(event_id: int, user_id: int) -> PitchApplication | None:
    return db.session.scalars(
        sa.select(PitchApplication).where(PitchApplication.event_id == event_id,
                                          PitchApplication.applicant_id == user_id)
    ).first()


def applications_of_user(user_id: int) -> list[PitchApplication]:
    """A founder's applications, newest first."""
    return list(db.session.scalars(
        sa.select(PitchApplication).where(PitchApplication.applicant_id == user_id)
        .order_by(PitchApplication.created_at.desc(), PitchApplication.id.desc())
    ))


def application_counts(event_id: int) -> dict[str, int]:
    """Applications per status (every status present, 0 when none)."""
    rows = db.session.execute(
        sa.select(PitchApplication.status, sa.func.count()).where(PitchApplication.event_id == event_id)
        .group_by(PitchApplication.status)
    ).all()
    counts = dict.fromkeys(APPLICATION_STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def slot_of(application_id: int) -> PitchSlot | None:
    return db.session.scalars(sa.select(PitchSlot).where(PitchSlot.application_id == application_id)).first()


def lineup(event_id: int) -> list[PitchSlot]:
    """The line-up as organizers see it (published or not), in order."""
    return list(db.session.scalars(
        sa.select(PitchSlot).where(PitchSlot.event_id == event_id).order_by(PitchSlot.position)
        .options(joinedload(PitchSlot.application))
    ))


def lineup_published(event_id: int) -> bool:
    return bool(db.session.scalar(
        sa.select(sa.func.count()).select_from(PitchSlot)
        .where(PitchSlot.event_id == event_id, PitchSlot.published.is_(True))
    ))


def published_lineup(event_id: int) -> list[PitchSlot]:
    """What everyone may see: the line-up once organizers published it, else nothing."""
    return list(db.session.scalars(
        sa.select(PitchSlot).where(PitchSlot.event_id == event_id, PitchSlot.published.is_(True))
        .order_by(PitchSlot.position).options(joinedload(PitchSlot.application))
    ))


def list_applications(event_id: int, organizer, *, status: str | None = None) -> list[PitchApplication]:
    """An event's applications for its organizers, oldest first; optionally of one status."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(organizer, event)
    query = sa.select(PitchApplication).where(PitchApplication.event_id == event.id)
    if status is not None:
        if status not in APPLICATION_STATUSES:
            raise DomainError("invalid_status", _l("Unknown status."), fields={"status": str(_l(
                "Please choose one of the options."))})
        query = query.where(PitchApplication.status == status)
    return list(db.session.scalars(query.order_by(PitchApplication.created_at, PitchApplication.id)))


def is_event_organizer(user, event_id: int) -> bool:
    return has_role(user, "organizer", scope_key("event", event_id))


def authorize_view(user, application: PitchApplication) -> None:
    """Its founder or the event's organizers; anyone else is refused (401 when not signed in)."""
    if getattr(user, "is_authenticated", False) and application.applicant_id == user.id:
        return
    authorize_organizer(user, application.event)


# ---- validating what founders type -------------------------------------------------------------------------------

def _invalid(fields: dict) -> DomainError:
    return DomainError("invalid_pitch_application", _l("Please correct the highlighted fields."),
                       fields={k: str(v) for k, v in fields.items()})


def _text(value, *, field_name: str, errors: dict) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field_name] = _l("Please answer with text.")
        return ""
    return " ".join(value.split()) if field_name != "deck_url" else value.strip()


def valid_http_url(value: str) -> bool:
    if not value or any(c.isspace() for c in value) or any(ord(c) < 32 for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and "." in (parts.hostname or "")


def validate_application(data: dict) -> dict:
    """Check and clean an application's fields; raise invalid_pitch_application naming each bad field.

    Text is kept as text (HTML is never interpreted; pages escape it); inner runs of whitespace are collapsed."""
    errors: dict = {}
    cleaned: dict = {}
    for name in ("project_name", "one_liner", "funding_ask", "deck_url"):
        value = _text(data.get(name), field_name=name, errors=errors)
        if name in errors:
            continue
        if len(value) > LIMITS[name]:
            errors[name] = _l("At most %(n)d characters.", n=LIMITS[name])
        cleaned[name] = value
    if "project_name" not in errors and not cleaned.get("project_name"):
        errors["project_name"] = _l("Please enter your project's name.")
    if "one_liner" not in errors and not cleaned.get("one_liner"):
        errors["one_liner"] = _l("Please describe your project in one sentence.")
    if "deck_url" not in errors and cleaned.get("deck_url") and not valid_http_url(cleaned["deck_url"]):
        errors["deck_url"] = _l("Please give a link starting with https://")
    stage = data.get("stage")
    if stage not in STAGES:
        errors["stage"] = _l("Please choose your stage.")
    cleaned["stage"] = stage if stage in STAGES else ""
    cleaned["team"] = _validate_team(data.get("team"), errors)
    if errors:
        raise _invalid(errors)
    return cleaned


def _validate_team(team, errors: dict) -> list[dict]:
    if team is None:
        return []
    if not isinstance(team, list):
        errors["team"] = _l("The team is a list of members, each with a name and a role.")
        return []
    if len(team) > MAX_TEAM:
        errors["team"] = _l("At most %(n)d team members.", n=MAX_TEAM)
        return []
    members = []
    for index, member in enumerate(team, start=1):
        if not isinstance(member, dict) or not all(isinstance(member.get(k, ""), str) for k in ("name", "role")) \
                or set(member) - {"name", "role"}:
            errors["team"] = _l("Member %(n)d: give a name and a role.", n=index)
            return []
        name, role = " ".join(member.get("name", "").split()), " ".join(member.get("role", "").split())
        if not name:
            errors["team"] = _l("Member %(n)d: please enter a name.", n=index)
        elif len(name) > MEMBER_NAME_MAX:
            errors["team"] = _l("Member %(n)d: the name has at most %(max)d characters.", n=index,
                                max=MEMBER_NAME_MAX)
        elif len(role) > MEMBER_ROLE_MAX:
            errors["team"] = _l("Member %(n)d: the role has at most %(max)d characters.", n=index,
                                max=MEMBER_ROLE_MAX)
        if "team" in errors:
            return []
        members.append({"name": name, "role": role})
    return members


# ---- the event must take applications ------------------------------------------------------------------------------

def _check_roadshow(event: Event) -> None:
    if event.kind != "roadshow":
        raise DomainError("not_a_roadshow", _l("This event does not take pitch applications."), status=409)
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)


def check_applications_open(event: Event, *, now: datetime) -> None:
    """A published roadshow day in the future whose organizers opened applications."""
    _check_roadshow(event)
    if event.status != "published":
        raise NotFound("event_not_found", _l("This event does not exist."))
    if event.starts_at <= now:
        raise DomainError("event_past", _l("This event has already started or ended."), status=409)
    if not event.pitch_applications_open:
        raise DomainError("applications_closed", _l("Pitch applications are closed for this event."), status=409)


def applications_open(event: Event, *, now: datetime) -> bool:
    try:
        check_applications_open(event, now=now)
    except DomainError:
        return False
    return True


def _check_organizer_can_change(event: Event, *, now: datetime) -> None:
    _check_roadshow(event)
    if event.ends_at <= now:
        raise DomainError("event_past", _l("This event has already ended."), status=409)


# ---- founders: apply, edit, withdraw --------------------------------------------------------------------------------

def _send(signal, application: PitchApplication, **extra) -> None:
    signal.send(None, application_id=application.id, event_id=application.event_id,
                user_id=application.applicant_id, **extra)


def submit_application(event_id: int, user, *, now: datetime, **fields) -> tuple[PitchApplication, bool]:
    """Apply to pitch. Returns (application, created). The same founder again gets the same application back,
    unchanged (a double tap, a retry on a bad network); a withdrawn one is submitted again with the new fields."""
    event = get_event(event_id)
    if not user.profile_complete:
        raise DomainError("profile_incomplete", _l("Please complete your profile first."), status=409)
    existing = application_of(event.id, user.id)
    if existing is not None and existing.status in ("submitted", "accepted"):
        return existing, False
    if existing is not None and existing.status == "declined":
        raise DomainError("application_declined", _l("The organizers declined your application."), status=409)
    check_applications_open(event, now=now)
    cleaned = validate_application(fields)

    lock_event(event.id)  # serialise with a parallel retry of the same founder
    existing = application_of(event.id, user.id)
    if existing is not None:
        db.session.refresh(existing)
        if existing.status in ("submitted", "accepted"):
            return existing, False
        if existing.status == "declined":
            raise DomainError("application_declined", _l("The organizers declined your application."), status=409)
    application = existing or PitchApplication(event_id=event.id, applicant_id=user.id)
    for key, value in cleaned.items():
        setattr(application, key, value)
    application.status = "submitted"
    application.review_note = ""
    application.created_at = now
    application.updated_at = now
    db.session.add(application)
    db.session.flush()
    _send(signals.pitch_application_submitted, application)
    return application, True


def _own(application_id: int, user) -> PitchApplication:
    authorize(user, "resident")
    application = get_application(application_id)
    if application.applicant_id != user.id:
        raise Forbidden("forbidden", _l("You are not allowed to do this."))
    return application


def update_application(application_id: int, user, *, now: datetime, **fields) -> PitchApplication:
    """Its founder changes any of its fields while it is under review and applications are open."""
    application = _own(application_id, user)
    if application.status != "submitted":
        raise DomainError("application_not_editable",
                          _l("This application has been decided and can no longer be changed."), status=409)
    check_applications_open(application.event, now=now)
    current = {name: getattr(application, name) for name in (*LIMITS, "stage", "team")}
    current.update({k: v for k, v in fields.items() if k in current})
    cleaned = validate_application(current)
    lock_event(application.event_id)
    db.session.refresh(application)
    if application.status != "submitted":  # decided meanwhile
        raise DomainError("application_not_editable",
                          _l("This application has been decided and can no longer be changed."), status=409)
    for key, value in cleaned.items():
        setattr(application, key, value)
    application.updated_at = now
    db.session.flush()
    return application


def withdraw_application(application_id: int, user, *, now: datetime) -> PitchApplication:
    """Its founder withdraws (under review or accepted); its slot leaves the line-up. Twice is harmless."""
    application = _own(application_id, user)
    if application.status == "withdrawn":
        return application
    if application.event.starts_at <= now:
        raise DomainError("event_past", _l("This event has already started or ended."), status=409)
    lock_event(application.event_id)
    db.session.refresh(application)
    if application.status == "withdrawn":
        return application
    if application.status == "declined":
        raise DomainError("application_declined", _l("The organizers declined your application."), status=409)
    previous = application.status
    _remove_slot(application)
    application.status = "withdrawn"
    application.updated_at = now
    db.session.flush()
    _send(signals.pitch_application_withdrawn, application, previous_status=previous)
    return application


# ---- organizers: decide -----------------------------------------------------------------------------------------

def decide_applications(event_id: int, application_ids: list[int], organizer, *, decision: str, note: str = "",
                        now: datetime) -> list[PitchApplication]:
    """Accept or decline many applications at once, with one note the founders see. All or nothing: one that
    cannot be decided (withdrawn, of another event) or more acceptances than free pitch slots stops the batch.
    Deciding again the same way changes nothing (no second message)."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(organizer, event)
    _check_organizer_can_change(event, now=now)
    if decision not in DECISIONS:
        raise DomainError("invalid_decision", _l("Choose accept or decline."),
                          fields={"decision": str(_l("Please choose one of the options."))})
    if note is not None and not isinstance(note, str):
        raise DomainError("invalid_decision", _l("Please correct the highlighted fields."),
                          fields={"note": str(_l("Please answer with text."))})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError("invalid_decision", _l("Please correct the highlighted fields."),
                          fields={"note": str(_l("At most %(n)d characters.", n=NOTE_MAX))})
    ids = list(dict.fromkeys(application_ids or []))
    if not ids:
        raise DomainError("invalid_decision", _l("Select at least one application."),
                          fields={"application_ids": str(_l("Select at least one application."))})
    if len(ids) > MAX_BATCH:
        raise DomainError("invalid_decision", _l("At most %(n)d at once.", n=MAX_BATCH))
    new_status = DECISIONS[decision]

    lock_event(event.id)  # from here on, decisions of this event run one at a time
    applications = list(db.session.scalars(
        sa.select(PitchApplication).where(PitchApplication.id.in_(ids), PitchApplication.event_id == event.id)
        .execution_options(populate_existing=True)
    ))
    if len(applications) != len(ids):
        raise NotFound("application_not_found", _l("This pitch application does not exist."))
    by_id = {a.id: a for a in applications}
    applications = [by_id[i] for i in ids]
    withdrawn = [a for a in applications if a.status == "withdrawn"]
    if withdrawn:
        raise DomainError("application_withdrawn",
                          _l("“%(project)s” was withdrawn by its founder and cannot be decided.",
                             project=withdrawn[0].project_name), status=409, application_id=withdrawn[0].id)
    changing = [a for a in applications if a.status != new_status]
    if new_status == "accepted" and event.pitch_slots_capacity is not None:
        left = max(0, event.pitch_slots_capacity - accepted_count(event.id))  # counted under the lock
        if len(changing) > left:
            raise DomainError("pitch_slots_full",
                              _l("Only %(n)d pitch slots are left; select fewer applications or add slots.",
                                 n=left), status=409, slots_left=left)
    decided = []
    for application in applications:
        if application.status == new_status:
            if note:
                application.review_note = note
            continue
        previous = application.status
        if new_status == "declined":
            _remove_slot(application)
        application.status = new_status
        application.review_note = note
        application.updated_at = now
        decided.append((application, previous))
    db.session.flush()
    for application, previous in decided:
        _send(signals.pitch_application_decided, application, status=new_status, previous_status=previous,
              note=note)
    return applications


# ---- the line-up ------------------------------------------------------------------------------------------------

@dataclass
class SlotPlan:
    application_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class _Change:
    assigned: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    removed: list = field(default_factory=list)


def _lineup_error(fields: dict, message=None) -> DomainError:
    return DomainError("invalid_lineup", message or _l("Please correct the line-up."),
                       fields={k: str(v) for k, v in fields.items()})


def _aware(value) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None


def plan_from_grid(application_ids: list, *, starts_at, slot_minutes, gap_minutes) -> list[SlotPlan]:
    """Times for an ordered list: the first pitch at `starts_at`, each `slot_minutes` long, `gap_minutes` apart."""
    errors = {}
    if not _aware(starts_at):
        errors["starts_at"] = _l("Give the time with its offset, e.g. 2026-12-03T14:00:00+08:00.")
    if isinstance(slot_minutes, bool) or not isinstance(slot_minutes, int) \
            or not 1 <= slot_minutes <= MAX_SLOT_MINUTES:
        errors["slot_minutes"] = _l("Between %(min)d and %(max)d minutes.", min=1, max=MAX_SLOT_MINUTES)
    if isinstance(gap_minutes, bool) or not isinstance(gap_minutes, int) or not 0 <= gap_minutes <= MAX_GAP_MINUTES:
        errors["gap_minutes"] = _l("Between %(min)d and %(max)d minutes.", min=0, max=MAX_GAP_MINUTES)
    if not isinstance(application_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                         for i in application_ids):
        errors["application_ids"] = _l("A list of application ids, in pitching order.")
    if errors:
        raise _lineup_error(errors)
    plans, start = [], starts_at
    for application_id in application_ids:
        end = start + timedelta(minutes=slot_minutes)
        plans.append(SlotPlan(application_id, start, end))
        start = end + timedelta(minutes=gap_minutes)
    return plans


def _validate_plan(event: Event, plans: list[SlotPlan]) -> None:
    """Accepted applications of this event, each once, in time order without overlap, within the event."""
    errors = {}
    ids = [p.application_id for p in plans]
    statuses = dict(db.session.execute(
        sa.select(PitchApplication.id, PitchApplication.status)
        .where(PitchApplication.event_id == event.id, PitchApplication.id.in_(ids))
    ).all()) if ids else {}
    seen, previous = set(), None
    for index, plan in enumerate(plans):
        key = f"slots.{index}"
        if plan.application_id in seen:
            errors[key] = _l("This application is already in the line-up.")
        elif plan.application_id not in statuses:
            errors[key] = _l("This pitch application does not exist.")
        elif statuses[plan.application_id] != "accepted":
            errors[key] = _l("Only accepted applications can be in the line-up.")
        elif not (_aware(plan.starts_at) and _aware(plan.ends_at)):
            errors[key] = _l("Give the time with its offset, e.g. 2026-12-03T14:00:00+08:00.")
        elif plan.ends_at <= plan.starts_at:
            errors[key] = _l("The end must be after the start.")
        elif plan.starts_at < event.starts_at or plan.ends_at > event.ends_at:
            errors[key] = _l("Every pitch must be within the event's time.")
        elif previous is not None and plan.starts_at < previous.ends_at:
            errors[key] = _l("This pitch overlaps the one before it.")
        seen.add(plan.application_id)
        if key not in errors:
            previous = plan
        if errors:
            break  # the first problem is the one to fix; later ones often follow from it
    if errors:
        raise _lineup_error(errors)


def _prepare_lineup_change(event_id: int, organizer, *, now: datetime) -> Event:
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(organizer, event)
    _check_organizer_can_change(event, now=now)
    lock_event(event.id)
    db.session.refresh(event)
    return event


def set_lineup(event_id: int, organizer, *, now: datetime, slots: list[SlotPlan] | None = None,
               application_ids: list[int] | None = None, starts_at: datetime | None = None,
               slot_minutes: int | None = None, gap_minutes: int | None = None) -> list[PitchSlot]:
    """Replace the line-up: either explicit `slots` (ordered, each with its times), or `application_ids` in order
    with `starts_at`, `slot_minutes` and `gap_minutes`. An empty list clears it. A published line-up stays published
    and the founders whose slot appeared, moved or went are told (signals)."""
    event = _prepare_lineup_change(event_id, organizer, now=now)
    if slots is None:
        slots = plan_from_grid(application_ids if application_ids is not None else [], starts_at=starts_at,
                               slot_minutes=slot_minutes, gap_minutes=gap_minutes)
    _validate_plan(event, slots)
    return _apply(event, slots)


def move_in_lineup(event_id: int, application_id: int, offset: int, organizer, *, now: datetime
                   ) -> list[PitchSlot]:
    """Move a team up (offset -1) or down (+1): the time windows stay, the teams swap them."""
    event = _prepare_lineup_change(event_id, organizer, now=now)
    current = lineup(event.id)
    index = next((i for i, s in enumerate(current) if s.application_id == application_id), None)
    if index is None:
        raise NotFound("slot_not_found", _l("This team is not in the line-up."))
    other = index + offset
    if offset not in (-1, 1) or not 0 <= other < len(current):
        return current
    plans = [SlotPlan(s.application_id, s.starts_at, s.ends_at) for s in current]
    plans[index].application_id, plans[other].application_id = plans[other].application_id, application_id
    _validate_plan(event, plans)
    return _apply(event, plans)


def remove_from_lineup(event_id: int, application_id: int, organizer, *, now: datetime) -> list[PitchSlot]:
    """Take a team out of the line-up (it stays accepted); the others keep their times."""
    event = _prepare_lineup_change(event_id, organizer, now=now)
    current = lineup(event.id)
    if not any(s.application_id == application_id for s in current):
        raise NotFound("slot_not_found", _l("This team is not in the line-up."))
    plans = [SlotPlan(s.application_id, s.starts_at, s.ends_at) for s in current if s.application_id != application_id]
    return _apply(event, plans)


# Other packages check a line-up change before it is written, without this module knowing them (mentoring: a founder
# must not pitch while one of their investor meetings runs). A check is called, under the event's lock, as
# check(event_id, pitches) with pitches = [(founder user id, starts_at, ends_at)] as the line-up would be; it raises
# DomainError to refuse the change, or brings its own rows in line (in the same transaction).
LINEUP_CHECKS: list = []


def register_lineup_check(check) -> None:
    if check not in LINEUP_CHECKS:
        LINEUP_CHECKS.append(check)


def _check_lineup(event: Event, plans: list[SlotPlan]) -> None:
    if not LINEUP_CHECKS or not plans:
        return
    founders = dict(db.session.execute(
        sa.select(PitchApplication.id, PitchApplication.applicant_id)
        .where(PitchApplication.id.in_([p.application_id for p in plans]))).all())
    pitches = [(founders[p.application_id], p.starts_at, p.ends_at) for p in plans]
    for check in LINEUP_CHECKS:
        check(event.id, pitches)


def _apply(event: Event, plans: list[SlotPlan]) -> list[PitchSlot]:
    """Make the event's slots match `plans` (validated), keeping each application's slot row. The caller holds
    the event lock. Positions are unique per event, so kept rows first move to negative positions."""
    _check_lineup(event, plans)
    current = {s.application_id: s for s in lineup(event.id)}
    published = any(s.published for s in current.values())
    wanted = {p.application_id for p in plans}
    change = _Change()
    for application_id, slot in list(current.items()):
        if application_id not in wanted:
            change.removed.append(_slot_facts(slot))
            db.session.delete(slot)
            del current[application_id]
    db.session.flush()
    for index, slot in enumerate(current.values()):
        slot.position = -(index + 1)
    db.session.flush()
    result = []
    for position, plan in enumerate(plans, start=1):
        slot = current.get(plan.application_id)
        if slot is None:
            slot = PitchSlot(event_id=event.id, application_id=plan.application_id, position=position,
                             starts_at=plan.starts_at, ends_at=plan.ends_at, published=published)
            db.session.add(slot)
            change.assigned.append(slot)
        else:
            if (slot.starts_at, slot.ends_at) != (plan.starts_at, plan.ends_at):
                change.changed.append((slot, slot.starts_at, slot.ends_at))
                slot.sequence += 1
            slot.position, slot.starts_at, slot.ends_at = position, plan.starts_at, plan.ends_at
        result.append(slot)
    db.session.flush()
    if published:
        for facts in change.removed:
            signals.pitch_slot_removed.send(None, **facts)
        for slot in change.assigned:
            signals.pitch_slot_assigned.send(None, **_slot_facts(slot))
        for slot, old_start, old_end in change.changed:
            signals.pitch_slot_changed.send(None, **_slot_facts(slot), old_starts_at=old_start, old_ends_at=old_end)
    return result


def _slot_facts(slot: PitchSlot) -> dict:
    return {"slot_id": slot.id, "application_id": slot.application_id, "event_id": slot.event_id,
            "user_id": slot.application.applicant_id, "position": slot.position, "starts_at": slot.starts_at,
            "ends_at": slot.ends_at}


def _remove_slot(application: PitchApplication) -> None:
    """An application leaving (declined, withdrawn) takes its slot with it; the others keep their times. The
    caller holds the event lock."""
    slot = slot_of(application.id)
    if slot is None:
        return
    facts = _slot_facts(slot)
    was_published = slot.published
    db.session.delete(slot)
    db.session.flush()
    rest = lineup(application.event_id)
    for index, other in enumerate(rest):
        other.position = -(index + 1)
    db.session.flush()
    for index, other in enumerate(rest, start=1):
        other.position = index
    db.session.flush()
    if was_published:
        signals.pitch_slot_removed.send(None, **facts)


def publish_lineup(event_id: int, organizer, *, now: datetime) -> list[PitchSlot]:
    """Show the line-up on the event page and tell each team its time. Publishing twice changes nothing."""
    event = _prepare_lineup_change(event_id, organizer, now=now)
    slots = lineup(event.id)
    if not slots:
        raise DomainError("lineup_empty", _l("Add at least one team to the line-up first."), status=409)
    newly = [s for s in slots if not s.published]
    if not newly:
        return slots
    for slot in newly:
        slot.published = True
    db.session.flush()
    signals.pitch_lineup_published.send(None, event_id=event.id)
    for slot in newly:
        signals.pitch_slot_assigned.send(None, **_slot_facts(slot))
    return slots


def unpublish_lineup(event_id: int, organizer, *, now: datetime) -> list[PitchSlot]:
    """Hide the line-up again (to rework it); teams are told once it is published again."""
    event = _prepare_lineup_change(event_id, organizer, now=now)
    slots = lineup(event.id)
    if any(s.published for s in slots):
        for slot in slots:
            slot.published = False
        db.session.flush()
        signals.pitch_lineup_unpublished.send(None, event_id=event.id)
    return slots


def lineup_problems(event: Event, slots: list[PitchSlot]) -> list[PitchSlot]:
    """Slots that no longer fit the event's time (after the event itself was moved)."""
    return [s for s in slots if s.starts_at < event.starts_at or s.ends_at > event.ends_at]
