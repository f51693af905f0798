"""Subscribers to the other packages' signals (events/signals.py). Signals are sent inside the domain service's
transaction, with ids; here each one becomes inbox messages (with their pending deliveries) in that same
transaction, so a confirmation and its message commit or roll back together. Nobody imports notifications."""

from __future__ import annotations

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from events import signals
from events.models import ACTIVE_STATUSES, Event, PitchApplication, Registration, TeamApplication
from notifications import messages
from notifications.services import notify

ALERTED_SIGNALS = ("registration-confirmed", "registration-waitlisted", "registration-pending",
                   "registration-cancelled")


def on_registration(sender, *, registration_id: int, event_id: int, user_id: int, signal_name: str, **extra):
    if signal_name in ALERTED_SIGNALS:
        _alert_organizers_after_commit(event_id, registration_id, signal_name)
    kind = messages.KINDS_BY_SIGNAL.get(signal_name)
    if kind is None:
        return
    registration = db.session.get(Registration, registration_id)
    event = db.session.get(Event, event_id)
    if registration is None or event is None:
        return
    draft = messages.registration_draft(kind, registration, event, outcome=extra.get("outcome"))
    if draft is not None:
        notify(user_id, draft, now=utcnow())


def _alert_organizers_after_commit(event_id: int, registration_id: int, signal_name: str) -> None:
    """Organizers who connected a group robot hear of sign-ups and cancellations (a job, after commit)."""
    from app.after_commit import run_after_commit
    from notifications.models import OrganizerWebhook

    if db.session.scalar(sa.select(OrganizerWebhook.id).where(OrganizerWebhook.event_id == event_id).limit(1)) is None:
        return
    from notifications import tasks

    run_after_commit(lambda: tasks.alert_organizers(event_id, registration_id, signal_name))


def _registrants(event_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Registration.user_id).where(
        Registration.event_id == event_id, Registration.status.in_(ACTIVE_STATUSES)).order_by(Registration.user_id)))


def on_event_changed(sender, *, event_id: int, changes: dict, **_extra):
    event = db.session.get(Event, event_id)
    draft = messages.event_changed_draft(event, changes)
    now = utcnow()
    for user_id in _registrants(event_id):
        notify(user_id, draft, now=now)


def on_event_cancelled(sender, *, event_id: int, reason: str = "", **_extra):
    event = db.session.get(Event, event_id)
    draft = messages.event_cancelled_draft(event, reason)
    now = utcnow()
    for user_id in _registrants(event_id):
        notify(user_id, draft, now=now)


def on_pitch_decided(sender, *, application_id: int, event_id: int, user_id: int, status: str,
                     previous_status: str | None = None, note: str = "", **_extra):
    application = db.session.get(PitchApplication, application_id)
    event = db.session.get(Event, event_id)
    notify(user_id, messages.pitch_decided_draft(application, event, status, previous_status, note or ""),
           now=utcnow())


def _slot_receiver(kind: str):
    def receive(sender, *, slot_id: int, event_id: int, user_id: int, position: int, starts_at, ends_at, **_extra):
        event = db.session.get(Event, event_id)
        notify(user_id, messages.pitch_slot_draft(kind, event, slot_id=slot_id, position=position,
                                                  starts_at=starts_at, ends_at=ends_at), now=utcnow())

    receive.__name__ = f"on_{kind}"
    return receive


def on_team_decided(sender, *, application_id: int, member_user_ids, status: str, previous_status=None,
                    note: str = "", **_extra):
    application = db.session.get(TeamApplication, application_id)
    draft = messages.team_decided_draft(application_id, application.team_name if application else "", status,
                                        previous_status, note or "")
    now = utcnow()
    for user_id in sorted(set(member_user_ids or ())):
        notify(user_id, draft, now=now)


def _named(signal):
    """blinker does not tell a receiver which signal called it; registration messages need to know."""
    name = signal.name

    def receive(sender, **kwargs):
        on_registration(sender, signal_name=name, **kwargs)

    receive.__name__ = f"on_{name.replace('-', '_')}"
    return receive


_RECEIVERS: list = []  # blinker holds receivers weakly: keep ours alive


def connect() -> None:
    """Subscribe once per process (blinker's signals are global; many apps in tests share them)."""
    if _RECEIVERS:
        return
    for name in dict.fromkeys([*messages.KINDS_BY_SIGNAL, *ALERTED_SIGNALS]):
        signal = signals._signals[name]
        receiver = _named(signal)
        _RECEIVERS.append(receiver)
        signal.connect(receiver)
    pairs = [
        (signals.event_changed, on_event_changed),
        (signals.event_cancelled, on_event_cancelled),
        (signals.pitch_application_decided, on_pitch_decided),
        (signals.pitch_slot_assigned, _slot_receiver("pitch_slot_assigned")),
        (signals.pitch_slot_changed, _slot_receiver("pitch_slot_changed")),
        (signals.pitch_slot_removed, _slot_receiver("pitch_slot_removed")),
        (signals.team_application_decided, on_team_decided),
    ]
    for signal, receiver in pairs:
        _RECEIVERS.append(receiver)
        signal.connect(receiver)
