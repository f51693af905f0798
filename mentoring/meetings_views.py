"""Pages of roadshow investor meetings (Chinese first, phone-sized): one page per roadshow day where investors and
pitching founders mark whom they want to meet and when they can, organizers set up, build and publish the schedule,
and everyone sees their own schedule and downloads its .ics. Thin: mentoring.meetings holds the rules."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from events.calendar import Links
from events.calendar_views import ics_response, personal_ics, public_base_url
from events.models import Event
from mentoring import meetings
from mentoring.calendar import schedule_document
from mentoring.office_hours import SHANGHAI
from mentoring.views import bp


def _user():
    return current_user._get_current_object()


def _local(value: str, day) -> datetime | None:
    """'HH:MM' on the roadshow's day (Shanghai) as an aware datetime."""
    try:
        hours, minutes = (int(x) for x in value.split(":"))
        return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=SHANGHAI)
    except (AttributeError, ValueError):
        return None


@bp.get("/roadshow/<int:event_id>/meetings")
@login_required
def roadshow_meetings(event_id: int):
    user = _user()
    event = db.session.get(Event, event_id)
    if event is None or event.kind != "roadshow":
        abort(404)
    plan = meetings.get_plan(event_id)
    organizer = meetings.can_organize(user, event_id)
    side = meetings.side_of(user, event_id)
    context = {"event": event, "plan": plan, "organizer": organizer, "side": side,
               "day": event.starts_at.astimezone(SHANGHAI).date(), "mine": [], "projects": {}, "draft": None,
               "investors": [], "pitching": [], "wishes": set(), "availability": None,
               "after_pitches": meetings.last_pitch_end(event_id) or event.starts_at}
    if plan is not None:
        context.update(mine=meetings.my_meetings(user, event_id=event_id), projects=meetings.project_names(event_id),
                       investors=meetings.investors(), pitching=meetings.pitching_projects(event_id),
                       wishes=meetings.wishes_of(event_id, user.id),
                       availability=meetings.availability_of(event_id, user.id),
                       slots=meetings.slot_starts(plan))
        if organizer:
            context["draft"] = meetings.summary(event_id, user)
    return render_template("mentoring/meetings.html", **context)


def _act(event_id: int, action, success: str):
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        if error.status in (401, 404):
            raise
        details = " ".join(str(v) for v in (error.details.get("fields") or {}).values())
        flash(f"{error.message} {details}".strip(), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".roadshow_meetings", event_id=event_id))


@bp.post("/roadshow/<int:event_id>/meetings/plan")
@login_required
def meeting_plan(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    day = event.starts_at.astimezone(SHANGHAI).date()
    form = request.form
    tables = [t for t in form.get("tables", "").replace("，", ",").split(",")]
    try:
        slot_minutes = int(form.get("slot_minutes", "15"))
    except ValueError:
        slot_minutes = 0

    def action():
        start, end = _local(form.get("start", ""), day), _local(form.get("end", ""), day)
        if start is None or end is None:
            raise DomainError("invalid_meeting_plan", _("Give a start and a later end."))
        meetings.set_up_meetings(event_id, _user(), starts_at=start, ends_at=end, slot_minutes=slot_minutes,
                                 tables=tables, now=utcnow())

    return _act(event_id, action, _("Saved. Investors and teams can now mark whom they want to meet."))


@bp.post("/roadshow/<int:event_id>/meetings/wish/<int:target_id>")
@login_required
def meeting_wish(event_id: int, target_id: int):
    wanted = request.form.get("wanted") == "1"
    return _act(event_id, lambda: meetings.set_wish(event_id, _user(), target_id=target_id, wanted=wanted,
                                                    now=utcnow()),
                _("Marked.") if wanted else _("Unmarked."))


@bp.post("/roadshow/<int:event_id>/meetings/availability")
@login_required
def meeting_availability(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    day = event.starts_at.astimezone(SHANGHAI).date()

    def action():
        start, end = _local(request.form.get("from", ""), day), _local(request.form.get("until", ""), day)
        if start is None or end is None:
            raise DomainError("invalid_availability", _("Choose a range inside the meetings' window."))
        meetings.set_availability(event_id, _user(), available_from=start, available_until=end)

    return _act(event_id, action, _("Saved."))


@bp.post("/roadshow/<int:event_id>/meetings/schedule")
@login_required
def meeting_schedule(event_id: int):
    return _act(event_id, lambda: meetings.schedule(event_id, _user(), now=utcnow()),
                _("The schedule is built. Review it below, then publish it."))


@bp.post("/roadshow/<int:event_id>/meetings/publish")
@login_required
def meeting_publish(event_id: int):
    return _act(event_id, lambda: meetings.publish(event_id, _user(), now=utcnow()),
                _("Published: everyone can see their meetings."))


@bp.get("/roadshow/<int:event_id>/meetings.ics")
@personal_ics  # a bearer token as for the API, or the page's cookie; else 401, never a redirect
def meetings_ics(user, event_id: int):
    body = schedule_document(user, event_id, now=utcnow(), links=Links(public_base_url()))
    return ics_response(body, filename=_("My roadshow meetings") + ".ics", disposition="attachment",
                        cache_control="private, no-cache", ascii_filename="roadshow-meetings.ics")
