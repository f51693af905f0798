"""What each message says. Every draft's `render(locale)` is called under flask_babel.force_locale(locale), so the
_() strings, dates and event titles come out in the recipient's language (Chinese first, English second)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from babel.dates import format_skeleton
from flask_babel import format_time, get_locale, get_timezone
from flask_babel import gettext as _

from notifications.writing import Draft


def when(moment: datetime | None) -> str:
    """'12月3日周四 19:00' / 'Thu, Dec 3 19:00', in Asia/Shanghai."""
    if moment is None:
        return ""
    day = format_skeleton("MMMEd", moment, tzinfo=get_timezone(), locale=get_locale())
    return f"{day} {format_time(moment, 'HH:mm')}"


def event_title(event, locale: str) -> str:
    if locale == "en" and getattr(event, "title_en", ""):
        return event.title_en
    return event.title


def event_link(event_id: int) -> str:
    return f"/events/{int(event_id)}"


def _where(event) -> str:
    parts = [when(event.starts_at), event.venue or ""]
    return " · ".join(p for p in parts if p)


# ---- registrations -------------------------------------------------------------------------------------------------

def registration_draft(kind: str, registration, event, *, outcome: str | None = None) -> Draft | None:
    """The message for one change of a person's registration, or None for changes they made themselves."""

    def render(locale: str) -> tuple[str, str]:
        title = event_title(event, locale)
        if kind == "registration_confirmed":
            return _("You're in: %(title)s", title=title), _("Your seat is confirmed. %(where)s", where=_where(event))
        if kind == "registration_waitlisted":
            return (_("On the waitlist: %(title)s", title=title),
                    _("The event is full. You are on the waitlist and will be told when a seat frees up."))
        if kind == "registration_pending":
            return (_("Sign-up received: %(title)s", title=title),
                    _("The organizers review each sign-up; you will hear from them."))
        if kind == "registration_entered_lottery":
            return (_("In the lottery: %(title)s", title=title),
                    _("Seats are drawn by lottery on %(when)s.", when=when(event.lottery_draw_at)))
        if kind == "registration_approved":
            if outcome == "waitlisted":
                return (_("Approved, on the waitlist: %(title)s", title=title),
                        _("The organizers approved you; the event is full, so you are on the waitlist."))
            return (_("Approved: %(title)s", title=title),
                    _("The organizers approved your sign-up. Your seat is confirmed. %(where)s", where=_where(event)))
        if kind == "registration_rejected":
            return (_("Not accepted: %(title)s", title=title),
                    _("The organizers could not accept your sign-up this time."))
        if kind == "registration_promoted":
            return (_("A seat for you: %(title)s", title=title),
                    _("A seat freed up and it is yours: you are confirmed. %(where)s", where=_where(event)))
        if kind == "registration_offered":
            return (_("A seat is held for you: %(title)s", title=title),
                    _("Accept it before %(when)s or it goes to the next person.",
                      when=when(registration.offer_expires_at)))
        if kind == "registration_offer_expired":
            return (_("Offer expired: %(title)s", title=title),
                    _("The seat held for you was not taken in time and went to the next person."))
        raise ValueError(kind)

    if kind not in KINDS_BY_SIGNAL.values():
        return None
    return Draft(kind=kind, category="registrations", render=render, link=event_link(event.id),
                 dedupe_key=f"registration:{registration.id}:{kind}:{registration.version}",
                 urgent=kind == "registration_offered", event_id=event.id,
                 # the text names the event, not the person (an offer names its own deadline)
                 text_key=None if kind == "registration_offered" else f"{kind}:{outcome}:{event.id}")


KINDS_BY_SIGNAL = {
    "registration-confirmed": "registration_confirmed",
    "registration-waitlisted": "registration_waitlisted",
    "registration-pending": "registration_pending",
    "registration-entered-lottery": "registration_entered_lottery",
    "registration-approved": "registration_approved",
    "registration-rejected": "registration_rejected",
    "registration-promoted": "registration_promoted",
    "registration-offered": "registration_offered",
    "registration-offer-expired": "registration_offer_expired",
}


