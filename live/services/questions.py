"""Questions of the live room: asking (clean text, one question per person per QUESTION_INTERVAL, pre-moderation),
upvoting (once per person, decided by the database), and moderating (show, hide, pin, answered)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.db_types import UTCDateTime
from app.errors import DomainError, NotFound
from app.extensions import db, dialect_insert
from live import signals
from live.models import MODERATED_STATUSES, SHOWN_STATUSES, AskerPace, Question, QuestionVote
from live.services import access

UTC_TYPE = UTCDateTime()
MAX_QUESTION = 300  # characters: a question a room can read on a phone and the screen
QUESTION_INTERVAL = timedelta(seconds=30)


# ---- asking ----------------------------------------------------------------------------------------------------

def clean_question(text) -> str:
    """The question as stored: trimmed, not empty, at most MAX_QUESTION characters (422 otherwise)."""
    text = str(text or "").strip()
    if not text:
        raise DomainError("question_empty", _l("Please write your question."), status=422)
    if len(text) > MAX_QUESTION:
        raise DomainError("question_too_long", _l("A question can be at most %(n)s characters (yours has %(m)s).",
                                                  n=MAX_QUESTION, m=len(text)), status=422)
    return text


def take_turn_to_ask(event_id: int, user_id: int, *, now: datetime) -> None:
    """One question per person per event every QUESTION_INTERVAL, decided by the database: the person's pace row is
    inserted (first question) or moved forward only if their last question is old enough, by one statement each, so
    racing requests from any number of processes let exactly one through. 429 too_fast otherwise."""
    inserted = db.session.execute(
        dialect_insert(AskerPace).values(event_id=event_id, user_id=user_id, last_asked_at=now)
        .on_conflict_do_nothing(index_elements=["event_id", "user_id"]).returning(AskerPace.user_id)).first()
    if inserted is not None:
        return
    moved = db.session.execute(
        sa.update(AskerPace).where(AskerPace.event_id == event_id, AskerPace.user_id == user_id,
                                   AskerPace.last_asked_at <= now - QUESTION_INTERVAL)
        .values(last_asked_at=now).returning(AskerPace.user_id)).first()
    if moved is not None:
        return
    last = db.session.scalar(sa.select(AskerPace.last_asked_at).where(
        AskerPace.event_id == event_id, AskerPace.user_id == user_id))
    wait = max(1, int((last + QUESTION_INTERVAL - now).total_seconds() + 0.999)) if last else 1
    raise DomainError("too_fast", _l("One question every %(n)s seconds, please: you can ask again in %(s)s s.",
                                     n=int(QUESTION_INTERVAL.total_seconds()), s=wait), status=429,
                      retry_after=wait)


def ask(event_id: int, user, *, text, anonymous: bool, now: datetime) -> Question:
    """A person of the room asks. Shown at once, or pending when the room is pre-moderated. Flushes."""
    event = access.participant_event(event_id, user)
    text = clean_question(text)
    take_turn_to_ask(event.id, user.id, now=now)
    premoderated = access.room_settings(event.id).premoderation and not access.is_organizer(user, event)
    question = Question(event_id=event.id, author_id=user.id, text=text, anonymous=bool(anonymous),
                        status="pending" if premoderated else "visible", pinned=False, created_at=now)
    db.session.add(question)
    db.session.flush()
    signals.question_changed.send(None, event_id=event.id, question_id=question.id)
    return question


# ---- reading ---------------------------------------------------------------------------------------------------

@dataclass
class QuestionView:
    question: Question
    votes: int
    voted: bool
    author_name: str | None  # None: anonymous to this reader


def vote_count(question_id: int, connection=None) -> int:
    query = sa.select(sa.func.count()).select_from(QuestionVote).where(QuestionVote.question_id == question_id)
    return (connection or db.session).scalar(query)


def questions_for(event_id: int, user) -> tuple[list[QuestionView], bool]:
    """The event's questions as `user` may see them, in the room's order (pinned, then open by votes, then
    answered), and whether `user` moderates. Attendees see the shown ones and their own pending ones; organizers
    see all, with the authors of anonymous ones only when the event's policy says so."""
    event = access.participant_event(event_id, user)
    moderator = access.is_organizer(user, event)
    query = sa.select(Question).where(Question.event_id == event.id)
    if not moderator:
        query = query.where(sa.or_(Question.status.in_(SHOWN_STATUSES),
                                   sa.and_(Question.status == "pending", Question.author_id == user.id)))
    questions = list(db.session.scalars(query))
    ids = [q.id for q in questions]
    counts = dict(db.session.execute(
        sa.select(QuestionVote.question_id, sa.func.count()).where(QuestionVote.question_id.in_(ids))
        .group_by(QuestionVote.question_id)).all()) if ids else {}
    mine = set(db.session.scalars(sa.select(QuestionVote.question_id).where(
        QuestionVote.question_id.in_(ids), QuestionVote.user_id == user.id))) if ids else set()
    reveal = moderator and access.room_settings(event.id).organizers_see_anonymous
    views = [QuestionView(q, counts.get(q.id, 0), q.id in mine, author_name(q, reveal=reveal)) for q in questions]
    views.sort(key=room_order)
    return views, moderator


