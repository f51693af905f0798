"""Polls of the live room: prepared by the organizers (single or multiple choice), opened and closed live, answered
once per person (changed while open, decided by the database), results shown to the room when the organizers
choose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, NotFound
from app.extensions import db, dialect_insert
from live import signals
from live.models import Poll, PollBallot, PollChoice, PollOption
from live.services import access

MAX_POLL_QUESTION = 300
MAX_OPTION = 120
MIN_OPTIONS, MAX_OPTIONS = 2, 10


def _invalid(code: str, message) -> DomainError:
    return DomainError(code, message, status=422)


def create_poll(event_id: int, actor, *, question, options, multiple: bool, now: datetime) -> Poll:
    """An organizer prepares a poll (a draft: the room does not see it until it is opened). Flushes."""
    event = access.moderated_event(event_id, actor)
    question = str(question or "").strip()
    if not question:
        raise _invalid("poll_question_empty", _l("Please write the poll's question."))
    if len(question) > MAX_POLL_QUESTION:
        raise _invalid("poll_question_too_long", _l("A poll's question can be at most %(n)s characters.",
                                                    n=MAX_POLL_QUESTION))
    labels = [str(option or "").strip() for option in (options or [])]
    labels = [label for label in labels if label]
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise _invalid("poll_options", _l("A poll needs %(min)s to %(max)s options.", min=MIN_OPTIONS,
                                          max=MAX_OPTIONS))
    if any(len(label) > MAX_OPTION for label in labels):
        raise _invalid("poll_option_too_long", _l("An option can be at most %(n)s characters.", n=MAX_OPTION))
    if len(set(labels)) != len(labels):
        raise _invalid("poll_options_repeated", _l("Two options say the same thing."))
    poll = Poll(event_id=event.id, question=question, multiple=bool(multiple), status="draft", results_shown=False,
                created_by_id=actor.id, created_at=now)
    db.session.add(poll)
    db.session.flush()
    db.session.add_all(PollOption(poll_id=poll.id, label=label, position=i) for i, label in enumerate(labels))
    db.session.flush()
    signals.poll_changed.send(None, event_id=event.id, poll_id=poll.id)
    return poll


def _poll(poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None:
        raise NotFound("poll_not_found", _l("This poll does not exist."))
    return poll


def moderated_poll(poll_id: int, actor) -> Poll:
    poll = _poll(poll_id)
    access.moderated_event(poll.event_id, actor)
    return poll


def open_poll(poll_id: int, actor, *, now: datetime) -> Poll:
    """Open a draft (or open a closed poll again). Flushes."""
    poll = moderated_poll(poll_id, actor)
    if poll.status != "open":
        poll.status, poll.opened_at, poll.closed_at = "open", now, None
        db.session.flush()
        signals.poll_changed.send(None, event_id=poll.event_id, poll_id=poll.id)
    return poll


def close_poll(poll_id: int, actor, *, now: datetime) -> Poll:
    """Close an open poll: answers stop (an answer racing the close waits for it on PostgreSQL, see answer).
    Flushes."""
    poll = moderated_poll(poll_id, actor)
    if poll.status == "draft":
        raise DomainError("poll_not_open", _l("This poll has not been opened yet."), status=409)
    if poll.status == "open":
        changed = db.session.execute(sa.update(Poll).where(Poll.id == poll.id, Poll.status == "open")
                                     .values(status="closed", closed_at=now).returning(Poll.id)).first()
        db.session.refresh(poll)
        if changed is not None:
            signals.poll_changed.send(None, event_id=poll.event_id, poll_id=poll.id)
    return poll


def show_results(poll_id: int, actor, *, shown: bool) -> Poll:
    """Show the results to the room and the screen, or hide them again. Flushes."""
    poll = moderated_poll(poll_id, actor)
    if poll.results_shown != bool(shown):
        poll.results_shown = bool(shown)
        db.session.flush()
        signals.poll_changed.send(None, event_id=poll.event_id, poll_id=poll.id)
    return poll


def answer(poll_id: int, user, *, option_ids, now: datetime) -> list[int]:
    """A person of the room answers (or changes their answer) while the poll is open: one ballot per person per
    poll, decided by the database. The ballot row is upserted first (on PostgreSQL its row lock queues the same
    person's racing answers; on SQLite it takes the one writer's lock), then the poll is read under a share lock
    (FOR SHARE on PostgreSQL: a close waits for answers in flight, and an answer after the close sees it closed),
    then the choices are replaced. Returns the options chosen. Flushes."""
    poll = _poll(poll_id)
    event = access.participant_event(poll.event_id, user)
    if poll.status == "draft" and not access.is_organizer(user, event):
        raise NotFound("poll_not_found", _l("This poll does not exist."))
    chosen = _checked_options(poll, option_ids)
    db.session.execute(
        dialect_insert(PollBallot).values(poll_id=poll.id, user_id=user.id, answered_at=now)
        .on_conflict_do_update(index_elements=["poll_id", "user_id"], set_={"answered_at": now}))
    if locked_status(poll.id) != "open":
        raise poll_closed()
    db.session.execute(sa.delete(PollChoice).where(PollChoice.poll_id == poll.id, PollChoice.user_id == user.id))
    db.session.execute(sa.insert(PollChoice), [{"poll_id": poll.id, "user_id": user.id, "option_id": option_id}
                                                for option_id in chosen])
    signals.poll_changed.send(None, event_id=poll.event_id, poll_id=poll.id)
    return chosen


def poll_closed() -> DomainError:
    return DomainError("poll_closed", _l("This poll is not open for answers."), status=409)


def locked_status(poll_id: int) -> str | None:
    """The poll's status under a share lock (FOR SHARE on PostgreSQL: a close waits for the answers in flight, and
    an answer after the close sees it closed), read after the answer's ballot is written."""
    return db.session.scalar(sa.select(Poll.status).where(Poll.id == poll_id).with_for_update(read=True))


