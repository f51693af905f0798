"""Subscribers to the other packages' signals (events/signals.py). Signals are sent inside the domain service's
transaction, with ids; here each one becomes inbox messages (with their pending deliveries) in that same
transaction, so a confirmation and its message commit or roll back together. Nobody imports notifications."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts import signals as account_signals
from app.accounts.models import User
from app.after_commit import run_after_commit
from app.db_types import utcnow
from app.extensions import db
from events import signals
from events.models import ACTIVE_STATUSES, Event, PitchApplication, Registration
from judging import signals as judging_signals
from judging.models import Competition, CompetitionRound, TeamApplication
from live import signals as live_signals
from mentoring import signals as mentoring_signals
from mentoring.models import Feedback
from notifications import jobs, messages, webhooks, wechat
from notifications.models import WEBHOOK_ALERTS
from notifications.writing import locale_of, notify, notify_each, notify_many

ALERTED_SIGNALS = WEBHOOK_ALERTS


def on_registration(sender, *, registration_id: int, event_id: int, user_id: int, signal_name: str, **extra):
    registration = db.session.get(Registration, registration_id)  # in the session already: no query
    if signal_name in WEBHOOK_ALERTS:
        _alert_organizers(event_id, registration, signal_name)
    kind = messages.KINDS_BY_SIGNAL.get(signal_name)
    if kind is None:
        return
    event = db.session.get(Event, event_id)
    if registration is None or event is None:
        return
    draft = messages.registration_draft(kind, registration, event, outcome=extra.get("outcome"))
    if draft is not None:
        notify(user_id, draft, now=utcnow())


def on_registrations_signed_up(sender, *, event_id: int, registrations: list[dict], **_extra):
    """Sign-ups decided together (events/signup_batches.py): what on_registration does for each, in a few statements
    for all of them (their registrations and the event are in the session already: no query)."""
    alerted = [r for r in registrations if r["signal_name"] in WEBHOOK_ALERTS]
    if alerted and webhooks.has_robots(event_id):
        for r in alerted:
            _alert_organizers(event_id, db.session.get(Registration, r["registration_id"]), r["signal_name"])
    event = db.session.get(Event, event_id)
    drafts = []
    for r in registrations:
        kind = messages.KINDS_BY_SIGNAL.get(r["signal_name"])
        registration = db.session.get(Registration, r["registration_id"])
        if kind is not None and registration is not None and event is not None:
            draft = messages.registration_draft(kind, registration, event)
            if draft is not None:
                drafts.append((r["user_id"], draft))
    notify_each(drafts, now=utcnow())


def _alert_organizers(event_id: int, registration, signal_name: str) -> None:
    """Organizers who connected a group robot hear of sign-ups and cancellations: one alert row per robot, written
    in this transaction (one INSERT ... SELECT, which writes nothing for an event without robots), then posted by
    the worker after the commit."""
    if registration is None:
        return
    key = f"registration:{registration.id}:{signal_name}:{registration.version}:{registration.waitlist_seq}"
    if webhooks.queue_alerts(event_id, registration_id=registration.id, signal=signal_name, dedupe_key=key,
                             now=utcnow()):
        run_after_commit(lambda: jobs.start("deliver_webhook_alerts"))


def _registrants(event_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Registration.user_id).where(
        Registration.event_id == event_id, Registration.status.in_(ACTIVE_STATUSES)).order_by(Registration.user_id)))


def on_event_changed(sender, *, event_id: int, changes: dict, **_extra):
    event = db.session.get(Event, event_id)
    notify_many(_registrants(event_id), messages.event_changed_draft(event, changes), now=utcnow())


def on_event_cancelled(sender, *, event_id: int, reason: str = "", **_extra):
    event = db.session.get(Event, event_id)
    notify_many(_registrants(event_id), messages.event_cancelled_draft(event, reason), now=utcnow())


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
    notify_many(member_user_ids or (), draft, now=utcnow())


# ---- mentoring (mentoring/signals.py) ------------------------------------------------------------------------------

def _name_of(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user is not None else ""


def on_mentor_matched(sender, *, match_id: int, founder_id: int, mentor_id: int, **_extra):
    notify(mentor_id, messages.mentor_matched_draft(match_id, _name_of(founder_id)), now=utcnow())


def on_match_accepted(sender, *, match_id: int, founder_id: int, mentor_id: int, **_extra):
    notify(founder_id, messages.match_accepted_draft(match_id, mentor_id, _name_of(mentor_id)), now=utcnow())


def on_match_declined(sender, *, match_id: int, founder_id: int, next_match_id=None, **_extra):
    notify(founder_id, messages.match_declined_draft(match_id, next_offered=next_match_id is not None), now=utcnow())


def on_office_hour_booked(sender, *, booking_id: int, founder_id: int, mentor_id: int, starts_at,
                          moved_from_booking_id=None, **_extra):
    now, moved = utcnow(), moved_from_booking_id is not None
    notify(mentor_id, messages.office_hour_booked_draft(booking_id=booking_id, for_mentor=True,
                                                        other_name=_name_of(founder_id), starts_at=starts_at,
                                                        moved=moved), now=now)
    notify(founder_id, messages.office_hour_booked_draft(booking_id=booking_id, for_mentor=False,
                                                         other_name=_name_of(mentor_id), starts_at=starts_at,
                                                         moved=moved), now=now)


def on_office_hour_cancelled(sender, *, booking_id: int, founder_id: int, mentor_id: int, starts_at,
                             cancelled_by_id=None, moved: bool = False, **_extra):
    if moved:
        return  # the booking of the new slot tells the mentor ("moved"); nothing was lost
    by = cancelled_by_id if cancelled_by_id in (founder_id, mentor_id) else None  # else an organizer
    recipients = [mentor_id if by == founder_id else founder_id] if by else [founder_id, mentor_id]
    now = utcnow()
    for user_id in recipients:
        name = _name_of(by) if by else _organizers_name(user_id)
        notify(user_id, messages.office_hour_cancelled_draft(booking_id=booking_id, other_name=name,
                                                             starts_at=starts_at), now=now)


def _organizers_name(user_id: int) -> str:
    """"the organizers" in the recipient's language (the draft is rendered in it; this name is passed in)."""
    with force_locale(locale_of(db.session.get(User, user_id))):
        return _("the organizers")


