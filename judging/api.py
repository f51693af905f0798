"""JSON API of judging (judging/services/ has the rules): organizers set a competition up in one call or from a
spreadsheet and drive the rounds; judges' phones read their round and submit scores with a client-chosen
submission_id; the leaderboard for those allowed to see it."""

from __future__ import annotations

from flask_login import current_user
from marshmallow import fields, validate

from app.accounts.auth import device_passes
from app.api import api_blueprint
from app.authz import login_required
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import commit_keeping_loaded, db
from app.schemas import Id, Schema
from judging import importing, presenters, realtime, services
from judging.models import LEADERBOARD_MODES, ROUND_MODES, STAGE_PHASES, WEAK_POINT_TAGS

blp = api_blueprint("judging_api", __name__, "",
                    "Judging (港科大百万元奖金创业大赛): a competition's setup in one call or from XLSX/CSV; "
                    "rounds with weighted criteria, judges invited by phone (an SMS to the judge alone: a judging "
                    "pass for one device, never a sign-in), recusals; "
                    "scores with idempotent submission ids and revisions; the live stage; results, leaderboard, "
                    "fairness, advancing. Live updates: Socket.IO rooms round:<id>:judges|console|leaderboard "
                    "(join_round_judges, join_round_console, join_round_leaderboard).")

OBJECT = {"type": "object"}


# ---- setup ---------------------------------------------------------------------------------------------------------

class SetupSchema(Schema):
    name = fields.String(required=True, metadata={"example": "港科大百万元奖金创业大赛"})
    description = fields.String(load_default="")
    prize_pool_yuan = fields.Integer(load_default=None, allow_none=True)
    event_id = Id(load_default=None, allow_none=True)
    tracks = fields.List(fields.Raw(), load_default=list,
                         metadata={"description": "[{key, label, label_en}]"})
    rounds = fields.List(fields.Raw(), required=True, metadata={
        "description": "[{kind: preliminary|semifinal|final, name, mode: online|live, drop_extremes, normalize, "
                       "leaderboard_mode: live|hidden, pitch_seconds, qa_seconds, criteria: [{key, label, "
                       "label_en, weight (percent; they add up to 100), min, max, step}], judges: [{phone, name, "
                       "shadow}]}]"})
    teams = fields.List(fields.Raw(), load_default=list, metadata={
        "description": "[{team_name, track, project_name, project_summary, members: [{name, phone, role, "
                       "is_lead}]}]; accepted and placed in the first round"})


class SetupResultSchema(Schema):
    competition_id = Id()
    rounds = fields.List(fields.Dict(), metadata={
        "description": "[{id, name, kind, mode, judges: [{id, user_id, is_shadow, invitation: {sent_at, "
                       "expires_at, opened_at}}], teams}]: each judge's invitation went to their own phone by SMS "
                       "(and their inbox); the link is never shown to organizers"})


def _setup_result(competition) -> dict:
    rounds = []
    for round_ in competition.rounds:
        rounds.append({
            "id": round_.id, "name": round_.name, "kind": round_.kind, "mode": round_.mode,
            "teams": len(services.teams_of(round_.id)),
            "judges": [_judge_brief(j) for j in services.judges_of(round_.id)],
        })
    return {"competition_id": competition.id, "rounds": rounds}


def _judge_brief(judge) -> dict:
    """A judge as organizers see them: the invitation was sent (when, whether opened), never its link."""
    return {"id": judge.id, "user_id": judge.user_id, "is_shadow": judge.is_shadow,
            "invitation": services.invitation_status(judge)}


@blp.route("/competitions/setup", methods=["POST"])
@blp.arguments(SetupSchema)
@blp.response(201, SetupResultSchema)
@blp.alt_response(403, schema="Error", description="organizers only")
@blp.alt_response(422, schema="Error", description="invalid_setup (details.fields names each problem; nothing "
                                                   "saved)")
@login_required
def create_setup(payload):
    """Create a whole competition in one call: tracks, rounds with criteria and judges (by phone), and teams."""
    competition, _tokens = services.create_setup(payload, current_user, now=utcnow())  # tokens: the judges' SMS
    db.session.commit()
    return _setup_result(competition)


class UploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"})


