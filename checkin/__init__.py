"""Tickets (signed tokens, QR images), scanning, exactly-once admission, offline sync."""

from __future__ import annotations

import os

from flask import Flask

from checkin.qr import DEFAULT_TICKET_FONT


def init_app(app: Flask) -> None:
    from checkin import api, models, realtime, views  # noqa: F401  (api modules declare their blueprints on import)

    # A CJK font for the saved ticket's text (Debian: fonts-wqy-microhei); without it the image has ASCII text only.
    app.config.setdefault("TICKET_FONT_PATH", os.environ.get("TICKET_FONT_PATH", DEFAULT_TICKET_FONT))
    realtime.init_app(app)
    views.init_app(app)
