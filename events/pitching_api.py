"""JSON API of roadshow days: pitch applications, their review, and the line-up (events/pitching.py has the rules)."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.extensions import db
from app.schemas import Id, Schema
from events import pitching
from events.services import reading

blp = api_blueprint("pitching_api", __name__, "",
                    "Roadshow days: founders apply to pitch, organizers decide and publish the line-up.")


# ---- schemas -------------------------------------------------------------------------------------------------------

class PitchTeamMemberSchema(Schema):
    name = fields.String(required=True, metadata={"description": f"at most {pitching.MEMBER_NAME_MAX} characters"})
    role = fields.String(load_default="", metadata={"description": f"at most {pitching.MEMBER_ROLE_MAX} characters"})


class PitchApplicantSchema(Schema):
    id = Id()
    name = fields.String()
    company = fields.String()
    title = fields.String()


class PitchSlotSchema(Schema):
    position = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    published = fields.Boolean()


class PitchApplicationSchema(Schema):
    id = Id()
    event_id = Id()
    applicant = fields.Nested(PitchApplicantSchema, metadata={"description": "no phone number"})
    project_name = fields.String()
    one_liner = fields.String()
    stage = fields.String(metadata={"enum": list(pitching.STAGES)})
    stage_label = fields.Method("get_stage_label")
    funding_ask = fields.String()
    deck_url = fields.String()
    team = fields.List(fields.Nested(PitchTeamMemberSchema))
    status = fields.String(metadata={"enum": list(pitching.APPLICATION_STATUSES)})
    status_label = fields.Method("get_status_label")
    review_note = fields.String(metadata={"description": "the organizers' note to the founder"})
    slot = fields.Method("get_slot", allow_none=True, metadata={
        "description": "the team's pitch slot: for the founder once the line-up is published; organizers always"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def get_stage_label(self, application):
        return pitching.stage_label(application.stage)

    def get_status_label(self, application):
        return pitching.status_label(application.status)

    def get_slot(self, application):
        slot = pitching.slot_of(application.id)
        if slot is None or not (slot.published or pitching.is_event_organizer(current_user, application.event_id)):
            return None
        return PitchSlotSchema().dump(slot)


class PitchApplicationRequestSchema(Schema):
    """Checked by the service, which names each bad field in the error (invalid_pitch_application)."""

    project_name = fields.String(metadata={"description": "required; at most 120 characters"})
    one_liner = fields.String(metadata={"description": "required; the one-line pitch, at most 200 characters"})
    stage = fields.String(metadata={"description": "required", "enum": list(pitching.STAGES)})
    funding_ask = fields.String(metadata={"description": "e.g. 天使轮 500 万元; at most 80 characters"})
    deck_url = fields.String(metadata={"description": "an http(s) link, at most 500 characters"})
    team = fields.List(fields.Nested(PitchTeamMemberSchema), metadata={"description": "at most 10 members"})


class MyPitchApplicationSchema(PitchApplicationSchema):
    event_title = fields.Method("get_event_title")
    event_starts_at = fields.Method("get_event_starts_at")

    def get_event_title(self, application):
        return application.event.title

    def get_event_starts_at(self, application):
        return application.event.starts_at.isoformat()


class PitchApplicationQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(pitching.APPLICATION_STATUSES))


class PitchDecisionSchema(Schema):
    application_ids = fields.List(Id(), required=True,
                                  validate=validate.Length(min=1, max=pitching.MAX_BATCH))
    decision = fields.String(required=True, validate=validate.OneOf(list(pitching.DECISIONS)))
    note = fields.String(load_default="", metadata={"description": "shown to the founders; at most 500 characters"})


class LineupSlotSchema(Schema):
    position = fields.Integer()
    application_id = Id()
    project_name = fields.Function(lambda slot: slot.application.project_name)
    one_liner = fields.Function(lambda slot: slot.application.one_liner)
    stage = fields.Function(lambda slot: slot.application.stage)
    stage_label = fields.Function(lambda slot: pitching.stage_label(slot.application.stage))
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()


class LineupSchema(Schema):
    event_id = Id()
    published = fields.Boolean()
    slots = fields.List(fields.Nested(LineupSlotSchema))


class LineupSlotRequestSchema(Schema):
    application_id = Id(required=True)
    starts_at = fields.DateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    ends_at = fields.DateTime(required=True)


class LineupRequestSchema(Schema):
    """Either `slots` (the ordered list; a bare JSON list is accepted too) or `application_ids` in order with
    `starts_at`, `slot_minutes` and `gap_minutes`. An empty list clears the line-up."""

    slots = fields.List(fields.Nested(LineupSlotRequestSchema), validate=validate.Length(max=200))
    application_ids = fields.List(Id(), validate=validate.Length(max=200))
    starts_at = fields.DateTime(metadata={"description": "the first pitch, ISO 8601 with offset"})
    slot_minutes = fields.Integer()
    gap_minutes = fields.Integer(load_default=0)

    @pre_load
    def bare_list(self, data, **kwargs):
        return {"slots": data} if isinstance(data, list) else data

    @validates_schema
    def one_form(self, data, **kwargs):
        if ("slots" in data) == ("application_ids" in data):
            raise ValidationError([_l("Give either slots or application_ids.")], "slots")
        if "application_ids" in data:
            missing = {k: ["Missing data for required field."] for k in ("starts_at", "slot_minutes")
                       if k not in data}
            if missing:
                raise ValidationError(missing)


def _lineup_body(event_id: int, slots, published: bool) -> dict:
    return {"event_id": event_id, "published": published, "slots": slots}


# ---- founders ----------------------------------------------------------------------------------------------------

@blp.route("/events/<int:event_id>/pitch-applications")
class EventPitchApplications(MethodView):
    decorators = [login_required]

    @blp.arguments(PitchApplicationRequestSchema)
    @blp.response(201, PitchApplicationSchema)
    @blp.alt_response(200, schema=PitchApplicationSchema, description="already applied: the same application")
    @blp.alt_response(400, schema="Error", description="invalid_pitch_application (details.fields names each)")
    @blp.alt_response(409, schema="Error", description="not_a_roadshow, applications_closed, event_past, "
                                                       "event_cancelled, application_declined, profile_incomplete")
    def post(self, payload, event_id: int):
        """Apply to pitch at a roadshow day (one application per founder; a retry returns the same one)."""
        application, created = pitching.submit_application(event_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return application, 201 if created else 200

    @blp.arguments(PitchApplicationQuerySchema, location="query")
    @blp.response(200, PitchApplicationSchema(many=True))
    @blp.alt_response(403, schema="Error", description="forbidden (the event's organizers only)")
    def get(self, query, event_id: int):
        """The event's applications, oldest first, optionally of one status (its organizers)."""
        return pitching.list_applications(event_id, current_user, status=query.get("status"))