def on_office_hour_reminder(sender, *, booking_id: int, founder_id: int, mentor_id: int, starts_at,
                            location: str = "", **_extra):
    now = utcnow()
    for user_id, other_id in ((founder_id, mentor_id), (mentor_id, founder_id)):
        notify(user_id, messages.office_hour_reminder_draft(booking_id=booking_id, label="24h",
                                                            other_name=_name_of(other_id), starts_at=starts_at,
                                                            location=location or ""), now=now)


def on_feedback_given(sender, *, feedback_id: int, booking_id: int, author_id: int, founder_id: int,
                      mentor_id: int, **_extra):
    """The other side hears of feedback only when its author shared it with them."""
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None or not feedback.shared:
        return
    other = mentor_id if author_id == founder_id else founder_id
    notify(other, messages.feedback_given_draft(feedback_id=feedback_id, booking_id=booking_id,
                                                author_name=_name_of(author_id)), now=utcnow())


def on_roadshow_meetings_published(sender, *, event_id: int, person_ids, meeting_ids=(), **_extra):
    event = db.session.get(Event, event_id)
    if event is not None:
        notify_many(person_ids or (), messages.roadshow_meetings_draft(event, list(meeting_ids or ())), now=utcnow())


# ---- judging (judging/signals.py) ----------------------------------------------------------------------------------

