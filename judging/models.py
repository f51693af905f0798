"""Tables of the competition: competitions and rounds (foundation), teams' applications and their members
(judging/teams.py), and judging (issue 5): each round's criteria, judges (with their invitation links), teams,
recusals, scorecards with one score per criterion, every submission received (the idempotency key and the audit
trail of scores) and the organizers' actions.

Scores are kept per judge x team in a scorecard (`revision` goes up with every accepted change) and per criterion in
`judging_scores`. A judge's submission is written once in `judging_submissions` under its client-chosen
`submission_id` (unique per judge): a retry finds it and is answered the same, and it records what changed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

ROUND_KINDS = ("preliminary", "semifinal", "final")
ROUND_MODES = ("online", "live")  # online: judges work at their own pace; live: the console drives the stage
ROUND_STATES = ("draft", "open", "closed", "published")
STAGE_PHASES = ("idle", "pitch", "qa", "scoring")
TEAM_SCORING_STATES = ("pending", "open", "closed")  # pending: a live round's team not yet on stage
LEADERBOARD_MODES = ("live", "hidden")  # hidden: revealed rank by rank by the organizer
WEAK_POINT_TAGS = ("fundraising", "go_to_market", "tech", "team", "legal")


class Competition(db.Model):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    prize_pool_yuan: Mapped[int | None] = mapped_column()
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    # Tracks (赛道) teams apply to: [{"key": "ai-manufacturing", "label": "AI+制造", "label_en": "AI + manufacturing"}]
    # ("label_en" optional). Team applications (judging/teams.py) are taken while `applications_open` and, when
    # set, before `applications_close_at`.
    tracks: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    applications_open: Mapped[bool] = mapped_column(default=False)
    applications_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rounds: Mapped[list[CompetitionRound]] = relationship(
        back_populates="competition", order_by="CompetitionRound.position", cascade="all, delete-orphan"
    )


class CompetitionRound(db.Model):
    __tablename__ = "competition_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # ---- judging (issue 5) ----
    mode: Mapped[str] = mapped_column(sa.String(16), default="online", server_default="online")
    state: Mapped[str] = mapped_column(sa.String(16), default="draft", server_default="draft")
    # Aggregation, chosen per round and shown with the results.
    drop_extremes: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    normalize: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    leaderboard_mode: Mapped[str] = mapped_column(sa.String(16), default="hidden", server_default="hidden")
    revealed_count: Mapped[int] = mapped_column(default=0, server_default="0")  # hidden: ranks shown from the bottom
    pitch_seconds: Mapped[int] = mapped_column(default=480, server_default="480")
    qa_seconds: Mapped[int] = mapped_column(default=300, server_default="300")
    # The live stage: who is on, which phase, when it started (server time; phones count down from it).
    current_team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("judging_round_teams.id", ondelete="SET NULL", use_alter=True))
    stage_phase: Mapped[str] = mapped_column(sa.String(16), default="idle", server_default="idle")
    phase_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stage_version: Mapped[int] = mapped_column(default=0, server_default="0")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    competition: Mapped[Competition] = relationship(back_populates="rounds")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="round", order_by="Criterion.position", cascade="all, delete-orphan")


class Criterion(db.Model):
    """A criterion (评分维度) of a round: its weight in percent (a round's weights add up to 100) and the scale a
    judge scores on (min to max in steps, e.g. 0 to 10 in steps of 0.5)."""

    __tablename__ = "judging_criteria"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "key"),
        sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_percent"),
        sa.CheckConstraint("min_score < max_score AND step > 0", name="scale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str] = mapped_column(sa.String(80))
    label_en: Mapped[str] = mapped_column(sa.String(80), default="")
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    weight: Mapped[int] = mapped_column()  # percent
    min_score: Mapped[float] = mapped_column(sa.Float, default=0)
    max_score: Mapped[float] = mapped_column(sa.Float, default=10)
    step: Mapped[float] = mapped_column(sa.Float, default=0.5)
    position: Mapped[int] = mapped_column(default=0)

    round: Mapped[CompetitionRound] = relationship(back_populates="criteria")


class Judge(db.Model):
    """A judge (评委) of one round. A shadow (trainee) judge scores like the others; their scores never count.
    The invitation link's token is stored as its SHA-256 only; it goes to the judge's phone alone, and works on
    one device, before it expires, as a judge pass (app.accounts AuthSession), never as a sign-in."""

    __tablename__ = "judging_judges"
    __table_args__ = (sa.UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_shadow: Mapped[bool] = mapped_column(default=False)
    invite_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invite_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # opened (on one device)
    invite_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # organizers see when, never the link
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoundTeam(db.Model):
    """A team (an accepted TeamApplication) in a round, in pitch order. Scoring of a team opens (live: when it is on
    stage; online: when the round opens) and is closed by an organizer; only an organizer reopens it."""

    __tablename__ = "judging_round_teams"
    __table_args__ = (sa.UniqueConstraint("round_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("team_applications.id", ondelete="CASCADE"),
                                                index=True)
    track: Mapped[str] = mapped_column(sa.String(60), default="")
    position: Mapped[int] = mapped_column(default=0)
    scoring_state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(sa.String(16), default="setup")  # setup | advanced | manual
    advanced_to_round_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("competition_rounds.id", ondelete="SET NULL"))


class Recusal(db.Model):
    """A conflict of interest (回避): this judge does not score this team, and any score of theirs never counts."""

    __tablename__ = "judging_recusals"
    __table_args__ = (sa.UniqueConstraint("judge_id", "round_team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_judges.id", ondelete="CASCADE"))
    round_team_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_round_teams.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    declared_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Scorecard(db.Model):
    """One judge's scores of one team (one row, ever). `revision` counts accepted submissions: a judge's phone
    sends the revision it edited, and a stale one is refused instead of overwriting a newer score."""

    __tablename__ = "judging_scorecards"
    __table_args__ = (sa.UniqueConstraint("judge_id", "round_team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_judges.id", ondelete="CASCADE"))
    round_team_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_round_teams.id", ondelete="CASCADE"),
                                               index=True)
    revision: Mapped[int] = mapped_column(default=1)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # weak points (WEAK_POINT_TAGS)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    scores: Mapped[list[Score]] = relationship(back_populates="scorecard", cascade="all, delete-orphan",
                                               order_by="Score.criterion_id")


class Score(db.Model):
    __tablename__ = "judging_scores"

    scorecard_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_scorecards.id", ondelete="CASCADE"),
                                              primary_key=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_criteria.id", ondelete="CASCADE"),
                                              primary_key=True)
    value: Mapped[float] = mapped_column(sa.Float)

    scorecard: Mapped[Scorecard] = relationship(back_populates="scores")


class Submission(db.Model):
    """Every score submission received, under the judge's `submission_id` (unique per judge): a retry finds it and
    gets the same answer. It is also the audit trail of scores: what was sent, the revision it made, and the
    values it replaced."""

    __tablename__ = "judging_submissions"
    __table_args__ = (sa.UniqueConstraint("judge_id", "submission_id"),
                      sa.Index("ix_judging_submissions_round_team", "round_id", "round_team_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_judges.id", ondelete="CASCADE"))
    round_team_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_round_teams.id", ondelete="CASCADE"))
    submission_id: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(32))  # of what was sent: the same id with other scores is refused
    revision: Mapped[int] = mapped_column()  # the scorecard's revision this submission made
    values: Mapped[dict] = mapped_column(sa.JSON)  # {"scores": {key: value}, "comment", "tags"}
    previous: Mapped[dict | None] = mapped_column(sa.JSON)  # what it replaced (None for the first)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(db.Model):
    """What organizers did in a round: close, reopen, recuse on a judge's behalf, stage changes, publish, advance."""

    __tablename__ = "judging_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"), index=True)
    round_team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("judging_round_teams.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(32))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TeamApplication(db.Model):
    """A team's application to the competition. It belongs to the team: every member with an account may see
    and edit it, not only the person who submitted it."""

    __tablename__ = "team_applications"
    __table_args__ = (sa.UniqueConstraint("competition_id", "team_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    team_name: Mapped[str] = mapped_column(sa.String(120))
    track: Mapped[str] = mapped_column(sa.String(60), default="")
    project_name: Mapped[str] = mapped_column(sa.String(120))
    project_summary: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="submitted")  # submitted accepted declined withdrawn
    review_note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    members: Mapped[list[TeamMember]] = relationship(back_populates="application", cascade="all, delete-orphan",
                                                     order_by="TeamMember.id")


class TeamMember(db.Model):
    __tablename__ = "team_members"
    __table_args__ = (sa.UniqueConstraint("application_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("team_applications.id", ondelete="CASCADE"),
                                                index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    phone: Mapped[str] = mapped_column(sa.String(20))  # E.164; links to an account when that person signs in
    role: Mapped[str] = mapped_column(sa.String(40), default="")
    is_lead: Mapped[bool] = mapped_column(default=False)

    application: Mapped[TeamApplication] = relationship(back_populates="members")
