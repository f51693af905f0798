"""JSON API of events and registrations (the contract mobile clients use)."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_login import current_user
from marshmallow import fields, validate

from app.accounts.auth import checks_bearer_token, decided_with_bearer
from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.extensions import db
from app.page_cache import cached_for_anonymous, same_for_token_holders
from app.schemas import Id, Schema
from events import signup_batches as sign_ups
from events.exports import registrations_for_event, registrations_of_user
from events.models import EVENT_KINDS, WAITLIST_MODES
from events.presentation import page_changes_with_time
from events.services import events as event_changes
from events.services import lotteries, reading, waitlist

blp = api_blueprint("events_api", __name__, "", "Events, sign-up, the waitlist and approvals.")


class QuestionSchema(Schema):
    id = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(event_changes.QUESTION_KINDS))
    required = fields.Boolean(load_default=False)
    choices = fields.List(fields.String())


class EventSchema(Schema):
    id = Id(dump_only=True)
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    status = fields.String(dump_only=True)
    title = fields.String()
    title_en = fields.String()
    summary = fields.String()
    description = fields.String()
    venue = fields.String()
    starts_at = fields.DateTime(metadata={"description": "ISO 8601 with offset, e.g. 2026-12-03T19:00:00+08:00"})
    ends_at = fields.DateTime()
    capacity = fields.Integer(allow_none=True)
    approval_required = fields.Boolean(attribute="requires_approval")
    registration_opens_at = fields.DateTime(allow_none=True)
    registration_closes_at = fields.DateTime(allow_none=True)
    waitlist_mode = fields.String(validate=validate.OneOf(WAITLIST_MODES))
    offer_hours = fields.Integer()
    lottery_draw_at = fields.DateTime(allow_none=True)
    lottery_seed_hash = fields.String(dump_only=True, allow_none=True,
                                      metadata={"description": "SHA-256 of the seed, published before the draw"})
    lottery_seed = fields.String(dump_only=True, allow_none=True, metadata={"description": "revealed at the draw"})
    questions = fields.List(fields.Nested(QuestionSchema))
    pitch_slots_capacity = fields.Integer(allow_none=True)
    pitch_applications_open = fields.Boolean()
    seats_taken = fields.Integer(dump_only=True)
    seats_left = fields.Integer(dump_only=True, allow_none=True)
    sequence = fields.Integer(dump_only=True)
    cancelled_reason = fields.String(dump_only=True)


class EventCreateSchema(EventSchema):
    status = fields.String(load_default="draft", validate=validate.OneOf(["draft", "published"]))
    kind = fields.String(required=True, validate=validate.OneOf(EVENT_KINDS))
    title = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)


class EventUpdateSchema(EventSchema):
    """Any subset of the event's fields."""


class EventQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    week = fields.Boolean(load_default=False, metadata={"description": "only the next 7 days"})
    mine = fields.Boolean(load_default=False, metadata={"description": "only events I signed up for"})


class RegistrationSchema(Schema):
    id = Id()
    event_id = Id()
    user_id = Id()
    status = fields.String(metadata={"description": "confirmed, waitlisted, pending, offered, entered, "
                                                    "cancelled, rejected, expired"})
    waitlist_position = fields.Method("get_position", allow_none=True)
    offer_expires_at = fields.DateTime(allow_none=True)
    lottery_rank = fields.Integer(allow_none=True)
    answers = fields.Dict()
    created_at = fields.DateTime()

    def get_position(self, registration):
        return reading.waitlist_position(registration)


class RegistrationRequestSchema(Schema):
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)


class CancelSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=300))


class DecisionSchema(Schema):
    registration_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=500))
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))


