"""Competitions, rounds, rubrics, judges, scores, live leaderboard."""

from flask import Flask


def init_app(app: Flask) -> None:
    from judging import (  # noqa: F401  (api modules declare their blueprints on import)
        api,
        models,
        realtime,
        teams_api,
        teams_views,
        views,
    )

    realtime.init_app(app)
    views.init_app(app)
    teams_views.init_app(app)
