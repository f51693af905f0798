"""SMS: short, for urgent messages to people without a working push subscription. Sent through the configured
provider (SMS_PROVIDER: the console in the embedded default; see notifications/channels/sms_providers.py)."""

from __future__ import annotations

from notifications.channels import Outcome, Outgoing, PermanentFailure

MAX_SMS = 140


def sms_text(outgoing: Outgoing) -> str:
    text = f"【北杨小镇】{outgoing.title}"
    if outgoing.url:
        text += f" {outgoing.url}"
    return text[:MAX_SMS]


def send_sms(outgoing: Outgoing, config: dict) -> Outcome | None:
    if not outgoing.phone:
        raise PermanentFailure("no phone number")
    from notifications.channels.sms_providers import provider_for

    provider_for(config).send(outgoing, config)
    return None
