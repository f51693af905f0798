"""One module on purpose, despite its length: the organizers' pages of one event share their
forms, filters and redirects, and each view is thin (the rules live in events/services/).

Organizers' pages: my events (drafts, upcoming, past), creating and editing an event (or a weekly series),
publishing and cancelling it, and its registrations: filters, search, bulk approval, live updates, CSV / XLSX.

Plain server-rendered forms with CSRF that work without JavaScript; app/static/js/manage.js adds live rows
(Socket.IO room `event:<id>:organizers`, events/realtime.py), select-all and the form's show/hide. Every rule lives
in events/services/; every page checks reading.authorize_organizer (anonymous visitors go to sign in, others get
403). A form the service refuses comes back with each message next to its field and everything typed still there.
Times are typed in Asia/Shanghai (datetime-local inputs) and stored as aware UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, flash, has_app_context, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import spreadsheets
from app.accounts.forms import persona_choices
from app.accounts.models import User
from app.authz import authorize, has_role, login_required
from app.db_types import utcnow
from app.errors import DomainError, Forbidden
from app.extensions import db
from app.inputs import ids_from
from events import exports
from events.models import ACTIVE_STATUSES, EVENT_KINDS, REGISTRATION_STATUSES, WAITLIST_MODES, Event, Registration
from events.services import events as event_changes
from events.services import lotteries, reading, waitlist
from events.views import STATUS_LABELS

bp = Blueprint("manage", __name__, url_prefix="/manage", template_folder="templates")

PAST_LIMIT = 30
MAX_ROWS_REQUEST = 300
MAX_QUESTION_LABEL = 200
MAX_CHOICES = 30
MAX_CHOICE_LENGTH = 100
MAX_REASON = 300
BLANK_QUESTION_ROWS = 1
TEXT_FIELDS = ("title", "title_en", "summary", "description", "venue")
TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "lottery_draw_at")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # datetime.weekday() order
# Statuses an organizer can act on in bulk: approve the pending; reject any active one.
DECIDABLE = ACTIVE_STATUSES

KIND_CHOICES = {"salon": _l("Tech salon"), "roadshow": _l("Roadshow day"), "competition": _l("Competition"),
                "other": _l("Event")}
WAITLIST_LABELS = {
    "auto": _l("Automatic: the next person gets the freed seat at once"),
    "offer": _l("Offer window: the freed seat is held for the next person for a few hours"),
    "lottery": _l("Lottery: entries until the draw, then a fair random draw"),
}
QUESTION_KIND_LABELS = {"text": _l("Text"), "choice": _l("Choice"), "url": _l("Link")}
WEEKDAY_LABELS = {"MO": _l("Monday"), "TU": _l("Tuesday"), "WE": _l("Wednesday"), "TH": _l("Thursday"),
                  "FR": _l("Friday"), "SA": _l("Saturday"), "SU": _l("Sunday")}
EVENT_STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "cancelled": _l("Cancelled")}
# The order of the status filter chips (and of rows: exports.STATUS_ORDER).
FILTER_STATUSES = ("pending", "confirmed", "offered", "entered", "waitlisted", "cancelled", "rejected", "expired")


def _status_labels() -> dict:
    return STATUS_LABELS


def _persona_labels() -> dict:
    return dict(persona_choices())


# ---- who may see what ---------------------------------------------------------------------------------------------

def _organizes_everything(user) -> bool:
    return has_role(user, "organizer")  # a global organizer grant, or admin


def _scoped_event_ids(user) -> set[int]:
    ids = set()
    for grant in user.roles:
        if grant.role == "organizer" and grant.scope.startswith("event:"):
            try:
                ids.add(int(grant.scope.split(":", 1)[1]))
            except ValueError:
                continue
    return ids


# ---- times: datetime-local in Asia/Shanghai <-> aware UTC ------------------------------------------------------------

def _zone() -> ZoneInfo:
    """Asia/Shanghai (the app's BABEL_DEFAULT_TIMEZONE) as a zoneinfo zone: flask-babel hands out pytz zones, and
    replace(tzinfo=pytz zone) would give LMT (+08:06)."""
    if not has_app_context():
        return ZoneInfo(event_changes.SERIES_TIMEZONE)
    return ZoneInfo(str(get_timezone()))


def local_input(value: datetime | None) -> str:
    return value.astimezone(_zone()).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_local(text: str | None) -> datetime | None:
    """'2026-12-03T19:00' typed in Shanghai → aware UTC. Seconds and a space instead of 'T' are accepted (old
    phone browsers show datetime-local as a text box). Raises ValueError for anything else."""
    text = (text or "").strip().replace(" ", "T", 1)
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            local = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return local.replace(tzinfo=_zone()).astimezone(UTC)
    raise ValueError(text)


# ---- my events ----------------------------------------------------------------------------------------------------

@bp.get("")
@bp.get("/")
@login_required
def index():
    user = current_user._get_current_object()
    everything = _organizes_everything(user)
    query = sa.select(Event)
    if not everything:
        ids = _scoped_event_ids(user)
        if not ids:
            raise Forbidden("forbidden", _l("You are not allowed to do this."))
        query = query.where(Event.id.in_(ids))
    now = utcnow()
    drafts = db.session.scalars(query.where(Event.status == "draft").order_by(Event.starts_at, Event.id)).all()
    upcoming = db.session.scalars(query.where(Event.status == "published", Event.ends_at >= now)
                                  .order_by(Event.starts_at, Event.id)).all()
    past = db.session.scalars(query.where(Event.status == "published", Event.ends_at < now)
                              .order_by(Event.starts_at.desc()).limit(PAST_LIMIT)).all()
    cancelled = db.session.scalars(query.where(Event.status == "cancelled")
                                   .order_by(Event.starts_at.desc()).limit(PAST_LIMIT)).all()
    counts = _counts_by_event([e.id for e in (*drafts, *upcoming, *past, *cancelled)])
    return render_template("events/manage/index.html", drafts=drafts, upcoming=upcoming, past=past,
                           cancelled=cancelled, counts=counts, can_create=everything, everything=everything,
                           town_insights=has_role(user, "admin"))


def _counts_by_event(event_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {i: dict.fromkeys(REGISTRATION_STATUSES, 0) for i in event_ids}
    if event_ids:
        rows = db.session.execute(
            sa.select(Registration.event_id, Registration.status, sa.func.count())
            .where(Registration.event_id.in_(event_ids)).group_by(Registration.event_id, Registration.status))
        for event_id, status, count in rows:
            counts[event_id][status] = count
    return counts


# ---- the event form -----------------------------------------------------------------------------------------------

@dataclass
class EventForm:
    """What the form shows: values as strings (as typed), errors by field, a message on top."""

    values: dict
    errors: dict
    message: str | None = None


def _blank_question() -> dict:
    return {"id": "", "label": "", "kind": "text", "required": False, "choices": ""}


def _values_from_event(event: Event | None) -> dict:
    if event is None:
        start = (utcnow() + timedelta(days=7)).astimezone(_zone()).replace(hour=19, minute=0, second=0,
                                                                            microsecond=0)
        values = dict.fromkeys(TEXT_FIELDS, "")
        values.update(kind="salon", starts_at=local_input(start), ends_at=local_input(start + timedelta(hours=2)),
                      capacity="", requires_approval=False, waitlist_mode="auto", offer_hours="12",
                      lottery_draw_at="", registration_opens_at="", registration_closes_at="",
                      pitch_slots_capacity="", questions=[], repeat=False, repeat_weekday=WEEKDAYS[start.weekday()],
                      repeat_weeks="8", sequence="")
    else:
        values = {name: getattr(event, name) or "" for name in TEXT_FIELDS}
        values.update({name: local_input(getattr(event, name)) for name in TIME_FIELDS})
        values.update(kind=event.kind, capacity=_text(event.capacity),
                      requires_approval=event.requires_approval, waitlist_mode=event.waitlist_mode,
                      offer_hours=str(event.offer_hours),
                      pitch_slots_capacity=_text(event.pitch_slots_capacity),
                      questions=[{"id": q.get("id", ""), "label": q.get("label", ""), "kind": q.get("kind", "text"),
                                  "required": bool(q.get("required")), "choices": "\n".join(q.get("choices") or [])}
                                 for q in event.questions or []],
                      repeat=False, repeat_weekday="", repeat_weeks="", sequence=str(event.sequence))
    values["questions"] = values["questions"] + [_blank_question() for _ in range(BLANK_QUESTION_ROWS)]
    return values


def _text(number: int | None) -> str:
    return "" if number is None else str(number)


def _values_from_form(form) -> dict:
    values = {name: form.get(name, "") for name in TEXT_FIELDS}
    values.update({name: form.get(name, "") for name in TIME_FIELDS})
    values.update(kind=form.get("kind", ""), capacity=form.get("capacity", ""),
                  requires_approval=form.get("requires_approval") in ("1", "on", "true"),
                  waitlist_mode=form.get("waitlist_mode", ""), offer_hours=form.get("offer_hours", ""),
                  pitch_slots_capacity=form.get("pitch_slots_capacity", ""),
                  repeat=form.get("repeat") in ("1", "on", "true"), repeat_weekday=form.get("repeat_weekday", ""),
                  repeat_weeks=form.get("repeat_weeks", ""), sequence=form.get("sequence", ""))
    rows, removed = [], []
    count = min(_int_or(form.get("question_rows"), 0), 40)
    for index in range(count):
        prefix = f"q-{index}-"
        if form.get(prefix + "remove"):
            removed.append(form.get(prefix + "id", "").strip()[:40])
            continue
        rows.append({"id": form.get(prefix + "id", "").strip()[:40], "label": form.get(prefix + "label", ""),
                     "kind": form.get(prefix + "kind", "text"),
                     "required": form.get(prefix + "required") in ("1", "on", "true"),
                     "choices": form.get(prefix + "choices", "")})
    values["questions"] = rows
    values["removed_question_ids"] = [qid for qid in removed if qid]
    return values


def _int_or(text, default):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return default


def _fields_from_values(values: dict, *, event: Event | None = None) -> tuple[dict, dict]:
    """Turn the typed strings into the service's fields. Returns (fields, errors the form itself found)."""
    errors: dict = {}
    fields = {name: values[name] for name in TEXT_FIELDS}
    fields["kind"] = values["kind"]
    for name in TIME_FIELDS:
        text = (values[name] or "").strip()
        if not text:
            fields[name] = None
            continue
        try:
            fields[name] = parse_local(text)
        except ValueError:
            errors[name] = _("Please give a date and time, e.g. 2026-12-03 19:00.")
    if values["waitlist_mode"] != "lottery":
        fields["lottery_draw_at"] = None
        errors.pop("lottery_draw_at", None)
    capacity = values["capacity"].strip()
    if not capacity:
        fields["capacity"] = None
    else:
        try:
            fields["capacity"] = int(capacity)
        except ValueError:
            errors["capacity"] = _("Please enter a whole number, or leave it empty for no limit.")
    fields["requires_approval"] = bool(values["requires_approval"])
    fields["waitlist_mode"] = values["waitlist_mode"]
    offer_hours = values["offer_hours"].strip()
    if not offer_hours and values["waitlist_mode"] != "offer":
        fields["offer_hours"] = 12
    else:
        try:
            fields["offer_hours"] = int(offer_hours)
        except ValueError:
            errors["offer_hours"] = _("Please enter a whole number of hours.")
    if values["kind"] == "roadshow":
        slots = values["pitch_slots_capacity"].strip()
        if not slots:
            fields["pitch_slots_capacity"] = None
        else:
            try:
                fields["pitch_slots_capacity"] = int(slots)
            except ValueError:
                errors["pitch_slots_capacity"] = _("Please enter a whole number.")
    questions, question_errors = _questions_from_rows(values["questions"], _used_question_ids(event, values))
    fields["questions"] = questions
    errors.update(question_errors)
    return fields, errors


def _used_question_ids(event: Event | None, values: dict) -> set[str]:
    """Ids a new question must not take: those in the form (removed ones too), the event's, and any that
    registrations hold answers for (a removed question's answers must never show under a new question)."""
    used = {row["id"] for row in values["questions"] if row["id"]} | set(values.get("removed_question_ids", []))
    if event is not None:
        used |= {q.get("id") for q in event.questions or []}
        for answers in db.session.scalars(sa.select(Registration.answers).where(Registration.event_id == event.id)):
            used |= set(answers or {})
    return used


def _questions_from_rows(rows: list[dict], taken: set[str]) -> tuple[list[dict], dict]:
    """The questions editor's rows → the event's questions. A row with neither label nor choices is ignored;
    existing questions keep their id (answers are stored by id), new ones get the next free q<n>."""
    errors: dict = {}
    taken = set(taken)
    questions = []
    counter = 1
    for index, row in enumerate(rows):
        label = (row["label"] or "").strip()
        choices = list(dict.fromkeys(c.strip() for c in (row["choices"] or "").splitlines() if c.strip()))
        if not label and not (row["kind"] == "choice" and choices):
            continue
        key = f"q-{index}"
        if not label:
            errors[key] = _("Please write the question.")
        elif len(label) > MAX_QUESTION_LABEL:
            errors[key] = _("At most %(n)d characters.", n=MAX_QUESTION_LABEL)
        kind = row["kind"] if row["kind"] in event_changes.QUESTION_KINDS else "text"
        if kind == "choice":
            if not choices:
                errors[key] = _("A choice question needs its choices.")
            elif len(choices) > MAX_CHOICES:
                errors[key] = _("At most %(n)d choices.", n=MAX_CHOICES)
            elif any(len(c) > MAX_CHOICE_LENGTH for c in choices):
                errors[key] = _("Each choice has at most %(n)d characters.", n=MAX_CHOICE_LENGTH)
        qid = row["id"]
        if not qid:
            while f"q{counter}" in taken:
                counter += 1
            qid = f"q{counter}"
            taken.add(qid)
            row["id"] = qid  # kept in the form, so a second try keeps the same id
        question = {"id": qid, "label": label, "kind": kind, "required": bool(row["required"])}
        if kind == "choice":
            question["choices"] = choices
        questions.append(question)
    return questions, errors


def _series_rrule(values: dict, starts_at: datetime | None) -> tuple[str | None, dict]:
    """'Every <weekday> for <n> weeks' → FREQ=WEEKLY;BYDAY=..;COUNT=n. The time of day is the start's."""
    errors = {}
    weekday = values["repeat_weekday"]
    if weekday not in WEEKDAYS:
        if starts_at is not None:
            weekday = WEEKDAYS[starts_at.astimezone(_zone()).weekday()]
        else:
            errors["repeat_weekday"] = _("Please choose one of the options.")
    weeks = _int_or(values["repeat_weeks"], None)
    if weeks is None or not 2 <= weeks <= event_changes.MAX_OCCURRENCES:
        errors["repeat_weeks"] = _("Between 2 and %(n)d weeks.", n=event_changes.MAX_OCCURRENCES)
    if errors:
        return None, errors
    return f"FREQ=WEEKLY;BYDAY={weekday};COUNT={weeks}", {}


def _render_form(event: Event | None, form: EventForm, status: int | None = None):
    if status is None:
        status = 400 if form.errors or form.message else 200
    return render_template(
        "events/manage/form.html", event=event, form=form, values=form.values, errors=form.errors,
        kinds=[(k, KIND_CHOICES[k]) for k in ("salon", "roadshow", "competition", "other") if k in EVENT_KINDS],
        waitlist_modes=[(m, WAITLIST_LABELS[m]) for m in WAITLIST_MODES],
        question_kinds=[(k, QUESTION_KIND_LABELS.get(k, k)) for k in event_changes.QUESTION_KINDS],
        weekdays=[(d, WEEKDAY_LABELS[d]) for d in WEEKDAYS], max_weeks=event_changes.MAX_OCCURRENCES,
        registered=_active_count(event.id) if event is not None else 0), status


def _active_count(event_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.status.in_(ACTIVE_STATUSES)))


