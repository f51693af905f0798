"""Pages of judging: the competition's public results, the judge's invitation link (a judge pass on that device,
never a sign-in), the judge's phone page, the organizers' console, the big-screen leaderboard, the fairness view,
and the results' export (XLSX) and printable signature page.

Thin: every rule is in judging/services/, every payload in judging/presenters.py; the live pages are driven by
app/static/js/judging-*.js over the JSON API (api.py) and the rounds' Socket.IO rooms (realtime.py)."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl.styles import Font

from app import spreadsheets
from app.accounts.auth import device_passes, keep_pass_on_device
from app.accounts.models import User
from app.accounts.services import live_pass_origins, start_session
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.page_cache import cached_for_anonymous
from judging import presenters, services, signals, teams

bp = Blueprint("judging", __name__, template_folder="templates")


@bp.get("/judging/")
@login_required
def index():
    """Where a person meets the competition: the competitions open for applications (apply, or their team's
    status), the rounds they judge (their phone page), the rounds they organize (console, big screen) and their
    team's rounds, with the results once published."""
    mine = presenters.my_rounds(current_user)
    if teams.link_member_accounts(current_user):
        db.session.commit()
    applications = teams.applications_of_user(current_user)
    by_competition: dict[int, object] = {}
    for application in applications:  # newest first: the active one, else the latest
        held = by_competition.get(application.competition_id)
        if held is None or (held.status not in teams.ACTIVE_STATUSES and application.status in teams.ACTIVE_STATUSES):
            by_competition[application.competition_id] = application
    open_now = teams.open_competitions(now=utcnow())
    open_ids = {c.id for c in open_now}
    applied_elsewhere = [(teams.get_competition(cid), a) for cid, a in by_competition.items() if cid not in open_ids]
    return render_template("judging/index.html", **mine, open_competitions=open_now, my_applications=by_competition,
                           applied_elsewhere=applied_elsewhere, team_status_label=teams.status_label)


@bp.get("/judging/rounds/<int:round_id>/teams/<int:application_id>/results")
@login_required
def team_results_page(round_id: int, application_id: int):
    """A team's results once the round is published: rank, score, each criterion's mean, the judges' comments
    and weak-point tags (no judge's name). Before that, the page says when it is not published yet."""
    try:
        view = services.team_results(round_id, application_id, current_user)
    except DomainError as error:
        if error.code != "results_not_published":
            raise
        return render_template("judging/results_pending.html", round=services.get_round(round_id),
                               message=str(error.message)), 409
    return render_template("judging/results.html", view=view, round=view["round"])


@bp.get("/competitions/<int:competition_id>/results")
@cached_for_anonymous
def public_results_page(competition_id: int):
    """The competition's results for everyone, signed in or not (a link shared in a chat): each published round's
    ranking (rank, team, track, advanced), never a score, a judge or a comment; with the page's share card."""
    return render_template("judging/public_results.html", view=presenters.public_results(competition_id))


@bp.get("/judging/invite/<token>")
def invitation(token: str):
    """A judge's invitation link (sent to their phone alone): it gives this device a judge pass, that competition's
    judging and nothing else (the account still asks for the phone's code), and opens their round. It works on one
    device; opened again there, it goes straight to scoring."""
    now = utcnow()
    known = services.judge_by_invitation(token)
    if known is not None and known.invite_used_at is not None and (
            services.pass_origin(known) in live_pass_origins(device_passes(), now=now)
            or (current_user.is_authenticated and current_user.id == known.user_id)):
        return redirect(url_for("judging.judge_page", round_id=known.round_id))  # the same judge, this device
    try:
        judge, user = services.redeem_invitation(token, now=now)
    except DomainError as error:
        db.session.rollback()
        return render_template("judging/invite_problem.html", code=error.code, message=str(error.message)), \
            error.status
    round_ = services.get_round(judge.round_id)
    pass_token = start_session(user.id, now=now, scope=services.judge_pass_scope(round_.competition_id),
                               origin=services.pass_origin(judge), user_agent=request.user_agent.string,
                               expires_at=now + services.JUDGE_PASS_VALID_FOR)
    db.session.commit()
    keep_pass_on_device(pass_token)
    return redirect(url_for("judging.judge_page", round_id=judge.round_id))


def judging_actor(round_):
    """The judge acting on this request: the signed-in judge, or this device's judge pass (judging only)."""
    return services.judging_actor(round_, current_user, device_passes(), now=utcnow())


@bp.get("/judging/rounds/<int:round_id>/judge")
def judge_page(round_id: int):
    """The judge's phone page: the team on stage (live) or their list (online), big score controls, drafts kept on
    the phone as they type, unsent scores queued while offline, their own progress. A judge signed in, or holding
    a judge pass of the competition on this device."""
    round_ = services.get_round(round_id)
    judge = services.require_judge(round_, judging_actor(round_))  # a visitor is sent to sign in
    return render_template("judging/judge.html", round=round_, judge=judge,
                           competition=services.competition_of(round_))


@bp.get("/judging/rounds/<int:round_id>/console")
@login_required
def console_page(round_id: int):
    """The organizers' console: now pitching, pitch and Q&A timers, who has submitted, close/reopen, reveal."""
    round_ = services.get_round(round_id)
    services.authorize_organizer(current_user, round_)
    return render_template("judging/console.html", round=round_, competition=services.competition_of(round_),
                           rounds=services.competition_of(round_).rounds)


