"""Pages of check-in: "my ticket" (a big QR code that keeps working offline, through a service worker scoped to
/tickets/), the scanner of an event's gate for phones, and the organizers' check-in summary with the log's export.

Thin: every rule is in its module of checkin/ (checkin/services.py lists them); the scanner page is driven by
app/static/checkin-scanner.js over the JSON API (api.py) and the Socket.IO room of the event (realtime.py)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import spreadsheets
from app.authz import has_role, login_required, scope_key
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from checkin import admission, door, numbers, presenters, qr, tickets
from events.models import Registration

bp = Blueprint("checkin", __name__, template_folder="templates")

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
DEFAULT_GATES = ("A", "B", "C")

RESULT_LABELS = {
    "admitted": _l("Admitted"),
    "already_admitted": _l("Already admitted"),
    "invalid": _l("Not a valid ticket"),
    "revoked": _l("Ticket cancelled or replaced"),
    "wrong_event": _l("Ticket for another event"),
    "not_open": _l("Check-in is not open"),
    "exited": _l("Left the venue"),
    "not_inside": _l("Not inside"),
}
TICKET_TYPE_LABELS = {"standard": _l("Attendee"), "walk_in": _l("Walk-in")}
MODE_LABELS = {"online": _l("Scan"), "offline": _l("Offline scan"), "manual": _l("Manual"),
               "override": _l("Override"), "walk_in": _l("Walk-in")}


@bp.get("/tickets/<int:registration_id>")
@login_required
def my_ticket(registration_id: int):
    """The ticket: a QR code as large as the screen allows, what, when, where and who, and add-to-calendar.
    A registration that has no ticket (cancelled, waitlisted, not confirmed yet, the event cancelled) answers 410
    with the page saying so as a person would, and no code: the phone's offline copy (checkin-sw.js) is replaced."""
    try:
        registration, token = tickets.ticket_for(registration_id, current_user, now=utcnow())
    except DomainError as error:
        if error.code not in NO_TICKET_PAGES:
            raise
        return _no_ticket_page(registration_id, error)
    db.session.commit()
    return _always_fresh(Response(render_template(
        "checkin/ticket.html", registration=registration, event=registration.event, token=token,
        qr_svg=qr.qr_svg(token), ticket_type=str(TICKET_TYPE_LABELS[tickets.ticket_type(registration)]),
        ticket_file_name=presenters.ticket_file_name(registration))))


NO_TICKET_PAGES = ("no_ticket", "event_cancelled")


def _no_ticket_page(registration_id: int, error: DomainError) -> Response:
    """A ticket that no longer (or not yet) works, said as a person would: what happened and the way on."""
    db.session.rollback()
    registration = db.session.get(Registration, registration_id)  # its owner or organizer: ticket_for checked
    event = registration.event
    to_event = url_for("events.detail", event_id=event.id)
    mine = (_("My events"), url_for("events.my_events"))
    if error.code == "event_cancelled":
        heading, message = _("This event was cancelled"), _("“%(title)s” was cancelled, so its tickets no longer "
                                                            "work. Nothing more is needed from you.", title=event.title)
        actions = [(_("See other events"), url_for("events.index")), mine]
    elif registration.status == "waitlisted":
        heading, message = _("You are on the waitlist"), _("You have no ticket for “%(title)s” yet: it appears "
                                                           "here when a seat frees up for you, and we will tell you.",
                                                           title=event.title)
        actions = [(_("Back to the event"), to_event), mine]
    elif registration.status in ("pending", "entered", "offered"):
        heading, message = _("No ticket yet"), _("Your sign-up for “%(title)s” is not confirmed yet: the ticket "
                                                 "appears here once it is.", title=event.title)
        actions = [(_("Back to the event"), to_event), mine]
    else:  # cancelled, declined, expired
        heading, message = _("This ticket no longer works"), _("Your sign-up for “%(title)s” was cancelled, so "
                                                               "this ticket cannot be used at the door.",
                                                               title=event.title)
        actions = [(_("Sign up again"), url_for("events.detail", event_id=event.id, _anchor="signup")),
                   (_("Back to the event"), to_event)]
    return _always_fresh(Response(render_template(
        "checkin/ticket.html", registration=registration, event=event, token=None, void_code=error.code,
        void_heading=heading, void_reason=message, void_actions=actions), status=410))