@blp.route("/me/pitch-applications")
@blp.response(200, MyPitchApplicationSchema(many=True))
@login_required
def my_applications():
    """My pitch applications, newest first."""
    return pitching.applications_of_user(current_user.id)


@blp.route("/pitch-applications/<int:application_id>")
class PitchApplicationItem(MethodView):
    decorators = [login_required]

    @blp.response(200, PitchApplicationSchema)
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    def get(self, application_id: int):
        """An application (its founder, or the event's organizers)."""
        application = pitching.get_application(application_id)
        pitching.authorize_view(current_user, application)
        return application

    @blp.arguments(PitchApplicationRequestSchema)
    @blp.response(200, PitchApplicationSchema)
    @blp.alt_response(409, schema="Error", description="application_not_editable, applications_closed")
    def patch(self, payload, application_id: int):
        """Change it (its founder, while under review and applications are open)."""
        application = pitching.update_application(application_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return application

    @blp.response(200, PitchApplicationSchema)
    def delete(self, application_id: int):
        """Withdraw it (its founder); its slot leaves the line-up. Twice is harmless."""
        application = pitching.withdraw_application(application_id, current_user, now=utcnow())
        db.session.commit()
        return application


# ---- organizers ----------------------------------------------------------------------------------------------------

@blp.route("/events/<int:event_id>/pitch-applications/decisions", methods=["POST"])
@blp.arguments(PitchDecisionSchema)
@blp.response(200, PitchApplicationSchema(many=True))
@blp.alt_response(409, schema="Error", description="pitch_slots_full (details.slots_left), application_withdrawn")
@login_required
def decide(payload, event_id: int):
    """Accept or decline many applications at once, with a note the founders see (all or nothing)."""
    applications = pitching.decide_applications(event_id, payload["application_ids"], current_user,
                                                decision=payload["decision"], note=payload["note"], now=utcnow())
    db.session.commit()
    return applications


@blp.route("/events/<int:event_id>/lineup")
class Lineup(MethodView):
    @blp.response(200, LineupSchema)
    @blp.alt_response(404, schema="Error")
    def get(self, event_id: int):
        """The line-up: everyone sees it once published (project, one-liner, times); organizers always."""
        event = reading.get_event(event_id, include_drafts=True)
        if event.status == "draft":
            reading.authorize_organizer(current_user, event)
        if pitching.is_event_organizer(current_user, event.id):
            slots = pitching.lineup(event.id)
            return _lineup_body(event.id, slots, any(s.published for s in slots))
        slots = pitching.published_lineup(event.id)
        return _lineup_body(event.id, slots, bool(slots))

    @blp.arguments(LineupRequestSchema)
    @blp.response(200, LineupSchema)
    @blp.alt_response(400, schema="Error", description="invalid_lineup (details.fields: slots.<index>, starts_at…)")
    @blp.alt_response(409, schema="Error", description="meeting_clash: a founder would pitch during one of their "
                                                      "published investor meetings (details: founder_id, "
                                                      "investor_id, meeting_id, pitch, meeting)")
    @login_required
    def put(self, payload, event_id: int):
        """Replace the line-up (organizers). A published line-up stays published; moved teams are told."""
        if "slots" in payload:
            plans = [pitching.SlotPlan(s["application_id"], s["starts_at"], s["ends_at"]) for s in payload["slots"]]
            slots = pitching.set_lineup(event_id, current_user, now=utcnow(), slots=plans)
        else:
            slots = pitching.set_lineup(event_id, current_user, now=utcnow(),
                                        application_ids=payload["application_ids"],
                                        starts_at=payload["starts_at"], slot_minutes=payload["slot_minutes"],
                                        gap_minutes=payload["gap_minutes"])
        db.session.commit()
        return _lineup_body(event_id, slots, any(s.published for s in slots))


@blp.route("/events/<int:event_id>/lineup/publish", methods=["POST"])
@blp.response(200, LineupSchema)
@blp.alt_response(409, schema="Error", description="lineup_empty")
@login_required
def publish_lineup(event_id: int):
    """Publish the line-up on the event page; each team is told its time."""
    slots = pitching.publish_lineup(event_id, current_user, now=utcnow())
    db.session.commit()
    return _lineup_body(event_id, slots, True)


@blp.route("/events/<int:event_id>/lineup/unpublish", methods=["POST"])
@blp.response(200, LineupSchema)
@login_required
def unpublish_lineup(event_id: int):
    """Hide the line-up again."""
    slots = pitching.unpublish_lineup(event_id, current_user, now=utcnow())
    db.session.commit()
    return _lineup_body(event_id, slots, False)
