"""Tickets (signed tokens, QR images), scanning, exactly-once admission, offline sync."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from checkin import api, models, realtime, views  # noqa: F401  (api modules declare their blueprints on import)

    realtime.init_app(app)
    views.init_app(app)
