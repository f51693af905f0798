"""Inbox, channels and delivery of messages (issue 7). Subscribes to the other packages' signals; nobody imports
notifications."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session


def _refuse_test_settings_in_production(app: Flask) -> None:
    """The settings themselves are in app/config.py (Config.notifications_settings)."""
    if app.config.get("ENV_NAME") == "production" and app.config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH"):
        raise RuntimeError("NOTIFICATIONS_ALLOW_INSECURE_PUSH is for tests: it lets the server call 127.0.0.1.")


def init_app(app: Flask) -> None:
    # Imported here, not at the top: importing the package (e.g. for a submodule) must not pull in every module and,
    # through them, the other domain packages before create_app has set them up.
    from notifications import (  # noqa: F401  (api modules declare their blueprints on import; tasks register)
        api,
        cli,
        models,
        receivers,
        tasks,
        views,
        writing,
    )

    _refuse_test_settings_in_production(app)
    receivers.connect()
    views.init_app(app)
    cli.init_app(app)
    if not sa_event.contains(Session, "after_rollback", writing.forget_on_rollback):
        sa_event.listen(Session, "after_rollback", writing.forget_on_rollback)
        sa_event.listen(Session, "after_soft_rollback", writing.forget_on_rollback)