def on_judge_invited(sender, *, competition_id: int, round_id: int, judge_id: int, user_id: int, invite_path: str,
                     expires_at=None, is_shadow: bool = False, **_extra):
    competition, round_ = db.session.get(Competition, competition_id), db.session.get(CompetitionRound, round_id)
    notify(user_id, messages.judge_invited_draft(
        judge_id=judge_id, competition_name=competition.name if competition else "",
        round_name=round_.name if round_ else "", invite_path=invite_path, expires_at=expires_at,
        is_shadow=bool(is_shadow)), now=utcnow())


def _team_name(application_id: int) -> str:
    application = db.session.get(TeamApplication, application_id)
    return application.team_name if application is not None else ""


def on_results_published(sender, *, round_id: int, round_name: str, teams, **_extra):
    now = utcnow()
    for team in teams or ():
        draft = messages.results_published_draft(round_id=round_id, round_name=round_name,
                                                 application_id=team["application_id"],
                                                 team_name=_team_name(team["application_id"]), rank=team.get("rank"))
        notify_many(team.get("member_user_ids") or (), draft, now=now)


def on_team_advanced(sender, *, to_round_id: int, to_round_name: str, application_id: int, member_user_ids,
                     **_extra):
    notify_many(member_user_ids or (), messages.team_advanced_draft(
        to_round_id=to_round_id, to_round_name=to_round_name, application_id=application_id,
        team_name=_team_name(application_id)), now=utcnow())


def _named(signal):
    """blinker does not tell a receiver which signal called it; registration messages need to know."""
    name = signal.name

    def receive(sender, **kwargs):
        on_registration(sender, signal_name=name, **kwargs)

    receive.__name__ = f"on_{name.replace('-', '_')}"
    return receive


def on_wechat_bound(_sender, *, user_id: int, app_id: str, openid: str) -> None:
    """Someone bound WeChat to sign in: the official account's openid is where its WeChat messages reach them,
    unless they linked a WeChat for messages already (notifications.wechat)."""
    wechat.adopt_sign_in_wechat(user_id, app_id=app_id, openid=openid)


_RECEIVERS: list = []  # blinker holds receivers weakly: keep ours alive


def on_answered_questions_sent(sender, *, event_id: int, speaker_user_id: int, questions: list[dict], now=None,
                               **_extra):
    """The organizers send the answered questions of the live room to the speaker: one message (inbox, and the
    speaker's channels: e-mail when configured)."""
    event = db.session.get(Event, event_id)
    if event is not None and questions:
        notify(speaker_user_id, messages.answered_questions_draft(event=event, questions=questions),
               now=now or utcnow())


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
        (signals.registrations_signed_up, on_registrations_signed_up),
        (signals.event_changed, on_event_changed),
        (signals.event_cancelled, on_event_cancelled),
        (signals.pitch_application_decided, on_pitch_decided),
        (signals.pitch_slot_assigned, _slot_receiver("pitch_slot_assigned")),
        (signals.pitch_slot_changed, _slot_receiver("pitch_slot_changed")),
        (signals.pitch_slot_removed, _slot_receiver("pitch_slot_removed")),
        (judging_signals.team_application_decided, on_team_decided),
        (mentoring_signals.mentor_matched, on_mentor_matched),
        (mentoring_signals.match_accepted, on_match_accepted),
        (mentoring_signals.match_declined, on_match_declined),
        (mentoring_signals.office_hour_booked, on_office_hour_booked),
        (mentoring_signals.office_hour_cancelled, on_office_hour_cancelled),
        (mentoring_signals.office_hour_reminder, on_office_hour_reminder),
        (mentoring_signals.feedback_given, on_feedback_given),
        (mentoring_signals.roadshow_meetings_published, on_roadshow_meetings_published),
        (judging_signals.judge_invited, on_judge_invited),
        (judging_signals.results_published, on_results_published),
        (judging_signals.team_advanced, on_team_advanced),
        (account_signals.wechat_bound, on_wechat_bound),
        (live_signals.answered_questions_sent, on_answered_questions_sent),
    ]
    for signal, receiver in pairs:
        _RECEIVERS.append(receiver)
        signal.connect(receiver)