def _form_after_error(values: dict, error: DomainError) -> EventForm:
    fields = dict(error.details.get("fields") or {})
    if "rrule" in fields:  # the series rule is built from the weeks and weekday fields
        fields["repeat_weeks"] = fields.pop("rrule")
    message = str(error.message)
    return EventForm(values, fields, message)


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event():
    authorize(current_user, "organizer")  # creating an event takes a global organizer grant (or admin)
    if request.method == "GET":
        return _render_form(None, EventForm(_values_from_event(None), {}))
    values = _values_from_form(request.form)
    if "add_question" in request.form:  # one more row; nothing saved, nothing typed lost
        values["questions"].append(_blank_question())
        return _render_form(None, EventForm(values, {}))
    fields, errors = _fields_from_values(values)
    rrule = None
    if values["repeat"]:
        rrule, series_errors = _series_rrule(values, fields.get("starts_at"))
        errors.update(series_errors)
    if errors:
        return _render_form(None, _form_with_blank(values, errors))
    status = "published" if request.form.get("publish") else "draft"
    user = current_user._get_current_object()
    now = utcnow()
    try:
        if rrule:
            series, events = event_changes.create_series(user, rrule=rrule, now=now, status=status, **fields)
            _shift_series_windows(events, fields, user, now=now)
        else:
            event = event_changes.create_event(user, now=now, status=status, **fields)
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, Forbidden):
            raise
        form = _form_after_error(values, error)
        return _render_form(None, _form_with_blank(form.values, form.errors, form.message))
    db.session.commit()
    if rrule:
        flash(_("Created a series of %(n)d events, one per week.", n=len(events)), "success")
        return redirect(url_for(".event", event_id=events[0].id))
    flash(_("Published: residents can see it and sign up.") if status == "published" else
          _("Saved as a draft: only organizers can see it."), "success")
    return redirect(url_for(".event", event_id=event.id))


