"""Residents' pages of events: the town's upcoming events (filters: kind, the next 7 days, my events), an event's page
with its sign-up card (events/_signup.html), the forms that sign up, cancel and accept an offered seat, an event's
invitation to share (邀请函, no ticket in it), and "my events".

Plain HTML forms with CSRF that work without JavaScript; every rule lives in events/services/. A sign-up that a rule
refuses comes back with the reason next to the form and the answers still filled in; one that succeeds redirects
(POST-redirect-GET), so a reload never submits again, and a second submit (a double tap, a retry on a bad network)
gets the same registration back from the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError, Forbidden, NotFound, Unauthorized
from app.extensions import db
from app.page_cache import cached_for_anonymous
from events import signup_batches as sign_ups
from events.models import ACTIVE_STATUSES, EVENT_KINDS, Event, Registration
from events.presentation import event_moment, page_changes_with_time
from events.services import lotteries, reading, waitlist
from events.services import registration as registration_rules

bp = Blueprint("events", __name__, template_folder="templates")

WEEK = timedelta(days=7)
FILTER_KINDS = ("roadshow", "salon", "competition")
PAST_LIMIT = 50

STATUS_LABELS = {
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("Waitlisted"),
    "pending": _l("Pending approval"),
    "offered": _l("Seat offered"),
    "entered": _l("In the lottery"),
    "cancelled": _l("Cancelled"),
    "rejected": _l("Declined"),
    "expired": _l("Offer expired"),
}

# Why sign-up is not possible right now, by the service's error code (check_registration_open).
CLOSED_STATES = {"event_cancelled": "cancelled", "event_past": "past", "registration_not_open": "not_open",
                 "registration_closed": "closed"}


def registration_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


signup_time = event_moment  # one moment in Asia/Shanghai, as event_when writes it


# ---- the town's events --------------------------------------------------------------------------------------------

def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "on", "yes")


@bp.get("/")
@cached_for_anonymous
def index():
    if _truthy(request.args.get("mine")):
        return redirect(url_for("events.my_events"))
    kind = request.args.get("kind")
    kind = kind if kind in EVENT_KINDS else None
    week = _truthy(request.args.get("week"))
    now = utcnow()
    events = reading.upcoming_events(now=now, kind=kind, until=now + WEEK if week else None)
    mine = _my_active_registrations([e.id for e in events]) if current_user.is_authenticated else {}
    positions = {r.id: reading.waitlist_position(r) for r in mine.values() if r.status == "waitlisted"}
    page_changes_with_time(events)
    return render_template("events/index.html", events=events, kind=kind, week=week, mine=mine,
                           positions=positions, filter_kinds=FILTER_KINDS)


def _my_active_registrations(event_ids: list[int]) -> dict[int, Registration]:
    if not event_ids:
        return {}
    rows = db.session.scalars(sa.select(Registration).where(
        Registration.user_id == current_user.id, Registration.event_id.in_(event_ids),
        Registration.status.in_(ACTIVE_STATUSES)))
    return {r.event_id: r for r in rows}


# ---- an event's page and its sign-up card --------------------------------------------------------------------------

@bp.get("/events/<int:event_id>")
@cached_for_anonymous
def detail(event_id: int):
    event = reading.get_published_event(event_id)
    page_changes_with_time([event])
    return render_template("events/detail.html", event=event)


@dataclass
class SignupCard:
    """What events/_signup.html shows: whether and how one can sign up, and this person's registration."""

    event: Event
    state: str  # open | not_open | closed | past | cancelled
    action: str  # what the button does when open: sign_up | join_waitlist | request | enter_lottery
    viewer: str  # anonymous | needs_profile | ready
    registration: Registration | None = None
    position: int | None = None
    seats_left: int | None = None
    waiting: int = 0
    offer_lapsed: bool = False  # offered, the deadline passed, and the worker has not moved it on yet
    can_cancel: bool = False
    detail_url: str = ""
    login_url: str = ""
    profile_url: str = ""
    values: dict = field(default_factory=dict)  # answers typed (kept when a sign-up is refused)
    errors: dict = field(default_factory=dict)  # question id -> message
    message: str | None = None  # why the last sign-up was refused
    lottery: dict | None = None

    @property
    def active(self) -> bool:
        return self.registration is not None and self.registration.status in ACTIVE_STATUSES

    @property
    def can_sign_up(self) -> bool:
        """The form (or the way to it) shows: open, and not already signed up or declined by the organizer."""
        if self.state != "open" or self.active:
            return False
        return self.registration is None or self.registration.status != "rejected"


