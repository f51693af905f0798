"""JSON of the organizers' charts, under /api/v1/ (in the OpenAPI document): the numbers the pages draw and the
downloads hold, from insights.services. Only the event's organizers (and global organizers, admins) may read them."""

from __future__ import annotations

from flask_login import current_user

from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.schemas import Id, Schema, fields
from events.services import reading
from insights import presenters
from insights.services.buckets import TOWN_TIMEZONE
from insights.services.signups import signup_insights

blp = api_blueprint("insights_api", __name__, "", "Insights: the numbers behind the organizers' charts.")


class SignupDaySchema(Schema):
    date = fields.Date(attribute="day", metadata={"description": "a day in the town's time zone (Asia/Shanghai)"})
    signed_up = fields.Integer(metadata={"description": "everyone who had signed up by the end of the day"})
    confirmed = fields.Integer(metadata={"description": "holding a confirmed seat at the end of the day"})
    waiting = fields.Integer(metadata={"description": "waitlisted, pending approval, in the lottery or offered"})
    cancelled = fields.Integer(metadata={"description": "cancellations so far"})


class PersonaCountsSchema(Schema):
    persona = fields.String(metadata={"description": "founder, investor, engineer or other"})
    label = fields.Method("persona_label", metadata={"description": "the persona in the reader's language"})
    confirmed = fields.Integer()
    waiting = fields.Integer()
    cancelled = fields.Integer()
    declined = fields.Integer(metadata={"description": "refused by the organizers, or a seat offer that expired"})
    total = fields.Integer()

    def persona_label(self, counts) -> str:
        return presenters.persona_label(counts.persona)


class SignupInsightsSchema(Schema):
    event_id = Id()
    capacity = fields.Integer(allow_none=True, metadata={"description": "seats; null when unlimited"})
    timezone = fields.Constant(TOWN_TIMEZONE)
    days = fields.List(fields.Nested(SignupDaySchema))
    personas = fields.List(fields.Nested(PersonaCountsSchema))
    totals = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "confirmed, waiting, cancelled and declined now"})
    empty_reason = fields.String(allow_none=True, metadata={
        "description": "why there is nothing to draw: draft (a draft takes no sign-ups) or no_signups; null otherwise"})


@blp.route("/events/<int:event_id>/insights/signups")
@blp.response(200, SignupInsightsSchema)
@blp.alt_response(401, schema="Error", description="not signed in")
@blp.alt_response(403, schema="Error", description="forbidden (the event's organizers only)")
@blp.alt_response(404, schema="Error", description="event_not_found")
@login_required
def event_signups(event_id: int):
    """An event's sign-ups per day (cumulative) and by persona."""
    event = reading.organized_event(event_id, current_user)
    return signup_insights(event, now=utcnow())
