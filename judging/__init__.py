"""Competitions, rounds, rubrics, judges, scores, live leaderboard."""

from flask import Flask


def init_app(app: Flask) -> None:
    # Imported here, when the app starts, not when the package is: `import judging.models` (migrations, other
    # packages' models) must not load the web layer, and the API modules declare their routes on import.
    from judging import (  # noqa: F401
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