def signup_card(event: Event | None) -> SignupCard | None:
    if event is None or event.status == "draft":
        return None
    now = utcnow()
    try:
        registration_rules.check_registration_open(event, now=now)
        state = "open"
    except DomainError as error:
        state = CLOSED_STATES.get(error.code, "closed")
    seats_left = event.seats_left
    if event.waitlist_mode == "lottery" and event.lottery_drawn_at is None:
        action = "enter_lottery"
    elif event.requires_approval:
        action = "request"
    elif seats_left == 0:
        action = "join_waitlist"
    else:
        action = "sign_up"
    detail_url = url_for("events.detail", event_id=event.id)
    if not current_user.is_authenticated:
        viewer = "anonymous"
    elif not current_user.profile_complete:
        viewer = "needs_profile"
    else:
        viewer = "ready"
    card = SignupCard(event=event, state=state, action=action, viewer=viewer, seats_left=seats_left,
                      detail_url=detail_url, login_url=url_for("accounts.login", next=detail_url),
                      profile_url=url_for("accounts.profile", next=detail_url))
    if viewer != "anonymous":
        card.registration = reading.registration_of(event.id, current_user.id)
        if card.registration is not None:
            card.position = reading.waitlist_position(card.registration)
            card.offer_lapsed = (card.registration.status == "offered"
                                 and card.registration.offer_expires_at <= now)
        card.can_cancel = card.active and event.status != "cancelled" and event.starts_at > now
    if seats_left == 0 and not (card.active and card.registration.status == "confirmed"):
        card.waiting = reading.registration_counts(event.id).get("waitlisted", 0)
    if event.waitlist_mode == "lottery":
        card.lottery = _lottery_facts(event, card.registration)
    form = g.get("signup_form") or {}
    if form.get("event_id") == event.id:
        card.values, card.errors, card.message = form["values"], form["errors"], form["message"]
    elif card.registration is not None:
        card.values = dict(card.registration.answers or {})
    return card


def _lottery_facts(event: Event, registration: Registration | None) -> dict:
    facts = {"draw_at": event.lottery_draw_at, "seed_hash": event.lottery_seed_hash, "drawn": False}
    if event.lottery_drawn_at is not None and event.lottery_seed:
        facts.update(drawn=True, drawn_at=event.lottery_drawn_at, seed=event.lottery_seed,
                     entries=db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
                         Registration.event_id == event.id, Registration.lottery_rank.is_not(None))))
        if registration is not None and registration.lottery_rank is not None:
            facts.update(rank=registration.lottery_rank, registration_id=registration.id,
                         key=lotteries.lottery_order_key(event.lottery_seed, registration.id))
    return facts


def _answers_from(event: Event, form) -> dict:
    """The event's questions only, as typed (the service checks them and reports per question)."""
    answers = {}
    for question in event.questions or []:
        value = form.get(f"answer-{question['id']}")
        if value is not None:
            answers[question["id"]] = value
    return answers


def _back_to(event_id: int):
    return redirect(url_for("events.detail", event_id=event_id, _anchor="signup"))


@bp.get("/events/<int:event_id>/signup")
@bp.get("/events/<int:event_id>/signup/cancel")
@bp.get("/events/<int:event_id>/signup/accept")
def signup_get(event_id: int):
    """Only forms post here; a link or a sign-in that comes back here lands on the event."""
    return _back_to(event_id)


@bp.post("/events/<int:event_id>/signup")
def sign_up(event_id: int):
    event = reading.get_event(event_id)
    detail_url = url_for("events.detail", event_id=event.id)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=detail_url))
    user = current_user._get_current_object()
    if not user.profile_complete:
        flash(_("Please complete your profile first; it is used for every sign-up."), "info")
        return redirect(url_for("accounts.profile", next=detail_url))
    answers = _answers_from(event, request.form)
    try:
        registration, created = sign_ups.sign_up(event.id, user, now=utcnow(), answers=answers)
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, NotFound | Forbidden | Unauthorized):
            raise
        return _refused(event, error, answers)
    flash(_signed_up_message(registration, created), "success" if registration.status == "confirmed" else "info")
    return _back_to(event.id)


def _refused(event: Event, error: DomainError, answers: dict):
    """Show the event again, the reason next to the form, the answers as they were typed."""
    fields = (error.details.get("fields") or {}) if error.code == "invalid_answers" else {}
    g.signup_form = {"event_id": event.id, "values": answers, "errors": fields, "message": str(error.message)}
    return render_template("events/detail.html", event=event), error.status