# ---- events moving -------------------------------------------------------------------------------------------------

def event_changed_draft(event, changes: dict) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        title = event_title(event, locale)
        lines = []
        if "starts_at" in changes or "ends_at" in changes:
            lines.append(_("New time: %(when)s", when=when(event.starts_at)))
        if "venue" in changes:
            lines.append(_("New place: %(venue)s", venue=event.venue))
        if not lines:
            lines.append(_("Details of the event changed."))
        return _("Changed: %(title)s", title=title), "\n".join(lines)

    return Draft(kind="event_changed", category="schedule", render=render, link=event_link(event.id),
                 dedupe_key=f"event:{event.id}:changed:{event.sequence}", urgent=True, event_id=event.id)


def event_cancelled_draft(event, reason: str) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        body = _("The event on %(when)s will not take place.", when=when(event.starts_at))
        if reason:
            body += "\n" + _("Reason: %(reason)s", reason=reason)
        return _("Cancelled: %(title)s", title=event_title(event, locale)), body

    return Draft(kind="event_cancelled", category="schedule", render=render, link=event_link(event.id),
                 dedupe_key=f"event:{event.id}:cancelled", urgent=True, event_id=event.id)


# ---- pitching and the competition ---------------------------------------------------------------------------------

def pitch_decided_draft(application, event, status: str, previous: str | None, note: str) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        title = event_title(event, locale)
        if status == "accepted":
            head = _("Your pitch is accepted: %(title)s", title=title)
            body = _("“%(project)s” will pitch; your time slot follows when the line-up is published.",
                     project=application.project_name)
        else:
            head = _("Your pitch application: %(title)s", title=title)
            body = _("“%(project)s” was not selected this time.", project=application.project_name)
        if note:
            body += "\n" + _("Organizers' note: %(note)s", note=note)
        return head, body

    return Draft(kind="pitch_decided", category="results", render=render, transactional=True,
                 link=f"/events/{event.id}/pitch/mine", event_id=event.id,
                 dedupe_key=f"pitch:{application.id}:{previous or ''}:{status}")


def pitch_slot_draft(kind: str, event, *, slot_id: int, position: int, starts_at: datetime,
                     ends_at: datetime) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        title = event_title(event, locale)
        if kind == "pitch_slot_removed":
            return (_("Pitch slot removed: %(title)s", title=title),
                    _("Your team is no longer in the published line-up."))
        head = (_("Your pitch slot: %(title)s", title=title) if kind == "pitch_slot_assigned"
                else _("Your pitch slot moved: %(title)s", title=title))
        return head, _("You pitch as number %(n)d at %(when)s.", n=position, when=when(starts_at))

    stamp = starts_at.isoformat() if starts_at else ""
    return Draft(kind=kind, category="schedule", render=render, link=f"/events/{event.id}/pitch/lineup",
                 dedupe_key=f"slot:{slot_id}:{kind}:{stamp}", event_id=event.id,
                 urgent=kind == "pitch_slot_changed")


def team_decided_draft(application_id: int, team_name: str, status: str, previous: str | None,
                       note: str) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        if status == "accepted":
            head = _("Your team is in: %(team)s", team=team_name)
            body = _("The organizers accepted your team's application to the competition.")
        else:
            head = _("Your team's application: %(team)s", team=team_name)
            body = _("The application was not accepted this time.")
        if note:
            body += "\n" + _("Organizers' note: %(note)s", note=note)
        return head, body

    return Draft(kind="team_decided", category="results", render=render, transactional=True,
                 link=f"/teams/{application_id}", dedupe_key=f"team:{application_id}:{previous or ''}:{status}")


# ---- reminders -----------------------------------------------------------------------------------------------------

