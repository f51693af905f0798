"""Payloads of the live room for the API, the phones, the moderators and the big screen."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.phones import mask_phone
from live.models import SHOWN_STATUSES, LiveRoom, Poll, PollOption, Question, QuestionVote
from live.services.polls import counts_of


def question_payload(view) -> dict:
    """One question as its reader sees it (live.services.questions.QuestionView)."""
    q = view.question
    return {"id": q.id, "event_id": q.event_id, "text": q.text, "anonymous": q.anonymous, "author": view.author_name,
            "status": q.status, "pinned": q.pinned, "votes": view.votes, "voted": view.voted,
            "created_at": q.created_at.isoformat()}


def settings_payload(room: LiveRoom) -> dict:
    return {"event_id": room.event_id, "premoderation": bool(room.premoderation),
            "organizers_see_anonymous": bool(room.organizers_see_anonymous)}


def broadcast_payloads(connection, question_id: int) -> tuple[int, dict, dict] | None:
    """(event id, what the room and the screen hear, what the moderators hear) of one question, read on
    `connection` after COMMIT. The room hears {"id", "removed": true} for a question it may not see (pending,
    hidden). Nobody's own vote is in a broadcast: "voted" stays what each phone knows."""
    q = connection.execute(
        sa.select(Question.__table__, User.name.label("author_name"), User.phone.label("author_phone"),
                  LiveRoom.organizers_see_anonymous)
        .select_from(Question.__table__)
        .outerjoin(User, User.id == Question.author_id)
        .outerjoin(LiveRoom, LiveRoom.event_id == Question.event_id)
        .where(Question.id == question_id)).first()
    if q is None:
        return None
    votes = connection.scalar(sa.select(sa.func.count()).select_from(QuestionVote)
                              .where(QuestionVote.question_id == question_id))
    name = (q.author_name or mask_phone(q.author_phone)) if q.author_phone else None
    created = q.created_at.isoformat() if hasattr(q.created_at, "isoformat") else str(q.created_at)
    common = {"id": q.id, "event_id": q.event_id, "text": q.text, "anonymous": q.anonymous, "status": q.status,
              "pinned": q.pinned, "votes": votes, "created_at": created}
    room = ({**common, "author": None if q.anonymous else name} if q.status in SHOWN_STATUSES
            else {"id": q.id, "event_id": q.event_id, "removed": True})
    moderators = {**common, "author": name if (not q.anonymous or q.organizers_see_anonymous) else None}
    return q.event_id, room, moderators


def speaker_payload(user) -> dict | None:
    """The speaker as the organizers see them: the name and the masked mobile number."""
    if user is None:
        return None
    return {"name": user.name or "", "phone": mask_phone(user.phone) if user.phone else ""}


def poll_payload(view) -> dict:
    """One poll as its reader sees it (live.services.polls.PollView): counts only when shown (or to organizers)."""
    p = view.poll
    return {"id": p.id, "event_id": p.event_id, "question": p.question, "multiple": p.multiple, "status": p.status,
            "results_shown": p.results_shown,
            "options": [{"id": o.id, "label": o.label,
                         "count": None if view.counts is None else view.counts.get(o.id, 0)} for o in view.options],
            "answers": view.ballots, "my_option_ids": view.mine}


def poll_broadcast_payloads(connection, poll_id: int) -> tuple[int, dict | None, dict] | None:
    """(event id, what the room and the screen hear (None for a draft), what the moderators hear) of one poll, read
    on `connection` after COMMIT. Nobody's own answer is in a broadcast."""
    poll = connection.execute(sa.select(Poll.__table__).where(Poll.id == poll_id)).first()
    if poll is None:
        return None
    options = connection.execute(sa.select(PollOption.id, PollOption.label).where(PollOption.poll_id == poll_id)
                                 .order_by(PollOption.position)).all()
    counts, ballots = counts_of(poll_id, connection)
    common = {"id": poll.id, "event_id": poll.event_id, "question": poll.question, "multiple": poll.multiple,
              "status": poll.status, "results_shown": poll.results_shown}
    full = {**common, "options": [{"id": o.id, "label": o.label, "count": counts.get(o.id, 0)} for o in options],
            "answers": ballots}
    if poll.status == "draft":
        return poll.event_id, None, full
    if poll.results_shown:
        return poll.event_id, full, full
    return poll.event_id, {**common, "options": [{"id": o.id, "label": o.label, "count": None} for o in options],
                           "answers": None}, full
