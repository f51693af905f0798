"""Mentors, founders' requests, matching, office hours."""

from flask import Flask

from events.calendar import register_private_feed_provider
from events.pitching import register_lineup_check

from . import (  # noqa: F401  (these modules declare their routes and tasks on import)
    api,
    meetings_api,
    meetings_views,
    models,
    office_hours_views,
    tasks,
    views,
)
from .calendar import office_hour_components, roadshow_meeting_components
from .meetings import check_lineup
from .suggestions import judging_weak_points, register_weak_points_provider


def init_app(app: Flask) -> None:
    views.init_app(app)
    register_private_feed_provider(office_hour_components)
    register_private_feed_provider(roadshow_meeting_components)
    register_lineup_check(check_lineup)  # a founder never pitches while meeting an investor
    register_weak_points_provider(judging_weak_points)  # from judging to mentoring: judges' weak-point tags
