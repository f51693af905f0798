"""Background jobs of accounts."""

from __future__ import annotations

from app.accounts.sms import sms_provider
from app.tasks import task


@task(retries=3, retry_delay=5)
def send_sms(phone: str, body: str) -> None:
    sms_provider().send(phone, body)