def _create_fields(payload: dict) -> dict:
    if "requires_approval" in payload:
        payload["requires_approval"] = bool(payload["requires_approval"])
    return payload


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventQuerySchema, location="query")
    @blp.response(200, EventSchema(many=True))
    def get(self, query):
        """Upcoming published events, soonest first."""
        now = utcnow()
        user_id = current_user.id if query["mine"] and current_user.is_authenticated else None
        if query["mine"] and user_id is None:
            return []
        return reading.upcoming_events(now=now, kind=query.get("kind"), user_id=user_id,
                                        until=now + timedelta(days=7) if query["week"] else None)

    @blp.arguments(EventCreateSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(400, schema="Error", description="invalid_event")
    @blp.alt_response(403, schema="Error", description="forbidden (organizers only)")
    @login_required
    def post(self, payload):
        """Create an event (organizers)."""
        status = payload.pop("status")
        event = event_changes.create_event(current_user, now=utcnow(), status=status, **_create_fields(payload))
        db.session.commit()
        return event


@blp.route("/events/<int:event_id>")
class EventItem(MethodView):
    @blp.response(200, EventSchema)
    @blp.alt_response(404, schema="Error")
    @cached_for_anonymous
    @same_for_token_holders  # no field of an event depends on who reads it
    def get(self, event_id: int):
        """One event."""
        event = reading.get_event(event_id, include_drafts=True)
        if event.status == "draft":
            reading.authorize_organizer(current_user, event)
            return event, 200, {"Cache-Control": "private"}  # its organizers' alone: never kept (app.page_cache)
        page_changes_with_time([event])
        return event

    @blp.arguments(EventUpdateSchema(partial=True))
    @blp.response(200, EventSchema)
    @blp.alt_response(400, schema="Error", description="invalid_event")
    @login_required
    def patch(self, payload, event_id: int):
        """Change an event (its organizers). Moving time or place tells everyone signed up."""
        event = event_changes.update_event(event_id, current_user, now=utcnow(), **_create_fields(payload))
        db.session.commit()
        return event


@blp.route("/events/<int:event_id>/publish", methods=["POST"])
@blp.response(200, EventSchema)
@login_required
def publish_event(event_id: int):
    """Publish a draft."""
    event = event_changes.publish_event(event_id, current_user, now=utcnow())
    db.session.commit()
    return event


@blp.route("/events/<int:event_id>/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, EventSchema)
@login_required
def cancel_event(payload, event_id: int):
    """Cancel an event; everyone signed up is told."""
    event = event_changes.cancel_event(event_id, current_user, reason=payload["reason"], now=utcnow())
    db.session.commit()
    return event


@blp.route("/events/<int:event_id>/lottery/draw", methods=["POST"])
@blp.response(200, EventSchema)
@login_required
def draw_lottery(event_id: int):
    """Draw the lottery now (organizers); it also runs by itself at lottery_draw_at."""
    reading.organized_event(event_id, current_user)
    event = lotteries.draw_lottery(event_id, now=utcnow())
    db.session.commit()
    return event


@blp.route("/events/<int:event_id>/registrations")
class EventRegistrations(MethodView):
    @blp.arguments(RegistrationRequestSchema)
    @blp.response(201, RegistrationSchema)
    @blp.alt_response(200, schema=RegistrationSchema, description="already signed up: the same registration")
    @blp.alt_response(409, schema="Error", description="event_cancelled, event_past, registration_closed, "
                                                       "registration_not_open, profile_incomplete")
    @checks_bearer_token
    def post(self, payload, event_id: int):
        """Sign up in one tap: confirmed, waitlisted (with position), pending approval, or entered in a lottery."""
        new = decided_with_bearer(  # an app: its token is checked with the sign-up, in a batch
            lambda bearer: sign_ups.sign_up_with_bearer(event_id, bearer, now=utcnow(), answers=payload["answers"]))
        if new is not None:
            return new, 201
        registration, created = sign_ups.sign_up(event_id, current_user, now=utcnow(), answers=payload["answers"])
        return registration, 201 if created else 200

    @blp.response(200, RegistrationSchema(many=True))
    @login_required
    def get(self, event_id: int):
        """Everyone signed up (the event's organizers)."""
        event = reading.get_event(event_id, include_drafts=True)
        reading.authorize_organizer(current_user, event)
        return registrations_for_event(event.id)


@blp.route("/events/<int:event_id>/registrations/decisions", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, RegistrationSchema(many=True))
@login_required
def decide(payload, event_id: int):
    """Approve or reject many sign-ups at once (organizers), in arrival order."""
    registrations = waitlist.decide_registrations(event_id, payload["registration_ids"], current_user,
                                                  approve=payload["decision"] == "approve", now=utcnow())
    db.session.commit()
    return registrations


@blp.route("/registrations/<int:registration_id>")
class RegistrationItem(MethodView):
    decorators = [login_required]

    @blp.response(200, RegistrationSchema)
    @blp.alt_response(404, schema="Error")
    def get(self, registration_id: int):
        """A registration (its person, or the event's organizers)."""
        registration = reading.get_registration(registration_id)
        if registration.user_id != current_user.id:
            reading.authorize_organizer(current_user, registration.event)
        return registration

    @blp.response(200, RegistrationSchema)
    def delete(self, registration_id: int):
        """Cancel (or leave the waitlist). The freed seat moves to the next in line."""
        registration = waitlist.cancel_registration(registration_id, current_user, now=utcnow())
        db.session.commit()
        return registration


@blp.route("/registrations/<int:registration_id>/accept-offer", methods=["POST"])
@blp.response(200, RegistrationSchema)
@blp.alt_response(409, schema="Error", description="`offer_expired`: the seat was held for you and the offer "
                  "lapsed; `no_offer`: no seat is held for you (still on the waitlist, pending, cancelled)")
@login_required
def accept_offer(registration_id: int):
    """Take the seat offered from the waitlist, before the offer expires. Idempotent: once the seat is yours,
    accepting again answers 200 with the confirmed registration."""
    registration = waitlist.accept_offer(registration_id, current_user, now=utcnow())
    db.session.commit()
    return registration


@blp.route("/me/registrations")
@blp.response(200, RegistrationSchema(many=True))
@login_required
def my_registrations():
    """My sign-ups, newest first."""
    return registrations_of_user(current_user.id)
