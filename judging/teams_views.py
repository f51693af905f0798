"""Pages of the competition's team applications: a team applies from a phone (members as rows: name, mobile number,
role, lead), every member follows, edits and may withdraw the application ("my team"); organizers review in bulk with
filters and download the list; the competition's event page shows where a person stands (judging/teams/_detail.html).

Plain server-rendered forms with CSRF that work without JavaScript (a little script only adds member rows in place);
every rule lives in judging/teams.py. A form with a mistake comes back with the message next to the field and
everything typed still there."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.phones import mask_phone
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inputs import ids_from
from events.models import Event
from events.presentation import add_event_page_part
from judging import teams
from judging.models import TeamApplication

bp = Blueprint("judging_teams", __name__, template_folder="templates")

TEXT_FIELDS = ("team_name", "project_name", "project_summary")
MIN_ROWS = 3  # a new team's form shows three member rows, enough for most teams without any script


# ---- the event page's partial -------------------------------------------------------------------------------------

@dataclass
class TeamPanel:
    """What judging/teams/_detail.html shows on a competition's event page."""

    competition: object
    tracks: list
    applications_open: bool
    my_application: TeamApplication | None = None
    organizer: bool = False
    counts: dict = field(default_factory=dict)
    results_published: bool = False  # a round's results are out: the public results page is linked


def team_panel(event: Event) -> TeamPanel | None:
    if event is None or event.kind != "competition":
        return None
    competition = teams.competition_of_event(event.id)
    if competition is None:
        return None
    panel = TeamPanel(competition=competition, applications_open=teams.applications_open(competition, now=utcnow()),
                      tracks=[{"key": t["key"], "label": teams.track_label(competition, t["key"])}
                              for t in teams.tracks_of(competition)],
                      results_published=any(r.state == "published" for r in competition.rounds))
    if current_user.is_authenticated:
        panel.my_application = teams.application_of(competition.id, current_user)
        panel.organizer = teams.is_competition_organizer(current_user, competition)
        if panel.organizer:
            panel.counts = teams.application_counts(competition.id)
    return panel


def team_track_label(application: TeamApplication) -> str:
    return teams.track_label(teams.get_competition(application.competition_id), application.track)


def team_member_phone(member) -> str:
    """On pages: a member sees their own number; teammates see it masked; organizers see it whole."""
    organizer = teams.is_competition_organizer(current_user, teams.get_competition(member.application.competition_id))
    return teams.visible_phone(member, current_user, organizer=organizer)


def sorted_members(application: TeamApplication) -> list:
    return sorted(application.members, key=lambda m: (not m.is_lead, m.id))


# ---- the form ---------------------------------------------------------------------------------------------------

def _blank_row() -> dict:
    return {"id": "", "name": "", "phone": "", "role": "", "fixed_phone": "", "me": False, "removable": False,
            "remove": False}


def _values_for_new(user) -> dict:
    """A first application starts from the profile filled in once: the founder is the first member and the lead."""
    me = {**_blank_row(), "name": user.name or "", "phone": user.phone, "fixed_phone": user.phone,
          "role": user.title or "", "me": True}
    values = dict.fromkeys(TEXT_FIELDS, "")
    values.update(project_name=user.company or "", track="", lead="0")
    values["members"] = [me] + [_blank_row() for _ in range(MIN_ROWS - 1)]
    return values


def _values_for_edit(application: TeamApplication, user) -> dict:
    values = {name: getattr(application, name) or "" for name in TEXT_FIELDS}
    values["track"] = application.track
    mine = teams.member_of(application, user)
    rows, lead = [], "0"
    for index, member in enumerate(sorted_members(application)):
        me = member is mine
        rows.append({**_blank_row(), "id": str(member.id), "name": member.name, "role": member.role,
                     "fixed_phone": member.phone if me else mask_phone(member.phone), "me": me, "removable": not me})
        if member.is_lead:
            lead = str(index)
    values["members"] = rows + [_blank_row()]
    values["lead"] = lead
    return values


def _values_from_form(form, *, application: TeamApplication | None, user) -> dict:
    """What was typed, as the form shows it again. Existing members come back by id (their numbers stay masked)."""
    values = {name: form.get(name, "") for name in TEXT_FIELDS}
    values["track"] = form.get("track", "")
    values["lead"] = form.get("lead", "")
    existing = {str(m.id): m for m in application.members} if application is not None else {}
    mine = teams.member_of(application, user) if application is not None else None
    rows = []
    for index in range(teams.MAX_MEMBERS + 2):
        prefix = f"members-{index}-"
        if not any(f"{prefix}{k}" in form for k in ("id", "name", "phone", "role")):
            continue
        row = {**_blank_row(), "name": form.get(prefix + "name", ""), "role": form.get(prefix + "role", ""),
               "phone": form.get(prefix + "phone", ""), "remove": form.get(prefix + "remove") == "1",
               "index": str(index)}
        member = existing.get(form.get(prefix + "id", ""))
        if member is not None:
            me = member is mine
            row.update(id=str(member.id), me=me, removable=not me, phone="",
                       fixed_phone=member.phone if me else mask_phone(member.phone))
        elif application is None and index == 0:
            row.update(me=True, phone=user.phone, fixed_phone=user.phone)
        rows.append(row)
    values["members"] = rows or [_blank_row()]
    return values


