"""Check-in's part of the demo town (called from app/demo.py once the people and events exist): confirmed tickets for
the roadshow day and Thursday's salon, a door team (a steward and a supervisor), re-entry on, and one person already
in. The roadshow's doors are opened early on purpose, so that the demo founder's ticket can be scanned right away
(paste its code, or hold the phone to another phone's camera). Goes through the services, as people would."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.services import grant_role
from app.authz import scope_key
from app.extensions import db
from checkin import admission, tickets
from events.models import Registration
from events.services import register_for_event

ROADSHOW_AUDIENCE = ("+8613800000001", "+8613800000005", "+8613800000008", "+8613800000009")
SALON_AUDIENCE = ("+8613800000001", "+8613800000011")
STEWARD = "+8613800000011"  # 吴思远 scans at gate A
SUPERVISOR = "+8613800000012"  # 黄蕾 runs the door: search, walk-ins, overrides
ALREADY_IN = "+8613800000005"  # 赵一鸣 came early


def seed_checkin(people: dict, organizer, events: dict, *, now: datetime) -> None:
    """Tickets, door roles and door settings for the demo; safe to run again (sign-ups and grants are idempotent)."""
    roadshow = events["roadshow"]
    salon = next(e for key, e in events.items() if key.startswith("技术沙龙：RAG"))
    for event, audience in ((roadshow, ROADSHOW_AUDIENCE), (salon, SALON_AUDIENCE)):
        for phone in audience:
            register_for_event(event.id, people[phone], now=now)
    grant_role(people[STEWARD], "steward", scope_key("event", roadshow.id))
    grant_role(people[SUPERVISOR], "supervisor", scope_key("event", roadshow.id))

    config = tickets.ensure_config(roadshow.id, now=now)
    config.allow_reentry = True
    # Demo only: the doors "open" long before the start, so the demo ticket scans today (the settings page allows at
    # most a day, as a real event needs).
    config.opens_minutes_before = int((roadshow.starts_at - now) / timedelta(minutes=1)) + 24 * 60
    db.session.flush()

    early = db.session.scalars(sa.select(Registration).where(
        Registration.event_id == roadshow.id, Registration.user_id == people[ALREADY_IN].id)).one()
    admission.admit_registration(roadshow.id, early.id, organizer, gate="A", scan_id=f"demo-{early.id}", now=now,
                                device="demo")
    db.session.flush()
