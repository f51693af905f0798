"""JSON API of the competition's team applications (judging/teams.py has the rules): teams apply, edit and withdraw;
organizers list, decide in bulk, count per track and export."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, g
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import fields, validate

from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.extensions import db
from app.schemas import Id, Schema
from app.spreadsheets import csv_download, to_xlsx, xlsx_download
from judging import teams

blp = api_blueprint("teams_api", __name__, "",
                    "The competition (港科大百万元奖金创业大赛): teams apply (team name, track, project, members); the "
                    "application belongs to the team, every member with an account may see, edit and withdraw it; "
                    "organizers review in bulk and export.")

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _viewer_organizes(competition_id: int) -> bool:
    """Whether the signed-in person organizes the competition (asked once per request and competition)."""
    cache = g.setdefault("teams_organizer", {})
    if competition_id not in cache:
        cache[competition_id] = teams.is_competition_organizer(current_user,
                                                               teams.get_competition(competition_id))
    return cache[competition_id]


# ---- schemas -------------------------------------------------------------------------------------------------------

class TrackSchema(Schema):
    key = fields.String()
    label = fields.String(metadata={"description": "in the reader's language when the track has an English name"})


class CompetitionSchema(Schema):
    id = Id()
    name = fields.String()
    description = fields.String()
    prize_pool_yuan = fields.Integer(allow_none=True)
    event_id = Id(allow_none=True, metadata={"description": "the competition's page is this event's"})
    tracks = fields.Method("get_tracks", metadata={"description": "[{key, label}]; apply with a track's key"})
    applications_open = fields.Method("get_open")
    applications_close_at = fields.DateTime(allow_none=True)

    def get_tracks(self, competition):
        return [{"key": t["key"], "label": teams.track_label(competition, t["key"])}
                for t in teams.tracks_of(competition)]

    def get_open(self, competition):
        return teams.applications_open(competition, now=utcnow())


class TeamMemberSchema(Schema):
    id = Id(metadata={"description": "give it back (instead of the phone) to keep a member when editing"})
    name = fields.String()
    phone = fields.Method("get_phone", metadata={
        "description": "E.164; whole for the member themself and organizers, masked (138****5678) for teammates"})
    role = fields.String()
    is_lead = fields.Boolean()
    has_account = fields.Method("get_has_account")
    is_me = fields.Method("get_is_me")

    def get_phone(self, member):
        return teams.visible_phone(member, current_user,
                                   organizer=_viewer_organizes(member.application.competition_id))

    def get_has_account(self, member):
        return member.user_id is not None

    def get_is_me(self, member):
        return teams.member_of(member.application, current_user) is member


class TeamApplicationSchema(Schema):
    id = Id()
    competition_id = Id()
    team_name = fields.String()
    track = fields.String(metadata={"description": "the track's key (empty when the competition has no tracks)"})
    track_label = fields.Method("get_track_label")
    project_name = fields.String()
    project_summary = fields.String()
    status = fields.String(metadata={"enum": list(teams.APPLICATION_STATUSES)})
    status_label = fields.Method("get_status_label")
    review_note = fields.String(metadata={"description": "the organizers' note to the team"})
    members = fields.Method("get_members", metadata={"description": "the lead first"})
    can_edit = fields.Method("get_can_edit", metadata={"description": "for the member reading it"})
    can_withdraw = fields.Method("get_can_withdraw", metadata={"description": "for the member reading it"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def get_track_label(self, application):
        return teams.track_label(teams.get_competition(application.competition_id), application.track)

    def get_status_label(self, application):
        return teams.status_label(application.status)

    def get_members(self, application):
        members = sorted(application.members, key=lambda m: (not m.is_lead, m.id))
        return TeamMemberSchema(many=True).dump(members)

    def get_can_edit(self, application):
        return teams.member_of(application, current_user) is not None and teams.can_edit(application, now=utcnow())

    def get_can_withdraw(self, application):
        return teams.member_of(application, current_user) is not None and teams.can_withdraw(application)


class MyTeamApplicationSchema(TeamApplicationSchema):
    competition_name = fields.Method("get_competition_name")

    def get_competition_name(self, application):
        return teams.get_competition(application.competition_id).name


class TeamMemberRequestSchema(Schema):
    id = Id(metadata={"description": "editing: an existing member (its phone may then be left out)"})
    name = fields.String(metadata={"description": f"required; at most {teams.MEMBER_NAME_MAX} characters"})
    phone = fields.String(metadata={"description": "a mobile number; +86 when no country code is given"})
    role = fields.String(metadata={"description": f"e.g. CTO; at most {teams.MEMBER_ROLE_MAX} characters"})
    is_lead = fields.Boolean(load_default=False, metadata={"description": "exactly one member is the lead"})


class TeamApplicationRequestSchema(Schema):
    """Checked by the service, which names each bad field (invalid_team_application: details.fields has the message,
    details.reasons a code such as invalid_phone, duplicate_phone, lead_missing, too_many_members, too_long)."""

    team_name = fields.String(metadata={"description": f"required; unique in the competition; at most "
                                                       f"{teams.LIMITS['team_name']} characters"})
    track = fields.String(metadata={"description": "a track's key (required when the competition has tracks)"})
    project_name = fields.String(metadata={"description": f"required; at most {teams.LIMITS['project_name']}"})
    project_summary = fields.String(metadata={"description": f"at most {teams.LIMITS['project_summary']}"})
    members = fields.List(fields.Nested(TeamMemberRequestSchema), metadata={
        "description": f"{teams.MIN_MEMBERS}–{teams.MAX_MEMBERS} members with you included (you are added, as lead "
                       "when nobody else is, if your number is missing); editing replaces the whole list"})


class TeamApplicationQuerySchema(Schema):
    track = fields.String(metadata={"description": "a track's key"})
    status = fields.String(validate=validate.OneOf(teams.APPLICATION_STATUSES))


class ExportQuerySchema(TeamApplicationQuerySchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx"]))


class TeamDecisionSchema(Schema):
    application_ids = fields.List(Id(), required=True,
                                  validate=validate.Length(min=1, max=teams.MAX_BATCH))
    decision = fields.String(required=True, validate=validate.OneOf(list(teams.DECISIONS)))
    note = fields.String(load_default="", metadata={"description": "shown to the teams; at most 500 characters"})


class TrackCountSchema(Schema):
    track = fields.String()
    label = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "per status"})
    active = fields.Integer(metadata={"description": "submitted + accepted"})
    total = fields.Integer()


class TeamCountsSchema(Schema):
    competition_id = Id()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "per status"})
    tracks = fields.List(fields.Nested(TrackCountSchema))


# ---- everyone -------------------------------------------------------------------------------------------------------

@blp.route("/competitions")
@blp.response(200, CompetitionSchema(many=True))
def open_competitions():
    """Competitions taking team applications now, with their tracks."""
    return teams.open_competitions(now=utcnow())


# ---- teams ----------------------------------------------------------------------------------------------------------

@blp.route("/competitions/<int:competition_id>/team-applications")
class CompetitionTeamApplications(MethodView):
    decorators = [login_required]

    @blp.arguments(TeamApplicationRequestSchema)
    @blp.response(201, TeamApplicationSchema)
    @blp.alt_response(200, schema=TeamApplicationSchema, description="the same submit again: the same application")
    @blp.alt_response(400, schema="Error", description="invalid_team_application (details.fields, details.reasons)")
    @blp.alt_response(404, schema="Error", description="competition_not_found")
    @blp.alt_response(409, schema="Error", description="team_name_taken, already_in_team, applications_closed, "
                                                       "event_cancelled, profile_incomplete")
    def post(self, payload, competition_id: int):
        """Apply as a team; you become a member (and the lead unless you name another)."""
        application, created = teams.submit_application(competition_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return application, 201 if created else 200

    @blp.arguments(TeamApplicationQuerySchema, location="query")
    @blp.response(200, TeamApplicationSchema(many=True))
    @blp.alt_response(400, schema="Error", description="invalid_filter (an unknown track)")
    @blp.alt_response(403, schema="Error", description="forbidden (the competition's organizers only)")
    def get(self, query, competition_id: int):
        """The competition's team applications, oldest first, optionally of one track and/or status (organizers)."""
        return teams.list_applications(competition_id, current_user, track=query.get("track"),
                                       status=query.get("status"))


