"""Periodic work of events: offers that lapse, lotteries that are due. Run by the task worker every minute."""

from __future__ import annotations

from huey import crontab

from app.db_types import utcnow
from app.extensions import db
from app.tasks import huey, task
from events.services.lotteries import draw_due_lotteries
from events.services.waitlist import expire_offers


@task()
def expire_offers_now() -> int:
    count = expire_offers(now=utcnow())
    db.session.commit()
    return count


@task()
def draw_due_lotteries_now() -> int:
    count = draw_due_lotteries(now=utcnow())
    db.session.commit()
    return count


@huey.periodic_task(crontab(minute="*"), name="events.every_minute")
def every_minute() -> None:
    expire_offers_now()
    draw_due_lotteries_now()
