"""Charts for organizers: the numbers behind each chart (SQL aggregates in services/, by concern), served as JSON by
the API (api.py, in the OpenAPI document), drawn on pages (views.py, templates/insights/, app/static/js/insights.js
with the vendored uPlot) and downloaded as CSV / XLSX. The top layer: insights may read every domain package, and
none imports insights."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from insights import api, views  # noqa: F401  (api modules declare their blueprints on import)

    views.init_app(app)
