"""Channels a message goes out on besides the inbox. Each sender takes an `Outgoing` (plain data, no database
session: senders run in threads of the worker, many requests in flight) and returns normally when the channel took
the message, or raises: `TemporaryFailure` (retry later, with backoff), `PermanentFailure` (stop trying), `Skip`
(nothing to send to any more). Configuration comes from the app's config, passed in as a plain dict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class TemporaryFailure(Exception):
    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    pass


class Skip(Exception):
    pass


@dataclass
class Outgoing:
    delivery_id: int
    notification_id: int
    user_id: int
    channel: str
    category: str
    kind: str
    urgent: bool
    locale: str
    title: str
    body: str
    url: str  # absolute deep link
    dedupe_key: str
    phone: str = ""
    email: str = ""
    wechat_openid: str = ""
    unsubscribe_url: str = ""  # one click, for announcements by e-mail
    subscriptions: list[dict] = field(default_factory=list)  # web push: {id, endpoint, p256dh, auth}


@dataclass
class Outcome:
    """What a sender learned besides success: push subscriptions the push service says are gone."""

    gone_subscription_ids: list[int] = field(default_factory=list)
    delivered_subscription_ids: list[int] = field(default_factory=list)


Sender = Callable[[Outgoing, dict], Outcome | None]


def sender_for(channel: str, config: dict) -> Sender:
    # Each sender is imported when asked for, not at the top: the channel modules import Outcome, Outgoing and the
    # failures from this package (a genuine cycle between a package and its modules).
    if channel == "webpush":
        from notifications.channels.webpush import send_webpush  # the cycle above

        return send_webpush
    if channel == "email":
        from notifications.channels.email import send_email  # the cycle above

        return send_email
    if channel == "sms":
        from notifications.channels.sms import send_sms  # the cycle above

        return send_sms
    if channel == "wechat":
        from notifications.channels.wechat import send_wechat  # the cycle above

        return send_wechat
    raise PermanentFailure(f"unknown channel {channel}")
