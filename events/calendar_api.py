"""JSON API of calendars: a person's private iCalendar feed address, and replacing its secret token."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import fields

from app.api import api_blueprint
from app.authz import login_required
from app.extensions import db
from app.schemas import Schema
from events import calendar
from events.calendar_views import my_feed_urls, public_base_url

blp = api_blueprint("calendar_api", __name__, "",
                    "Calendars: the town's public feed is /calendar.ics (?kind=salon|roadshow|competition), one "
                    "event's file /events/{id}.ics; each person has a private feed with a secret, rotatable token, "
                    "also at /me/calendar.ics with the API's bearer token (401, never a redirect, without it).")


class CalendarFeedSchema(Schema):
    feed_url = fields.String(metadata={"description": "https address of the private .ics feed (no sign-in needed: "
                                                      "keep it secret)"})
    webcal_url = fields.String(metadata={"description": "the same as webcal://, which opens a calendar app's "
                                                        "subscribe dialog"})


@blp.route("/me/calendar")
@blp.response(200, CalendarFeedSchema)
@blp.alt_response(401, schema="Error")
@login_required
def my_calendar():
    """My private calendar feed (created on first use): my events and my published pitch slots."""
    urls = my_feed_urls(current_user._get_current_object())
    db.session.commit()
    return urls


@blp.route("/me/calendar/rotate", methods=["POST"])
@blp.response(200, CalendarFeedSchema)
@blp.alt_response(401, schema="Error")
@login_required
def rotate_calendar():
    """Replace my feed's secret token: the old address answers 404 from now on."""
    token = calendar.rotate_calendar_token(current_user._get_current_object())
    db.session.commit()
    return calendar.feed_urls(token, public_base_url())
