"""Web Push subscriptions: a browser's subscription kept for the signed-in person, forgotten, or moved when the push
service replaces it."""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, NotFound
from app.extensions import db
from app.safe_urls import RefusedURL, check_public_url
from notifications.models import PushSubscription


def _b64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def validate_subscription(endpoint: str, p256dh: str, auth: str, *, allow_insecure: bool = False) -> dict:
    """A browser's PushSubscription.toJSON(): an endpoint the server may call (app.safe_urls.check_public_url: https,
    a public host after DNS resolution; `allow_insecure`, tests only, also a push service on 127.0.0.1), a P-256 public
    key (65 bytes, uncompressed) and a 16-byte auth secret, all base64url. Anything else is refused (422) with the
    field that is wrong."""
    errors = {}
    endpoint = (endpoint or "").strip()
    try:
        if len(endpoint) > 1000:
            raise RefusedURL("host", "too long")
        check_public_url(endpoint, allow_local=allow_insecure)
    except RefusedURL as refused:
        errors["endpoint"] = (_l("The address of this push service could not be found; please try again later.")
                              if refused.code == "dns" else
                              _l("Not a push service address: it must be an HTTPS address on the internet."))
    key = _b64url_bytes((p256dh or "").strip())
    if key is None or len(key) != 65 or key[0] != 4:
        errors["keys.p256dh"] = _l("Not a P-256 public key.")
    secret = _b64url_bytes((auth or "").strip())
    if secret is None or len(secret) != 16:
        errors["keys.auth"] = _l("Not a 16-byte auth secret.")
    if errors:
        raise DomainError("invalid_subscription", _l("This push subscription is not valid."), status=422,
                          fields={k: str(v) for k, v in errors.items()})
    return {"endpoint": endpoint, "p256dh": p256dh.strip(), "auth": auth.strip()}


def subscribe_device(user_id: int, *, endpoint: str, p256dh: str, auth: str, user_agent: str = "",
                     now: datetime) -> PushSubscription:
    """Keep this browser's subscription for the signed-in person. The endpoint identifies one browser: when another
    account subscribed it before (a shared phone), it now belongs to whoever is signed in on it; nobody can attach
    a device to an account other than their own, since `user_id` is always the caller."""
    allow_insecure = current_app.config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH", False)
    cleaned = validate_subscription(endpoint, p256dh, auth, allow_insecure=allow_insecure)
    subscription = db.session.scalar(sa.select(PushSubscription).where(
        PushSubscription.endpoint == cleaned["endpoint"]))
    if subscription is None:
        subscription = PushSubscription(endpoint=cleaned["endpoint"], created_at=now)
        db.session.add(subscription)
    subscription.user_id = user_id
    subscription.p256dh, subscription.auth = cleaned["p256dh"], cleaned["auth"]
    subscription.user_agent = (user_agent or "")[:300]
    db.session.flush()
    return subscription


def unsubscribe_device(user_id: int, endpoint: str) -> bool:
    """Forget this browser's subscription, if it is the caller's."""
    return bool(db.session.execute(sa.delete(PushSubscription).where(
        PushSubscription.user_id == user_id, PushSubscription.endpoint == (endpoint or "").strip())).rowcount)


def resubscribe_device(*, old_endpoint: str, old_auth: str, endpoint: str, p256dh: str, auth: str,
                       now: datetime) -> PushSubscription:
    """The browser's push service replaced a subscription (the service worker's `pushsubscriptionchange`): move the
    old one's owner to the new one. No session is needed (a service worker has no CSRF token, and the person may
    be signed out); the proof is the old subscription's auth secret, which only that browser and we know."""
    old = db.session.scalar(sa.select(PushSubscription).where(
        PushSubscription.endpoint == (old_endpoint or "").strip()))
    if old is None or not hmac.compare_digest(old.auth.encode(), (old_auth or "").strip().encode()):
        raise NotFound("subscription_not_found", _l("This push subscription is unknown."))
    allow_insecure = current_app.config.get("NOTIFICATIONS_ALLOW_INSECURE_PUSH", False)
    cleaned = validate_subscription(endpoint, p256dh, auth, allow_insecure=allow_insecure)
    taken = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == cleaned["endpoint"],
                                                                PushSubscription.id != old.id))
    if taken is not None:
        if taken.user_id != old.user_id:
            raise DomainError("subscription_taken", _l("This push subscription belongs to someone else."),
                              status=409)
        db.session.delete(taken)
        db.session.flush()
    old.endpoint, old.p256dh, old.auth = cleaned["endpoint"], cleaned["p256dh"], cleaned["auth"]
    old.created_at = now
    db.session.flush()
    return old
