"""E-mail over SMTP (configured by environment), or the log in the embedded default. Announcements carry a
one-click unsubscribe (RFC 8058: List-Unsubscribe plus List-Unsubscribe-Post) and the same link in the text."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask_babel import force_locale
from flask_babel import gettext as _

from notifications.channels import Outcome, Outgoing, PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)


def build_email(outgoing: Outgoing, config: dict) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = outgoing.title
    message["From"] = formataddr((config.get("NOTIFICATIONS_MAIL_FROM_NAME", "北杨小镇"),
                                  config.get("NOTIFICATIONS_MAIL_FROM", "noreply@beiyang.local")))
    message["To"] = outgoing.email
    message["Message-ID"] = make_msgid(idstring=f"n{outgoing.notification_id}")
    message["X-Beiyang-Message"] = outgoing.dedupe_key
    with force_locale(outgoing.locale):
        lines = [outgoing.body, "", _("Open: %(url)s", url=outgoing.url)] if outgoing.url else [outgoing.body]
        if outgoing.unsubscribe_url:
            lines += ["", _("Unsubscribe from town announcements with one click: %(url)s",
                            url=outgoing.unsubscribe_url)]
    if outgoing.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{outgoing.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("\n".join(lines))
    return message


def send_email(outgoing: Outgoing, config: dict) -> Outcome | None:
    message = build_email(outgoing, config)
    host = config.get("NOTIFICATIONS_SMTP_HOST") or ""
    if not host:  # embedded default: nothing to install, the message is in the log
        log.info("e-mail (log only) to %s: %s\n%s", outgoing.email, message["Subject"], message.get_content())
        return None
    port = int(config.get("NOTIFICATIONS_SMTP_PORT") or 25)
    try:
        with smtplib.SMTP(host, port, timeout=config.get("NOTIFICATIONS_SEND_TIMEOUT", 10)) as smtp:
            if config.get("NOTIFICATIONS_SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("NOTIFICATIONS_SMTP_USER"):
                smtp.login(config["NOTIFICATIONS_SMTP_USER"], config.get("NOTIFICATIONS_SMTP_PASSWORD", ""))
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentFailure(f"recipient refused: {error.recipients}") from None
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"smtp: {error}") from None
    return None