@blp.route("/competitions/setup/import", methods=["POST"])
@blp.arguments(UploadSchema, location="files")
@blp.response(201, SetupResultSchema)
@blp.alt_response(422, schema="Error", description="invalid_setup_file (with the line) or invalid_setup")
@login_required
def import_setup(files):
    """The same setup from an .xlsx or .csv (multipart field `file`); see judging/importing.py for the columns."""
    upload = files.get("file")
    if upload is None:
        raise DomainError("invalid_setup_file", "file", status=422)
    setup = importing.rows_to_setup(importing.read_rows(upload.filename or "", upload.read()))
    competition, _tokens = services.create_setup(setup, current_user, now=utcnow())
    db.session.commit()
    return _setup_result(competition)


# ---- judges --------------------------------------------------------------------------------------------------------

class JudgeInviteSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(load_default="", validate=validate.Length(max=80))
    shadow = fields.Boolean(load_default=False, metadata={"description": "a trainee: scores, never counts"})


@blp.route("/rounds/<int:round_id>/judges", methods=["POST"])
@blp.arguments(JudgeInviteSchema)
@blp.response(201, description="{id, user_id, is_shadow, invitation: {sent_at, expires_at, opened_at}}: the "
                                "link went to the judge's phone by SMS (and their inbox), never to the organizer")
@login_required
def invite_judge(payload, round_id: int):
    """Invite a judge by phone (organizers). The link goes to that phone alone (SMS, and the judge's inbox); it
    gives one device that competition's judging, never the account."""
    judge, _token = services.add_judge(round_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return _judge_brief(judge)


@blp.route("/rounds/<int:round_id>/judges/<int:judge_id>/invitation", methods=["POST"])
@blp.response(201, description="{id, user_id, is_shadow, invitation: {sent_at, expires_at, opened_at}}: a new "
                                "link went to the judge's phone; the old link and the passes it gave stop working")
@blp.alt_response(404, schema="Error", description="judge_not_found")
@login_required
def resend_invitation(round_id: int, judge_id: int):
    """Re-send a judge's invitation (organizers): a new link to the judge's phone alone; the old one, and any
    device it opened, stop working."""
    judge, _token = services.reissue_invitation(judge_id, current_user, now=utcnow(), round_id=round_id)
    db.session.commit()
    return _judge_brief(judge)


class CriteriaSchema(Schema):
    criteria = fields.List(fields.Raw(), required=True, metadata={
        "description": "[{key, label, label_en, description, weight (percent; they add up to 100), min, max, step}]"})


@blp.route("/rounds/<int:round_id>/criteria", methods=["PUT"])
@blp.arguments(CriteriaSchema)
@blp.response(200, description="{criteria: [{id, key, label, label_en, description, weight, min, max, step}]}")
@blp.alt_response(409, schema="Error", description="scoring_started (the round has opened), scores_exist")
@blp.alt_response(422, schema="Error", description="invalid_criteria (details.fields: criteria.<i>.<field>)")
@login_required
def set_criteria(payload, round_id: int):
    """Replace a round's criteria (organizers), only before scoring began (while the round is a draft)."""
    criteria = services.set_criteria(round_id, current_user, payload["criteria"], now=utcnow())
    db.session.commit()
    return {"criteria": [presenters.criterion_brief(c) for c in criteria]}


class TeamsAddSchema(Schema):
    application_ids = fields.List(Id(), load_default=None, allow_none=True, metadata={
        "description": "accepted team applications of the competition; leave out for all accepted ones"})


@blp.route("/rounds/<int:round_id>/teams", methods=["POST"])
@blp.arguments(TeamsAddSchema)
@blp.response(201, description="{added: [{id, application_id, position}]}")
@blp.alt_response(409, schema="Error", description="team_not_accepted")
@login_required
def add_teams(payload, round_id: int):
    """Put accepted teams in a round (organizers), after the teams already there."""
    added = services.add_teams(round_id, current_user, payload["application_ids"], now=utcnow(), how="manual")
    db.session.commit()
    return {"added": [{"id": t.id, "application_id": t.application_id, "position": t.position} for t in added]}


@blp.route("/rounds/<int:round_id>/teams/<int:round_team_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, schema="Error", description="team_not_in_round")
@blp.alt_response(409, schema="Error", description="scores_exist (a team with scores stays)")
@login_required
def remove_team(round_id: int, round_team_id: int):
    """Take a team out of a round (organizers), only before anyone scored it."""
    services.remove_team(round_id, round_team_id, current_user, now=utcnow())
    db.session.commit()
    return "", 204


# ---- a judge's round and scores ------------------------------------------------------------------------------------

@blp.route("/rounds/<int:round_id>/judge")
@blp.response(200, description="{round, judge, stage, criteria, tags, teams (with my_scorecard), "
                                               "progress: {scored, total}}")
@blp.alt_response(401, schema="Error", description="unauthorized (neither signed in nor holding a judge pass)")
@blp.alt_response(403, schema="Error", description="not_a_judge")
def judge_state(round_id: int):
    """A round as the judge sees it (signed in, or with the judge pass their invitation gave this device): the
    stage (team on stage, phase, server start and end, server_now), the criteria, the teams with the judge's own
    scores only, recusals and progress."""
    return presenters.judge_view(round_id, _judge(round_id), now=utcnow())


def _judge(round_id: int):
    """The signed-in judge of this round, or this device's judge pass of its competition (judge endpoints only)."""
    return services.judging_actor(services.get_round(round_id), current_user, device_passes(), now=utcnow())


class ScoreSubmissionSchema(Schema):
    round_team_id = Id(required=True)
    submission_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,64}\Z"),
                                  metadata={"description": "chosen by the phone for this submission (a UUID): the "
                                                           "same id again gets the first answer, nothing twice"})
    base_revision = fields.Integer(required=True, metadata={"description": "the revision edited (0: first score); "
                                                                           "a stale one is refused (409)"})
    scores = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                         metadata={"description": "criterion key -> score, every criterion", "example":
                                   {"innovation": 8.5, "market": 7, "team": 9, "feasibility": 6.5}})
    comment = fields.String(load_default="")
    tags = fields.List(fields.String(validate=validate.OneOf(WEAK_POINT_TAGS)), load_default=list,
                       metadata={"description": "weak points: " + ", ".join(WEAK_POINT_TAGS)})


