"""Creating and changing events: check every field, create (one or a recurring series), change (moving its time or
place tells everyone signed up; raising capacity moves the waitlist up), publish, cancel. Services flush; callers
commit once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from flask_babel import lazy_gettext as _l

from app.accounts.services import grant_role
from app.authz import authorize, scope_key
from app.errors import DomainError
from app.extensions import db
from app.locking import lock_event
from events import signals
from events.models import EVENT_KINDS, WAITLIST_MODES, Event, EventSeries
from events.services.lotteries import prepare_lottery
from events.services.reading import accepted_count, authorize_organizer, get_event
from events.services.waitlist import fill_free_seats

MAX_CAPACITY = 100_000
QUESTION_KINDS = ("text", "choice", "url")

EDITABLE_FIELDS = ("kind", "title", "title_en", "summary", "description", "venue", "starts_at", "ends_at",
                   "capacity", "requires_approval", "registration_opens_at", "registration_closes_at",
                   "waitlist_mode", "offer_hours", "lottery_draw_at", "questions", "pitch_slots_capacity",
                   "pitch_applications_open")
# Changes that people who signed up must hear about (and that calendars must show).
NOTIFIED_FIELDS = ("starts_at", "ends_at", "venue")


def create_event(organizer, *, now: datetime, status: str = "draft", **fields) -> Event:
    """Create an event (draft or published) after checking every field; the creator organizes it."""
    authorize(organizer, "organizer")
    values = {"kind": "salon", "title_en": "", "summary": "", "description": "", "venue": "", "capacity": None,
              "requires_approval": False, "waitlist_mode": "auto", "offer_hours": 12, "questions": []}
    values.update({k: v for k, v in fields.items() if k in EDITABLE_FIELDS})
    _validate_event_fields(values, now=now, creating=True)
    if status not in ("draft", "published"):
        raise _invalid({"status": _l("Choose draft or published.")})
    event = Event(status=status, created_by_id=organizer.id, **values)
    db.session.add(event)
    db.session.flush()
    if event.waitlist_mode == "lottery":
        prepare_lottery(event)
    grant_role(organizer, "organizer", scope_key("event", event.id))
    if status == "published":
        signals.event_published.send(None, event_id=event.id)
    return event


def update_event(event_id: int, actor, *, now: datetime, **fields) -> Event:
    """Change an event. Moving its time or place raises its calendar SEQUENCE and tells everyone signed up;
    raising capacity moves the waitlist up; capacity can never go below the seats already taken."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(actor, event)
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    lock_event(event.id)
    db.session.refresh(event)
    values = {field: getattr(event, field) for field in EDITABLE_FIELDS}
    changed = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS and v != values[k]}
    values.update(changed)
    _validate_event_fields(values, now=now, creating=False)
    if values["capacity"] is not None and values["capacity"] < event.seats_taken:
        raise _invalid({"capacity": _l("%(n)d seats are already taken; capacity cannot be lower.",
                                       n=event.seats_taken)})
    if changed.get("pitch_slots_capacity") is not None:  # pitching: never fewer slots than teams accepted
        accepted = accepted_count(event.id)  # under the event lock, as pitching decisions are
        if changed["pitch_slots_capacity"] < accepted:
            raise _invalid({"pitch_slots_capacity": _l(
                "%(n)d teams are already accepted; there cannot be fewer pitch slots.", n=accepted)})
    if "waitlist_mode" in changed and (changed["waitlist_mode"] == "lottery" or event.waitlist_mode == "lottery") \
            and event.registration_seq > 0:
        raise _invalid({"waitlist_mode": _l("The lottery cannot be switched on or off after sign-ups began.")})
    old = {k: getattr(event, k) for k in changed}
    for key, value in changed.items():
        setattr(event, key, value)
    if event.waitlist_mode == "lottery" and not event.lottery_seed_hash:
        prepare_lottery(event)
    if changed:
        event.sequence += 1
    db.session.flush()
    notified = {k: (old[k], changed[k]) for k in changed if k in NOTIFIED_FIELDS}
    if notified and event.status == "published":
        signals.event_changed.send(None, event_id=event.id, changes=notified)
    if "capacity" in changed:
        fill_free_seats(event, now=now)
    return event


def publish_event(event_id: int, actor, *, now: datetime) -> Event:
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(actor, event)
    if event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if event.status != "published":
        event.status = "published"
        event.sequence += 1
        signals.event_published.send(None, event_id=event.id)
    return event


def cancel_event(event_id: int, actor, *, reason: str = "", now: datetime) -> Event:
    """Cancel an event: calendars show it cancelled, tickets stop working, and everyone signed up is told."""
    event = get_event(event_id, include_drafts=True)
    authorize_organizer(actor, event)
    if event.status == "cancelled":
        return event
    event.status = "cancelled"
    event.cancelled_reason = (reason or "").strip()[:300]
    event.sequence += 1
    db.session.flush()
    signals.event_cancelled.send(None, event_id=event.id, reason=event.cancelled_reason)
    return event


def _invalid(fields: dict) -> DomainError:
    return DomainError("invalid_event", _l("Please correct the highlighted fields."),
                       fields={k: str(v) for k, v in fields.items()})