def _form_with_blank(values: dict, errors: dict, message: str | None = None) -> EventForm:
    if not values["questions"] or values["questions"][-1]["label"].strip():
        values["questions"].append(_blank_question())
    return EventForm(values, errors, message or _("Please correct the highlighted fields."))


def _shift_series_windows(events: list[Event], fields: dict, user, *, now: datetime) -> None:
    """In a series, the sign-up window and the lottery draw keep their distance to each occurrence's start
    (opens a week before every Thursday's salon), rather than one fixed moment for all."""
    typed_start = fields["starts_at"]
    offsets = {name: fields[name] - typed_start for name in ("registration_opens_at", "registration_closes_at",
                                                             "lottery_draw_at") if fields.get(name)}
    if not offsets:
        return
    for event in events:
        changes = {name: event.starts_at + offset for name, offset in offsets.items()}
        if any(getattr(event, name) != value for name, value in changes.items()):
            event_changes.update_event(event.id, user, now=now, **changes)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int):
    event = reading.organized_event(event_id, current_user)
    if event.status == "cancelled":
        flash(_("This event is cancelled; it can no longer be changed."), "error")
        return redirect(url_for(".event", event_id=event.id))
    if request.method == "GET":
        return _render_form(event, EventForm(_values_from_event(event), {}))
    values = _values_from_form(request.form)
    values["repeat"] = False
    if "add_question" in request.form:
        values["questions"].append(_blank_question())
        return _render_form(event, EventForm(values, {}))
    fields, errors = _fields_from_values(values, event=event)
    if errors:
        return _render_form(event, _form_with_blank(values, errors))
    if values["sequence"] and values["sequence"] != str(event.sequence):
        # Someone (another organizer, another tab) changed the event since this form was opened: saving would
        # silently undo their change. Show the form again, as typed, and let the organizer decide.
        values["sequence"] = str(event.sequence)
        return _render_form(event, _form_with_blank(values, {}, _(
            "Someone else changed this event while you were editing. Check the fields below, then save again.")),
            409)
    moved = {name for name in ("starts_at", "ends_at", "venue")
             if name in fields and _differs(getattr(event, name), fields[name])}
    try:
        event = event_changes.update_event(event.id, current_user, now=utcnow(), **fields)
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, Forbidden):
            raise
        form = _form_after_error(values, error)
        return _render_form(event, _form_with_blank(form.values, form.errors, form.message))
    told = _active_count(event.id) if moved and event.status == "published" else 0
    db.session.commit()
    if told:
        flash(_("Saved. The %(n)d people signed up are told about the new time or place.", n=told), "success")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for(".event", event_id=event.id))


