"""Scores and recusals. A judge's submitted score is never lost or silently overwritten, and every change is kept:
- a score is written only while its team's scoring is open and the judge is not recused: the submission first
  holds the team's row (app.locking.hold_team_for_scoring), so closing the team's scoring waits for it and a
  submission after the close finds it closed;
- a submission claims its client-chosen `submission_id` (unique per judge) with INSERT ... ON CONFLICT DO NOTHING:
  a retry, or a retry racing the original, gets the first answer and nothing is counted twice;
- a judge's scorecard is one row per judge x team; a change names the revision it was made from and is refused when
  that revision is no longer the latest (stale_revision), so an old phone never overwrites a newer score.
Every accepted submission is kept with what it replaced (the audit trail of scores); organizers' actions are in
judging_audit. A judge with a conflict of interest (回避) cannot score the team, and a score they gave never counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, NotFound
from app.extensions import db, dialect_insert
from app.locking import hold_team_for_scoring
from judging import signals
from judging.models import (
    WEAK_POINT_TAGS,
    AuditEntry,
    CompetitionRound,
    Judge,
    Recusal,
    RoundTeam,
    Score,
    Scorecard,
    Submission,
)
from judging.services.access import authorize_organizer, get_round, require_judge, round_team
from judging.services.base import REASON_MAX, as_number, audit, on_step, problems
from judging.services.stage import bump_stage

SUBMISSION_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
COMMENT_MAX = 2000


def declare_recusal(round_id: int, round_team_id: int, actor, *, now: datetime, judge_id: int | None = None,
                    reason: str = "") -> Recusal:
    """A judge declares a conflict of interest with a team (回避), or an organizer records one for a judge. From
    then on the judge cannot score the team and any score they gave never counts. Declaring twice is harmless."""
    round_ = get_round(round_id)
    if judge_id is None:
        judge = require_judge(round_, actor)
    else:
        authorize_organizer(actor, round_)
        judge = db.session.get(Judge, judge_id) if isinstance(judge_id, int) else None
        if judge is None or judge.round_id != round_.id:
            raise NotFound("judge_not_found", _l("This judge does not exist."))
    team = round_team(round_, round_team_id)
    reason = (reason or "").strip()[:REASON_MAX] if isinstance(reason, str) else ""
    db.session.execute(
        dialect_insert(Recusal).values(round_id=round_.id, judge_id=judge.id, round_team_id=team.id, reason=reason,
                                declared_by_id=actor.id, created_at=now)
        .on_conflict_do_nothing(index_elements=["judge_id", "round_team_id"]))
    recusal = db.session.scalars(sa.select(Recusal).where(Recusal.judge_id == judge.id,
                                                          Recusal.round_team_id == team.id)).one()
    audit(round_.id, actor, "recusal", round_team_id=team.id, now=now, judge_id=judge.id, reason=reason)
    bump_stage(round_, now=now)
    return recusal


def withdraw_recusal(round_id: int, round_team_id: int, judge_id: int, organizer, *, now: datetime) -> None:
    """Only an organizer lifts a recusal (declared by mistake); audited. recusal_not_found (404) when there is
    none. The judge may then score the team (while its scoring is open)."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    team = round_team(round_, round_team_id)
    removed = db.session.execute(sa.delete(Recusal).where(Recusal.round_id == round_.id, Recusal.judge_id == judge_id,
                                                          Recusal.round_team_id == team.id)
                                 .execution_options(synchronize_session=False)).rowcount
    if not removed:
        raise NotFound("recusal_not_found", _l("This judge has no conflict of interest declared with this team."))
    audit(round_.id, organizer, "recusal_withdrawn", round_team_id=team.id, now=now, judge_id=judge_id)
    bump_stage(round_, now=now)


def is_recused(judge_id: int, round_team_id: int) -> bool:
    return db.session.scalar(sa.select(Recusal.id).where(Recusal.judge_id == judge_id,
                                                         Recusal.round_team_id == round_team_id)) is not None


@dataclass
class ScoreOutcome:
    scorecard: Scorecard
    submission: Submission
    replayed: bool = False  # this submission_id was seen before: the answer is the first one's


def _clean_score_input(round_: CompetitionRound, *, scores, comment, tags) -> tuple[dict[str, float], str,
                                                                                    list[str]]:
    criteria = {c.key: c for c in round_.criteria}
    errors: dict[str, object] = {}
    if not isinstance(scores, dict):
        raise problems("invalid_score", _l("Please score every criterion."),
                       {"scores": _l("Please score every criterion.")})
    cleaned = {}
    for key, value in scores.items():
        criterion = criteria.get(key)
        if criterion is None:
            errors[f"scores.{key}"] = _l("Unknown criterion.")
            continue
        number = as_number(value)
        if number is None:
            errors[f"scores.{key}"] = _l("A number, please.")
        elif not criterion.min_score <= number <= criterion.max_score:
            errors[f"scores.{key}"] = _l("From %(low)s to %(high)s.", low=_fmt(criterion.min_score),
                                        high=_fmt(criterion.max_score))
        elif not on_step(number, criterion.min_score, criterion.step):
            errors[f"scores.{key}"] = _l("In steps of %(step)s.", step=_fmt(criterion.step))
        else:
            cleaned[key] = round(number, 4)
    for key in criteria:
        if key not in scores:
            errors[f"scores.{key}"] = _l("Please score this criterion.")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        errors["comment"] = _l("At most %(n)d characters.", n=COMMENT_MAX)
    if tags is None:
        tags = []
    if not isinstance(tags, list) or any(t not in WEAK_POINT_TAGS for t in tags):
        errors["tags"] = _l("Please choose one of the options.")
    if errors:
        raise problems("invalid_score", _l("Please correct the highlighted scores."), errors)
    return cleaned, comment.strip(), sorted(set(tags))