def _validate_event_fields(values: dict, *, now: datetime, creating: bool) -> None:
    errors = {}
    values["title"] = (values.get("title") or "").strip()
    if not values["title"]:
        errors["title"] = _l("Please enter a title.")
    for field, limit in (("title", 200), ("title_en", 200), ("summary", 300), ("venue", 200),
                         ("description", 20_000)):
        values[field] = (values.get(field) or "").strip() if field != "title" else values["title"]
        if len(values[field]) > limit:
            errors[field] = _l("At most %(n)d characters.", n=limit)
    if values.get("kind") not in EVENT_KINDS:
        errors["kind"] = _l("Please choose one of the options.")
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    for field in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "lottery_draw_at"):
        value = values.get(field)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            errors[field] = _l("Give the time with its offset, e.g. 2026-12-03T19:00:00+08:00.")
    if "starts_at" not in errors and starts_at is None:
        errors["starts_at"] = _l("Please give a start time.")
    if "ends_at" not in errors and ends_at is None:
        errors["ends_at"] = _l("Please give an end time.")
    if not errors.keys() & {"starts_at", "ends_at"}:
        if ends_at <= starts_at:
            errors["ends_at"] = _l("The end must be after the start.")
        elif creating and ends_at < now:
            errors["ends_at"] = _l("This time is in the past.")
    capacity = values.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool)
                                 or not 0 <= capacity <= MAX_CAPACITY):
        errors["capacity"] = _l("Capacity must be a whole number from 0 to %(n)d.", n=MAX_CAPACITY)
    if values.get("waitlist_mode") not in WAITLIST_MODES:
        errors["waitlist_mode"] = _l("Please choose one of the options.")
    offer_hours = values.get("offer_hours")
    if not isinstance(offer_hours, int) or not 1 <= offer_hours <= 168:
        errors["offer_hours"] = _l("Between 1 and 168 hours.")
    if values.get("waitlist_mode") == "lottery":
        draw_at = values.get("lottery_draw_at")
        if draw_at is None:
            errors["lottery_draw_at"] = _l("A lottery needs a draw time.")
        elif "starts_at" not in errors and starts_at and draw_at >= starts_at:
            errors["lottery_draw_at"] = _l("The draw must be before the event starts.")
        if capacity is None:
            errors["capacity"] = _l("A lottery needs a capacity.")
    opens, closes = values.get("registration_opens_at"), values.get("registration_closes_at")
    if opens and closes and closes <= opens and "registration_closes_at" not in errors:
        errors["registration_closes_at"] = _l("Sign-up must close after it opens.")
    question_error = _validate_questions(values.get("questions") or [])
    if question_error:
        errors["questions"] = question_error
    pitch_slots = values.get("pitch_slots_capacity")
    if pitch_slots is not None and (not isinstance(pitch_slots, int) or not 0 <= pitch_slots <= 200):
        errors["pitch_slots_capacity"] = _l("Between 0 and 200.")
    if errors:
        raise _invalid(errors)


def _validate_questions(questions) -> str | None:
    if not isinstance(questions, list) or len(questions) > 20:
        return _l("At most 20 questions.")
    seen = set()
    for question in questions:
        if not isinstance(question, dict):
            return _l("Each question needs an id, a label and a kind.")
        qid, label, kind = question.get("id"), question.get("label"), question.get("kind")
        if not (isinstance(qid, str) and qid and isinstance(label, str) and label and kind in QUESTION_KINDS):
            return _l("Each question needs an id, a label and a kind.")
        if qid in seen:
            return _l("Question ids must be unique.")
        seen.add(qid)
        if kind == "choice" and not (isinstance(question.get("choices"), list) and question["choices"]):
            return _l("A choice question needs its choices.")
    return None


# ---- recurring series --------------------------------------------------------------------------------------------

MAX_OCCURRENCES = 52
SERIES_TIMEZONE = "Asia/Shanghai"


def series_occurrences(rrule_text: str, first_start: datetime) -> list[datetime]:
    """Starts of a series, expanded in Shanghai local time (so "every Thursday 19:00" stays 19:00), as UTC."""
    tz = ZoneInfo(SERIES_TIMEZONE)
    local_start = first_start.astimezone(tz).replace(tzinfo=None)
    text = rrule_text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    upper = text.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise _invalid({"rrule": _l("A series needs an end: COUNT or UNTIL.")})
    if not any(f"FREQ={f}" in upper for f in ("DAILY", "WEEKLY", "MONTHLY")):
        raise _invalid({"rrule": _l("Repeat daily, weekly or monthly.")})
    try:
        rule = rrulestr(text, dtstart=local_start)
        starts = []
        for occurrence in rule:
            starts.append(occurrence)
            if len(starts) > MAX_OCCURRENCES:
                break
    except (ValueError, TypeError):
        raise _invalid({"rrule": _l("This repeat rule is not valid.")}) from None
    if not starts or len(starts) > MAX_OCCURRENCES:
        raise _invalid({"rrule": _l("A series has 1 to %(n)d occurrences.", n=MAX_OCCURRENCES)})
    return [s.replace(tzinfo=tz).astimezone(first_start.tzinfo or tz) for s in starts]


def create_series(organizer, *, rrule: str, now: datetime, status: str = "draft", **fields):
    """Create a recurring event once (e.g. FREQ=WEEKLY;BYDAY=TH;COUNT=8): one Event per occurrence, each with its
    own seats and sign-ups, linked to the series (calendars show it as one RRULE)."""
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if not (isinstance(starts_at, datetime) and isinstance(ends_at, datetime) and starts_at.tzinfo):
        _validate_event_fields({"waitlist_mode": "auto", "offer_hours": 12, **fields}, now=now, creating=True)
    duration = ends_at - starts_at
    starts = series_occurrences(rrule, starts_at)
    series = EventSeries(title=(fields.get("title") or "").strip()[:200], rrule=rrule.strip().removeprefix("RRULE:"),
                         created_by_id=organizer.id)
    db.session.add(series)
    db.session.flush()
    events = []
    for start in starts:
        event = create_event(organizer, now=now, status=status,
                             **{**fields, "starts_at": start, "ends_at": start + duration})
        event.series_id, event.recurrence_id = series.id, start
        events.append(event)
    db.session.flush()
    return series, events