@blp.route("/me/team-applications")
@blp.response(200, MyTeamApplicationSchema(many=True))
@login_required
def my_team_applications():
    """The teams I am in, newest first (also those a teammate added me to before I had an account)."""
    if teams.link_member_accounts(current_user):
        db.session.commit()
    return teams.applications_of_user(current_user)


@blp.route("/team-applications/<int:application_id>")
class TeamApplicationItem(MethodView):
    decorators = [login_required]

    @blp.response(200, TeamApplicationSchema)
    @blp.alt_response(404, schema="Error", description="team_application_not_found (also for non-members)")
    def get(self, application_id: int):
        """A team application (its members, and the competition's organizers)."""
        application = teams.get_application(application_id)
        teams.authorize_view(current_user, application)
        return application

    @blp.arguments(TeamApplicationRequestSchema)
    @blp.response(200, TeamApplicationSchema)
    @blp.alt_response(400, schema="Error", description="invalid_team_application")
    @blp.alt_response(404, schema="Error", description="team_application_not_found (also for non-members)")
    @blp.alt_response(409, schema="Error", description="application_not_editable, applications_closed, "
                                                       "team_name_taken, already_in_team")
    def patch(self, payload, application_id: int):
        """Change it (any member, while under review and applications are open). `members` replaces the list."""
        application = teams.update_application(application_id, current_user, now=utcnow(), **payload)
        db.session.commit()
        return application

    @blp.response(200, TeamApplicationSchema)
    @blp.alt_response(409, schema="Error", description="application_declined")
    def delete(self, application_id: int):
        """Withdraw it (any member). Twice is harmless."""
        application = teams.withdraw_application(application_id, current_user, now=utcnow())
        db.session.commit()
        return application


