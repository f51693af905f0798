"""Organizers' alerts in their team chat: a WeCom (企业微信), DingTalk (钉钉) or Feishu (飞书) group robot per event.

A robot's address is accepted only on that platform's own host, over HTTPS, at its documented path, and, like every
address the server calls, only while that host resolves to public addresses (app.safe_urls.check_public_url: when
it is connected and again at every post), so nobody can make the server call an internal address.

DingTalk robots with 加签 sign `timestamp + "\\n" + secret` (HMAC-SHA256,
Base64, URL-encoded into the query); Feishu robots with 签名校验 sign with `timestamp + "\\n" + secret` as the HMAC
key over an empty message and send timestamp and sign in the body.

Alerts are rows (`webhook_deliveries`), one per robot, written in the sign-up's own transaction by one INSERT ...
SELECT, and delivered like residents' messages: claimed with a lease, retried with backoff when the robot is
unreachable, overloaded or rate-limits us, failed with the robot's reason otherwise or after the last attempt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from urllib.parse import parse_qs, quote_plus, urlsplit

import requests
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.db_types import UTCDateTime
from app.errors import DomainError, NotFound
from app.extensions import db, dialect_insert
from app.safe_urls import RefusedURL, check_public_url
from events import services as events
from events.models import Event, Registration
from notifications.deliveries import claim_due_deliveries, finish_delivery
from notifications.models import WEBHOOK_KINDS, OrganizerWebhook, WebhookDelivery

ROBOTS = {
    "wecom": ({"qyapi.weixin.qq.com"}, "/cgi-bin/webhook/send", "key"),
    "dingtalk": ({"oapi.dingtalk.com"}, "/robot/send", "access_token"),
    "feishu": ({"open.feishu.cn", "open.larksuite.com"}, "/open-apis/bot/v2/hook/", None),
}


def validate_webhook_url(kind: str, url: str) -> str:
    """The robot API's own host over HTTPS at its documented path, nothing else (no port, no user, no other host)."""
    if kind not in WEBHOOK_KINDS:
        raise DomainError("invalid_webhook", _l("Choose WeCom, DingTalk or Feishu."))
    url = (url or "").strip()
    hosts, path, token_param = ROBOTS[kind]
    parts = urlsplit(url)
    ok = (parts.scheme == "https" and parts.hostname in hosts and parts.port in (None, 443)
          and not parts.username and not parts.password and "@" not in parts.netloc and len(url) <= 500)
    if ok and kind == "feishu":
        ok = parts.path.startswith(path) and len(parts.path) > len(path) and "/" not in parts.path[len(path):]
    elif ok:
        ok = parts.path == path and bool(parse_qs(parts.query).get(token_param))
    if ok:
        try:
            check_public_url(url)
        except RefusedURL:
            ok = False
    if not ok:
        raise DomainError("invalid_webhook_url", _l("This is not a group robot address of the chosen platform."),
                          fields={"url": str(_l("Paste the robot's webhook address exactly as the app shows it."))})
    return url


def masked_address(url: str) -> str:
    """A robot's address as organizers see it, on its page and in the API: the host and the last characters of its
    key (the key or access token is what lets anyone post into the group, so it is never shown whole)."""
    return f"{urlsplit(url).hostname} · …{url[-4:]}"


def add_webhook(event_id: int, actor, *, kind: str, url: str, secret: str = "", now: datetime) -> OrganizerWebhook:
    """An event's organizers connect a group robot to it."""
    events.organized_event(event_id, actor)
    url = validate_webhook_url(kind, url)
    webhook = OrganizerWebhook(event_id=event_id, kind=kind, url=url, secret=(secret or "").strip()[:200],
                               created_by_id=actor.id, created_at=now)
    db.session.add(webhook)
    db.session.flush()
    return webhook


def get_webhook(webhook_id: int, actor, *, event_id: int | None = None) -> OrganizerWebhook:
    """A robot, for the organizers of its event; unknown (or not of `event_id`, when given): webhook_not_found."""
    webhook = db.session.get(OrganizerWebhook, webhook_id)
    if webhook is None or (event_id is not None and webhook.event_id != event_id):
        raise NotFound("webhook_not_found", _l("This robot does not exist."))
    events.organized_event(webhook.event_id, actor)
    return webhook


