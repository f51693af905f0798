"""The event's speaker and the answered questions sent to them: the organizers choose the speaker by the mobile
number they type in (a person; an account is made for a new number, as for a judge), and send the questions marked
answered (text, votes, when asked; the author's name only when not asked anonymously) through the
answered_questions_sent signal, which notifications delivers (the inbox, and the person's channels: e-mail when
configured)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.accounts.phones import normalise_phone
from app.accounts.users import get_or_create_user
from app.errors import DomainError
from app.extensions import db
from live import signals
from live.models import LiveRoom, Question, QuestionVote
from live.services import access

MAX_SENT = 100  # questions in one message, most upvoted first


def set_speaker(event_id: int, actor, *, phone: str, name: str = "", now: datetime) -> LiveRoom:
    """Choose the event's speaker by mobile number ("" clears it). Flushes."""
    access.moderated_event(event_id, actor)
    room = access.saved_room(event_id)
    phone = (phone or "").strip()
    if not phone:
        room.speaker_user_id = None
    else:
        user = get_or_create_user(normalise_phone(phone), now=now, name=(name or "").strip()[:80])
        if name and not user.name:
            user.name = name.strip()[:80]
        room.speaker_user_id = user.id
    room.updated_at = now
    db.session.flush()
    return room


def speaker_of(room: LiveRoom) -> User | None:
    return db.session.get(User, room.speaker_user_id) if room.speaker_user_id else None


def answered_questions(event_id: int) -> list[dict]:
    """The event's answered questions, most upvoted first (then as asked): text, votes, when asked, and the author's
    name unless asked anonymously."""
    votes = (sa.select(sa.func.count()).select_from(QuestionVote).where(QuestionVote.question_id == Question.id)
             .scalar_subquery())
    rows = db.session.execute(
        sa.select(Question.text, Question.anonymous, Question.created_at, User.name, votes.label("votes"))
        .outerjoin(User, User.id == Question.author_id)
        .where(Question.event_id == event_id, Question.status == "answered")
        .order_by(votes.desc(), Question.created_at, Question.id).limit(MAX_SENT)).all()
    return [{"text": r.text, "votes": r.votes, "asked_at": r.created_at,
             "author": None if r.anonymous else (r.name or None)} for r in rows]


def send_answered(event_id: int, actor, *, now: datetime) -> tuple[User, int]:
    """Send the answered questions to the event's speaker (organizers): (the speaker, how many questions). 409
    no_speaker when none is chosen, nothing_answered when no question is marked answered."""
    event = access.moderated_event(event_id, actor)
    speaker = speaker_of(access.room_settings(event.id))
    if speaker is None:
        raise DomainError("no_speaker", _l("Choose the speaker first (their mobile number)."), status=409)
    answered = answered_questions(event.id)
    if not answered:
        raise DomainError("nothing_answered", _l("No question is marked answered yet."), status=409)
    signals.answered_questions_sent.send(None, event_id=event.id, speaker_user_id=speaker.id, questions=answered,
                                         sent_by=actor.id, now=now)
    return speaker, len(answered)