def _always_fresh(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/tickets/sw.js")
def ticket_service_worker():
    """The tickets' service worker, served under /tickets/ so that it may control the ticket pages."""
    response = send_file(STATIC / "checkin-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/events/scanner-sw.js")
def scanner_service_worker():
    """The scanner's service worker, served under /events/ so that it may control an event's scanner pages
    (/events/<id>/scan): the scanner opens offline."""
    response = send_file(STATIC / "checkin-scanner-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/events/<int:event_id>/scan")
@login_required
def scanner(event_id: int):
    """The scanner of one gate, for phones: the camera, answers in full screen, counters, search (supervisors),
    and offline mode by itself when the network fails."""
    event = door.event_of(event_id)
    role = door.door_role(current_user, event)
    config = tickets.ensure_config(event.id, now=utcnow())
    db.session.commit()  # the key pair may just have been created
    gate = (request.args.get("gate") or "").strip()[: admission.MAX_GATE]
    strings = {key: str(label) for key, label in RESULT_LABELS.items()}
    strings.update({f"type_{k}": str(v) for k, v in TICKET_TYPE_LABELS.items()})
    strings.update({
        "online": _("Online"), "offline": _("Offline"), "queued": _("waiting to sync"),
        "first_admitted": _("Admitted at %(when)s through gate %(gate)s", when="{when}", gate="{gate}"),
        "admitted_at": _("Admitted at %(when)s", when="{when}"),
        "opens_at": _("Check-in opens at %(when)s", when="{when}"),
        "closed_at": _("Check-in closed at %(when)s", when="{when}"),
        "cannot_verify": _("This phone cannot check tickets offline; reconnect to scan."),
        "no_match": _("Nobody found."), "admit": _("Admit"), "camera_failed": _("The camera is not available; "
                                                                               "paste or type the ticket code."),
        "tap_to_continue": _("Tap to continue"),
        "walk_in_failed": _("Could not register: %(why)s", why="{why}"), "nobody_inside": _("Nobody is inside."),
        "since": _("since %(time)s", time="{time}"),
    })
    return render_template("checkin/scanner.html", event=event, gate=gate, role=role, gates=gates_of(event.id),
                           strings=strings, allow_reentry=config.allow_reentry, zone=str(get_timezone()))


# ---- organizers: summary, log, exports -----------------------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(str(get_timezone()))


def _local(value) -> str:
    return value.astimezone(_zone()).strftime("%Y-%m-%d %H:%M:%S") if value else ""


@bp.get("/events/<int:event_id>/checkin")
@login_required
def summary(event_id: int):
    """Attendance and no-shows, conflicts, the latest scans, exports (supervisors and organizers); door settings
    for organizers."""
    event = door.event_of(event_id)
    door.require_supervisor(current_user, event)
    config = tickets.ensure_config(event.id, now=utcnow())
    db.session.commit()
    attendance = numbers.attendance(event.id)
    return render_template("checkin/summary.html", event=event, counters=numbers.counters(event.id),
                           attendance=attendance, conflicts=numbers.conflicts(event.id, current_user),
                           log=numbers.scan_log(event.id, limit=50), result_labels=RESULT_LABELS,
                           mode_labels=MODE_LABELS, local=_local, config=config,
                           can_change_settings=has_role(current_user, "organizer", scope_key("event", event.id)))


@bp.post("/events/<int:event_id>/checkin/settings")
@login_required
def change_settings(event_id: int):
    """Organizers: re-entry on or off, and when the doors open (a form on the summary page)."""
    minutes = request.form.get("opens_minutes_before", "")
    door.update_door_settings(event_id, current_user, now=utcnow(),
                                  allow_reentry=request.form.get("allow_reentry") == "yes",
                                  opens_minutes_before=int(minutes) if minutes.isdigit() else -1)
    db.session.commit()
    flash(_("Door settings saved."), "success")
    return redirect(url_for("checkin.summary", event_id=event_id))


LOG_COLUMNS = {"scanned_at": _l("Scanned at"), "received_at": _l("Received at"), "name": _l("Name"),
               "phone": _l("Mobile number"), "gate": _l("Gate"), "device": _l("Device"), "mode": _l("How"),
               "direction": _l("In / out"), "result": _l("Result"), "reason": _l("Reason"), "by": _l("By"),
               "conflict": _l("Conflict")}


def _log_table(event) -> tuple[list[str], list[list]]:
    header = [str(label) for label in LOG_COLUMNS.values()]
    rows = []
    for entry in numbers.scan_log(event.id, limit=None):
        rows.append([_local(entry["scanned_at"]), _local(entry["received_at"]), entry["name"], entry["phone"],
                     entry["gate"], entry["device"], str(MODE_LABELS.get(entry["mode"], entry["mode"])),
                     entry["direction"], str(RESULT_LABELS.get(entry["result"], entry["result"])), entry["reason"],
                     entry["by"], _("yes") if entry["conflict"] else ""])
    return header, rows


def _filenames(event, extension: str, what: str = "checkins") -> dict[str, str]:
    label = _("attendance") if what == "attendance" else _("check-in log")
    return {"filename": f"{event.title}-{label}.{extension}", "ascii_filename": f"event-{event.id}-{what}.{extension}"}


@bp.get("/events/<int:event_id>/checkins.csv")
@login_required
def export_csv(event_id: int):
    event = door.event_of(event_id)
    door.require_supervisor(current_user, event)
    return spreadsheets.csv_download(*_log_table(event), **_filenames(event, "csv"))


@bp.get("/events/<int:event_id>/checkins.xlsx")
@login_required
def export_xlsx(event_id: int):
    event = door.event_of(event_id)
    door.require_supervisor(current_user, event)
    header, rows = _log_table(event)
    return spreadsheets.xlsx_download(spreadsheets.to_xlsx(header, rows, sheet_title=_("Check-in log")),
                                      **_filenames(event, "xlsx"))


ATTENDANCE_COLUMNS = (_l("Name"), _l("Mobile number"), _l("Attendance"), _l("First admitted at"), _l("Gate"))


def _attendance_table(event) -> tuple[list[str], list[list]]:
    attendance = numbers.attendance(event.id)
    rows = [[p["name"], p["phone"], _("came"), _local(p["at"]), p["gate"]] for p in attendance["came"]]
    rows += [[p["name"], p["phone"], _("no-show"), "", ""] for p in attendance["no_shows"]]
    return [str(label) for label in ATTENDANCE_COLUMNS], rows


@bp.get("/events/<int:event_id>/attendance.<any(csv, xlsx):extension>")
@login_required
def export_attendance(event_id: int, extension: str):
    """Who came and who did not (no-shows), as CSV or Excel (supervisors and organizers)."""
    event = door.event_of(event_id)
    door.require_supervisor(current_user, event)
    header, rows = _attendance_table(event)
    if extension == "csv":
        return spreadsheets.csv_download(header, rows, **_filenames(event, "csv", "attendance"))
    return spreadsheets.xlsx_download(spreadsheets.to_xlsx(header, rows, sheet_title=_("Attendance")),
                                      **_filenames(event, "xlsx", "attendance"))


def gates_of(event_id: int) -> list[str]:
    """The gates of an event's door: the usual ones, and any other a scanner has already used."""
    used = numbers.counters(event_id)["gates"]
    return list(DEFAULT_GATES) + sorted(g for g in used if g not in DEFAULT_GATES)


def door_links(event_id: int) -> dict:
    """For an event's page in /manage: check-in and attendance, and each gate's scanner with a QR code that opens it
    on another phone (the link grants nothing: the phone signs in, and only the door team may scan)."""
    gates = []
    for gate in gates_of(event_id):
        url = url_for("checkin.scanner", event_id=event_id, gate=gate, _external=True)
        gates.append({"gate": gate, "url": url, "qr": qr.qr_svg(url)})
    return {"summary": url_for("checkin.summary", event_id=event_id), "gates": gates,
            "settings": url_for("checkin.summary", event_id=event_id, _anchor="door-settings")}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(checkin_ticket_url=lambda registration_id: url_for(
        "checkin.my_ticket", registration_id=registration_id), checkin_door_links=door_links)

