"""Web Push (RFC 8030) with message encryption (RFC 8291, aes128gcm) and VAPID (RFC 8292), through pywebpush.

One delivery goes to every subscription of the person. A push service's 404/410 means the subscription is gone:
it is removed. 429 and 5xx are temporary (Retry-After is honoured). Payloads stay under the push services' 4 KB
limit: the body is shortened, never the message failed. The service worker shows one notification per message id
(the `tag`), so a repeated push after a retry replaces instead of doubling."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from notifications.channels import Outcome, Outgoing, PermanentFailure, TemporaryFailure

MAX_PLAINTEXT = 3000  # bytes of JSON; 4096 minus the aes128gcm header, tag and padding, with room to spare
_local = threading.local()
_vapid_cache: dict[str, tuple[float, dict]] = {}
_vapid_lock = threading.Lock()


def payload_for(outgoing: Outgoing) -> str:
    """The JSON the service worker receives, shortened to fit: the body first, then the title."""
    data = {"id": outgoing.notification_id, "title": outgoing.title, "body": outgoing.body, "url": outgoing.url,
            "tag": f"n{outgoing.notification_id}", "category": outgoing.category, "urgent": outgoing.urgent}

    def encoded() -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    while len(encoded().encode()) > MAX_PLAINTEXT and data["body"]:
        excess = len(encoded().encode()) - MAX_PLAINTEXT
        keep = max(0, len(data["body"]) - max(1, excess // 3 + 1) - 1)  # CJK is 3 bytes a character
        data["body"] = data["body"][:keep] + "…" if keep else ""
    while len(encoded().encode()) > MAX_PLAINTEXT and len(data["title"]) > 1:
        data["title"] = data["title"][: len(data["title"]) // 2] + "…"
    return encoded()


def _session() -> requests.Session:
    """One keep-alive session per sender thread. requests would re-read the proxy variables (scanning the whole
    environment) and ~/.netrc for every request, a sixth of a push's CPU time (bench/notifications_fanout.py): read
    the proxies once instead (HTTPS_PROXY / HTTP_PROXY are honoured; NO_PROXY is not consulted for pushes)."""
    session = getattr(_local, "session", None)
    if session is None:
        import urllib.request

        session = _local.session = requests.Session()
        session.trust_env = False
        session.proxies.update({k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https")})
    return session


def _vapid_headers(private_key: str, subject: str, endpoint: str) -> dict:
    """Signed once per push service origin and reused for an hour (the token is valid for 12)."""
    parts = urlsplit(endpoint)
    audience = f"{parts.scheme}://{parts.netloc}"
    now = time.time()
    with _vapid_lock:
        cached = _vapid_cache.get(audience + private_key[:8])
        if cached and cached[0] > now:
            return dict(cached[1])
    vapid = Vapid.from_string(private_key=private_key)
    headers = vapid.sign({"sub": subject, "aud": audience, "exp": int(now) + 12 * 3600})
    with _vapid_lock:
        _vapid_cache[audience + private_key[:8]] = (now + 3600, headers)
    return dict(headers)


def send_webpush(outgoing: Outgoing, config: dict) -> Outcome:
    private_key = config.get("NOTIFICATIONS_VAPID_PRIVATE_KEY")
    if not private_key:
        raise TemporaryFailure("web push is not configured (VAPID_PRIVATE_KEY)", retry_after=3600)
    data = payload_for(outgoing)
    outcome = Outcome()
    temporary: list[tuple[str, int | None]] = []
    permanent: list[str] = []
    for sub in outgoing.subscriptions:
        headers = _vapid_headers(private_key, config.get("NOTIFICATIONS_VAPID_SUBJECT", "mailto:ops@beiyang.local"),
                                 sub["endpoint"])
        headers["Urgency"] = "high" if outgoing.urgent else "normal"
        headers["Topic"] = f"n{outgoing.notification_id}"  # a newer push of the same message replaces a queued one
        try:
            webpush({"endpoint": sub["endpoint"], "keys": {"p256dh": sub["p256dh"], "auth": sub["auth"]}},
                    data=data, ttl=config.get("NOTIFICATIONS_PUSH_TTL", 86400), headers=headers,
                    timeout=config.get("NOTIFICATIONS_SEND_TIMEOUT", 10), requests_session=_session())
            outcome.delivered_subscription_ids.append(sub["id"])
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in (404, 410):
                outcome.gone_subscription_ids.append(sub["id"])
            elif status == 429 or (status is not None and status >= 500):
                retry = error.response.headers.get("Retry-After", "") if error.response is not None else ""
                temporary.append((f"push service answered {status}", int(retry) if retry.isdigit() else None))
            elif status is None:
                temporary.append((f"push failed: {error}", None))
            else:
                permanent.append(f"push service answered {status}")
        except requests.RequestException as error:
            temporary.append((f"push service unreachable: {type(error).__name__}", None))
    if temporary and not outcome.delivered_subscription_ids:
        reason, retry_after = temporary[0]
        raise _with_outcome(TemporaryFailure(reason, retry_after=retry_after), outcome)
    if permanent and not outcome.delivered_subscription_ids and not temporary:
        if outcome.gone_subscription_ids:
            return outcome
        raise _with_outcome(PermanentFailure(permanent[0]), outcome)
    return outcome


def _with_outcome(error: Exception, outcome: Outcome) -> Exception:
    error.outcome = outcome  # gone subscriptions are removed even when the delivery as a whole is retried
    return error


def generate_vapid_keys() -> tuple[str, str]:
    """(private key as base64url of the raw 32 bytes, public key as base64url of the uncompressed point)."""
    import base64

    from cryptography.hazmat.primitives import serialization

    vapid = Vapid()
    vapid.generate_keys()
    raw_private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    raw_public = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)

    def b64(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    return b64(raw_private), b64(raw_public)