def _payload(values: dict) -> tuple[dict, list[int]]:
    """The service's input, and the form's row numbers of the members in it (to put errors next to their rows)."""
    data = {name: values[name] for name in TEXT_FIELDS}
    data["track"] = values["track"] or None
    members, row_of = [], []
    for position, row in enumerate(values["members"]):
        if row["remove"]:
            continue
        if not row["id"] and not row["me"] and not (row["name"].strip() or row["phone"].strip() or
                                                    row["role"].strip()):
            continue  # an empty row
        member = {"name": row["name"], "role": row["role"], "is_lead": values["lead"] == row.get("index", str(
            position))}
        if row["id"]:
            member["id"] = int(row["id"])
        else:
            member["phone"] = row["fixed_phone"] or row["phone"]
        members.append(member)
        row_of.append(position)
    data["members"] = members
    return data, row_of


def _form_errors(error: DomainError, row_of: list[int]) -> dict:
    """The service names member fields members.<n>.<field> by position in the list it got; the form's rows
    include empty and removed ones, so map them back."""
    errors = {}
    for key, message in (error.details.get("fields") or {}).items():
        parts = key.split(".")
        if parts[0] == "members" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(row_of):
            errors[f"members.{row_of[int(parts[1])]}.{parts[2]}"] = message
        else:
            errors[key] = message
    return errors


def _index_rows(values: dict) -> dict:
    for position, row in enumerate(values["members"]):
        row["index"] = str(position)
    return values


def _render_form(competition, values: dict, *, application=None, errors=None, form_error=None, closed=None):
    return render_template(
        "judging/teams/apply.html", competition=competition, event=teams.competition_event(competition),
        values=_index_rows(values), errors=errors or {}, form_error=form_error, application=application,
        closed=closed, tracks=[(t["key"], teams.track_label(competition, t["key"])) for t in
                               teams.tracks_of(competition)],
        max_members=teams.MAX_MEMBERS, limits=teams.LIMITS)


def _closed_reason(competition) -> str | None:
    try:
        teams.check_applications_open(competition, now=utcnow())
    except DomainError as error:
        return str(error.message)
    return None


def _handle_form(competition, *, application: TeamApplication | None):
    user = current_user._get_current_object()
    values = _values_from_form(request.form, application=application, user=user)
    # The lead radio carries a row's position as it was rendered; keep positions stable for this round.
    for position, row in enumerate(values["members"]):
        row.setdefault("index", str(position))
    if "add_member" in request.form:  # one more row; nothing is saved yet, nothing typed is lost
        if sum(1 for r in values["members"] if not r["remove"]) < teams.MAX_MEMBERS:
            values["members"].append(_blank_row())
        values["lead"] = _lead_position(values)
        return _render_form(competition, values, application=application)
    data, row_of = _payload(values)
    values["lead"] = _lead_position(values)
    try:
        if application is not None:
            teams.update_application(application.id, user, now=utcnow(), **data)
            saved = application
        else:
            saved, created = teams.submit_application(competition.id, user, now=utcnow(), **data)
    except DomainError as error:
        db.session.rollback()
        errors = _form_errors(error, row_of)
        return _render_form(competition, values, application=application, errors=errors,
                            form_error=str(error.message))
    db.session.commit()
    flash(_("Your team's application is saved.") if application is not None else
          _("Your team's application is in. The organizers will review it; every member can follow it here."),
          "success")
    return redirect(url_for(".team", application_id=saved.id))


def _lead_position(values: dict) -> str:
    """The lead radio's value refers to the row's rendered index; after re-rendering rows are renumbered."""
    for position, row in enumerate(values["members"]):
        if row.get("index") == values["lead"]:
            return str(position)
    return ""


# ---- teams: apply, follow, edit, withdraw ------------------------------------------------------------------------

@bp.route("/competitions/<int:competition_id>/teams/apply", methods=["GET", "POST"])
@login_required
def apply(competition_id: int):
    competition = teams.get_competition(competition_id)
    user = current_user._get_current_object()
    if not user.profile_complete:
        flash(_("Please complete your profile first."), "info")
        return redirect(url_for("accounts.profile", next=request.path))
    current = teams.application_of(competition.id, user)
    if current is not None and current.status in teams.ACTIVE_STATUSES:
        return redirect(url_for(".team", application_id=current.id))
    if request.method == "POST":  # closed meanwhile: the service says so and the form keeps what was typed
        return _handle_form(competition, application=None)
    return _render_form(competition, _values_for_new(user), closed=_closed_reason(competition))


