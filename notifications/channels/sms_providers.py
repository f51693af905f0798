"""SMS providers for notifications. `console` (the embedded default) goes through the app's own SMS provider
(log, and the demo outbox page)."""

from __future__ import annotations


class ConsoleProvider:
    def send(self, outgoing, config: dict) -> None:
        from app.accounts.sms import ConsoleSmsProvider
        from notifications.channels.sms import sms_text

        ConsoleSmsProvider().send(outgoing.phone, sms_text(outgoing))


def provider_for(config: dict):
    name = config.get("NOTIFICATIONS_SMS_PROVIDER") or config.get("SMS_PROVIDER") or "console"
    providers = {"console": ConsoleProvider}
    try:
        return providers[name]()
    except KeyError:
        from notifications.channels import PermanentFailure

        raise PermanentFailure(f"unknown SMS provider {name!r}") from None
