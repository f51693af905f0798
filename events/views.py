"""Pages of events: the town's upcoming events (the home page) and an event's page."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request

from app.db_types import utcnow
from events import services
from events.models import EVENT_KINDS

bp = Blueprint("events", __name__, template_folder="templates")


@bp.get("/")
def index():
    kind = request.args.get("kind")
    events = services.upcoming_events(now=utcnow(), kind=kind)
    return render_template("events/index.html", events=events, kind=kind if kind in EVENT_KINDS else None)


@bp.get("/events/<int:event_id>")
def detail(event_id: int):
    event = services.get_published_event(event_id)
    return render_template("events/detail.html", event=event)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
