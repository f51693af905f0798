"""Mentors, founders' requests, matching, office hours."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import api, models, views  # noqa: F401  (the api module declares its blueprint on import)

    views.init_app(app)
