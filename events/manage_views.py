"""Organizers' pages (being written)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("manage", __name__, url_prefix="/manage")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
