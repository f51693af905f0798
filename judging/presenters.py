"""Payloads of judging's pages and screens: a round as one judge sees it, the organizers' console, the stage as
every phone shows it, and where a signed-in person meets judging ("my rounds"). They read through the services
(judging/services/) and decide nothing; the API, the pages and the Socket.IO rooms send them as they are."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext

from app.accounts.models import User
from app.authz import authorize
from app.extensions import db
from judging import teams as team_services
from judging.models import (
    WEAK_POINT_TAGS,
    Competition,
    CompetitionRound,
    Criterion,
    Judge,
    RoundTeam,
    Scorecard,
    TeamApplication,
)
from judging.services.access import (
    applications_by_id,
    authorize_organizer,
    get_round,
    judges_of,
    recusals_of,
    require_judge,
    teams_of,
)
from judging.services.base import iso, round_brief, team_brief
from judging.services.invitations import invitation_status, resent_times
from judging.services.results import published_rankings
from judging.services.scoring import card_values, own_scorecards
from judging.services.stage import current_phase, stage_timeline


def criterion_label(criterion: Criterion) -> str:
    """A criterion's name in the reader's language (as the organizer entered it when there is no English one)."""
    return team_services.in_reader_language(criterion.label, criterion.label_en)


def results_track_label(row: dict) -> str:
    """The track of a row of services.results_table in the reader's language: its name, never its key."""
    return team_services.in_reader_language(row["track_label"], row["track_label_en"])


def stage_state(round_: CompetitionRound, *, now: datetime) -> dict:
    """What every screen shows of the stage: the team, the phase now (derived from when the organizer started it
    and the round's durations, so pitch becomes Q&A by itself), its server start and end, the whole timeline, and
    the server's now (clients compute their clock offset from it, so all countdowns agree)."""
    entry = current_phase(round_, now=now)
    ends_at = entry["ends_at"]
    duration = int((ends_at - entry["starts_at"]).total_seconds()) if ends_at and entry["starts_at"] else None
    team = db.session.get(RoundTeam, round_.current_team_id) if round_.current_team_id else None
    application = db.session.get(TeamApplication, team.application_id) if team else None
    return {
        "round_id": round_.id, "state": round_.state, "mode": round_.mode, "version": round_.stage_version,
        "phase": entry["phase"], "phase_set": round_.stage_phase,
        "current_team": team_brief(team, application) if team else None,
        "phase_started_at": iso(entry["starts_at"]), "phase_ends_at": iso(ends_at),
        "phase_seconds": duration, "server_now": iso(now),
        "timeline": [{"phase": e["phase"], "starts_at": iso(e["starts_at"]), "ends_at": iso(e["ends_at"])}
                     for e in stage_timeline(round_)],
    }


def stage_payload(round_: CompetitionRound, *, now: datetime) -> dict:
    """What the judges' room hears: the stage, and each team's scoring state (never a score)."""
    payload = stage_state(round_, now=now)
    payload["teams_scoring"] = {str(t.id): t.scoring_state for t in teams_of(round_.id)}
    return payload


def judge_view(round_id: int, user, *, now: datetime) -> dict:
    """A round as one judge sees it: the stage (live), the criteria, the teams in order with this judge's own
    scores (never another judge's), recusals, and their progress (5 of 12 scored)."""
    round_ = get_round(round_id)
    judge = require_judge(round_, user)
    teams = teams_of(round_.id)
    applications = applications_by_id(t.application_id for t in teams)
    mine = own_scorecards(judge)
    recused = {r.round_team_id for r in recusals_of(round_.id) if r.judge_id == judge.id}
    keys_by_id = {c.id: c.key for c in round_.criteria}
    rows = []
    for team in teams:
        card = mine.get(team.id)
        rows.append({**team_brief(team, applications.get(team.application_id)),
                     "project_summary": applications[team.application_id].project_summary
                     if team.application_id in applications else "",
                     "recused": team.id in recused,
                     "my_scorecard": card_values(card, keys_by_id) | {"updated_at": iso(card.updated_at)}
                     if card else None})
    to_score = [r for r in rows if not r["recused"]]
    return {
        "round": round_brief(round_), "judge": {"id": judge.id, "is_shadow": judge.is_shadow},
        "stage": stage_state(round_, now=now),
        "criteria": [criterion_brief(c) for c in round_.criteria],
        "tags": list(WEAK_POINT_TAGS),
        "teams": rows,
        "progress": {"scored": sum(1 for r in to_score if r["my_scorecard"]), "total": len(to_score)},
    }


def criterion_brief(criterion: Criterion) -> dict:
    return {"id": criterion.id, "key": criterion.key, "label": criterion.label, "label_en": criterion.label_en,
            "description": criterion.description, "weight": criterion.weight, "min": criterion.min_score,
            "max": criterion.max_score, "step": criterion.step}


