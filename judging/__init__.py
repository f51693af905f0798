"""Competitions, rounds, rubrics, judges, scores, live leaderboard."""

from flask import Flask


def init_app(app: Flask) -> None:
    from judging import models, realtime  # noqa: F401

    realtime.init_app(app)
