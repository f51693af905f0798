"""A round's teams, settings and state: putting accepted teams in a round (or taking one out before it is scored),
the round's mode, aggregation, leaderboard mode and timers, opening and closing it (one at a time, under
app.locking.lock_round), closing or reopening one team's scoring, and advancing the best teams of a published round
to the next one (each told by judging.signals.team_advanced)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, NotFound
from app.extensions import db
from app.locking import lock_round
from judging import aggregation, signals
from judging import teams as team_services
from judging.models import LEADERBOARD_MODES, ROUND_MODES, CompetitionRound, RoundTeam, Scorecard, TeamApplication
from judging.services.access import applications_by_id, authorize_organizer, get_round, round_team, teams_of
from judging.services.base import REASON_MAX, audit, problems
from judging.services.results import compute_results
from judging.services.stage import bump_stage


def add_teams(round_id: int, organizer, application_ids: list[int] | None = None, *, now: datetime,
              how: str = "setup") -> list[RoundTeam]:
    """Put accepted applications of the competition in the round (all accepted ones when `application_ids` is None),
    after the teams already there. A team already in the round stays where it is."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    query = sa.select(TeamApplication).where(TeamApplication.competition_id == round_.competition_id,
                                             TeamApplication.status == "accepted")
    if application_ids is not None:
        ids = [i for i in application_ids if isinstance(i, int) and not isinstance(i, bool)]
        query = query.where(TeamApplication.id.in_(ids))
    applications = list(db.session.scalars(query.order_by(TeamApplication.id)))
    if application_ids is not None and len(applications) != len(set(application_ids)):
        raise DomainError("team_not_accepted", _l("Only accepted teams of this competition can be in a round."),
                          status=409)
    present = {t.application_id for t in teams_of(round_.id)}
    position = max([t.position for t in teams_of(round_.id)], default=0)
    added = []
    for application in applications:
        if application.id in present:
            continue
        position += 1
        team = RoundTeam(round_id=round_.id, application_id=application.id, track=application.track,
                         position=position, added_by=how,
                         scoring_state="open" if round_.mode == "online" and round_.state == "open" else "pending")
        db.session.add(team)
        added.append(team)
    db.session.flush()
    if added:
        audit(round_.id, organizer, "teams_added", now=now, application_ids=[t.application_id for t in added],
              how=how)
    return added


def remove_team(round_id: int, round_team_id: int, organizer, *, now: datetime) -> None:
    """Take a team out of a round before anyone scored it (team_has_scores, 409, after). The team's row is taken
    first (closing its scoring), so a score in flight is waited for and seen, and one arriving later finds the
    team gone: a score is never deleted with its team."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    team = round_team(round_, round_team_id)
    db.session.execute(sa.update(RoundTeam).where(RoundTeam.id == team.id).values(scoring_state="closed")
                       .execution_options(synchronize_session=False))
    if db.session.scalar(sa.select(sa.func.count()).select_from(Scorecard).where(Scorecard.round_team_id == team.id)):
        raise DomainError("scores_exist", _l("This team has scores; it cannot leave the round."), status=409)
    if round_.current_team_id == team.id:
        round_.current_team_id = None
    db.session.delete(team)
    audit(round_.id, organizer, "team_removed", now=now, application_id=team.application_id)
    db.session.flush()


def configure_round(round_id: int, organizer, *, now: datetime, **settings) -> CompetitionRound:
    """Change a round's mode, aggregation, leaderboard mode and timers. Aggregation may change until results are
    published (it is recomputed from the scores, which never change by it)."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    errors = {}
    allowed = {"mode": ROUND_MODES, "leaderboard_mode": LEADERBOARD_MODES}
    for name, options in allowed.items():
        if name in settings and settings[name] not in options:
            errors[name] = _l("Please choose one of the options.")
    for name in ("drop_extremes", "normalize"):
        if name in settings and not isinstance(settings[name], bool):
            errors[name] = _l("Yes or no.")
    for name in ("pitch_seconds", "qa_seconds"):
        if name in settings and (not isinstance(settings[name], int) or isinstance(settings[name], bool)
                                 or not 0 <= settings[name] <= 3600):
            errors[name] = _l("Seconds, from 0 to 3600.")
    if "name" in settings and not (isinstance(settings["name"], str) and 0 < len(settings["name"].strip()) <= 120):
        errors["name"] = _l("Name the round (at most 120 characters).")
    unknown = set(settings) - {"mode", "leaderboard_mode", "drop_extremes", "normalize", "pitch_seconds",
                               "qa_seconds", "name"}
    for name in unknown:
        errors[name] = _l("Unknown field.")
    if errors:
        raise problems("invalid_round", _l("Please correct the highlighted fields."), errors)
    if round_.state == "published" and ({"drop_extremes", "normalize"} & set(settings)):
        raise DomainError("results_published", _l("The results are published; the aggregation cannot change."),
                          status=409)
    if "mode" in settings and settings["mode"] != round_.mode and round_.state != "draft":
        raise DomainError("round_started", _l("A round's mode can change only before it opens."), status=409)
    for name, value in settings.items():
        setattr(round_, name, value.strip() if isinstance(value, str) and name == "name" else value)
    audit(round_.id, organizer, "round_configured", now=now, **{k: v for k, v in settings.items()})
    db.session.flush()
    return round_