def event_reminder_draft(event, label: str) -> Draft:
    """A day (`24h`) or an hour (`1h`) before an event, to everyone holding a confirmed seat. The key carries the
    start time, so an event that moves is reminded of again at its new time."""

    def render(locale: str) -> tuple[str, str]:
        title = event_title(event, locale)
        head = (_("Tomorrow: %(title)s", title=title) if label == "24h"
                else _("Starting in an hour: %(title)s", title=title))
        return head, _("%(where)s. Your ticket is in My events.", where=_where(event))

    stamp = int(event.starts_at.timestamp())
    return Draft(kind=f"event_reminder_{label}", category="reminders", render=render, link=event_link(event.id),
                 dedupe_key=f"reminder:event:{event.id}:{label}:{stamp}", urgent=label == "1h", event_id=event.id)


def office_hour_reminder_draft(*, booking_id: int, label: str, other_name: str, starts_at: datetime,
                               location: str) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        head = (_("Office hour tomorrow with %(name)s", name=other_name) if label == "24h"
                else _("Office hour in an hour with %(name)s", name=other_name))
        return head, " · ".join(part for part in (when(starts_at), location) if part)

    return Draft(kind=f"office_hour_reminder_{label}", category="reminders", render=render,
                 link="/mentoring/office-hours", urgent=label == "1h",
                 dedupe_key=f"reminder:booking:{booking_id}:{label}:{int(starts_at.timestamp())}")


# ---- mentoring -----------------------------------------------------------------------------------------------------

def mentor_matched_draft(match_id: int, founder_name: str) -> Draft:
    """To the mentor: a founder was matched with them and waits for their answer."""

    def render(locale: str) -> tuple[str, str]:
        return (_("A founder to mentor: %(name)s", name=founder_name),
                _("Please accept or decline the match in Mentoring."))

    return Draft(kind="mentor_matched", category="mentoring", render=render, link="/mentoring/",
                 dedupe_key=f"match:{match_id}:proposed")


def match_accepted_draft(match_id: int, mentor_id: int, mentor_name: str) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        return (_("%(name)s is your mentor", name=mentor_name),
                _("Your mentor accepted the match. Book an office hour when it suits you."))

    return Draft(kind="match_accepted", category="mentoring", render=render, transactional=True,
                 link=f"/mentoring/mentors/{int(mentor_id)}/book", dedupe_key=f"match:{match_id}:accepted")


def match_declined_draft(match_id: int, *, next_offered: bool) -> Draft:
    """To the founder; who declined and why stays with the organizers."""

    def render(locale: str) -> tuple[str, str]:
        if next_offered:
            return (_("Your mentor match changed"),
                    _("The proposed mentor could not take you on; we asked the next best mentor for you."))
        return (_("Your mentor match changed"),
                _("The proposed mentor could not take you on, and no other mentor has room right now. The "
                  "organizers will be in touch."))

    return Draft(kind="match_declined", category="mentoring", render=render, transactional=True, link="/mentoring/",
                 dedupe_key=f"match:{match_id}:declined")


def office_hour_booked_draft(*, booking_id: int, for_mentor: bool, other_name: str, starts_at: datetime,
                             moved: bool) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        if for_mentor:
            head = (_("Office hour moved by %(name)s", name=other_name) if moved
                    else _("Office hour booked by %(name)s", name=other_name))
        else:
            head = _("Office hour booked with %(name)s", name=other_name)
        return head, when(starts_at)

    side = "mentor" if for_mentor else "founder"
    return Draft(kind="office_hour_booked", category="mentoring", render=render, transactional=True,
                 link="/mentoring/office-hours", dedupe_key=f"booking:{booking_id}:booked:{side}")


def office_hour_cancelled_draft(*, booking_id: int, other_name: str, starts_at: datetime) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        return (_("Office hour cancelled by %(name)s", name=other_name),
                _("The meeting on %(when)s will not take place.", when=when(starts_at)))

    return Draft(kind="office_hour_cancelled", category="mentoring", render=render, transactional=True,
                 urgent=True, link="/mentoring/office-hours", dedupe_key=f"booking:{booking_id}:cancelled")


def feedback_given_draft(*, feedback_id: int, booking_id: int, author_name: str) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        return (_("%(name)s shared feedback on your office hour", name=author_name),
                _("Read it in Mentoring."))

    return Draft(kind="feedback_given", category="mentoring", render=render,
                 link=f"/mentoring/bookings/{int(booking_id)}/feedback", dedupe_key=f"feedback:{feedback_id}")


