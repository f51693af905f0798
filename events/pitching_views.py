"""Pages of roadshow days: a founder applies to pitch (and follows the application); organizers review the
applications in bulk and build the line-up; the event page shows the published line-up (events/pitching/_detail.html).

Plain server-rendered forms with CSRF; every rule lives in events/pitching.py. A form with a mistake comes back
with the message next to the field and everything typed still there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import format_time, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inputs import ids_from, parse_id
from events import pitching
from events.models import Event, PitchApplication, PitchSlot
from events.services import events as event_changes
from events.services import reading

bp = Blueprint("events_pitching_views", __name__, template_folder="templates")

TEXT_FIELDS = ("project_name", "one_liner", "funding_ask", "deck_url")
DEFAULT_SLOT_MINUTES = 10
DEFAULT_GAP_MINUTES = 2


# ---- the event page's partial -------------------------------------------------------------------------------------

@dataclass
class PitchPanel:
    """What events/pitching/_detail.html shows on a roadshow day's page."""

    lineup: list[PitchSlot]
    applications_open: bool
    my_application: PitchApplication | None = None
    my_slot: PitchSlot | None = None
    organizer: bool = False
    counts: dict = field(default_factory=dict)
    slots_capacity: int | None = None


def pitch_panel(event: Event) -> PitchPanel | None:
    if event is None or event.kind != "roadshow":
        return None
    panel = PitchPanel(lineup=pitching.published_lineup(event.id),
                       applications_open=pitching.applications_open(event, now=utcnow()),
                       slots_capacity=event.pitch_slots_capacity)
    if current_user.is_authenticated:
        panel.my_application = pitching.application_of(event.id, current_user.id)
        if panel.my_application is not None:
            slot = pitching.slot_of(panel.my_application.id)
            panel.my_slot = slot if slot is not None and slot.published else None
        panel.organizer = pitching.is_event_organizer(current_user, event.id)
        if panel.organizer:
            panel.counts = pitching.application_counts(event.id)
    return panel


def pitch_slot_time(slot: PitchSlot) -> str:
    return f"{format_time(slot.starts_at, 'HH:mm')}–{format_time(slot.ends_at, 'HH:mm')}"


# ---- founders: apply, edit, follow, withdraw -------------------------------------------------------------------------

def _blank_member() -> dict:
    return {"name": "", "role": ""}


def _values_from(application: PitchApplication | None, user) -> dict:
    if application is not None:
        values = {name: getattr(application, name) or "" for name in TEXT_FIELDS}
        values["stage"] = application.stage
        values["team"] = [dict(m) for m in application.team or []] or [_blank_member()]
        return values
    # A first application starts from the profile the founder filled in once.
    values = dict.fromkeys(TEXT_FIELDS, "")
    values.update(project_name=user.company or "", stage="")
    values["team"] = [{"name": user.name or "", "role": user.title or ""}, _blank_member()]
    return values


def _values_from_form(form) -> dict:
    values = {name: form.get(name, "") for name in TEXT_FIELDS}
    values["stage"] = form.get("stage", "")
    rows = []
    for index in range(pitching.MAX_TEAM + 1):
        name, role = form.get(f"team-{index}-name"), form.get(f"team-{index}-role")
        if name is None and role is None:
            continue
        rows.append({"name": name or "", "role": role or ""})
    values["team"] = rows or [_blank_member()]
    return values


def _payload(values: dict) -> dict:
    data = {name: values[name] for name in TEXT_FIELDS}
    data["stage"] = values["stage"] or None
    data["team"] = [m for m in values["team"] if m["name"].strip() or m["role"].strip()]
    return data


def _closed_reason(event: Event) -> str | None:
    try:
        pitching.check_applications_open(event, now=utcnow())
    except DomainError as error:
        return str(error.message)
    return None