def open_round(round_id: int, organizer, *, now: datetime) -> CompetitionRound:
    """Start scoring. Online rounds open every team at once; live rounds open a team when it is put on stage."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    lock_round(round_)
    if round_.state == "open":
        return round_
    if round_.state == "published":
        raise DomainError("results_published", _l("The results are published; the round is over."), status=409)
    if not round_.criteria:
        raise DomainError("no_criteria", _l("Set the round's criteria first."), status=409)
    round_.state = "open"
    if round_.mode == "online":
        db.session.execute(sa.update(RoundTeam).where(RoundTeam.round_id == round_.id,
                                                      RoundTeam.scoring_state == "pending")
                           .values(scoring_state="open").execution_options(synchronize_session=False))
    audit(round_.id, organizer, "round_opened", now=now)
    bump_stage(round_, now=now)
    db.session.flush()
    return round_


def close_round(round_id: int, organizer, *, now: datetime) -> CompetitionRound:
    """Stop all scoring of a round (every team's scoring closes; an organizer may still reopen one team)."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    lock_round(round_)
    if round_.state == "published":
        raise DomainError("results_published", _l("The results are published; the round is over."), status=409)
    db.session.execute(sa.update(RoundTeam).where(RoundTeam.round_id == round_.id,
                                                  RoundTeam.scoring_state == "open")
                       .values(scoring_state="closed", closed_at=now).execution_options(synchronize_session=False))
    round_.state = "closed"
    round_.stage_phase = "idle"
    audit(round_.id, organizer, "round_closed", now=now)
    bump_stage(round_, now=now)
    db.session.flush()
    return round_


def close_team_scoring(round_id: int, round_team_id: int, organizer, *, now: datetime) -> RoundTeam:
    """Close a team's scoring: judges can no longer change their scores of it. Waits for a submission in flight
    (the same row), so no score slips in after the close."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    team = round_team(round_, round_team_id)
    changed = db.session.execute(
        sa.update(RoundTeam).where(RoundTeam.id == team.id, RoundTeam.scoring_state != "closed")
        .values(scoring_state="closed", closed_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(team)
    if changed:
        audit(round_.id, organizer, "scoring_closed", round_team_id=team.id, now=now)
        bump_stage(round_, now=now)
    return team


def reopen_team_scoring(round_id: int, round_team_id: int, organizer, *, now: datetime, reason: str = "") -> RoundTeam:
    """Only an organizer reopens a team's scoring (a judge asked to correct a slip); it is audited with a reason."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    team = round_team(round_, round_team_id)
    if round_.state == "published":
        raise DomainError("results_published", _l("The results are published; the round is over."), status=409)
    reason = (reason or "").strip()[:REASON_MAX] if isinstance(reason, str) else ""
    changed = db.session.execute(
        sa.update(RoundTeam).where(RoundTeam.id == team.id, RoundTeam.scoring_state == "closed")
        .values(scoring_state="open", closed_at=None).execution_options(synchronize_session=False)).rowcount
    if round_.state == "closed" and changed:
        round_.state = "open"
    db.session.refresh(team)
    if changed:
        audit(round_.id, organizer, "scoring_reopened", round_team_id=team.id, now=now, reason=reason)
        bump_stage(round_, now=now)
    return team


def advance_teams(round_id: int, organizer, *, to_round_id: int, top_n: int = 0, per_track: bool = False,
                  include: list[int] | None = None, exclude: list[int] | None = None,
                  now: datetime) -> list[RoundTeam]:
    """Put the best teams of a round (its results must be published) in the next round: the top N overall, or the
    top N of each track, plus the teams organizers add by hand (`include`, round team ids) minus those they take
    out (`exclude`). Teams sharing the last qualifying rank all advance. A team already in the next round stays.
    Each advanced team is told (team_advanced)."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    target = get_round(to_round_id)
    if target.competition_id != round_.competition_id or target.id == round_.id:
        raise DomainError("invalid_target_round", _l("Choose another round of the same competition."), status=422)
    if round_.state != "published":
        raise DomainError("results_not_published", _l("Publish this round's results before advancing teams."),
                          status=409)
    if not isinstance(top_n, int) or isinstance(top_n, bool) or top_n < 0:
        raise problems("invalid_advance", _l("Please correct the highlighted fields."),
                       {"top_n": _l("A whole number, 0 or more.")})
    include, exclude = set(include or []), set(exclude or [])
    teams = {t.id: t for t in teams_of(round_.id)}
    unknown = (include | exclude) - set(teams)
    if unknown:
        raise NotFound("team_not_in_round", _l("This team is not in this round."))
    chosen: dict[int, str] = {}
    results = [r for r in compute_results(round_) if r.rank is not None]
    groups: dict[str, list] = {}
    for result in results:
        groups.setdefault(teams[result.team_id].track if per_track else "", []).append(result)
    for group in groups.values():
        group_ranks = aggregation.rank([aggregation.TeamResult(r.team_id, r.score, None, r.raw_mean,
                                                               r.judges_counted, tie_break=r.tie_break)
                                        for r in group])
        for result in group_ranks:
            if top_n and result.rank <= top_n:
                chosen[result.team_id] = "top_n"
    for team_id in include:
        chosen[team_id] = "manual"
    for team_id in exclude:
        chosen.pop(team_id, None)
    present = {t.application_id for t in teams_of(target.id)}
    position = max([t.position for t in teams_of(target.id)], default=0)
    advanced = []
    order = {r.team_id: i for i, r in enumerate(results)}
    for team_id in sorted(chosen, key=lambda t: order.get(t, 10**9)):
        team = teams[team_id]
        team.advanced_to_round_id = target.id
        if team.application_id in present:
            continue
        position += 1
        new = RoundTeam(round_id=target.id, application_id=team.application_id, track=team.track, position=position,
                        added_by="advanced" if chosen[team_id] == "top_n" else "manual",
                        scoring_state="open" if target.mode == "online" and target.state == "open" else "pending")
        db.session.add(new)
        advanced.append(new)
    db.session.flush()
    audit(round_.id, organizer, "advanced", now=now, to_round_id=target.id, top_n=top_n, per_track=per_track,
          include=sorted(include), exclude=sorted(exclude), application_ids=[t.application_id for t in advanced])
    applications = applications_by_id(t.application_id for t in advanced)
    for new in advanced:
        how = "manual" if new.added_by == "manual" else "top_n"
        signals.team_advanced.send(None, competition_id=round_.competition_id, round_id=round_.id,
                                   to_round_id=target.id, to_round_name=target.name,
                                   application_id=new.application_id, how=how,
                                   member_user_ids=team_services.member_user_ids(applications[new.application_id]))
    return advanced