def _differs(old, new) -> bool:
    if isinstance(old, str) or isinstance(new, str):
        return (old or "").strip() != (new or "").strip()
    return old != new


# ---- one event: overview, publish, cancel, lottery ---------------------------------------------------------------

@bp.get("/events/<int:event_id>")
@login_required
def event(event_id: int):
    event = reading.organized_event(event_id, current_user)
    counts = _counts_by_event([event.id])[event.id]
    siblings = []
    if event.series_id is not None:
        siblings = db.session.scalars(sa.select(Event).where(Event.series_id == event.series_id)
                                      .order_by(Event.starts_at)).all()
    return render_template("events/manage/event.html", event=event, counts=counts, siblings=siblings,
                           waitlist_label=WAITLIST_LABELS.get(event.waitlist_mode, ""), now=utcnow(),
                           question_kind_labels=QUESTION_KIND_LABELS)


@bp.post("/events/<int:event_id>/publish")
@login_required
def publish(event_id: int):
    event = reading.organized_event(event_id, current_user)
    try:
        event_changes.publish_event(event.id, current_user, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, Forbidden):
            raise
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Published: residents can see it and sign up."), "success")
    return redirect(url_for(".event", event_id=event.id))


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(event_id: int):
    event = reading.organized_event(event_id, current_user)
    if event.status == "cancelled":
        flash(_("This event is already cancelled."), "info")
        return redirect(url_for(".event", event_id=event.id))
    reason, error = "", None
    if request.method == "POST":
        reason = request.form.get("reason", "")
        if not reason.strip():
            error = _("Please tell people why; they will read it in the message.")
        elif len(reason.strip()) > MAX_REASON:
            error = _("At most %(n)d characters.", n=MAX_REASON)
        elif request.form.get("confirm") != "yes":
            error = _("Please confirm that you want to cancel this event.")
        else:
            told = _active_count(event.id) if event.status == "published" else 0
            event_changes.cancel_event(event.id, current_user, reason=reason, now=utcnow())
            db.session.commit()
            flash(_("The event is cancelled. The %(n)d people signed up are told.", n=told) if told else
                  _("The event is cancelled."), "success")
            return redirect(url_for(".event", event_id=event.id))
    return render_template("events/manage/cancel.html", event=event, reason=reason, error=error,
                           registered=_active_count(event.id), max_reason=MAX_REASON), 400 if error else 200


