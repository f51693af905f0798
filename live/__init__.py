"""The audience's live room of an event: questions asked from phones (Q&A), moderated by the organizers, on the
phones and the big screen, live over Socket.IO."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from live import api, exports, models, realtime, views  # noqa: F401  (api modules declare their blueprints)

    exports.init_app()
    realtime.init_app(app)
    views.init_app(app)