def _signed_up_message(registration: Registration, created: bool) -> str:
    if not created:
        return _("You are already signed up; nothing was sent twice.")
    status = registration.status
    if status == "confirmed":
        return _("You are in! See you there.")
    if status == "waitlisted":
        return _("The event is full: you are on the waitlist, number %(n)d.",
                 n=reading.waitlist_position(registration))
    if status == "pending":
        return _("Sent: the organizer reviews sign-ups and will let you know.")
    if status == "entered":
        draw_at = registration.event.lottery_draw_at
        return _("You are in the lottery: the draw is at %(when)s.", when=signup_time(draw_at))
    return registration_status_label(status)


@bp.post("/events/<int:event_id>/signup/cancel")
@login_required
def cancel(event_id: int):
    event = reading.get_event(event_id)
    registration = reading.registration_of(event.id, current_user.id)
    if registration is None:
        flash(_("You are not signed up for this event."), "info")
    elif registration.status not in ACTIVE_STATUSES:  # a second tap, or another tab, got here first
        flash(_("Your registration is already cancelled."), "info")
    else:
        was = registration.status
        waitlist.cancel_registration(registration.id, current_user, now=utcnow())
        db.session.commit()
        flash(_cancelled_message(was), "info")
    return _back_to(event.id)


def _cancelled_message(was: str) -> str:
    if was == "waitlisted":
        return _("You left the waitlist.")
    if was == "entered":
        return _("You left the lottery.")
    if was == "pending":
        return _("Your sign-up is withdrawn.")
    if was == "offered":
        return _("You passed on the seat; it goes to the next person waiting.")
    return _("Your registration is cancelled; your seat goes to the next person waiting.")


@bp.post("/events/<int:event_id>/signup/accept")
@login_required
def accept(event_id: int):
    event = reading.get_event(event_id)
    registration = reading.registration_of(event.id, current_user.id)
    if registration is None:
        flash(_("There is no seat waiting for you to accept."), "error")
        return _back_to(event.id)
    second_tap = registration.status == "confirmed"
    try:  # the one rule: a retry gets the confirmed seat, no offer and a lapsed offer are told apart
        waitlist.accept_offer(registration.id, current_user, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("You are in! See you there.") if second_tap else _("The seat is yours. See you there!"), "success")
    return _back_to(event.id)


# ---- an invitation to share ------------------------------------------------------------------------------------------

@bp.get("/events/<int:event_id>/invite")
@cached_for_anonymous
def invitation(event_id: int):
    """An event's invitation (邀请函), for anyone with the link (sent in a chat): title, time, place, summary and a
    button to the event's sign-up; no ticket and nothing of whoever shared it. A draft is not found, as its page
    is; a cancelled or ended event says so instead of offering the sign-up."""
    event = reading.get_published_event(event_id)
    now = utcnow()
    state = "cancelled" if event.status == "cancelled" else "past" if event.ends_at <= now else "open"
    page_changes_with_time([event])
    return render_template("events/invite.html", event=event, state=state)


def invitation_offered(event: Event) -> bool:
    """The event's page shows "邀请朋友": to a signed-in person signed up for it (any active registration) and to
    its organizers, while the event is published and not over."""
    if event is None or event.status != "published" or event.ends_at <= utcnow():
        return False
    if not current_user.is_authenticated:
        return False
    if reading.is_organizer(current_user, event):
        return True
    registration = reading.registration_of(event.id, current_user.id)
    return registration is not None and registration.status in ACTIVE_STATUSES


# ---- my events ------------------------------------------------------------------------------------------------------

@bp.get("/me/events")
@login_required
def my_events():
    """Everything I signed up for: what is coming (soonest first) and what is past (latest first)."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(Registration, Event).join(Event, Event.id == Registration.event_id)
        .where(Registration.user_id == current_user.id, Event.status != "draft")
    ).all()
    upcoming = sorted((r for r, e in rows if e.ends_at >= now), key=lambda r: (r.event.starts_at, r.event_id))
    past = sorted((r for r, e in rows if e.ends_at < now), key=lambda r: r.event.starts_at, reverse=True)
    positions = {r.id: reading.waitlist_position(r) for r in upcoming if r.status == "waitlisted"}
    return render_template("events/my_events.html", upcoming=upcoming, past=past[:PAST_LIMIT],
                           positions=positions, filter_kinds=FILTER_KINDS, active_statuses=ACTIVE_STATUSES)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(signup_card=signup_card, registration_status_label=registration_status_label,
                                 signup_time=signup_time, invitation_offered=invitation_offered)
