"""Competitions, rounds, rubrics, judges, scores, live leaderboard."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401
