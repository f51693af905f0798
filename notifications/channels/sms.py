"""SMS: short, for urgent messages to people without a working push subscription. Sent through the configured
provider (SMS_PROVIDER: the console in the embedded default; see notifications/channels/sms_providers.py)."""

from __future__ import annotations

from notifications.channels import Outcome, Outgoing, PermanentFailure
from notifications.channels.sms_providers import MAX_SMS, provider_for, sms_text

__all__ = ["MAX_SMS", "send_sms", "sms_text"]


def send_sms(outgoing: Outgoing, config: dict) -> Outcome | None:
    if not outgoing.phone:
        raise PermanentFailure("no phone number")
    provider_for(config).send(outgoing, config)
    return None
