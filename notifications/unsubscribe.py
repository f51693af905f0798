"""One-click unsubscribe links for e-mails (RFC 8058): a signed token names the person and the category, so the
link works without signing in and cannot be forged for someone else."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "notifications.unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user_id: int, category: str) -> str:
    return _serializer().dumps([int(user_id), category])


def unsubscribe_url(user_id: int, category: str, base: str) -> str:
    return f"{base}/notifications/unsubscribe/{unsubscribe_token(user_id, category)}"


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        user_id, category = _serializer().loads(token)
        return int(user_id), str(category)
    except (BadSignature, ValueError, TypeError):
        return None
