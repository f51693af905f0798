"""Pages of the live room: the attendee's phone page, the moderators' page and the big screen. Thin: each page is
driven by app/static/js/live-room.js over the JSON API (api.py) and the Socket.IO rooms (realtime.py)."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for
from flask_login import current_user

from app import spreadsheets
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from checkin import qr
from events.presentation import add_event_page_part, add_manage_page_part
from judging.views import add_console_part, add_screen_part
from live import exports, presenters
from live.services import access, polls, questions, speaker

bp = Blueprint("live", __name__, template_folder="templates")


def _page(template: str, event, **extra):
    return render_template(template, event=event, settings=access.room_settings(event.id),
                           moderator=access.is_organizer(current_user, event), max_question=questions.MAX_QUESTION,
                           max_poll_question=polls.MAX_POLL_QUESTION,
                           **extra)


@bp.get("/events/<int:event_id>/live")
@login_required
def room(event_id: int):
    """The attendee's phone page: ask, upvote, see the list move."""
    return _page("live/room.html", access.participant_event(event_id, current_user))


@bp.get("/events/<int:event_id>/live/moderate")
@login_required
def moderate(event_id: int):
    """The moderators' page (organizers): every question, with show, hide, pin and answered, and the settings."""
    event = access.moderated_event(event_id, current_user)
    person = speaker.speaker_of(access.room_settings(event.id))
    return _page("live/moderate.html", event, speaker=presenters.speaker_payload(person))


@bp.get("/events/<int:event_id>/live/screen")
@login_required
def screen(event_id: int):
    """The big screen (1920x1080): how to join (QR code and short link), the pinned question and the top ones, the
    poll whose results are shown, the people's choice, live."""
    event = access.moderated_event(event_id, current_user)
    return _page("live/screen.html", event, join=joining(event.id))


@bp.get("/events/<int:event_id>/live/join")
@login_required
def join_sheet(event_id: int):
    """A printable sheet for the tables and the door: the QR code and the short link of the live room."""
    event = access.moderated_event(event_id, current_user)
    return _page("live/join.html", event, join=joining(event.id))


@bp.get("/l/<int:event_id>")
def short_link(event_id: int):
    """The short link people type from the screen: the live room (signing in first when needed, as any page)."""
    return redirect(url_for("live.room", event_id=event_id))


def joining(event_id: int) -> dict:
    """The short link of an event's live room and its QR code (the link grants nothing: the phone signs in, and only
    the event's attendees take part)."""
    link = url_for("live.short_link", event_id=event_id, _external=True)
    return {"link": link, "shown": link.split("://", 1)[-1], "qr": qr.qr_svg(link)}


def room_links(event) -> dict | None:
    """The live room's pages this person is led to from the event's page and the organizer's page: the phone page
    for an attendee with a confirmed seat while the room is offered (access.room_offered); for the event's
    organizers also the moderators' page, the big screen and the joining sheet (always, to prepare it). None when
    none."""
    if not current_user.is_authenticated or event.status == "cancelled":
        return None
    organizer = access.is_organizer(current_user, event)
    if not organizer:
        try:
            access.participant_event(event.id, current_user)
        except DomainError:
            return None
        if not access.room_offered(event, now=utcnow()):
            return None
    links = {"room": url_for("live.room", event_id=event.id)}
    if organizer:
        links.update(moderate=url_for("live.moderate", event_id=event.id),
                     screen=url_for("live.screen", event_id=event.id),
                     sheet=url_for("live.join_sheet", event_id=event.id))
    return links


@bp.get("/events/<int:event_id>/live/export.xlsx")
@login_required
def export_xlsx(event_id: int):
    """The questions (with votes and status) and the polls' results, as an Excel workbook (organizers)."""
    event = access.moderated_event(event_id, current_user)
    return spreadsheets.xlsx_download(exports.live_room_workbook(event.id, current_user),
                                      filename=f"{event.title}-live.xlsx", ascii_filename="live.xlsx")


@bp.get("/events/<int:event_id>/live/<any(questions, polls):what>.csv")
@login_required
def export_csv(event_id: int, what: str):
    """The questions, or the polls' results, as CSV (organizers)."""
    event = access.moderated_event(event_id, current_user)
    rows_of = exports.questions_rows if what == "questions" else exports.polls_rows
    header, rows = rows_of(event.id, current_user)
    return spreadsheets.csv_download(header, rows, filename=f"{event.title}-{what}.csv",
                                     ascii_filename=f"live-{what}.csv")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(live_room_links=room_links)
    add_event_page_part(app, "live/_event_links.html")
    add_manage_page_part(app, "live/_event_links.html")
    add_console_part(app, "live/_round_console.html")  # the people's choice, run from the round's console
    add_screen_part(app, "live/_round_screen.html")  # ... and drawn on the round's big screen
