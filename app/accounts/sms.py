"""The SMS provider interface. Real providers (Alibaba Cloud, Tencent Cloud) plug in here by configuration;
the embedded default writes the message to the log and, in demo mode, to a development outbox page."""

from __future__ import annotations

import logging
from typing import Protocol

from flask import current_app

from app.accounts.models import DevSmsMessage
from app.extensions import db

log = logging.getLogger("beiyang.sms")


class SmsProvider(Protocol):
    def send(self, phone: str, body: str) -> None: ...


class ConsoleSmsProvider:
    """Prints the message to the server log; keeps it for the demo page when demo mode is on."""

    def send(self, phone: str, body: str) -> None:
        log.warning("SMS to %s: %s", phone, body)
        if current_app.config.get("DEMO_MODE"):
            db.session.add(DevSmsMessage(phone=phone, body=body))
            db.session.commit()


PROVIDERS: dict[str, type] = {"console": ConsoleSmsProvider}


def sms_provider() -> SmsProvider:
    name = current_app.config.get("SMS_PROVIDER", "console")
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise RuntimeError(f"unknown SMS_PROVIDER {name!r}; known: {sorted(PROVIDERS)}") from None