@bp.route("/events/<int:event_id>/pitch/apply", methods=["GET", "POST"])
@login_required
def apply(event_id: int):
    event = reading.get_event(event_id)
    user = current_user._get_current_object()
    if not user.profile_complete:
        flash(_("Please complete your profile first."), "info")
        return redirect(url_for("accounts.profile", next=request.path))
    application = pitching.application_of(event.id, user.id)
    if application is not None and application.status in ("accepted", "declined"):
        return redirect(url_for(".mine", event_id=event.id))
    editing = application is not None and application.status == "submitted"
    values, errors, form_error = _values_from(application, user), {}, None
    closed = _closed_reason(event)

    if request.method == "POST":
        values = _values_from_form(request.form)
        if "add_member" in request.form:  # one more row; nothing is saved yet, nothing typed is lost
            if len(values["team"]) < pitching.MAX_TEAM:
                values["team"].append(_blank_member())
        else:
            try:
                if editing:
                    pitching.update_application(application.id, user, now=utcnow(), **_payload(values))
                else:
                    application, created = pitching.submit_application(event.id, user, now=utcnow(),
                                                                       **_payload(values))
            except DomainError as error:
                db.session.rollback()
                errors = error.details.get("fields") or {}
                form_error = str(error.message)
            else:
                db.session.commit()
                flash(_("Your application is updated.") if editing else
                      _("Your application is in. The organizers will review it and tell you."), "success")
                return redirect(url_for(".mine", event_id=event.id))
    elif closed and application is not None:
        return redirect(url_for(".mine", event_id=event.id))

    return render_template("events/pitching/apply.html", event=event, values=values, errors=errors,
                           form_error=form_error, editing=editing, closed=closed, application=application,
                           stages=[(key, pitching.stage_label(key)) for key in pitching.STAGES],
                           max_team=pitching.MAX_TEAM, limits=pitching.LIMITS)


@bp.get("/events/<int:event_id>/pitch/mine")
@login_required
def mine(event_id: int):
    event = reading.get_event(event_id)
    application = pitching.application_of(event.id, current_user.id)
    if application is None:
        return redirect(url_for(".apply", event_id=event.id))
    slot = pitching.slot_of(application.id)
    now = utcnow()
    return render_template(
        "events/pitching/mine.html", event=event, application=application,
        slot=slot if slot is not None and slot.published else None,
        can_edit=application.status == "submitted" and pitching.applications_open(event, now=now),
        can_reapply=application.status == "withdrawn" and pitching.applications_open(event, now=now),
        can_withdraw=application.status in ("submitted", "accepted") and event.starts_at > now)