def room_order(view: QuestionView):
    q = view.question
    return (not q.pinned, q.status == "answered", q.status in ("hidden", "merged"), -view.votes, q.created_at, q.id)


def author_name(question: Question, *, reveal: bool = False) -> str | None:
    if question.anonymous and not reveal:
        return None
    author = db.session.get(User, question.author_id) if question.author_id else None
    return author.display_name if author is not None else None


# ---- upvotes ---------------------------------------------------------------------------------------------------

def _question_in_room(question_id: int, user) -> Question:
    """The question if `user` may see it in its room (404 question_not_found otherwise)."""
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound("question_not_found", _l("This question does not exist."))
    event = access.participant_event(question.event_id, user)
    if question.status not in SHOWN_STATUSES and not access.is_organizer(user, event):
        raise NotFound("question_not_found", _l("This question does not exist."))
    return question


def vote(question_id: int, user, *, now: datetime) -> int:
    """Upvote: once per person, however often and however concurrently it is repeated (the primary key decides,
    with ON CONFLICT DO NOTHING). Returns the question's votes. Flushes."""
    question = _question_in_room(question_id, user)
    if question.status != "visible":
        raise DomainError("not_open_for_votes", _l("Only open questions can be upvoted."), status=409)
    added = db.session.execute(
        dialect_insert(QuestionVote).values(question_id=question.id, user_id=user.id, created_at=now)
        .on_conflict_do_nothing(index_elements=["question_id", "user_id"]).returning(QuestionVote.user_id)).first()
    if added is not None:
        signals.question_changed.send(None, event_id=question.event_id, question_id=question.id)
    return vote_count(question.id)


def unvote(question_id: int, user) -> int:
    """Take one's upvote back (nothing happens when there is none). Returns the question's votes. Flushes."""
    question = _question_in_room(question_id, user)
    removed = db.session.execute(sa.delete(QuestionVote).where(
        QuestionVote.question_id == question.id, QuestionVote.user_id == user.id)
        .returning(QuestionVote.user_id)).first()
    if removed is not None:
        signals.question_changed.send(None, event_id=question.event_id, question_id=question.id)
    return vote_count(question.id)


# ---- moderating ------------------------------------------------------------------------------------------------

def moderate(question_id: int, actor, *, now: datetime, status: str | None = None,
             pinned: bool | None = None) -> Question:
    """An organizer shows (approves), hides or marks a question answered, and pins or unpins it. One question is
    pinned per event: pinning one unpins the other. A hidden question cannot be pinned. Flushes."""
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound("question_not_found", _l("This question does not exist."))
    access.moderated_event(question.event_id, actor)
    if status is not None:
        if status not in MODERATED_STATUSES:
            raise DomainError("invalid_status", _l("Choose show, hide or answered."), status=422)
        question.status = status
    if status == "hidden" and pinned is None:
        pinned = False
    if pinned is not None:
        if pinned and question.status not in SHOWN_STATUSES:
            raise DomainError("cannot_pin", _l("Only a question the room sees can be pinned."), status=409)
        if pinned:
            others = db.session.scalars(sa.select(Question.id).where(
                Question.event_id == question.event_id, Question.pinned.is_(True), Question.id != question.id)).all()
            if others:
                db.session.execute(sa.update(Question).where(Question.id.in_(others)).values(pinned=False))
            for other in others:
                signals.question_changed.send(None, event_id=question.event_id, question_id=other)
        question.pinned = pinned
    question.moderated_by_id = actor.id
    question.moderated_at = now
    db.session.flush()
    signals.question_changed.send(None, event_id=question.event_id, question_id=question.id)
    return question


def merge(question_id: int, actor, *, into_id: int, now: datetime) -> Question:
    """An organizer merges a duplicate into another question of the same event: the duplicate leaves the room
    (status merged), its upvotes move to the other question, and its author's wish counts as one more (each person
    still once: INSERT ... SELECT with ON CONFLICT DO NOTHING). Flushes."""
    question = db.session.get(Question, question_id)
    target = db.session.get(Question, into_id)
    if question is None or target is None or target.event_id != question.event_id:
        raise NotFound("question_not_found", _l("This question does not exist."))
    access.moderated_event(question.event_id, actor)
    if target.id == question.id or target.status in ("merged", "hidden") or question.status == "merged":
        raise DomainError("cannot_merge", _l("Merge a question into another question the room sees."), status=409)
    voters = sa.select(sa.literal(target.id), QuestionVote.user_id, QuestionVote.created_at).where(
        QuestionVote.question_id == question.id)
    if question.author_id is not None:
        author = sa.select(sa.literal(target.id), sa.literal(question.author_id), sa.literal(now, UTC_TYPE))
        voters = voters.union(author)
    db.session.execute(dialect_insert(QuestionVote).from_select(["question_id", "user_id", "created_at"], voters)
                       .on_conflict_do_nothing(index_elements=["question_id", "user_id"]))
    db.session.execute(sa.delete(QuestionVote).where(QuestionVote.question_id == question.id))
    question.status, question.pinned, question.merged_into_id = "merged", False, target.id
    question.moderated_by_id, question.moderated_at = actor.id, now
    db.session.flush()
    signals.question_changed.send(None, event_id=question.event_id, question_id=question.id)
    signals.question_changed.send(None, event_id=question.event_id, question_id=target.id)
    return target
