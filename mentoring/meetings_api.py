"""JSON API of roadshow investor meetings (thin: mentoring.meetings holds the rules)."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from marshmallow import fields, validate

from app.authz import login_required
from app.db_types import utcnow
from app.extensions import commit_keeping_loaded, db
from app.schemas import Id, Schema
from mentoring import meetings
from mentoring.api import blp


class MeetingPlanSchema(Schema):
    event_id = Id(dump_only=True)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "after the last pitch"})
    ends_at = fields.AwareDateTime(required=True)
    slot_minutes = fields.Integer(load_default=15, validate=validate.OneOf(meetings.SLOT_LENGTHS))
    tables = fields.List(fields.String(), required=True, metadata={"description": "tables or rooms, by name"})
    status = fields.String(dump_only=True, metadata={"description": "open, scheduled, published"})
    total_score = fields.Integer(dump_only=True, allow_none=True)


class PersonSchema(Schema):
    id = Id()
    name = fields.Function(lambda u: u.display_name)
    company = fields.Function(lambda u: u.company or "")


class ProjectSchema(Schema):
    founder_id = Id(attribute="applicant_id")
    project_name = fields.String()
    one_liner = fields.String()
    stage = fields.String()


class ParticipantsSchema(Schema):
    side = fields.String(allow_none=True, metadata={"description": "investor, founder, or null"})
    investors = fields.List(fields.Nested(PersonSchema))
    projects = fields.List(fields.Nested(ProjectSchema))
    my_wishes = fields.List(fields.Integer(), metadata={"description": "user ids I want to meet"})


class MeetingSchema(Schema):
    id = Id()
    event_id = Id()
    investor_id = Id()
    founder_id = Id()
    investor_name = fields.Function(lambda m: m.investor.display_name)
    founder_name = fields.Function(lambda m: m.founder.display_name)
    table = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    mutual = fields.Boolean(metadata={"description": "both wanted this meeting"})


class ScheduleSchema(Schema):
    plan = fields.Nested(MeetingPlanSchema)
    meetings = fields.List(fields.Nested(MeetingSchema))
    unmet = fields.List(fields.List(fields.Integer()), metadata={"description": "[investor, founder] pairs that "
                                                                                "wanted to meet and could not"})


class MeetingAvailabilitySchema(Schema):
    available_from = fields.AwareDateTime(required=True)
    available_until = fields.AwareDateTime(required=True)


@blp.route("/roadshow/<int:event_id>/meeting-plan", methods=["GET"])
@blp.response(200, MeetingPlanSchema)
@blp.alt_response(404, schema="Error", description="meetings_not_set_up")
@login_required
def get_meeting_plan(event_id: int):
    """The 1:1 meetings of a roadshow day: window, slot length, tables, status."""
    return meetings.require_plan(event_id)


@blp.route("/roadshow/<int:event_id>/meeting-plan", methods=["PUT"])
@blp.arguments(MeetingPlanSchema)
@blp.response(200, MeetingPlanSchema)
@blp.alt_response(400, schema="Error", description="invalid_meeting_plan")
@blp.alt_response(409, schema="Error", description="meetings_published")
@login_required
def set_meeting_plan(payload, event_id: int):
    """Set up (or change, before publishing) the meetings of a roadshow day (its organizers)."""
    plan = meetings.set_up_meetings(event_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return plan


@blp.route("/roadshow/<int:event_id>/participants")
@blp.response(200, ParticipantsSchema)
@login_required
def participants(event_id: int):
    """Investors and pitching projects of the day, which side I am on, and whom I marked."""
    meetings.require_plan(event_id)
    return {"side": meetings.side_of(current_user, event_id), "investors": meetings.investors(),
            "projects": meetings.pitching_projects(event_id),
            "my_wishes": sorted(meetings.wishes_of(event_id, current_user.id))}


@blp.route("/roadshow/<int:event_id>/wishes/<int:target_id>", methods=["PUT", "DELETE"])
@blp.response(204)
@blp.alt_response(403, schema="Error", description="not_a_participant")
@blp.alt_response(409, schema="Error", description="meetings_published")
@login_required
def wish(event_id: int, target_id: int):
    """Mark (PUT) or unmark (DELETE) someone of the other side I want to meet."""
    meetings.set_wish(event_id, current_user, target_id=target_id, wanted=request.method == "PUT", now=utcnow())
    db.session.commit()


@blp.route("/roadshow/<int:event_id>/availability", methods=["PUT"])
@blp.arguments(MeetingAvailabilitySchema)
@blp.response(204)
@blp.alt_response(400, schema="Error", description="invalid_availability")
@blp.alt_response(409, schema="Error", description="meetings_published")
@login_required
def meeting_availability(payload, event_id: int):
    """When I can meet on the day (inside the meetings' window). My draft meetings outside it leave the draft."""
    meetings.set_availability(event_id, current_user, **payload)
    db.session.commit()


@blp.route("/roadshow/<int:event_id>/schedule", methods=["GET"])
@blp.response(200, ScheduleSchema)
@login_required
def get_schedule(event_id: int):
    """The (draft or published) schedule and the wishes it could not meet (organizers)."""
    return meetings.summary(event_id, current_user)


@blp.route("/roadshow/<int:event_id>/schedule", methods=["POST"])
@blp.response(200, ScheduleSchema)
@blp.alt_response(409, schema="Error", description="no_wishes, meetings_published")
@login_required
def build_schedule(event_id: int):
    """Build (or rebuild) the schedule from everyone's wishes and availability (organizers)."""
    result = meetings.schedule(event_id, current_user, now=utcnow())
    commit_keeping_loaded()  # answer with the schedule as built: a parallel rebuild may replace it at once
    return result


@blp.route("/roadshow/<int:event_id>/schedule/publish", methods=["POST"])
@blp.response(200, MeetingPlanSchema)
@blp.alt_response(409, schema="Error", description="not_scheduled, meetings_published")
@login_required
def publish_schedule(event_id: int):
    """Publish the schedule: everyone sees their meetings and gets them in their calendar (organizers)."""
    plan = meetings.publish(event_id, current_user, now=utcnow())
    db.session.commit()
    return plan


@blp.route("/roadshow/<int:event_id>/meetings/mine")
@blp.response(200, MeetingSchema(many=True))
@login_required
def my_meetings(event_id: int):
    """My published meetings of this roadshow day (its .ics: /mentoring/roadshow/<id>/meetings.ics, with the same
    bearer token)."""
    return meetings.my_meetings(current_user, event_id=event_id)