class ScoreResultSchema(Schema):
    round_team_id = Id()
    submission_id = fields.String()
    revision = fields.Integer(metadata={"description": "the scorecard's revision after this submission"})
    replayed = fields.Boolean(metadata={"description": "this submission_id was seen before: its first answer"})
    scores = fields.Dict()
    comment = fields.String()
    tags = fields.List(fields.String())
    progress = fields.Dict()


@blp.route("/rounds/<int:round_id>/scores", methods=["POST"])
@blp.arguments(ScoreSubmissionSchema)
@blp.response(201, ScoreResultSchema)
@blp.alt_response(200, schema=ScoreResultSchema, description="a retry: the first answer, nothing changed")
@blp.alt_response(403, schema="Error", description="not_a_judge")
@blp.alt_response(404, schema="Error", description="team_not_in_round")
@blp.alt_response(409, schema="Error", description="stale_revision (details.current_revision), recused, "
                                                   "scoring_closed, team_not_on_stage, round_not_open, "
                                                   "submission_id_reused")
@blp.alt_response(422, schema="Error", description="invalid_score (details.fields: scores.<key>)")
def submit_score(payload, round_id: int):
    """Submit or revise a judge's scores of one team (signed in, or with the judge pass of this device)."""
    with realtime.scoring():
        outcome = services.submit_score(round_id, _judge(round_id), now=utcnow(), **payload)
        commit_keeping_loaded()  # the submission was read back by its INSERT: the answer needs no reload
    submission = outcome.submission
    body = {"round_team_id": submission.round_team_id, "submission_id": submission.submission_id,
            "revision": submission.revision, "replayed": outcome.replayed, **{
                k: submission.values.get(k) for k in ("scores", "comment", "tags")},
            "progress": services.judge_progress(submission.judge_id, submission.round_id)}
    return body, 200 if outcome.replayed else 201


class RecusalSchema(Schema):
    round_team_id = Id(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=services.REASON_MAX))
    judge_id = Id(load_default=None, allow_none=True,
                              metadata={"description": "organizers recording it for a judge; judges leave it out"})


@blp.route("/rounds/<int:round_id>/recusals", methods=["POST"])
@blp.arguments(RecusalSchema)
@blp.response(201, description="{judge_id, round_team_id, reason}")
def declare_recusal(payload, round_id: int):
    """A judge declares a conflict of interest (回避) with a team (signed in, or with the judge pass of this
    device); organizers may record one for a judge (signed in)."""
    actor = current_user if payload["judge_id"] is not None else _judge(round_id)
    recusal = services.declare_recusal(round_id, payload["round_team_id"], actor, now=utcnow(),
                                       judge_id=payload["judge_id"], reason=payload["reason"])
    db.session.commit()
    return {"judge_id": recusal.judge_id, "round_team_id": recusal.round_team_id, "reason": recusal.reason}


