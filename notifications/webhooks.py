"""Organizers' alerts in their team chat: a WeCom (企业微信), DingTalk (钉钉) or Feishu (飞书) group robot per event.

A robot's address is accepted only on that platform's own host, over HTTPS, at its documented path, so nobody can
make the server call an internal address. DingTalk robots with 加签 sign `timestamp + "\\n" + secret` (HMAC-SHA256,
Base64, URL-encoded into the query); Feishu robots with 签名校验 sign with `timestamp + "\\n" + secret` as the HMAC
key over an empty message and send timestamp and sign in the body. Alerts are posted by a job after the commit."""

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
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, NotFound
from app.extensions import db
from notifications.models import WEBHOOK_KINDS, OrganizerWebhook

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
    if not ok:
        raise DomainError("invalid_webhook_url", _l("This is not a group robot address of the chosen platform."),
                          fields={"url": str(_l("Paste the robot's webhook address exactly as the app shows it."))})
    return url


def add_webhook(event_id: int, actor, *, kind: str, url: str, secret: str = "", now: datetime) -> OrganizerWebhook:
    """An event's organizers connect a group robot to it."""
    from events import services as events

    events.authorize_organizer(actor, events.get_event(event_id, include_drafts=True))
    url = validate_webhook_url(kind, url)
    webhook = OrganizerWebhook(event_id=event_id, kind=kind, url=url, secret=(secret or "").strip()[:200],
                               created_by_id=actor.id, created_at=now)
    db.session.add(webhook)
    db.session.flush()
    return webhook


def remove_webhook(webhook_id: int, actor) -> None:
    from events import services as events

    webhook = db.session.get(OrganizerWebhook, webhook_id)
    if webhook is None:
        raise NotFound("webhook_not_found", _l("This robot does not exist."))
    events.authorize_organizer(actor, events.get_event(webhook.event_id, include_drafts=True))
    db.session.delete(webhook)


def webhooks_of(event_id: int) -> list[OrganizerWebhook]:
    return list(db.session.scalars(sa.select(OrganizerWebhook).where(OrganizerWebhook.event_id == event_id)
                                   .order_by(OrganizerWebhook.id)))


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
    """Tests route the robots' hosts to a local server (NOTIFICATIONS_WEBHOOK_TEST_HOSTS: {host: base URL})."""
    overrides = current_app.config.get("NOTIFICATIONS_WEBHOOK_TEST_HOSTS") or {}
    parts = urlsplit(url)
    base = overrides.get(parts.hostname)
    if not base:
        return url
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


def post_alert(webhook: OrganizerWebhook, title: str, text: str) -> str:
    """Send one alert; returns "" when the robot accepted it, or the reason it did not."""
    url, body = build_request(webhook.kind, webhook.url, webhook.secret, title, text)
    try:
        response = requests.post(_network_url(url), json=body, timeout=10)
        answer = response.json()
    except (requests.RequestException, ValueError) as error:
        return f"unreachable: {type(error).__name__}"
    code = answer.get("code", answer.get("StatusCode")) if webhook.kind == "feishu" else answer.get("errcode")
    if response.status_code == 200 and code == 0:
        return ""
    return f"{response.status_code} {code} {answer.get('msg') or answer.get('errmsg') or ''}".strip()[:200]


def alert_event_organizers(event_id: int, title: str, text: str) -> dict[int, str]:
    """Post to every robot of the event; remember each one's last outcome for the organizers' page."""
    outcomes = {}
    for webhook in webhooks_of(event_id):
        outcome = post_alert(webhook, title, text)
        webhook.last_status = outcome or "ok"
        outcomes[webhook.id] = outcome
    db.session.commit()
    return outcomes
