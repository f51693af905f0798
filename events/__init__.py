"""Events of every kind: roadshow days, salons, the competition; registration, capacity, calendars."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from events import api, models, presentation, views  # noqa: F401

    presentation.init_app(app)
    views.init_app(app)