# ---- organizers ------------------------------------------------------------------------------------------------------

@blp.route("/competitions/<int:competition_id>/team-applications/decisions", methods=["POST"])
@blp.arguments(TeamDecisionSchema)
@blp.response(200, TeamApplicationSchema(many=True))
@blp.alt_response(409, schema="Error", description="application_withdrawn (details.application_id)")
@login_required
def decide(payload, competition_id: int):
    """Accept or decline many applications at once, with a note the teams see (all or nothing)."""
    applications = teams.decide_applications(competition_id, payload["application_ids"], current_user,
                                             decision=payload["decision"], note=payload["note"], now=utcnow())
    db.session.commit()
    return applications


@blp.route("/competitions/<int:competition_id>/team-applications/counts")
@blp.response(200, TeamCountsSchema)
@login_required
def counts(competition_id: int):
    """How many applications per status and per track (organizers)."""
    competition = teams.get_competition(competition_id)
    teams.authorize_competition_organizer(current_user, competition)
    return {"competition_id": competition.id, "counts": teams.application_counts(competition.id),
            "tracks": teams.counts_by_track(competition)}


def export_labels() -> dict:
    return {
        "application_id": _("Application no."), "team_name": _("Team name"), "track": _("Track"),
        "project_name": _("Project name"), "project_summary": _("Project summary"), "status": _("Status"),
        "review_note": _("Review note"), "submitted_at": _("Submitted at"), "member_name": _("Member"),
        "member_phone": _("Mobile number"), "member_role": _("Role"), "member_is_lead": _("Team lead"),
        "member_has_account": _("Has an account"),
    }


def export_response(competition, applications, file_format: str) -> Response:
    header, rows = teams.export_rows(competition, applications, labels=export_labels(), yes=_("Yes"), no=_("No"),
                                     tz=SHANGHAI)
    stamp = utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    filename = f"team-applications-{competition.id}-{stamp}.{file_format}"
    if file_format == "csv":
        return csv_download(header, rows, filename=filename)
    return xlsx_download(to_xlsx(header, rows, sheet_title=_("Team applications")), filename=filename)


@blp.route("/competitions/<int:competition_id>/team-applications/export")
@blp.arguments(ExportQuerySchema, location="query")
@blp.response(200, description="CSV (UTF-8 with BOM, for Excel and WPS) or XLSX: one row per member, the team's "
                               "columns repeated", content_type="application/octet-stream")
@blp.alt_response(403, schema="Error")
@login_required
def export(query, competition_id: int):
    """Download the applications with their members (organizers), optionally of one track and/or status."""
    competition = teams.get_competition(competition_id)
    applications = teams.list_applications(competition.id, current_user, track=query.get("track"),
                                           status=query.get("status"))
    return export_response(competition, applications, query["format"])