@bp.post("/events/<int:event_id>/lottery/draw")
@login_required
def draw(event_id: int):
    event = reading.organized_event(event_id, current_user)
    try:
        lotteries.draw_lottery(event.id, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The lottery is drawn; everyone in it is told the result."), "success")
    return redirect(url_for(".event", event_id=event.id))


# ---- registrations ------------------------------------------------------------------------------------------------

@dataclass
class Row:
    """One registration as the organizers' list shows it."""

    registration: Registration
    user: User
    position: int | None
    no_shows: int
    sort_key: str

    @property
    def decidable(self) -> bool:
        return self.registration.status in DECIDABLE


def no_show_counts(user_ids: list[int], *, now: datetime) -> dict[int, int]:
    """reading.no_show_count for many people in one query (same rule: past events where check-in was run, a
    confirmed seat, no check-in)."""
    if not user_ids:
        return {}
    checked = sa.select(Registration.event_id).where(Registration.checked_in_at.is_not(None)).distinct()
    rows = db.session.execute(
        sa.select(Registration.user_id, sa.func.count()).join(Event, Event.id == Registration.event_id).where(
            Registration.user_id.in_(user_ids), Registration.status == "confirmed",
            Registration.checked_in_at.is_(None), Event.ends_at < now, Event.id.in_(checked))
        .group_by(Registration.user_id))
    return dict(rows.all())


def _rows(event: Event, *, status: str | None, search: str, only_ids: list[int] | None = None) -> list[Row]:
    query = sa.select(Registration, User).join(User, User.id == Registration.user_id).where(
        Registration.event_id == event.id)
    if status:
        query = query.where(Registration.status == status)
    if only_ids is not None:
        query = query.where(Registration.id.in_(only_ids))
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(User.name.ilike(pattern, escape="\\"), User.company.ilike(pattern, escape="\\"),
                                   User.phone.ilike(pattern, escape="\\")))
    pairs = db.session.execute(query).all()
    # Waitlist positions: one query for the whole event, not one per row.
    waiting = db.session.scalars(sa.select(Registration.id).where(
        Registration.event_id == event.id, Registration.status == "waitlisted").order_by(Registration.waitlist_seq))
    positions = {rid: index for index, rid in enumerate(waiting, start=1)}
    no_shows = no_show_counts(sorted({u.id for _r, u in pairs}), now=utcnow())
    rows = [Row(registration=r, user=u, position=positions.get(r.id), no_shows=no_shows.get(u.id, 0),
                sort_key=f"{exports.STATUS_ORDER.get(r.status, 9)}-{r.waitlist_seq:010d}") for r, u in pairs]
    rows.sort(key=lambda row: row.sort_key)
    return rows