def remove_webhook(webhook_id: int, actor, *, event_id: int | None = None) -> None:
    db.session.delete(get_webhook(webhook_id, actor, event_id=event_id))


def webhooks_of(event_id: int) -> list[OrganizerWebhook]:
    return list(db.session.scalars(sa.select(OrganizerWebhook).where(OrganizerWebhook.event_id == event_id)
                                   .order_by(OrganizerWebhook.id)))


def has_robots(event_id: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(OrganizerWebhook.event_id == event_id)))


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp: int) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def build_request(kind: str, url: str, secret: str, title: str, text: str, *, now: float | None = None
                  ) -> tuple[str, dict]:
    """(URL, JSON body) of one alert, in the robot API's documented format."""
    now = time.time() if now is None else now
    if kind == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
    if kind == "dingtalk":
        if secret:
            stamp = int(now * 1000)
            url = f"{url}&timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}"
        return url, {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n\n{text}"}}
    body: dict = {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
    if secret:
        stamp = int(now)
        body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
    return url, body


def _network_url(url: str) -> str:
    """The address posted to, checked (app.safe_urls) now: DNS may have changed since the robot was connected.
    Tests route the robots' hosts to a local server (NOTIFICATIONS_WEBHOOK_TEST_HOSTS: {host: base URL}, a setting
    of tests alone), which is checked as a local test service."""
    overrides = current_app.config.get("NOTIFICATIONS_WEBHOOK_TEST_HOSTS") or {}
    parts = urlsplit(url)
    base = overrides.get(parts.hostname)
    if not base:
        check_public_url(url)
        return url
    network_url = base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    check_public_url(network_url, allow_local=True)
    return network_url


# Answers that mean "later": WeCom 45009 (API frequency), DingTalk 130101 (sending too fast), 410100 (flow control),
# Feishu 9499 with HTTP 429 / 11232 (frequency limited), any "system busy" -1.
RATE_LIMIT_CODES = {-1, 45009, 130101, 410100, 11232}


def post_alert(webhook: OrganizerWebhook, title: str, text: str) -> str:
    """Send one alert; returns "" when the robot accepted it, or the reason it did not."""
    return post_alert_with_outcome(webhook, title, text)[0]


def post_alert_with_outcome(webhook: OrganizerWebhook, title: str, text: str) -> tuple[str, bool]:
    """(reason or "", whether trying again later can help); the robot's last status (what its organizers' page
    shows) becomes "ok" or the reason, committed with the caller's transaction."""
    reason, temporary = _post(webhook, title, text)
    webhook.last_status = reason or "ok"
    return reason, temporary


def _post(webhook: OrganizerWebhook, title: str, text: str) -> tuple[str, bool]:
    url, body = build_request(webhook.kind, webhook.url, webhook.secret, title, text)
    try:
        response = requests.post(_network_url(url), json=body, timeout=10, allow_redirects=False)
    except RefusedURL as refused:
        return f"address refused: {refused}", refused.code == "dns"
    except requests.RequestException as error:
        return f"unreachable: {type(error).__name__}", True
    try:
        answer = response.json()
    except ValueError:
        return f"{response.status_code} not JSON", response.status_code >= 500 or response.status_code == 429
    code = answer.get("code", answer.get("StatusCode")) if webhook.kind == "feishu" else answer.get("errcode")
    if response.status_code == 200 and code == 0:
        return "", False
    reason = f"{response.status_code} {code} {answer.get('msg') or answer.get('errmsg') or ''}".strip()[:200]
    return reason, response.status_code >= 500 or response.status_code == 429 or code in RATE_LIMIT_CODES


def alert_event_organizers(event_id: int, title: str, text: str) -> dict[int, str]:
    """Post to every robot of the event; remember each one's last outcome for the organizers' page."""
    outcomes = {}
    for webhook in webhooks_of(event_id):
        outcomes[webhook.id] = post_alert(webhook, title, text)
    db.session.commit()
    return outcomes


# ---- alerts as delivery rows ---------------------------------------------------------------------------------------

def queue_alerts(event_id: int, *, registration_id: int, signal: str, dedupe_key: str, now: datetime) -> int:
    """In the change's own transaction: one pending alert per robot of the event, in one INSERT ... SELECT (nothing
    is written, and nothing else is asked, when the event has no robot). A repeat of the same alert is skipped by
    the unique (robot, dedupe key). Returns how many were written."""
    columns = ["webhook_id", "event_id", "registration_id", "signal", "dedupe_key", "status", "attempts",
               "next_attempt_at", "last_error", "created_at"]
    rows = sa.select(OrganizerWebhook.id, sa.literal(event_id), sa.literal(registration_id), sa.literal(signal),
                     sa.literal(dedupe_key), sa.literal("pending"), sa.literal(0), sa.literal(now, UTCDateTime()),
                     sa.literal(""), sa.literal(now, UTCDateTime())).where(OrganizerWebhook.event_id == event_id)
    table = WebhookDelivery.__table__
    statement = dialect_insert(table).from_select(columns, rows).on_conflict_do_nothing(
        index_elements=["webhook_id", "dedupe_key"]).returning(table.c.id)
    return len(db.session.execute(statement).all())  # RETURNING: rowcount is not reliable for INSERT ... SELECT


def compose_alert(event_id: int, registration_id: int | None, signal: str) -> tuple[str, str] | None:
    """The alert's title and text, in the town's default language, with the seats taken when it is sent."""
    event = db.session.get(Event, event_id)
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if event is None or registration is None:
        return None
    person = registration.user
    heads = {"registration-confirmed": _("New sign-up (confirmed): %(title)s", title=event.title),
             "registration-waitlisted": _("New sign-up (waitlist): %(title)s", title=event.title),
             "registration-pending": _("New sign-up to approve: %(title)s", title=event.title),
             "registration-cancelled": _("Cancelled: %(title)s", title=event.title)}
    who = " · ".join(part for part in (person.display_name, person.company) if part)
    seats = (_("%(taken)d of %(capacity)d seats taken", taken=event.seats_taken, capacity=event.capacity)
             if event.capacity is not None else _("%(taken)d seats taken", taken=event.seats_taken))
    return heads[signal], f"{who}\n{seats}"


def deliver_due_alerts(*, now_fn, ids: list[int] | None = None, max_batches: int = 1000) -> int:
    """Claim due alerts (a lease, as for residents' messages), post them, record each outcome; until none is due.
    Returns how many robots accepted theirs."""
    config = current_app.config
    batch, lease = config.get("NOTIFICATIONS_BATCH", 200), config.get("NOTIFICATIONS_LEASE_SECONDS", 120)
    sent = 0
    for _batch in range(max_batches):
        now = now_fn()
        token, claimed = claim_due_deliveries(now=now, limit=batch, lease_seconds=lease, ids=ids,
                                                       model=WebhookDelivery)
        work = []
        for delivery in claimed:
            webhook = db.session.get(OrganizerWebhook, delivery.webhook_id)
            text = compose_alert(delivery.event_id, delivery.registration_id, delivery.signal)
            work.append((delivery.id, webhook, text))
        db.session.commit()  # the lease holds while we post
        if not claimed:
            return sent
        for delivery_id, webhook, text in work:
            if webhook is None or text is None:
                status, reason, temporary = "skipped", "nothing to send", False
            else:
                reason, temporary = post_alert_with_outcome(webhook, *text)
                status = "sent" if not reason else ("retry" if temporary else "failed")
            if finish_delivery(delivery_id, token, status=status, now=now_fn(), error=reason,
                                        model=WebhookDelivery) and status == "sent":
                sent += 1
        db.session.commit()
    return sent


def alert_status(event_id: int) -> dict[int, dict]:
    """Per robot of the event: how many alerts were sent, are pending, failed (with the last reason)."""
    result: dict[int, dict] = {}
    for webhook_id, status, count in db.session.execute(
            sa.select(WebhookDelivery.webhook_id, WebhookDelivery.status, sa.func.count())
            .where(WebhookDelivery.event_id == event_id).group_by(WebhookDelivery.webhook_id, WebhookDelivery.status)):
        result.setdefault(webhook_id, {"sent": 0, "pending": 0, "failed": 0, "skipped": 0})[status] = count
    return result
