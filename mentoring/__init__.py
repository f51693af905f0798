"""Mentors, founders' requests, matching, office hours."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import api, models, tasks, views  # noqa: F401  (api declares its blueprint on import; tasks register)

    views.init_app(app)
    from events.calendar import register_private_feed_provider

    from .calendar import office_hour_components

    register_private_feed_provider(office_hour_components)