def _filters() -> tuple[str | None, str]:
    status = request.args.get("status")
    status = status if status in REGISTRATION_STATUSES else None
    search = (request.args.get("q") or "").strip()[:80]
    return status, search


def _render_registrations(event: Event, *, selected: set[int] | None = None, error: str | None = None,
                          http_status: int = 200):
    status, search = _filters()
    rows = _rows(event, status=status, search=search)
    counts = dict.fromkeys(REGISTRATION_STATUSES, 0)
    counts.update(reading.registration_counts(event.id))
    return render_template(
        "events/manage/registrations.html", event=event, rows=rows, counts=counts, total=sum(counts.values()),
        status=status, search=search, selected=selected or set(), error=error,
        filter_statuses=FILTER_STATUSES, questions=event.questions or [],
        persona_labels=_persona_labels()), http_status


@bp.get("/events/<int:event_id>/registrations")
@login_required
def registrations(event_id: int):
    return _render_registrations(reading.organized_event(event_id, current_user))


@bp.post("/events/<int:event_id>/registrations")
@login_required
def decide(event_id: int):
    event = reading.organized_event(event_id, current_user)
    status, search = _filters()
    selected = set(ids_from(request.form.getlist("registration_ids")))
    decision = request.form.get("decision")
    back = redirect(url_for(".registrations", event_id=event.id, status=status, q=search or None))
    if decision not in ("approve", "reject"):
        return _render_registrations(event, selected=selected, error=_("Please choose approve or reject."),
                                     http_status=400)
    if not selected:
        return _render_registrations(event, selected=selected, error=_("Please select at least one person."),
                                     http_status=400)
    try:
        decided = waitlist.decide_registrations(event.id, sorted(selected), current_user,
                                                approve=decision == "approve", now=utcnow())
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, Forbidden):
            raise
        message = str(error.message)
        if error.code == "not_pending":
            message = _("Only pending sign-ups can be approved; unselect the others and try again. "
                        "Nothing was changed.")
        elif error.code == "not_active":
            message = _("Some of the selected sign-ups are no longer active; nothing was changed. "
                        "The list is updated.")
        return _render_registrations(event, selected=selected, error=message, http_status=409)
    db.session.commit()
    if decision == "approve":
        confirmed = sum(1 for r in decided if r.status == "confirmed")
        waitlisted = len(decided) - confirmed
        flash(_("Approved %(n)d: %(confirmed)d got a seat, %(waitlisted)d joined the waitlist.", n=len(decided),
                confirmed=confirmed, waitlisted=waitlisted) if waitlisted else
              _("Approved %(n)d; each got a seat.", n=len(decided)), "success")
    else:
        flash(_("Rejected %(n)d. They are told; any seats they held go to the next in line.", n=len(decided)),
              "success")
    return back


