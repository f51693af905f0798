"""Periodic work of mentoring: reminders of office hours. Run by the task worker every minute."""

from __future__ import annotations

from huey import crontab

from app.db_types import utcnow
from app.extensions import db
from app.tasks import huey, task
from mentoring.office_hours import send_due_reminders


@task()
def send_office_hour_reminders_now() -> int:
    count = send_due_reminders(now=utcnow())
    db.session.commit()
    return count


@huey.periodic_task(crontab(minute="*"), name="mentoring.every_minute")
def every_minute() -> None:
    send_office_hour_reminders_now()