@bp.get("/teams/<int:application_id>")
@login_required
def team(application_id: int):
    application = teams.get_application(application_id)
    teams.authorize_view(current_user, application)
    competition = teams.get_competition(application.competition_id)
    member = teams.member_of(application, current_user)
    return render_template(
        "judging/teams/team.html", application=application, competition=competition,
        event=teams.competition_event(competition), members=sorted_members(application), me=member,
        registered=teams.members_with_accounts(application),
        can_edit=member is not None and teams.can_edit(application, now=utcnow()),
        can_withdraw=member is not None and teams.can_withdraw(application),
        organizer=teams.is_competition_organizer(current_user, competition))


@bp.route("/teams/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
def edit(application_id: int):
    application = teams.get_application(application_id)
    user = current_user._get_current_object()
    if teams.member_of(application, user) is None:
        teams.authorize_view(user, application)  # organizers may look, not edit: they get the team page
        return redirect(url_for(".team", application_id=application.id))
    competition = teams.get_competition(application.competition_id)
    if not teams.can_edit(application, now=utcnow()):
        flash(_("This application can no longer be changed."), "error")
        return redirect(url_for(".team", application_id=application.id))
    if request.method == "POST":
        return _handle_form(competition, application=application)
    return _render_form(competition, _values_for_edit(application, user), application=application)


@bp.post("/teams/<int:application_id>/withdraw")
@login_required
def withdraw(application_id: int):
    try:
        teams.withdraw_application(application_id, current_user, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Your team's application is withdrawn."), "success")
    return redirect(url_for(".team", application_id=application_id))


@bp.get("/me/teams")
@login_required
def my_teams():
    if teams.link_member_accounts(current_user):
        db.session.commit()
    applications = teams.applications_of_user(current_user)
    competitions = {a.competition_id: teams.get_competition(a.competition_id) for a in applications}
    return render_template("judging/teams/my_teams.html", applications=applications, competitions=competitions,
                           open_competitions=teams.open_competitions(now=utcnow()))


# ---- organizers: review --------------------------------------------------------------------------------------------

@bp.route("/competitions/<int:competition_id>/teams/review", methods=["GET", "POST"])
@login_required
def review(competition_id: int):
    competition = teams.get_competition(competition_id)
    teams.authorize_competition_organizer(current_user, competition)
    track_keys = [t["key"] for t in teams.tracks_of(competition)]
    status = request.args.get("status")
    status = status if status in teams.APPLICATION_STATUSES else None
    track = request.args.get("track")
    track = track if track in track_keys else None
    selected, note, form_error, note_error = set(), "", None, None
    if request.method == "POST":
        selected = set(ids_from(request.form.getlist("application_ids")))
        note = request.form.get("note", "")
        decision = request.form.get("decision", "")
        try:
            decided = teams.decide_applications(competition.id, sorted(selected), current_user, decision=decision,
                                                note=note, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            form_error = str(error.message)
            note_error = (error.details.get("fields") or {}).get("note")
        else:
            db.session.commit()
            flash(_("Accepted: %(n)d.", n=len(decided)) if decision == "accept" else
                  _("Declined: %(n)d.", n=len(decided)), "success")
            return redirect(url_for(".review", competition_id=competition.id, status=status, track=track))
    applications = teams.list_applications(competition.id, current_user, track=track, status=status)
    return render_template(
        "judging/teams/review.html", competition=competition, event=teams.competition_event(competition),
        applications=applications, status=status, track=track, counts=teams.application_counts(competition.id),
        track_counts=teams.counts_by_track(competition), selected=selected, note=note, form_error=form_error,
        note_error=note_error, applications_open=teams.applications_open(competition, now=utcnow()),
        statuses=[(key, teams.status_label(key)) for key in teams.APPLICATION_STATUSES],
        tracks=[(key, teams.track_label(competition, key)) for key in track_keys])


@bp.post("/competitions/<int:competition_id>/teams/applications-open")
@login_required
def toggle_applications(competition_id: int):
    open_now = request.form.get("open") == "1"
    teams.set_applications_open(competition_id, current_user, open_now=open_now)
    db.session.commit()
    flash(_("Team applications are open.") if open_now else _("Team applications are closed."), "success")
    return redirect(url_for(".review", competition_id=competition_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_event_page_part(app, "judging/teams/_detail.html")
    app.jinja_env.globals.update(team_panel=team_panel, team_status_label=teams.status_label,
                                 team_track_label=team_track_label, team_member_phone=team_member_phone,
                                 team_members_sorted=sorted_members)
