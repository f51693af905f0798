"""The live stage of a round: the console puts a team on stage and moves its phase (pitch, Q&A, scoring, idle);
every phone derives the current phase and countdown from when the phase started and the round's timers (no
background thread, nothing to lose in a restart). A change of the stage (or of anything the judges' phones show)
bumps the round's stage version and sends judging.signals.stage_changed (judging/realtime.py announces it after
COMMIT)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.extensions import db
from app.locking import lock_round
from judging import signals
from judging.models import STAGE_PHASES, CompetitionRound, RoundTeam
from judging.services.access import authorize_organizer, get_round, round_team
from judging.services.base import audit, problems


def bump_stage(round_: CompetitionRound, *, now: datetime) -> None:
    """What the judges' phones show of this round changed (its stage, a team's scoring, a recusal, its state): a new
    stage version, announced after COMMIT through judging.signals.stage_changed."""
    round_.stage_version = (round_.stage_version or 0) + 1
    signals.stage_changed.send(None, round_id=round_.id)


def set_stage(round_id: int, organizer, *, round_team_id: int | None, phase: str, now: datetime) -> CompetitionRound:
    """The console drives a live round: put a team on stage ("now pitching") and move its phase (pitch, Q&A,
    scoring, idle). Putting a team on stage opens its scoring; the phase's start is the server's time, and every
    phone counts down from it (pitch_seconds / qa_seconds)."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    if phase not in STAGE_PHASES:
        raise problems("invalid_stage", _l("Please choose one of the options."),
                       {"phase": _l("Please choose one of the options.")})
    lock_round(round_)
    if round_.mode != "live":
        raise DomainError("not_live", _l("Only a live round has a stage."), status=409)
    if round_.state != "open":
        raise DomainError("round_not_open", _l("Scoring of this round is not open."), status=409)
    team = round_team(round_, round_team_id) if round_team_id is not None else None
    if team is not None and team.scoring_state == "pending":
        db.session.execute(sa.update(RoundTeam).where(RoundTeam.id == team.id, RoundTeam.scoring_state == "pending")
                           .values(scoring_state="open").execution_options(synchronize_session=False))
        db.session.refresh(team)
    round_.current_team_id = team.id if team else None
    round_.stage_phase = phase if team else "idle"
    round_.phase_started_at = now
    audit(round_.id, organizer, "stage", round_team_id=team.id if team else None, now=now, phase=round_.stage_phase)
    bump_stage(round_, now=now)
    db.session.flush()
    return round_


def stage_timeline(round_: CompetitionRound) -> list[dict]:
    """The phases of the team on stage as they follow each other on their own: a pitch of pitch_seconds, then Q&A
    of qa_seconds, then scoring (no end), from the moment the organizer started the phase. Every screen derives the
    current phase from this and the server's clock (no background thread, nothing to lose in a restart): each
    entry is {"phase", "starts_at", "ends_at"} (aware datetimes; None: no end)."""
    phase, started = round_.stage_phase, round_.phase_started_at
    if phase == "idle" or started is None:
        return []
    durations = {"pitch": round_.pitch_seconds, "qa": round_.qa_seconds}
    order = ("pitch", "qa", "scoring")
    timeline = []
    for name in order[order.index(phase):]:
        seconds = durations.get(name)
        if not seconds:  # scoring, or a phase without a timer: it lasts until the organizer moves on
            timeline.append({"phase": name, "starts_at": started, "ends_at": None})
            break
        ends = started + timedelta(seconds=seconds)
        timeline.append({"phase": name, "starts_at": started, "ends_at": ends})
        started = ends
    return timeline


def current_phase(round_: CompetitionRound, *, now: datetime) -> dict:
    """The phase on stage at `now` (pitch moves to Q&A, Q&A to scoring, by themselves when their time is up)."""
    timeline = stage_timeline(round_)
    if not timeline:
        return {"phase": round_.stage_phase, "starts_at": round_.phase_started_at, "ends_at": None}
    for entry in timeline:
        if entry["ends_at"] is None or now < entry["ends_at"]:
            return entry
    return timeline[-1]