@blp.route("/rounds/<int:round_id>/judges/<int:judge_id>/recusals/<int:round_team_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, schema="Error", description="recusal_not_found, team_not_in_round")
@login_required
def withdraw_recusal(round_id: int, judge_id: int, round_team_id: int):
    """Lift a recusal declared by mistake (organizers only; audited): the judge may then score the team."""
    services.withdraw_recusal(round_id, round_team_id, judge_id, current_user, now=utcnow())
    db.session.commit()
    return "", 204


# ---- organizers' controls ------------------------------------------------------------------------------------------

class RoundSettingsSchema(Schema):
    name = fields.String()
    mode = fields.String(validate=validate.OneOf(ROUND_MODES))
    drop_extremes = fields.Boolean()
    normalize = fields.Boolean()
    leaderboard_mode = fields.String(validate=validate.OneOf(LEADERBOARD_MODES))
    pitch_seconds = fields.Integer()
    qa_seconds = fields.Integer()


@blp.route("/rounds/<int:round_id>", methods=["PATCH"])
@blp.arguments(RoundSettingsSchema)
@blp.response(200)
@login_required
def configure_round(payload, round_id: int):
    """Change a round's settings (aggregation until results are published; mode only before it opens)."""
    round_ = services.configure_round(round_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return services.round_brief(round_)


@blp.route("/rounds/<int:round_id>/console")
@blp.response(200, description="{round, stage, judges, teams: [{judges: [{judge_id, status: "
                                               "submitted|waiting|recused}], submitted, expected}]}")
@login_required
def console(round_id: int):
    """The organizers' console: the stage and who has submitted, who has not, who is recused (no scores)."""
    return presenters.console_view(round_id, current_user, now=utcnow())


class StageSchema(Schema):
    round_team_id = Id(load_default=None, allow_none=True)
    phase = fields.String(required=True, validate=validate.OneOf(STAGE_PHASES))


@blp.route("/rounds/<int:round_id>/stage", methods=["POST"])
@blp.arguments(StageSchema)
@blp.response(200, description="the stage: {current_team, phase, phase_started_at, phase_ends_at, "
                                               "server_now, version}")
@login_required
def set_stage(payload, round_id: int):
    """Now pitching: put a team on stage and move its phase (pitch, qa, scoring, idle); timers run from the
    server's clock."""
    round_ = services.set_stage(round_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return presenters.stage_state(round_, now=utcnow())


def _round_action(action):
    def view(round_id: int):
        round_ = action(round_id, current_user, now=utcnow())
        db.session.commit()
        return services.round_brief(round_)

    return view


for _path, _name, _service, _doc in (
        ("open", "open_round", services.open_round, "Open a round's scoring (online rounds: every team at once)."),
        ("close", "close_round", services.close_round, "Close every team's scoring of a round."),
        ("publish", "publish_results", services.publish_results,
         "Publish the results (final; teams are told through results_published)."),
):
    _view = _round_action(_service)
    _view.__name__ = _name
    _view.__doc__ = _doc
    blp.route(f"/rounds/<int:round_id>/{_path}", methods=["POST"])(
        blp.response(200)(login_required(_view)))


class ReopenSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=services.REASON_MAX))


@blp.route("/rounds/<int:round_id>/teams/<int:round_team_id>/close", methods=["POST"])
@blp.response(200)
@login_required
def close_team(round_id: int, round_team_id: int):
    """Close one team's scoring (judges can no longer change it)."""
    team = services.close_team_scoring(round_id, round_team_id, current_user, now=utcnow())
    db.session.commit()
    return {"id": team.id, "scoring_state": team.scoring_state}


@blp.route("/rounds/<int:round_id>/teams/<int:round_team_id>/reopen", methods=["POST"])
@blp.arguments(ReopenSchema)
@blp.response(200)
@login_required
def reopen_team(payload, round_id: int, round_team_id: int):
    """Reopen one team's scoring (organizers only; audited with the reason)."""
    team = services.reopen_team_scoring(round_id, round_team_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return {"id": team.id, "scoring_state": team.scoring_state}


class RevealSchema(Schema):
    all = fields.Boolean(load_default=False)
    hide = fields.Boolean(load_default=False)
    confirm = fields.Boolean(load_default=False, metadata={
        "description": "reveal even though judges have not submitted (after a judges_missing answer)"})


@blp.route("/rounds/<int:round_id>/reveal", methods=["POST"])
@blp.arguments(RevealSchema)
@blp.response(200, description="{revealed_count}")
@blp.alt_response(409, schema="Error", description="judges_missing: counting judges have not scored every team "
                                                   "whose scoring began (details.missing_judges: [{id, name}], "
                                                   "details.scoring_open); send again with confirm: true to "
                                                   "reveal anyway")
@login_required
def reveal(payload, round_id: int):
    """Hidden leaderboard: reveal the next rank (from the last place up), all of them, or hide them again. While
    judges have not submitted, revealing needs `confirm: true` (409 judges_missing names them first)."""
    if payload["hide"]:
        round_ = services.hide_leaderboard(round_id, current_user, now=utcnow())
    else:
        round_ = services.reveal_next(round_id, current_user, now=utcnow(), all_=payload["all"],
                                      confirm=payload["confirm"])
    db.session.commit()
    return {"revealed_count": round_.revealed_count}


class AdvanceSchema(Schema):
    to_round_id = Id(required=True)
    top_n = fields.Integer(load_default=0, validate=validate.Range(min=0))
    per_track = fields.Boolean(load_default=False)
    include = fields.List(fields.Integer(), load_default=list, metadata={"description": "round team ids to add"})
    exclude = fields.List(fields.Integer(), load_default=list, metadata={"description": "round team ids to leave"})


@blp.route("/rounds/<int:round_id>/advance", methods=["POST"])
@blp.arguments(AdvanceSchema)
@blp.response(200, description="{advanced: [{id, application_id, added_by}]}")
@login_required
def advance(payload, round_id: int):
    """Advance the top N (overall or per track) of a published round, plus or minus teams chosen by hand."""
    advanced = services.advance_teams(round_id, current_user, now=utcnow(), **payload)
    db.session.commit()
    return {"advanced": [{"id": t.id, "application_id": t.application_id, "added_by": t.added_by}
                         for t in advanced]}


# ---- results -------------------------------------------------------------------------------------------------------

class LeaderboardQuerySchema(Schema):
    audience = fields.String(load_default="", validate=validate.OneOf(["", "screen"]),
                             metadata={"description": "screen: the audience's view even for organizers (the "
                                                      "big screen, where hidden ranks must stay hidden)"})


@blp.route("/rounds/<int:round_id>/leaderboard")
@blp.arguments(LeaderboardQuerySchema, location="query")
@blp.response(200, description="{round, rule, rows: [{rank, team_name, track, score, "
                                               "criterion_means, tied}], hidden_count, revealed_count}")
@login_required
def leaderboard(query, round_id: int):
    """The leaderboard for those allowed to see it: organizers all of it; judges nothing until publication; others
    live (live mode) or the ranks revealed so far (hidden mode)."""
    viewer = None if query["audience"] == "screen" else current_user
    if viewer is None:
        round_ = services.get_round(round_id)
        if services.judge_of(round_id, current_user) and not services.is_organizer(current_user, round_):
            viewer = current_user  # a judge never sees scores during the round, whatever they ask for
    return services.leaderboard(round_id, viewer, now=utcnow())


@blp.route("/rounds/<int:round_id>/fairness")
@blp.response(200)
@login_required
def fairness(round_id: int):
    """Organizers: each judge's mean and spread, agreement with the panel, rankings under each rule, and the
    orderings that change against the round's rule."""
    return services.fairness_view(round_id, current_user)


@blp.route("/rounds/<int:round_id>/history")
@blp.response(200)
@login_required
def history(round_id: int):
    """Organizers: the audit trail (every accepted score submission with what it replaced, and every action)."""
    submissions = services.score_history(round_id, current_user)
    actions = services.audit_log(round_id, current_user)
    return {"submissions": [{"judge_id": s.judge_id, "round_team_id": s.round_team_id,
                             "submission_id": s.submission_id, "revision": s.revision, "values": s.values,
                             "previous": s.previous, "at": services.iso(s.created_at)} for s in submissions],
            "actions": [{"action": a.action, "round_team_id": a.round_team_id, "actor_id": a.actor_id,
                         "details": a.details, "at": services.iso(a.created_at)} for a in actions]}


@blp.route("/rounds/<int:round_id>/teams/<int:application_id>/feedback")
@blp.response(200, description="{rank, score, criterion_means, comments, tags, advanced}")
@login_required
def feedback(round_id: int, application_id: int):
    """A team's result with the judges' comments and weak-point tags (members and organizers; once published)."""
    return services.team_feedback(round_id, application_id, current_user)