def console_view(round_id: int, organizer, *, now: datetime) -> dict:
    """For organizers: the stage, and per team which judges have submitted, who has not and who is recused (not
    the scores themselves: the console is on a screen others may see)."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    return console_data(round_, now=now)


def console_data(round_: CompetitionRound, *, now: datetime) -> dict:
    """console_view without the check (for a Socket.IO room whose members were checked when they joined)."""
    teams = teams_of(round_.id)
    applications = applications_by_id(t.application_id for t in teams)
    judges = judges_of(round_.id)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([j.user_id for j in judges])))}
    cards = db.session.execute(sa.select(Scorecard.judge_id, Scorecard.round_team_id, Scorecard.revision)
                               .where(Scorecard.round_id == round_.id)).all()
    submitted = {(c.judge_id, c.round_team_id): c.revision for c in cards}
    recused = {(r.judge_id, r.round_team_id) for r in recusals_of(round_.id)}
    team_rows = []
    for team in teams:
        statuses = []
        for judge in judges:
            key = (judge.id, team.id)
            status = "recused" if key in recused else "submitted" if key in submitted else "waiting"
            statuses.append({"judge_id": judge.id, "status": status, "revision": submitted.get(key, 0)})
        team_rows.append({**team_brief(team, applications.get(team.application_id)), "judges": statuses,
                          "submitted": sum(1 for s in statuses if s["status"] == "submitted"),
                          "expected": sum(1 for s in statuses if s["status"] != "recused")})
    resent = resent_times(round_.id)
    begun = [t.id for t in teams if t.scoring_state != "pending"]
    return {
        "round": round_brief(round_), "stage": stage_state(round_, now=now),
        "judges": [{"id": j.id, "name": users[j.user_id].display_name if j.user_id in users else "",
                    "is_shadow": j.is_shadow, "invitation_used": j.invite_used_at is not None,
                    "state": judge_state(j, begun, submitted, recused),
                    "invitation": invitation_status(j, resent_at=resent.get(j.id))} for j in judges],
        "teams": team_rows,
    }


def judge_state(judge: Judge, begun: list[int], submitted, recused) -> str:
    """Where a judge truly is: "submitted" (every team whose scoring began, not recused, is scored), "scoring"
    (some), "opened" (their invitation, or they scored before a new one was sent), "invited", "not_sent". Scores
    come first: a new link (invite_used_at cleared) does not make a judge who scored look absent."""
    expected = [t for t in begun if (judge.id, t) not in recused]
    done = [t for t in expected if (judge.id, t) in submitted]
    if expected and len(done) == len(expected):
        return "submitted"
    if done or any(key[0] == judge.id for key in submitted):
        return "scoring"
    if judge.invite_used_at is not None:
        return "opened"
    return "invited" if judge.invite_sent_at is not None else "not_sent"


def my_rounds(user) -> dict:
    """Where a signed-in person meets judging: the rounds they judge, the rounds they organize, and their teams'
    rounds (with results once published)."""
    authorize(user, "resident")
    judging = [(get_round(j.round_id), j) for j in db.session.scalars(
        sa.select(Judge).where(Judge.user_id == user.id).order_by(Judge.round_id))]
    organizing = []
    for competition in db.session.scalars(sa.select(Competition).order_by(Competition.id)):
        if team_services.is_competition_organizer(user, competition):
            organizing.append(competition)
    teams = []
    for application in team_services.applications_of_user(user):
        rounds = db.session.scalars(sa.select(CompetitionRound).join(RoundTeam, RoundTeam.round_id ==
                                                                     CompetitionRound.id)
                                    .where(RoundTeam.application_id == application.id)
                                    .order_by(CompetitionRound.position)).all()
        if rounds:
            teams.append((application, list(rounds)))
    return {"judging": judging, "organizing": organizing, "teams": teams}


def public_results(competition_id: int) -> dict:
    """The competition's public results page (and its share card): each published round's ranking, the latest
    first, with the track in the reader's language; the share card's one line names the latest round's winner."""
    competition = team_services.get_competition(competition_id)
    rounds = [{"round": round_, "rows": [{**row, "track": results_track_label(row)} for row in rows]}
              for round_, rows in reversed(published_rankings(competition_id))]
    summary = gettext("No results published yet.")
    if rounds:
        latest = rounds[0]
        first = [row["team_name"] for row in latest["rows"] if row["rank"] == 1]
        summary = (gettext("%(round)s results: first place %(teams)s", round=latest["round"].name,
                           teams=gettext(", ").join(first)) if first else
                   gettext("%(round)s results are published.", round=latest["round"].name))
    event = team_services.competition_event(competition)
    return {"competition": competition, "rounds": rounds, "summary": summary,
            "event": event if event is not None and event.status != "draft" else None}
