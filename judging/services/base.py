"""What the concerns of judging's services share: a refusal with a message per field, the organizers' audit row,
times as ISO text, numbers as a form or a phone sends them, and the brief shape of a round and of a team in a round
(the rules' answers, such as the leaderboard, carry them as presenters' payloads do; they live here because
presenters import services, never the other way round)."""

from __future__ import annotations

import math
from datetime import datetime

from app.errors import DomainError
from app.extensions import db
from judging.models import AuditEntry, CompetitionRound, RoundTeam, TeamApplication

REASON_MAX = 300
STEP_TOLERANCE = 1e-6


def problems(code: str, message, fields: dict, status: int = 422) -> DomainError:
    return DomainError(code, message, status=status, fields={k: str(v) for k, v in fields.items()})


def audit(round_id: int, actor, action: str, *, round_team_id: int | None = None, now: datetime,
          **details) -> None:
    db.session.add(AuditEntry(round_id=round_id, round_team_id=round_team_id, actor_id=getattr(actor, "id", None),
                              action=action, details=details, created_at=now))


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def as_number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(value)


def on_step(value: float, low: float, step: float) -> bool:
    units = (value - low) / step
    return abs(units - round(units)) < STEP_TOLERANCE


def round_brief(round_: CompetitionRound) -> dict:
    return {"id": round_.id, "competition_id": round_.competition_id, "name": round_.name, "kind": round_.kind,
            "mode": round_.mode, "state": round_.state, "drop_extremes": round_.drop_extremes,
            "normalize": round_.normalize, "leaderboard_mode": round_.leaderboard_mode,
            "pitch_seconds": round_.pitch_seconds, "qa_seconds": round_.qa_seconds,
            "published_at": iso(round_.published_at)}


def team_brief(team: RoundTeam, application: TeamApplication | None) -> dict:
    return {"id": team.id, "application_id": team.application_id, "position": team.position, "track": team.track,
            "team_name": application.team_name if application else "",
            "project_name": application.project_name if application else "",
            "scoring_state": team.scoring_state}