def _fmt(value: float) -> str:
    return f"{value:g}"


def _digest(round_team_id: int, base_revision: int, scores: dict, comment: str, tags: list[str]) -> str:
    body = json.dumps([round_team_id, base_revision, sorted(scores.items()), comment, tags], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _find_submission(judge_id: int, submission_id: str) -> Submission | None:
    return db.session.scalars(sa.select(Submission).where(Submission.judge_id == judge_id,
                                                          Submission.submission_id == submission_id)
                              .execution_options(populate_existing=True)).first()


def _replay(existing: Submission, digest: str) -> ScoreOutcome:
    if existing.digest != digest:
        raise DomainError("submission_id_reused", _l("This submission id was already used for other scores."),
                          status=409)
    card = db.session.scalars(sa.select(Scorecard).where(Scorecard.judge_id == existing.judge_id,
                                                         Scorecard.round_team_id == existing.round_team_id)
                              .execution_options(populate_existing=True)).one()
    return ScoreOutcome(card, existing, replayed=True)


def card_values(card: Scorecard, keys_by_id: dict[int, str]) -> dict:
    """A scorecard as its judge sent it: scores by criterion key, comment, tags and revision."""
    return {"scores": {keys_by_id[s.criterion_id]: s.value for s in card.scores if s.criterion_id in keys_by_id},
            "comment": card.comment, "tags": list(card.tags or []), "revision": card.revision}


def submit_score(round_id: int, user, *, round_team_id, submission_id, base_revision, scores, comment: str = "",
                 tags=None, now: datetime) -> ScoreOutcome:
    """A judge submits (or revises) their scores of one team. `submission_id` is chosen by the phone for this
    submission: the same id again returns the first answer and changes nothing. `base_revision` is the scorecard
    revision the judge edited (0 for a first score); a stale one is refused (stale_revision, with the current
    revision), never silently overwritten. Refused: not a judge of the round (not_a_judge), a team not in the
    round, recused (recused), scoring not open (round_not_open, team_not_on_stage, scoring_closed), a score out of
    range or off the step, an unknown or missing criterion (invalid_score)."""
    round_ = get_round(round_id, with_criteria=True)
    judge = require_judge(round_, user)
    if not isinstance(submission_id, str) or not SUBMISSION_ID_PATTERN.fullmatch(submission_id):
        raise problems("invalid_score", _l("Please correct the highlighted scores."),
                       {"submission_id": _l("1 to 64 letters, digits or . _ : - (a UUID is good).")})
    if not isinstance(base_revision, int) or isinstance(base_revision, bool) or base_revision < 0:
        raise problems("invalid_score", _l("Please correct the highlighted scores."),
                       {"base_revision": _l("The revision you edited (0 for a first score).")})
    team = round_team(round_, round_team_id)
    cleaned, comment, tags = _clean_score_input(round_, scores=scores, comment=comment, tags=tags)
    digest = _digest(team.id, base_revision, cleaned, comment, tags)
    existing = _find_submission(judge.id, submission_id)
    if existing is not None:
        return _replay(existing, digest)

    if not hold_team_for_scoring(team.id, judge.id):
        return _refuse_or_replay(round_, team, judge, submission_id, digest)
    # A first score (base revision 0) reads no scorecard: its INSERT below refuses it if one exists after all.
    card = None if base_revision == 0 else db.session.scalars(
        sa.select(Scorecard).where(Scorecard.judge_id == judge.id, Scorecard.round_team_id == team.id)
        .execution_options(populate_existing=True)).first()
    current = card.revision if card is not None else 0
    if base_revision != current:
        existing = _find_submission(judge.id, submission_id)  # this very submission, committed meanwhile
        if existing is not None:
            return _replay(existing, digest)
        raise DomainError("stale_revision", _l("Your scores of this team changed on another device. Reload to see "
                                               "the latest before changing them."), status=409,
                          current_revision=current)
    keys_by_id = {c.id: c.key for c in round_.criteria}
    submission = db.session.scalars(
        dialect_insert(Submission).values(round_id=round_.id, judge_id=judge.id, round_team_id=team.id,
                                   submission_id=submission_id, digest=digest, revision=current + 1,
                                   values={"scores": cleaned, "comment": comment, "tags": tags,
                                           "base_revision": base_revision},
                                   previous=card_values(card, keys_by_id) if card is not None else None,
                                   created_at=now)
        .on_conflict_do_nothing(index_elements=["judge_id", "submission_id"]).returning(Submission)).first()
    if submission is None:  # the same submission arrived twice at once: the other one answered; answer the same
        return _replay(_find_submission(judge.id, submission_id), digest)
    card = _write_scorecard(round_, judge, team, card, cleaned, comment=comment, tags=tags, now=now)
    signals.scores_changed.send(None, round_id=round_.id)
    return ScoreOutcome(card, submission)


def _refuse_or_replay(round_: CompetitionRound, team: RoundTeam, judge: Judge, submission_id: str,
                      digest: str) -> ScoreOutcome:
    """Why the team's row could not be taken for this judge (its scoring is not open, or the judge is recused),
    unless this very submission was committed meanwhile: then its first answer."""
    if db.session.get(RoundTeam, team.id, populate_existing=True) is None:  # removed from the round meanwhile
        raise NotFound("team_not_in_round", _l("This team is not in this round."))
    existing = _find_submission(judge.id, submission_id)
    if existing is not None:
        return _replay(existing, digest)
    if is_recused(judge.id, team.id):
        raise DomainError("recused", _l("You declared a conflict of interest with this team."), status=409)
    db.session.refresh(round_)
    if round_.state == "draft":
        raise DomainError("round_not_open", _l("Scoring of this round has not started."), status=409)
    if team.scoring_state == "pending":
        raise DomainError("team_not_on_stage", _l("This team has not been on stage yet."), status=409)
    raise DomainError("scoring_closed", _l("Scoring of this team is closed. Ask the organizers to reopen it."),
                      status=409)


def _write_scorecard(round_: CompetitionRound, judge: Judge, team: RoundTeam, card: Scorecard | None,
                     cleaned: dict[str, float], *, comment: str, tags: list[str], now: datetime) -> Scorecard:
    """The judge's scorecard of the team at its next revision, with these scores (the caller holds the team's row
    and checked the revision)."""
    criterion_ids = {c.key: c.id for c in round_.criteria}
    if card is None:
        card = db.session.scalars(
            dialect_insert(Scorecard).values(round_id=round_.id, judge_id=judge.id, round_team_id=team.id, revision=1,
                                      comment=comment, tags=tags, submitted_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["judge_id", "round_team_id"]).returning(Scorecard)).first()
        if card is None:  # the judge's scorecard of this team exists (another device, maybe at this moment)
            current = db.session.scalar(sa.select(Scorecard.revision).where(Scorecard.judge_id == judge.id,
                                                                            Scorecard.round_team_id == team.id))
            raise DomainError("stale_revision", _l("Your scores of this team changed on another device. Reload to "
                                                   "see the latest before changing them."), status=409,
                              current_revision=current)
    else:
        moved = db.session.execute(
            sa.update(Scorecard).where(Scorecard.id == card.id, Scorecard.revision == card.revision)
            .values(revision=card.revision + 1, comment=comment, tags=tags, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not moved:
            raise DomainError("stale_revision", _l("Your scores of this team changed on another device. Reload to "
                                                   "see the latest before changing them."), status=409)
        db.session.execute(sa.delete(Score).where(Score.scorecard_id == card.id))
    db.session.execute(sa.insert(Score), [{"scorecard_id": card.id, "criterion_id": criterion_ids[key], "value": value}
                                          for key, value in cleaned.items()])
    db.session.expire(card)  # read again when used: revision, comment and scores as written here
    return card


def own_scorecards(judge: Judge) -> dict[int, Scorecard]:
    """A judge's own scorecards by round team (never anyone else's)."""
    return {c.round_team_id: c for c in db.session.scalars(
        sa.select(Scorecard).where(Scorecard.judge_id == judge.id).execution_options(populate_existing=True))}


def judge_progress(judge_id: int, round_id: int) -> dict:
    """A judge's own progress in their round: teams scored of the teams they are to score (not recused); one
    statement, for the answer to every submission."""
    recused = sa.select(Recusal.round_team_id).where(Recusal.judge_id == judge_id)
    total = sa.select(sa.func.count()).select_from(RoundTeam).where(
        RoundTeam.round_id == round_id, RoundTeam.id.not_in(recused)).scalar_subquery()
    scored = sa.select(sa.func.count()).select_from(Scorecard).where(
        Scorecard.judge_id == judge_id, Scorecard.round_team_id.not_in(recused)).scalar_subquery()
    row = db.session.execute(sa.select(scored.label("scored"), total.label("total"))).one()
    return {"scored": row.scored, "total": row.total}


def score_history(round_id: int, organizer, round_team_id: int | None = None) -> list[Submission]:
    """The audit trail of scores (organizers): every accepted submission with what it replaced, oldest first."""
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    query = sa.select(Submission).where(Submission.round_id == round_.id, Submission.revision > 0)
    if round_team_id is not None:
        query = query.where(Submission.round_team_id == round_team_id)
    return list(db.session.scalars(query.order_by(Submission.id)))


def audit_log(round_id: int, organizer) -> list[AuditEntry]:
    round_ = get_round(round_id)
    authorize_organizer(organizer, round_)
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.round_id == round_.id)
                                   .order_by(AuditEntry.id)))
