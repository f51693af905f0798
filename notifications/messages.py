"""What each message says. Every draft's `render(locale)` is called under flask_babel.force_locale(locale), so the
_() strings, dates and event titles come out in the recipient's language (Chinese first, English second)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_skeleton
from flask_babel import format_time, get_locale, get_timezone
from flask_babel import gettext as _

from notifications.services import Draft


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
                 urgent=kind == "registration_offered", event_id=event.id)


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
