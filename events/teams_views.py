"""(being written)"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("events_teams_views", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
