"""Chart pages (thin): an event's insights, a competition round's judges, the town (admins), and the downloads of
their numbers. Charts are drawn by app/static/js/insights.js from the API's JSON (insights/api.py); each page holds
the same numbers as tables, so they read without JavaScript. Who may see: the event's organizers
(reading.organized_event), the competition's (judging's fairness view), admins for the town; 403 for others."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import spreadsheets
from app.authz import authorize, login_required
from app.db_types import utcnow
from events.models import Event
from events.services import reading
from insights import presenters
from insights.services.arrivals import arrivals
from insights.services.buckets import TOWN_ZONE
from insights.services.judges import judge_scores, ranking_rows
from insights.services.mentoring import cycle_numbers
from insights.services.reach import reach_over_time
from insights.services.series import event_series_numbers
from insights.services.signups import signup_insights
from insights.services.town import town
from mentoring import services as mentoring
from notifications import announcements

bp = Blueprint("insights", __name__, url_prefix="/manage/events/<int:event_id>/insights",
               template_folder="templates")
town_bp = Blueprint("insights_town", __name__, url_prefix="/insights/town", template_folder="templates")
announcements_bp = Blueprint("insights_announcements", __name__,
                             url_prefix="/notifications/announcements/<int:announcement_id>/insights",
                             template_folder="templates")
cycles_bp = Blueprint("insights_cycles", __name__, url_prefix="/mentoring/cycles/<int:cycle_id>/insights",
                      template_folder="templates")
rounds_bp = Blueprint("insights_rounds", __name__, url_prefix="/judging/rounds/<int:round_id>/insights",
                      template_folder="templates")


@bp.get("")
@login_required
def event_page(event_id: int):
    event = reading.organized_event(event_id, current_user)
    insights = signup_insights(event, now=utcnow())
    days_header, days_rows = presenters.days_table(insights)
    personas_header, personas_rows = presenters.personas_table(insights)
    companies_header, companies_rows = presenters.companies_table(insights)
    door = arrivals(event, now=utcnow())
    series = event_series_numbers(event, now=utcnow())
    return render_template(
        "insights/event.html", event=event, insights=insights, empty_message=presenters.empty_message(insights),
        series=presenters.SIGNUP_SERIES, days_header=days_header, days_rows=days_rows,
        personas_header=personas_header, personas_rows=personas_rows,
        companies_header=companies_header, companies_rows=companies_rows, groups=presenters.GROUP_LABELS,
        data_url=url_for("insights_api.event_signups", event_id=event.id),
        door=door, arrivals_empty=presenters.arrivals_empty_message(door),
        arrivals_url=url_for("insights_api.event_arrivals", event_id=event.id),
        punctuality=[(presenters.PUNCTUALITY_LABELS[k], n) for k, n in door.punctuality.items()],
        live=event.status == "published", gate_label=presenters.gate_label,
        series_numbers=series, series_empty=presenters.series_empty_message(series),
        series_table=presenters.series_table(series),
        series_url=url_for("insights_api.event_series", event_id=event.id))


def _download(body: bytes, event: Event, name: str, extension: str) -> Response:
    return spreadsheets.download(body, extension=extension, filename=f"{event.title}-{name}.{extension}",
                                 ascii_filename=f"event-{event.id}-insights.{extension}")


# Each table of an event's page as CSV: (the numbers it is made from, the table, the file's name).
EVENT_TABLES = {
    "signups-by-day": (signup_insights, presenters.days_table, _l("sign-ups by day")),
    "signups-by-persona": (signup_insights, presenters.personas_table, _l("sign-ups by persona")),
    "signups-by-company": (signup_insights, presenters.companies_table, _l("sign-ups by company")),
    "arrivals": (arrivals, presenters.arrivals_table, _l("arrivals")),
    "attendance": (arrivals, presenters.attendance_table, _l("attendance numbers")),
    "series": (event_series_numbers, presenters.series_table, _l("series attendance")),
}


@bp.get("/<any('signups-by-day', 'signups-by-persona', 'signups-by-company', arrivals, attendance, series):table>.csv")
@login_required
def event_csv(event_id: int, table: str):
    event = reading.organized_event(event_id, current_user)
    numbers_of, table_of, name = EVENT_TABLES[table]
    header, rows = table_of(numbers_of(event, now=utcnow()))
    return _download(spreadsheets.to_csv(header, rows), event, str(name), "csv")


@bp.get("/signups.xlsx")
@login_required
def signups_xlsx(event_id: int):
    event = reading.organized_event(event_id, current_user)
    insights = signup_insights(event, now=utcnow())
    body = _workbook(((_("By day"), presenters.days_table(insights)),
                      (_("By persona"), presenters.personas_table(insights)),
                      (_("By company"), presenters.companies_table(insights))))
    return _download(body, event, _("sign-ups"), "xlsx")


def _workbook(sheets) -> bytes:
    """One sheet per (title, (header, rows)), each with its header frozen."""
    workbook = spreadsheets.new_workbook()
    for title, (header, rows) in sheets:
        sheet = spreadsheets.add_sheet(workbook, title)
        spreadsheets.append_row(sheet, header)
        for row in rows:
            spreadsheets.append_row(sheet, row)
        sheet.freeze_panes = "A2"
    return spreadsheets.save(workbook)


@bp.get("/arrivals.xlsx")
@login_required
def arrivals_xlsx(event_id: int):
    event = reading.organized_event(event_id, current_user)
    numbers = arrivals(event, now=utcnow())
    body = _workbook(((_("Every 5 minutes"), presenters.arrivals_table(numbers)),
                      (_("Attendance and punctuality"), presenters.attendance_table(numbers))))
    return _download(body, event, _("arrivals"), "xlsx")


# ---- a competition round's judges --------------------------------------------------------------------------------

@rounds_bp.get("")
@login_required
def round_page(round_id: int):
    numbers = judge_scores(round_id, current_user)
    rows = ranking_rows(numbers)
    judges_header, judges_rows = presenters.judges_table(numbers)
    return render_template(
        "insights/round.html", numbers=numbers, rankings=rows, variants=presenters.VARIANT_LABELS,
        short_variants=presenters.VARIANT_SHORT_LABELS,
        judges_header=judges_header, judges_rows=judges_rows, round_id=round_id,
        data_url=url_for("insights_api.round_judges", round_id=round_id),
        drawable=any(judge["box"] for judge in numbers["judges"]),
        agreeable=any(judge["agreement"] is not None for judge in numbers["judges"]),
        movable=any(rank is not None for row in rows for rank in row["ranks"].values()))


def _round_download(body: bytes, numbers: dict, name: str, extension: str) -> Response:
    return spreadsheets.download(body, extension=extension, filename=f"{numbers['round']['name']}-{name}.{extension}",
                                 ascii_filename=f"round-{numbers['round']['id']}-judges.{extension}")


# Each table of a round's page as CSV: (the table made from the judges' numbers, the file's name).
ROUND_TABLES = {
    "judges": (presenters.judges_table, _l("judges")),
    "agreement": (presenters.pairs_table, _l("agreement between judges")),
    "rankings": (lambda numbers: presenters.rankings_table(ranking_rows(numbers)), _l("rankings")),
}


@rounds_bp.get("/<any(judges, agreement, rankings):table>.csv")
@login_required
def round_csv(round_id: int, table: str):
    numbers = judge_scores(round_id, current_user)
    table_of, name = ROUND_TABLES[table]
    header, rows = table_of(numbers)
    return _round_download(spreadsheets.to_csv(header, rows), numbers, str(name), "csv")


@rounds_bp.get("/judges.xlsx")
@login_required
def judges_xlsx(round_id: int):
    numbers = judge_scores(round_id, current_user)
    body = _workbook(((_("Judges"), presenters.judges_table(numbers)),
                      (_("Agreement"), presenters.pairs_table(numbers)),
                      (_("Rankings"), presenters.rankings_table(ranking_rows(numbers)))))
    return _round_download(body, numbers, _("judges"), "xlsx")


# ---- the town (admins) ---------------------------------------------------------------------------------------------

TOWN_TABLES = {"events": presenters.town_events_table, "returns": presenters.town_returns_table,
               "no-shows": presenters.town_no_shows_table, "lead-times": presenters.town_lead_times_table,
               "companies": presenters.town_companies_table, "series": presenters.town_series_table,
               "reach": presenters.town_reach_table}


@town_bp.get("")
@login_required
def town_page():
    authorize(current_user, "admin")
    numbers = town(now=utcnow())
    tables = {name: make(numbers) for name, make in TOWN_TABLES.items()}
    return render_template("insights/town.html", numbers=numbers, tables=tables,
                           data_url=url_for("insights_api.town_numbers"), kinds=presenters.KIND_LABELS,
                           channels=presenters.CHANNEL_LABELS, deliveries=presenters.DELIVERY_LABELS,
                           rate_label=presenters.RETURNING_LABEL, no_show_label=presenters.NO_SHOW_RATE_LABEL,
                           leads=presenters.LEAD_TIME_LABELS)


def _town_download(body: bytes, extension: str) -> Response:
    return spreadsheets.download(body, extension=extension,
                                 filename=f"{_('town')}-{utcnow().astimezone(TOWN_ZONE):%Y-%m-%d}.{extension}",
                                 ascii_filename=f"town-insights.{extension}")


@town_bp.get("/<any(events, returns, 'no-shows', 'lead-times', companies, series, reach):table>.csv")
@login_required
def town_csv(table: str):
    authorize(current_user, "admin")
    header, rows = TOWN_TABLES[table](town(now=utcnow()))
    return _town_download(spreadsheets.to_csv(header, rows), "csv")


@town_bp.get("/town.xlsx")
@login_required
def town_xlsx():
    authorize(current_user, "admin")
    numbers = town(now=utcnow())
    body = _workbook(((_("Events per month"), presenters.town_events_table(numbers)),
                      (_("Returning attendees"), presenters.town_returns_table(numbers)),
                      (_("No-shows by kind"), presenters.town_no_shows_table(numbers)),
                      (_("No-shows by lead time"), presenters.town_lead_times_table(numbers)),
                      (_("Companies"), presenters.town_companies_table(numbers)),
                      (_("Series"), presenters.town_series_table(numbers)),
                      (_("Announcements' reach"), presenters.town_reach_table(numbers))))
    return _town_download(body, "xlsx")


# ---- an announcement's reach over time -----------------------------------------------------------------------------

@announcements_bp.get("")
@login_required
def announcement_page(announcement_id: int):
    announcement = announcements.get_announcement(announcement_id, current_user)
    numbers = reach_over_time(announcement, now=utcnow())
    header, rows = presenters.reach_table(numbers)
    return render_template(
        "insights/reach.html", announcement=announcement, numbers=numbers, header=header, rows=rows,
        empty=None if not numbers.empty_reason else str(presenters.REACH_EMPTY),
        labels={**{k: str(v) for k, v in presenters.REACH_LABELS.items()},
                **{f"{c}-{s}": presenters.channel_reach_label(c, s) for c in presenters.CHANNEL_LABELS
                   for s in presenters.CHANNEL_REACH_LABELS}},
        data_url=url_for("insights_api.announcement_reach", announcement_id=announcement.id))


def _reach_name(announcement, extension: str) -> str:
    reach = _("reach")
    return f"{announcement.title}-{reach}.{extension}"


@announcements_bp.get("/reach.csv")
@login_required
def reach_csv(announcement_id: int):
    announcement = announcements.get_announcement(announcement_id, current_user)
    header, rows = presenters.reach_table(reach_over_time(announcement, now=utcnow()))
    return spreadsheets.download(spreadsheets.to_csv(header, rows), extension="csv",
                                 filename=_reach_name(announcement, "csv"),
                                 ascii_filename=f"announcement-{announcement.id}-reach.csv")


@announcements_bp.get("/reach.xlsx")
@login_required
def reach_xlsx(announcement_id: int):
    announcement = announcements.get_announcement(announcement_id, current_user)
    body = _workbook(((_("Reach over time"), presenters.reach_table(reach_over_time(announcement, now=utcnow()))),))
    return spreadsheets.download(body, extension="xlsx", filename=_reach_name(announcement, "xlsx"),
                                 ascii_filename=f"announcement-{announcement.id}-reach.xlsx")


# ---- a mentoring cycle ---------------------------------------------------------------------------------------------

MENTORING_TABLES = {"scores": presenters.mentoring_scores_table, "load": presenters.mentoring_load_table,
                    "ratings": presenters.mentoring_ratings_table}


def _cycle_numbers(cycle_id: int):
    authorize(current_user, "organizer")
    return cycle_numbers(mentoring.get_cycle(cycle_id))


@cycles_bp.get("")
@login_required
def cycle_page(cycle_id: int):
    numbers = _cycle_numbers(cycle_id)
    return render_template(
        "insights/mentoring.html", numbers=numbers,
        tables={name: make(numbers) for name, make in MENTORING_TABLES.items()},
        empty=str(presenters.MENTORING_EMPTY) if numbers.empty_reason else None,
        data_url=url_for("insights_api.mentoring_cycle", cycle_id=cycle_id))


@cycles_bp.get("/<any(scores, load, ratings):table>.csv")
@login_required
def cycle_csv(cycle_id: int, table: str):
    numbers = _cycle_numbers(cycle_id)
    header, rows = MENTORING_TABLES[table](numbers)
    return spreadsheets.download(spreadsheets.to_csv(header, rows), extension="csv",
                                 filename=f"{numbers.name}-{table}.csv", ascii_filename=f"cycle-{cycle_id}-{table}.csv")


@cycles_bp.get("/cycle.xlsx")
@login_required
def cycle_xlsx(cycle_id: int):
    numbers = _cycle_numbers(cycle_id)
    body = _workbook(((_("Fit scores"), presenters.mentoring_scores_table(numbers)),
                      (_("Mentors' load"), presenters.mentoring_load_table(numbers)),
                      (_("Feedback ratings"), presenters.mentoring_ratings_table(numbers))))
    return spreadsheets.download(body, extension="xlsx", filename=f"{numbers.name}.xlsx",
                                 ascii_filename=f"cycle-{cycle_id}.xlsx")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(cycles_bp)
    app.register_blueprint(announcements_bp)
    app.register_blueprint(town_bp)
    app.register_blueprint(rounds_bp)
