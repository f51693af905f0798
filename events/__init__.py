"""Events of every kind: roadshow days, salons, the competition; registration, capacity, calendars."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from events import (  # noqa: F401  (api modules declare their blueprints on import)
        api,
        calendar_api,
        calendar_views,
        manage_views,
        models,
        pitching_api,
        pitching_views,
        presentation,
        realtime,
        tasks,
        views,
    )

    presentation.init_app(app)
    realtime.init_app(app)
    for module in (views, manage_views, calendar_views, pitching_views):
        module.init_app(app)