@bp.get("/events/<int:event_id>/registrations/rows")
@login_required
def registration_rows(event_id: int):
    """The rows of some registrations as HTML (for live updates): only those that match the page's filters;
    the page removes the ids it asked for that are not returned."""
    event = reading.organized_event(event_id, current_user)
    ids = ids_from((request.args.get("ids") or "").split(","))[:MAX_ROWS_REQUEST]
    status, search = _filters()
    rows = _rows(event, status=status, search=search, only_ids=ids) if ids else []
    html = render_template("events/manage/_rows.html", event=event, rows=rows, selected=set(),
                           questions=event.questions or [], persona_labels=_persona_labels())
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- exports ------------------------------------------------------------------------------------------------------

EXPORT_LABELS = {"seq": _l("No."), "name": _l("Name"), "phone": _l("Mobile number"), "company": _l("Company"),
                 "title": _l("Title"), "persona": _l("I am a"), "status": _l("Status"),
                 "signed_up_at": _l("Signed up at"), "checked_in_at": _l("Checked in at")}


def _export_table(event: Event) -> tuple[list[str], list[list]]:
    labels = {key: str(label) for key, label in EXPORT_LABELS.items()}
    status_labels = {key: str(label) for key, label in _status_labels().items()}
    header, rows = exports.export_rows(event, labels=labels, status_labels=status_labels, tz=_zone())
    personas = {key: str(label) for key, label in _persona_labels().items()}
    persona_column = header.index(labels["persona"])
    for row in rows:
        row[persona_column] = personas.get(row[persona_column], row[persona_column])
    return header, rows


def _filenames(event: Event, extension: str) -> dict[str, str]:
    readable = f"{event.title}-{_('registrations')}.{extension}"
    return {"filename": readable, "ascii_filename": f"event-{event.id}-registrations.{extension}"}


@bp.get("/events/<int:event_id>/registrations.csv")
@login_required
def export_csv(event_id: int):
    event = reading.organized_event(event_id, current_user)
    header, rows = _export_table(event)
    return spreadsheets.csv_download(header, rows, **_filenames(event, "csv"))


@bp.get("/events/<int:event_id>/registrations.xlsx")
@login_required
def export_xlsx(event_id: int):
    event = reading.organized_event(event_id, current_user)
    header, rows = _export_table(event)
    body = spreadsheets.to_xlsx(header, rows, sheet_title=_("Registrations"))
    return spreadsheets.xlsx_download(body, **_filenames(event, "xlsx"))


# ---- template helpers ---------------------------------------------------------------------------------------------

def event_status_label(status: str) -> str:
    return str(EVENT_STATUS_LABELS.get(status, status))


def persona_label(persona: str) -> str:
    return str(_persona_labels().get(persona, persona))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(manage_event_status_label=event_status_label, manage_local_input=local_input)