@bp.post("/events/<int:event_id>/pitch/withdraw")
@login_required
def withdraw(event_id: int):
    event = reading.get_event(event_id)
    application = pitching.application_of(event.id, current_user.id)
    if application is None:
        return redirect(url_for(".apply", event_id=event.id))
    try:
        pitching.withdraw_application(application.id, current_user, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Your application is withdrawn."), "success")
    return redirect(url_for(".mine", event_id=event.id))


# ---- organizers: review -----------------------------------------------------------------------------------------

@bp.route("/events/<int:event_id>/pitch/review", methods=["GET", "POST"])
@login_required
def review(event_id: int):
    event = reading.organized_event(event_id, current_user)
    status = request.args.get("status")
    status = status if status in pitching.APPLICATION_STATUSES else None
    selected, note, form_error, note_error = set(), "", None, None
    if request.method == "POST":
        selected = set(ids_from(request.form.getlist("application_ids")))
        note = request.form.get("note", "")
        decision = request.form.get("decision", "")
        try:
            decided = pitching.decide_applications(event.id, sorted(selected), current_user, decision=decision,
                                                   note=note, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            form_error = str(error.message)
            note_error = (error.details.get("fields") or {}).get("note")
        else:
            db.session.commit()
            flash(_("Accepted: %(n)d.", n=len(decided)) if decision == "accept" else
                  _("Declined: %(n)d.", n=len(decided)), "success")
            return redirect(url_for(".review", event_id=event.id, status=status))
    applications = pitching.list_applications(event.id, current_user, status=status)
    slots = {s.application_id: s for s in pitching.lineup(event.id)}
    return render_template("events/pitching/review.html", event=event, applications=applications, status=status,
                           counts=pitching.application_counts(event.id), slots=slots, selected=selected, note=note,
                           form_error=form_error, note_error=note_error,
                           statuses=[(key, pitching.status_label(key)) for key in pitching.APPLICATION_STATUSES])


@bp.post("/events/<int:event_id>/pitch/applications-open")
@login_required
def toggle_applications(event_id: int):
    event = reading.organized_event(event_id, current_user)
    open_now = request.form.get("open") == "1"
    try:
        event_changes.update_event(event.id, current_user, now=utcnow(), pitch_applications_open=open_now)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Pitch applications are open.") if open_now else _("Pitch applications are closed."), "success")
    return redirect(url_for(".review", event_id=event.id))


# ---- organizers: the line-up --------------------------------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(str(get_timezone()))  # flask-babel hands out pytz zones; replace(tzinfo=pytz) would be LMT


def _local_input(value: datetime) -> str:
    return value.astimezone(_zone()).strftime("%Y-%m-%dT%H:%M")


def _from_local_input(text: str) -> datetime | None:
    try:
        local = datetime.strptime((text or "").strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return local.replace(tzinfo=_zone())


def _lineup_defaults(event: Event, slots: list[PitchSlot], accepted: list[PitchApplication]) -> dict:
    start = slots[0].starts_at if slots else event.starts_at
    if start.second or start.microsecond:  # the form has whole minutes: round up, never before the event starts
        start = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    slot_minutes = int((slots[0].ends_at - slots[0].starts_at).total_seconds() // 60) if slots \
        else DEFAULT_SLOT_MINUTES
    gap = int((slots[1].starts_at - slots[0].ends_at).total_seconds() // 60) if len(slots) > 1 \
        else DEFAULT_GAP_MINUTES
    in_lineup = [s.application_id for s in slots]
    rest = [a.id for a in accepted if a.id not in in_lineup]
    return {"starts_at": _local_input(start), "slot_minutes": str(slot_minutes), "gap_minutes": str(max(0, gap)),
            "order": in_lineup + rest, "included": set(in_lineup) if slots else {a.id for a in accepted}}


def _render_lineup(event: Event, values: dict | None = None, errors: dict | None = None,
                   form_error: str | None = None):
    slots = pitching.lineup(event.id)
    accepted = pitching.list_applications(event.id, current_user, status="accepted")
    values = values or _lineup_defaults(event, slots, accepted)
    by_id = {a.id: a for a in accepted}
    order = [by_id[i] for i in values["order"] if i in by_id]
    order += [a for a in accepted if a.id not in values["order"]]
    return render_template("events/pitching/lineup.html", event=event, slots=slots, accepted=accepted, order=order,
                           values=values, errors=errors or {}, form_error=form_error,
                           published=any(s.published for s in slots),
                           misplaced={s.id for s in pitching.lineup_problems(event, slots)},
                           counts=pitching.application_counts(event.id))


@bp.get("/events/<int:event_id>/pitch/lineup")
@login_required
def lineup(event_id: int):
    return _render_lineup(reading.organized_event(event_id, current_user))


@bp.post("/events/<int:event_id>/pitch/lineup")
@login_required
def arrange(event_id: int):
    event = reading.organized_event(event_id, current_user)
    order = ids_from(request.form.getlist("order"))
    included = set(ids_from(request.form.getlist("include")))
    values = {"starts_at": request.form.get("starts_at", ""), "slot_minutes": request.form.get("slot_minutes", ""),
              "gap_minutes": request.form.get("gap_minutes", ""), "order": order, "included": included}
    errors = {}
    starts_at = _from_local_input(values["starts_at"])
    if starts_at is None:
        errors["starts_at"] = _("Please give a date and time.")
    numbers = {}
    for name in ("slot_minutes", "gap_minutes"):
        text = values[name].strip()
        if not text.isdigit():
            errors[name] = _("Please enter a whole number of minutes.")
        else:
            numbers[name] = int(text)
    application_ids = [i for i in order if i in included]
    if not errors:
        try:
            pitching.set_lineup(event.id, current_user, now=utcnow(), application_ids=application_ids,
                                starts_at=starts_at, **numbers)
        except DomainError as error:
            db.session.rollback()
            fields = error.details.get("fields") or {}
            for key, message in fields.items():
                if key.startswith("slots."):
                    index = int(key.split(".")[1])
                    errors[application_ids[index] if index < len(application_ids) else key] = message
                else:
                    errors[key] = message
            if not errors:
                errors["form"] = str(error.message)
        else:
            db.session.commit()
            flash(_("The line-up is saved."), "success")
            return redirect(url_for(".lineup", event_id=event.id))
    return _render_lineup(event, values, errors, form_error=_("Please correct the line-up."))


@bp.post("/events/<int:event_id>/pitch/lineup/<action>")
@login_required
def lineup_action(event_id: int, action: str):
    event = reading.organized_event(event_id, current_user)
    application_id = request.form.get("application_id", type=parse_id) or 0
    now = utcnow()
    actions = {
        "up": lambda: pitching.move_in_lineup(event.id, application_id, -1, current_user, now=now),
        "down": lambda: pitching.move_in_lineup(event.id, application_id, 1, current_user, now=now),
        "remove": lambda: pitching.remove_from_lineup(event.id, application_id, current_user, now=now),
        "publish": lambda: pitching.publish_lineup(event.id, current_user, now=now),
        "unpublish": lambda: pitching.unpublish_lineup(event.id, current_user, now=now),
    }
    if action not in actions:
        raise DomainError("not_found", _l("This page or item does not exist."), status=404)
    try:
        actions[action]()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        if action == "publish":
            flash(_("The line-up is published on the event page."), "success")
        elif action == "unpublish":
            flash(_("The line-up is hidden from the event page."), "success")
    return redirect(url_for(".lineup", event_id=event.id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(pitch_panel=pitch_panel, pitch_slot_time=pitch_slot_time,
                                 pitch_stage_label=pitching.stage_label, pitch_status_label=pitching.status_label)
