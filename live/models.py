"""Tables of the live room: each event's room settings, the questions asked in it, one row per upvote (its primary
key makes a vote once per person, decided by the database), and each person's last question (the pace rule)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

# pending: waiting for a moderator (pre-moderation); visible: shown to the room; hidden: taken down by a moderator;
# answered: the speaker answered it (still shown, after the open ones); merged: a duplicate, its votes moved to the
# question it was merged into.
QUESTION_STATUSES = ("pending", "visible", "hidden", "answered", "merged")
SHOWN_STATUSES = ("visible", "answered")  # what the room and the screen see
MODERATED_STATUSES = ("visible", "hidden", "answered")  # what a moderator sets


class LiveRoom(db.Model):
    """One event's live room settings, created when an organizer first changes them (defaults otherwise)."""

    __tablename__ = "live_rooms"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    premoderation: Mapped[bool] = mapped_column(default=False)  # questions wait for approval before anyone sees them
    # The event's policy on anonymous questions: may its organizers see who wrote them (to deal with abuse)?
    organizers_see_anonymous: Mapped[bool] = mapped_column(default=False)
    # The speaker (a person, chosen by the mobile number the organizers type in; an account is made for a new
    # number), to whom the answered questions are sent (live.services.questions.send_answered).
    speaker_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Question(db.Model):
    __tablename__ = "live_questions"
    __table_args__ = (sa.Index("ix_live_questions_event_status", "event_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(sa.String(500))
    anonymous: Mapped[bool] = mapped_column(default=False)  # to the room and the screen, not to the database
    status: Mapped[str] = mapped_column(sa.String(12))
    pinned: Mapped[bool] = mapped_column(default=False)  # at most one per event (services.questions.moderate)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("live_questions.id", ondelete="SET NULL"))


class QuestionVote(db.Model):
    """One upvote: the primary key (question, voter) makes it once per person; inserted with ON CONFLICT DO
    NOTHING, so racing repeats from many processes leave one row."""

    __tablename__ = "live_question_votes"

    question_id: Mapped[int] = mapped_column(sa.ForeignKey("live_questions.id", ondelete="CASCADE"),
                                             primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AskerPace(db.Model):
    """When a person last asked in an event's room: one question per person per QUESTION_INTERVAL, decided by a
    conditional UPDATE of this row (every process and worker sees the same row)."""

    __tablename__ = "live_asker_pace"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_asked_at: Mapped[datetime] = mapped_column(UTCDateTime())


# A poll is prepared (draft), opened and closed by the organizers; its results reach the room when they choose.
POLL_STATUSES = ("draft", "open", "closed")


class Poll(db.Model):
    __tablename__ = "live_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(sa.String(300))
    multiple: Mapped[bool] = mapped_column(default=False)  # several options may be chosen
    status: Mapped[str] = mapped_column(sa.String(8), default="draft")
    results_shown: Mapped[bool] = mapped_column(default=False)  # the room and the screen see the counts
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PollOption(db.Model):
    __tablename__ = "live_poll_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("live_polls.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column()


class PollBallot(db.Model):
    """One person's answer to one poll: the primary key makes it once per person (an upsert changes it while the
    poll is open); the options chosen are its PollChoice rows."""

    __tablename__ = "live_poll_ballots"

    poll_id: Mapped[int] = mapped_column(sa.ForeignKey("live_polls.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PollChoice(db.Model):
    __tablename__ = "live_poll_choices"
    __table_args__ = (
        sa.ForeignKeyConstraint(["poll_id", "user_id"], ["live_poll_ballots.poll_id", "live_poll_ballots.user_id"],
                                ondelete="CASCADE"),
        sa.Index("ix_live_poll_choices_option", "option_id"),
    )

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("live_poll_options.id", ondelete="CASCADE"),
                                           primary_key=True)


# The people's choice (人气奖) of a competition round: the audience admitted at the door votes for one team.
AUDIENCE_VOTE_STATUSES = ("closed", "open")


class AudienceVoteRound(db.Model):
    """A round's audience vote: open or closed (by the console), and how many ranks of its tally are revealed
    (from the bottom, like the judges' leaderboard). No row: never opened."""

    __tablename__ = "live_audience_vote_rounds"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(8), default="closed")
    revealed_count: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AudienceVote(db.Model):
    """One admitted person's vote in a round: the primary key (round, person) makes it one vote each, inserted with
    ON CONFLICT DO NOTHING under racing requests; a vote is final (decisions.md)."""

    __tablename__ = "live_audience_votes"
    __table_args__ = (sa.Index("ix_live_audience_votes_team", "round_team_id"),)

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("competition_rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    round_team_id: Mapped[int] = mapped_column(sa.ForeignKey("judging_round_teams.id", ondelete="CASCADE"))
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime())
