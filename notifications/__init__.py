"""Inbox, channels and delivery of messages (issue 7). Subscribes to the other packages' signals; nobody imports
notifications."""

from __future__ import annotations

import os

from flask import Flask

ENV_SETTINGS = {
    # name: (environment variable, default, type)
    "NOTIFICATIONS_VAPID_PRIVATE_KEY": ("VAPID_PRIVATE_KEY", "", str),  # PEM or base64url raw key
    "NOTIFICATIONS_VAPID_PUBLIC_KEY": ("VAPID_PUBLIC_KEY", "", str),  # base64url uncompressed point
    "NOTIFICATIONS_VAPID_SUBJECT": ("VAPID_SUBJECT", "mailto:ops@beiyang.local", str),
    "NOTIFICATIONS_SMTP_HOST": ("SMTP_HOST", "", str),  # empty: e-mails go to the log (embedded default)
    "NOTIFICATIONS_SMTP_PORT": ("SMTP_PORT", "25", int),
    "NOTIFICATIONS_SMTP_USER": ("SMTP_USER", "", str),
    "NOTIFICATIONS_SMTP_PASSWORD": ("SMTP_PASSWORD", "", str),
    "NOTIFICATIONS_SMTP_STARTTLS": ("SMTP_STARTTLS", "", bool),
    "NOTIFICATIONS_MAIL_FROM": ("MAIL_FROM", "noreply@beiyang.local", str),
    "NOTIFICATIONS_LEASE_SECONDS": ("NOTIFICATIONS_LEASE_SECONDS", "120", int),
    "NOTIFICATIONS_MAX_ATTEMPTS": ("NOTIFICATIONS_MAX_ATTEMPTS", "8", int),
    "NOTIFICATIONS_RETRY_BASE_SECONDS": ("NOTIFICATIONS_RETRY_BASE_SECONDS", "30", int),
    "NOTIFICATIONS_BATCH": ("NOTIFICATIONS_BATCH", "200", int),
    "NOTIFICATIONS_SEND_CONCURRENCY": ("NOTIFICATIONS_SEND_CONCURRENCY", "32", int),
    "NOTIFICATIONS_FANOUT_CHUNK": ("NOTIFICATIONS_FANOUT_CHUNK", "5000", int),
    "NOTIFICATIONS_PUSH_CONNECTIONS": ("NOTIFICATIONS_PUSH_CONNECTIONS", "128", int),  # per worker process
    "NOTIFICATIONS_FANOUT_PARALLEL": ("NOTIFICATIONS_FANOUT_PARALLEL", "4", int),  # chunks at once (PostgreSQL)
    "NOTIFICATIONS_PARALLEL_DRAINS": ("NOTIFICATIONS_PARALLEL_DRAINS", "8", int),
    "NOTIFICATIONS_PUSH_TTL": ("NOTIFICATIONS_PUSH_TTL", "86400", int),
    "NOTIFICATIONS_SMS_PROVIDER": ("NOTIFICATIONS_SMS_PROVIDER", "", str),  # empty: SMS_PROVIDER (console)
    # Tests only (a push service on 127.0.0.1 over http); refused in production (see _configure).
    "NOTIFICATIONS_ALLOW_INSECURE_PUSH": ("NOTIFICATIONS_ALLOW_INSECURE_PUSH_FOR_TESTS", "", bool),
}
# Providers' settings, read from the environment variables of the same name.
for _name in ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME",
              "ALIYUN_SMS_TEMPLATE_CODE", "ALIYUN_SMS_REGION", "ALIYUN_SMS_ENDPOINT", "TENCENT_SMS_SECRET_ID",
              "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME", "TENCENT_SMS_TEMPLATE_ID",
              "TENCENT_SMS_REGION", "TENCENT_SMS_ENDPOINT", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TEMPLATE_ID",
              "WECHAT_OAUTH_BASE",
              "WECHAT_API_BASE"):
    ENV_SETTINGS[_name] = (_name, "", str)


def _configure(app: Flask) -> None:
    """Settings from the environment, unless the config object already set them (tests do)."""
    for name, (variable, default, kind) in ENV_SETTINGS.items():
        if name in app.config:
            continue
        raw = os.environ.get(variable, default)
        if kind is bool:
            app.config[name] = str(raw).strip().lower() in {"1", "true", "yes", "on"}
        elif kind is int:
            app.config[name] = int(raw)
        else:
            app.config[name] = raw
    if app.config.get("ENV_NAME") == "production" and app.config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH"):
        raise RuntimeError("NOTIFICATIONS_ALLOW_INSECURE_PUSH is for tests: it lets the server call 127.0.0.1.")


def init_app(app: Flask) -> None:
    from sqlalchemy import event as sa_event
    from sqlalchemy.orm import Session

    from notifications import (  # noqa: F401  (api modules declare their blueprints on import; tasks register)
        api,
        cli,
        models,
        receivers,
        tasks,
        views,
        writing,
    )

    _configure(app)
    receivers.connect()
    views.init_app(app)
    cli.init_app(app)
    if not sa_event.contains(Session, "after_rollback", writing.forget_on_rollback):
        sa_event.listen(Session, "after_rollback", writing.forget_on_rollback)
        sa_event.listen(Session, "after_soft_rollback", writing.forget_on_rollback)
