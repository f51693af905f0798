"""WeChat subscription messages through the official-account API (configured by environment)."""

from __future__ import annotations

from notifications.channels import Outcome, Outgoing, TemporaryFailure


def send_wechat(outgoing: Outgoing, config: dict) -> Outcome | None:
    raise TemporaryFailure("WeChat is not configured", retry_after=3600)