def roadshow_meetings_draft(event, meeting_ids) -> Draft:
    stamp = max(meeting_ids) if meeting_ids else 0

    def render(locale: str) -> tuple[str, str]:
        return (_("Your investor meetings: %(title)s", title=event_title(event, locale)),
                _("The one-to-one meetings after the pitches are out: see whom you meet, when and at which table."))

    return Draft(kind="roadshow_meetings", category="mentoring", render=render, transactional=True,
                 link=f"/mentoring/roadshow/{event.id}/meetings", event_id=event.id,
                 dedupe_key=f"roadshow:{event.id}:meetings:{stamp}")


# ---- judging -------------------------------------------------------------------------------------------------------

def judge_invited_draft(*, judge_id: int, competition_name: str, round_name: str, invite_path: str,
                        expires_at: datetime | None, is_shadow: bool) -> Draft:
    """The one-time sign-in link is the message's deep link; a new link (re-issued) is a new message."""
    def render(locale: str) -> tuple[str, str]:
        head = (_("Invitation to shadow-judge: %(round)s", round=round_name) if is_shadow
                else _("Invitation to judge: %(round)s", round=round_name))
        body = _("%(competition)s. Open the link on your phone to score; it works once.",
                 competition=competition_name)
        if expires_at is not None:
            body += " " + _("Valid until %(when)s.", when=when(expires_at))
        return head, body

    digest = hashlib.sha256(invite_path.encode()).hexdigest()[:16]
    return Draft(kind="judge_invited", category="results", render=render, transactional=True, link=invite_path,
                 dedupe_key=f"judge:{judge_id}:invited:{digest}")


def results_published_draft(*, round_id: int, round_name: str, application_id: int, team_name: str,
                            rank: int | None) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        head = _("Results are out: %(round)s", round=round_name)
        if rank is not None:
            return head, _("%(team)s ranked number %(rank)d.", team=team_name, rank=rank)
        return head, _("The results of %(team)s are on the team's page.", team=team_name)

    return Draft(kind="results_published", category="results", render=render,
                 link=f"/teams/{int(application_id)}",
                 dedupe_key=f"results:{round_id}:{application_id}:{'' if rank is None else rank}")


def team_advanced_draft(*, to_round_id: int, to_round_name: str, application_id: int, team_name: str) -> Draft:
    def render(locale: str) -> tuple[str, str]:
        return (_("Your team advances: %(round)s", round=to_round_name),
                _("%(team)s goes on to %(round)s. Congratulations!", team=team_name, round=to_round_name))

    return Draft(kind="team_advanced", category="results", render=render, transactional=True,
                 link=f"/teams/{int(application_id)}", dedupe_key=f"advanced:{to_round_id}:{application_id}")


def answered_questions_draft(*, event, questions: list[dict]) -> Draft:
    """The questions marked answered in an event's live room, for its speaker: each with its votes, when it was asked
    and who asked it (never for an anonymous one). Sending again the same list is the same message."""
    def render(locale: str) -> tuple[str, str]:
        lines = []
        for i, q in enumerate(questions, start=1):
            asked_by = q["author"] or _("anonymous")
            lines.append(_("%(i)d. %(text)s (%(votes)d votes; asked %(when)s by %(who)s)", i=i, text=q["text"],
                           votes=q["votes"], when=when(q["asked_at"]), who=asked_by))
        return (_("Answered questions: %(event)s", event=event_title(event, locale)),
                _("%(n)d questions answered in the live room:", n=len(questions)) + "\n" + "\n".join(lines))

    digest = hashlib.sha256(repr([(q["text"], q["votes"]) for q in questions]).encode()).hexdigest()[:16]
    return Draft(kind="live_answered_questions", category="results", render=render, transactional=True,
                 link=event_link(event.id), event_id=event.id,
                 dedupe_key=f"live:{event.id}:answered:{digest}")
