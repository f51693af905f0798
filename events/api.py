"""JSON API of events."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api import api_blueprint
from app.db_types import utcnow
from events import services
from events.models import EVENT_KINDS

blp = api_blueprint("events_api", __name__, "/events", "The town's events.")


class EventSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    title = fields.String()
    title_en = fields.String()
    summary = fields.String()
    description = fields.String()
    venue = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    capacity = fields.Integer(allow_none=True)
    requires_approval = fields.Boolean()


class EventQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))


@blp.route("")
@blp.arguments(EventQuerySchema, location="query")
@blp.response(200, EventSchema(many=True))
def list_events(query):
    """Upcoming published events, soonest first."""
    return services.upcoming_events(now=utcnow(), kind=query.get("kind"))


@blp.route("/<int:event_id>")
@blp.response(200, EventSchema)
@blp.alt_response(404, schema="Error")
def get_event(event_id: int):
    """One event."""
    return services.get_published_event(event_id)
