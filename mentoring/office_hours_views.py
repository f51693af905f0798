"""Pages of office hours and feedback (Chinese first, phone-sized): a mentor's weekly availability and meetings, a
matched founder's booking (choose a slot, cancel, move), feedback after a meeting, the organizers' feedback report,
and a mentor's ranking of a cycle's founders. Thin: the rules are in mentoring.office_hours and mentoring.services."""

from __future__ import annotations

from itertools import groupby

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.authz import has_role, login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inputs import parse_id
from judging.models import TeamApplication
from mentoring import office_hours, services, suggestions
from mentoring.models import Availability, Booking
from mentoring.office_hours import SHANGHAI
from mentoring.views import bp


def _user():
    return current_user._get_current_object()


def weekday_names() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _act(action, success: str, target: str):
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        if error.status in (401, 404):
            raise
        details = " ".join(str(v) for v in (error.details.get("fields") or {}).values())
        flash(f"{error.message} {details}".strip(), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(target)


# ---- mentors: availability and meetings ------------------------------------------------------------------------

@bp.route("/office-hours", methods=["GET", "POST"])
@login_required
def office_hours_page():
    user = _user()
    if not has_role(user, "mentor"):
        flash(_("Only mentors keep office hours."), "error")
        return redirect(url_for(".index"))
    if request.method == "POST":
        form = request.form

        def action():
            try:
                weekday, minutes = int(form.get("weekday", "")), int(form.get("slot_minutes", "30"))
            except ValueError:
                weekday, minutes = -1, 0
            office_hours.add_availability(user, weekday=weekday, start=form.get("start", ""),
                                          end=form.get("end", ""), slot_minutes=minutes,
                                          location=form.get("location", ""), now=utcnow())

        return _act(action, _("Saved: founders matched with you can book these slots."), url_for(".office_hours_page"))
    now = utcnow()
    ranges = db.session.scalars(db.select(Availability).where(Availability.mentor_id == user.id)
                                .order_by(Availability.weekday, Availability.start_minute)).all()
    return render_template("mentoring/office_hours.html", ranges=ranges, weekdays=weekday_names(),
                           lengths=office_hours.SLOT_LENGTHS, bookings=office_hours.bookings_of(user, now=now),
                           to_rate=office_hours.meetings_to_rate(user, now=now),
                           free=len(office_hours.open_slots(user.id, now=now)), now=now)


# ---- founders: booking, cancelling, moving ---------------------------------------------------------------------

@bp.get("/mentors/<int:mentor_id>/book")
@login_required
def book_page(mentor_id: int):
    user = _user()
    now = utcnow()
    slots = office_hours.slots_for_founder(mentor_id, user, now=now)  # 404 unless this is my own mentor
    current = [b for b in office_hours.bookings_of(user, now=now)
               if b.mentor_id == mentor_id and b.founder_id == user.id and b.status == "booked"]
    days = [(day, list(group)) for day, group in groupby(slots, key=lambda s: s.starts_at.astimezone(SHANGHAI).date())]
    mentor = services.mentor_profile_of(mentor_id)
    return render_template("mentoring/book.html", mentor=mentor, days=days, current=current[0] if current else None,
                           weekdays=weekday_names())


@bp.post("/slots/<int:slot_id>/book")
@login_required
def book(slot_id: int):
    mentor_id = request.form.get("mentor_id", type=parse_id) or 0
    return _act(lambda: office_hours.book_slot(slot_id, _user(), topic=request.form.get("topic", ""), now=utcnow()),
                _("Booked. It is in your calendar, and you will be reminded the day before."),
                url_for(".book_page", mentor_id=mentor_id) if request.form.get("back") == "book"
                else url_for(".index"))


@bp.post("/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    return _act(lambda: office_hours.cancel_booking(booking_id, _user(), now=utcnow()),
                _("Cancelled. The other side is told."), _back_to(request.form.get("next")))


def _back_to(path: str | None) -> str:
    """Only our own pages (never an address someone else put in the form)."""
    if path and path.startswith("/mentoring/") and "//" not in path and "\\" not in path:
        return path
    return url_for(".index")


@bp.post("/bookings/<int:booking_id>/move")
@login_required
def move(booking_id: int):
    slot_id = request.form.get("slot_id", type=parse_id) or 0
    return _act(lambda: office_hours.move_booking(booking_id, _user(), new_slot_id=slot_id, now=utcnow()),
                _("Moved. The mentor is told."), url_for(".index"))


# ---- feedback --------------------------------------------------------------------------------------------------

@bp.route("/bookings/<int:booking_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback(booking_id: int):
    user = _user()
    seen = office_hours.feedback_on_booking(booking_id, user)  # 404 unless it is my meeting
    if request.method == "POST":
        form = request.form
        try:
            rating = int(form.get("rating", ""))
        except ValueError:
            rating = 0
        return _act(lambda: office_hours.give_feedback(booking_id, user, rating=rating,
                                                       comment=form.get("comment", ""),
                                                       shared=form.get("shared") == "1", now=utcnow()),
                    _("Thank you for your feedback."), url_for(".feedback", booking_id=booking_id))
    booking: Booking = seen["booking"]
    other = booking.match.mentor if booking.founder_id == user.id else booking.match.founder
    return render_template("mentoring/feedback.html", booking=booking, other=other, mine=seen["mine"],
                           theirs=seen["theirs"], held=booking.slot.starts_at <= utcnow())


@bp.get("/feedback")
@login_required
def feedback_report():
    cycle_id = request.args.get("cycle_id", type=parse_id)
    report = office_hours.feedback_report(_user(), cycle_id=cycle_id)
    mentors = {p.user_id: p.user.display_name for p in services.list_mentors()}
    return render_template("mentoring/feedback_report.html", report=report, cycles=services.list_cycles(),
                           cycle_id=cycle_id, mentor_names=mentors,
                           cycle_names={c.id: c.name for c in services.list_cycles()})


# ---- mentors rank founders (stable mode) -----------------------------------------------------------------------

@bp.route("/cycles/<int:cycle_id>/ranking", methods=["GET", "POST"])
@login_required
def ranking(cycle_id: int):
    user = _user()
    cycle = services.get_cycle(cycle_id)
    target = url_for(".ranking", cycle_id=cycle_id)
    if request.method == "POST":
        order = []
        for key, value in request.form.items():
            if key.startswith("rank-") and value.strip():
                try:
                    order.append((int(value), int(key.removeprefix("rank-"))))
                except ValueError:
                    continue
        founder_ids = [founder for _, founder in sorted(order)]
        return _act(lambda: services.set_ranking(cycle_id, user, founder_ids=founder_ids, now=utcnow()),
                    _("Your ranking is saved."), target)
    try:
        requests = services.requests_to_rank(cycle_id, user)
    except DomainError as error:
        if error.status in (401, 404):
            raise
        flash(str(error.message), "error")
        return redirect(url_for(".index"))
    ranks = {founder: i + 1 for i, founder in enumerate(services.ranking_of(cycle_id, user.id))}
    requests.sort(key=lambda r: (ranks.get(r.founder_id, 10_000), r.id))
    return render_template("mentoring/ranking.html", cycle=cycle, requests=requests, ranks=ranks)


# ---- from judging to mentoring ---------------------------------------------------------------------------------

@bp.get("/suggestions")
@login_required
def suggestions_page():
    user = _user()
    organizer = suggestions.can_see_all(user)
    results, asked, error = [], None, None
    if organizer:
        team_id = request.args.get("team_id", type=parse_id)
        tags = request.args.getlist("weak")
        try:
            if team_id and tags:
                asked = (team_id, tags)
                results = suggestions.suggestions_for_organizers(user, {team_id: tags})
            else:
                results = suggestions.suggestions_for_organizers(user)
        except DomainError as exc:
            error = str(exc.message)
        teams = db.session.scalars(db.select(TeamApplication).where(TeamApplication.status != "withdrawn")
                                   .order_by(TeamApplication.team_name).limit(500)).all()
    else:
        results = suggestions.suggestions_for_member(user)
        teams = []
    names = {t.id: t.team_name for t in teams}
    for result in results:
        if result.team_id not in names:
            team = db.session.get(TeamApplication, result.team_id)
            names[result.team_id] = team.team_name if team else f"#{result.team_id}"
    return render_template("mentoring/suggestions.html", organizer=organizer, results=results, teams=teams,
                           team_names=names, asked=asked, error=error, labels=suggestions.WEAK_POINT_LABELS)