def option_ids_of(poll_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(PollOption.id).where(PollOption.poll_id == poll_id)))


def _checked_options(poll: Poll, option_ids) -> list[int]:
    return checked_choice(poll, option_ids, option_ids_of(poll.id))


def checked_choice(poll: Poll, option_ids, valid: set[int]) -> list[int]:
    """The options chosen, sorted, when they are a valid answer to `poll` (whose options are `valid`); else the
    error (422) that says why."""
    ids = sorted(set(option_ids or []))
    if not ids or any(i not in valid for i in ids):
        raise _invalid("invalid_options", _l("Choose among this poll's options."))
    if not poll.multiple and len(ids) > 1:
        raise _invalid("one_option_only", _l("This poll takes one option only."))
    return ids


# ---- reading ---------------------------------------------------------------------------------------------------

@dataclass
class PollView:
    poll: Poll
    options: list[PollOption]
    mine: list[int]
    counts: dict[int, int] | None  # option id -> people; None when this reader may not see them
    ballots: int | None


def counts_of(poll_id: int, connection=None) -> tuple[dict[int, int], int]:
    """(option id -> how many chose it, how many answered), as committed (or on `connection`)."""
    reader = connection or db.session
    counts = dict(reader.execute(sa.select(PollChoice.option_id, sa.func.count()).where(
        PollChoice.poll_id == poll_id).group_by(PollChoice.option_id)).all())
    ballots = reader.scalar(sa.select(sa.func.count()).select_from(PollBallot).where(PollBallot.poll_id == poll_id))
    return counts, ballots


def poll_view(poll: Poll, user, *, moderator: bool) -> PollView:
    options = list(db.session.scalars(sa.select(PollOption).where(PollOption.poll_id == poll.id)
                                      .order_by(PollOption.position)))
    mine = list(db.session.scalars(sa.select(PollChoice.option_id).where(
        PollChoice.poll_id == poll.id, PollChoice.user_id == user.id).order_by(PollChoice.option_id)))
    counts = ballots = None
    if moderator or poll.results_shown:
        counts, ballots = counts_of(poll.id)
    return PollView(poll, options, mine, counts, ballots)


def get_poll(poll_id: int, user) -> PollView:
    poll = _poll(poll_id)
    event = access.participant_event(poll.event_id, user)
    moderator = access.is_organizer(user, event)
    if poll.status == "draft" and not moderator:
        raise NotFound("poll_not_found", _l("This poll does not exist."))
    return poll_view(poll, user, moderator=moderator)


def polls_for(event_id: int, user) -> tuple[list[PollView], bool]:
    """The event's polls, newest first: the opened ones for attendees, drafts too for organizers."""
    event = access.participant_event(event_id, user)
    moderator = access.is_organizer(user, event)
    query = sa.select(Poll).where(Poll.event_id == event.id)
    if not moderator:
        query = query.where(Poll.status != "draft")
    polls = db.session.scalars(query.order_by(Poll.created_at.desc(), Poll.id.desc()))
    return [poll_view(poll, user, moderator=moderator) for poll in polls], moderator