@bp.get("/judging/rounds/<int:round_id>/screen")
@login_required
def screen_page(round_id: int):
    """The big screen (1920x1080): the audience's leaderboard, live or revealed rank by rank."""
    round_ = services.get_round(round_id)
    if services.judge_of(round_.id, current_user) and not services.is_organizer(current_user, round_):
        services.authorize_organizer(current_user, round_)  # judges do not see scores during the round
    return render_template("judging/screen.html", round=round_, competition=services.competition_of(round_))


@bp.get("/judging/rounds/<int:round_id>/fairness")
@login_required
def fairness_page(round_id: int):
    """Organizers: each judge's mean, spread and agreement, and the orderings each rule would change."""
    view = services.fairness_view(round_id, current_user)
    return render_template("judging/fairness.html", view=view, round=services.get_round(round_id))


def _sheet_rows(round_):
    """Per judge: their scores of every team; and the totals (the published or current ranking)."""
    criteria = round_.criteria
    teams = services.teams_of(round_.id)
    applications = services.applications_by_id(t.application_id for t in teams)
    judges = services.judges_of(round_.id)
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_([j.user_id for j in judges])))}
    recused = {(r.judge_id, r.round_team_id) for r in services.recusals_of(round_.id)}
    sheets = []
    for judge in judges:
        cards = services.own_scorecards(judge)
        rows = []
        for team in teams:
            card = cards.get(team.id)
            values = {s.criterion_id: s.value for s in card.scores} if card else {}
            rows.append({"team": applications[team.application_id].team_name, "recused": (judge.id, team.id) in recused,
                         "scores": [values.get(c.id) for c in criteria], "comment": card.comment if card else "",
                         "revision": card.revision if card else 0})
        sheets.append({"judge": judge, "name": users[judge.user_id].display_name, "rows": rows})
    return criteria, sheets, services.results_table(round_)


def _authorized_round(round_id: int):
    round_ = services.get_round(round_id)
    services.authorize_organizer(current_user, round_)
    return round_


@bp.get("/judging/rounds/<int:round_id>/results.xlsx")
@login_required
def export_xlsx(round_id: int):
    """Each judge's score sheet and the totals, as an Excel workbook."""
    round_ = _authorized_round(round_id)
    criteria, sheets, totals = _sheet_rows(round_)
    workbook = spreadsheets.new_workbook()
    summary = spreadsheets.add_sheet(workbook, _("Totals"))
    labels = [presenters.criterion_label(c) for c in criteria]
    spreadsheets.append_row(summary, [_("Rank"), _("Team"), _("Track"), _("Score"), _("Judges counted")] + labels)
    for row in totals:
        means = [row["criterion_means"].get(c.key) for c in criteria]
        spreadsheets.append_row(summary, [row["rank"], row["team_name"], presenters.results_track_label(row),
                                          row["score"], row["judges_counted"]] + means)
    summary.append([])
    spreadsheets.append_row(summary, [services.aggregation_rule_text(round_)])
    for cell in summary[1]:
        cell.font = Font(bold=True)
    for sheet in sheets:
        # A judge's sheet is titled by their name, cleaned for Excel ("陈/评委" would be refused) and unique.
        ws = spreadsheets.add_sheet(workbook, f"{sheet['judge'].id}-{sheet['name']}")
        spreadsheets.append_row(ws, [_("Team")] + [f"{presenters.criterion_label(c)} ({c.weight}%)" for c in criteria]
                                + [_("Comment"), _("Revision")])
        for row in sheet["rows"]:
            if row["recused"]:
                spreadsheets.append_row(ws, [row["team"], _("Recused")])
                continue
            spreadsheets.append_row(ws, [row["team"]] + row["scores"] + [row["comment"], row["revision"]])
        ws.append([])
        spreadsheets.append_row(ws, [_("Signature"), "", _("Date")])
    signals.results_exporting.send(round_, workbook=workbook)  # e.g. the people's choice (live), a sheet of its own
    return spreadsheets.xlsx_download(spreadsheets.save(workbook), filename=f"{round_.name}-results.xlsx",
                                      ascii_filename="results.xlsx")


@bp.get("/judging/rounds/<int:round_id>/print")
@login_required
def print_page(round_id: int):
    """A printable page: the totals and each judge's score sheet with a line for their signature."""
    round_ = _authorized_round(round_id)
    criteria, sheets, totals = _sheet_rows(round_)
    return render_template("judging/print.html", round=round_, criteria=criteria, sheets=sheets, totals=totals,
                           rule=services.aggregation_rule_text(round_), competition=services.competition_of(round_))


def add_console_part(app: Flask, template: str) -> None:
    """Another package adds a part to a round's console (live: the people's choice, opened, closed and revealed
    there), rendered with the console's context (`round`, `competition`), so that judging knows none of them."""
    app.jinja_env.globals["judging_console_parts"].append(template)


def add_screen_part(app: Flask, template: str) -> None:
    """Another package adds a part to a round's big screen (live: where the people's choice is read from, which
    judging-screen.js draws beside the leaderboard), rendered with the screen's context (`round`)."""
    app.jinja_env.globals["judging_screen_parts"].append(template)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(judging_criterion_label=presenters.criterion_label, judging_console_parts=[],
                                 judging_screen_parts=[])
