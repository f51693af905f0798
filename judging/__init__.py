"""Competitions, rounds, rubrics, judges, scores, live leaderboard."""

from flask import Flask


def init_app(app: Flask) -> None:
    from judging import api, models, realtime, views  # noqa: F401  (api declares its blueprint on import)

    realtime.init_app(app)
    views.init_app(app)
