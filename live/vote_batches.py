"""Poll answers and people's-choice votes of one poll (one round) decided together (app.group_commit).

When the organizer opens a poll or the people's choice, the whole hall answers within seconds: hundreds of answers a
second on one instance. Decided one by one, each answer signs in, reads the event, the person's registration (or
admission), the poll and its options, writes its ballot, locks the poll's row, replaces its choices and commits:
about ten statements and a commit each. Here the answers of this process for the same poll (the votes for the same
round) join one queue, and its leader decides everyone queued so far in one transaction, with the same rules
(live.services.polls.checked_choice, peoples_choice.votable) and the same database decisions as an answer decided
alone (live.services.polls.answer, peoples_choice.cast_vote):

- the bearer tokens of the batch in one query (app.group_commit.signed_in);
- for a vote, the round with its event, its vote's status and its teams in one statement
  (peoples_choice.round_with_teams), read in every batch, never kept between batches (the stage moves);
- who takes part in one query: the confirmed registrations of the poll's event (for a vote: the admissions at the
  door of the round's event) among the batch's people;
- the ballots (votes) in one INSERT ... ON CONFLICT, so that the primary key keeps one per person whatever races
  it, from this process or another; rows sorted by person, so that two batches lock them in the same order;
- then the poll's (round's) status under a share lock, read after those rows are written, exactly as alone: a close
  waits for the batch in flight, and a batch after the close sees it closed and counts nothing (rolled back);
- a poll's choices replaced in two statements; one poll_changed (audience_vote_changed) for the whole batch, so the
  tally the room hears is read once per batch, and throttled (live/realtime.py);
- one commit.

What a batch does not decide is decided alone, as before, and answers as before (401, 403, 404...): tokens not
valid, people not confirmed (organizers answering their own poll, say), a poll in draft, a team not in the round or
not votable yet, the same person twice in one batch (the first in arrival order is decided in the batch), and every
item of a batch that failed (its transaction is rolled back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.errors import DomainError
from app.extensions import db, dialect_insert
from app.group_commit import GroupCommit, Waiting, signed_in
from events.models import Event, Registration
from live import signals
from live.models import AudienceVote, Poll, PollBallot, PollChoice
from live.services import peoples_choice, polls

MAX_BATCH = 200  # answers in one transaction: bounds the time the rows are locked and the size of the statements


@dataclass(eq=False)
class _Answer(Waiting):
    user_id: int | None  # who answers, when known (else `bearer` says, once checked)
    choice: list  # the poll's option ids, or [round_team_id] for a vote
    now: datetime
    outcome: object = None  # the answer (None, and no error: decide it alone)
    error: DomainError | None = None  # what refuses it

    def forget(self) -> None:
        self.outcome = self.error = None


def _together(group: GroupCommit, key: int, user_id: int | None, bearer: str | None, choice: list,
              now: datetime):
    me = _Answer(user_id, choice, now, bearer=bearer)
    group.join(key, me)
    return me.error if me.error is not None else me.outcome


def _first_of_each_person(batch: list[_Answer]) -> list[_Answer]:
    """The batch's items whose person is known (tokens checked in one query), the first of each person only."""
    kept, seen = [], set()
    for item, user in signed_in(batch, now=batch[0].now, may=lambda user: True):
        if user is not None:
            item.user_id = user.id
        if item.user_id not in seen:
            seen.add(item.user_id)
            kept.append(item)
    return kept


# ---- poll answers --------------------------------------------------------------------------------------------------

def answer_together(poll_id: int, *, user_id: int | None = None, bearer: str | None = None, option_ids,
                    now: datetime) -> list[int] | DomainError | None:
    """A poll answer decided and committed in a batch, for `user_id` or whoever holds `bearer` (checked in the
    batch). Returns the options chosen, the error that refuses it, or None when it must be decided alone
    (polls.answer)."""
    return _together(_answers, poll_id, user_id, bearer, list(option_ids or []), now)


def _decide_answers(poll_id: int, batch: list[_Answer]) -> bool:
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.status == "draft":
        return False  # each alone: 404 for attendees, a draft answered by its organizers
    batch = _first_of_each_person(batch)
    event_status = db.session.scalar(sa.select(Event.status).where(Event.id == poll.event_id))
    if not batch or event_status in (None, "draft"):
        return False
    confirmed = set(db.session.scalars(sa.select(Registration.user_id).where(
        Registration.event_id == poll.event_id, Registration.status == "confirmed",
        Registration.user_id.in_(sorted({item.user_id for item in batch})))))
    valid = polls.option_ids_of(poll.id)
    deciding = []
    for item in batch:
        if item.user_id not in confirmed:
            continue  # alone: an organizer, or 403 not_attendee
        try:
            item.outcome = polls.checked_choice(poll, item.choice, valid)
        except DomainError as error:
            item.error = error
            continue
        deciding.append(item)
    if not deciding:
        return False
    deciding.sort(key=lambda item: item.user_id)
    insert = dialect_insert(PollBallot)
    db.session.execute(
        insert.values([{"poll_id": poll.id, "user_id": item.user_id, "answered_at": item.now} for item in deciding])
        .on_conflict_do_update(index_elements=["poll_id", "user_id"],
                               set_={"answered_at": insert.excluded.answered_at}))
    if polls.locked_status(poll.id) != "open":
        for item in deciding:
            item.outcome, item.error = None, polls.poll_closed()
        return False
    db.session.execute(sa.delete(PollChoice).where(PollChoice.poll_id == poll.id,
                                                   PollChoice.user_id.in_([item.user_id for item in deciding])))
    db.session.execute(sa.insert(PollChoice), [{"poll_id": poll.id, "user_id": item.user_id, "option_id": option}
                                                for item in deciding for option in item.outcome])
    signals.poll_changed.send(None, event_id=poll.event_id, poll_id=poll.id)
    return True


# ---- people's-choice votes -------------------------------------------------------------------------------------------

def vote_together(round_id: int, *, user_id: int | None = None, bearer: str | None = None, round_team_id: int,
                  now: datetime) -> tuple[dict, bool] | DomainError | None:
    """A people's-choice vote decided and committed in a batch, for `user_id` or whoever holds `bearer` (checked in
    the batch). Returns (the vote's answer, whether it is new), the error that refuses it, or None when it must be
    decided alone (peoples_choice.cast_vote)."""
    return _together(_votes, round_id, user_id, bearer, [round_team_id], now)


def _decide_votes(round_id: int, batch: list[_Answer]) -> bool:
    round_, in_round = peoples_choice.round_with_teams(round_id)
    if round_ is None:
        return False
    batch = _first_of_each_person(batch)
    if not batch:
        return False
    admitted = peoples_choice.admitted_among(round_.event_id, [item.user_id for item in batch])
    teams = {team.id: team for team in in_round}
    deciding = []
    for item in batch:
        team = teams.get(item.choice[0])
        if item.user_id not in admitted:
            item.error = peoples_choice.not_admitted()
        elif round_.status != "open":
            item.error = peoples_choice.vote_closed()
        elif team is not None and peoples_choice.votable(round_, team):
            deciding.append(item)
        # else alone: team_not_in_round, team_not_pitched
    if not deciding:
        return False
    deciding.sort(key=lambda item: item.user_id)
    inserted = {row.user_id: row for row in db.session.execute(
        dialect_insert(AudienceVote)
        .values([{"round_id": round_id, "user_id": item.user_id, "round_team_id": item.choice[0],
                  "voted_at": item.now} for item in deciding])
        .on_conflict_do_nothing(index_elements=["round_id", "user_id"])
        .returning(AudienceVote.user_id, AudienceVote.round_team_id, AudienceVote.voted_at))}
    if peoples_choice.locked_status(round_id) != "open":
        for item in deciding:
            item.error = peoples_choice.vote_closed()
        return False
    votes = dict(inserted)
    earlier = [item.user_id for item in deciding if item.user_id not in inserted]  # voted before: their first vote
    if earlier:
        votes.update((row.user_id, row) for row in db.session.execute(
            sa.select(AudienceVote.user_id, AudienceVote.round_team_id, AudienceVote.voted_at).where(
                AudienceVote.round_id == round_id, AudienceVote.user_id.in_(earlier))))
    for item in deciding:
        vote = votes[item.user_id]
        if item.user_id not in inserted and vote.round_team_id != item.choice[0]:
            item.error = peoples_choice.already_voted(vote.round_team_id)
            continue
        item.outcome = ({"round_id": round_id, "round_team_id": vote.round_team_id,
                         "voted_at": vote.voted_at.isoformat()}, item.user_id in inserted)
    if inserted:
        signals.audience_vote_changed.send(None, round_id=round_id)
    return bool(inserted)


_answers: GroupCommit[_Answer] = GroupCommit(_decide_answers, name="poll answers", max_batch=MAX_BATCH)
_votes: GroupCommit[_Answer] = GroupCommit(_decide_votes, name="people's-choice votes", max_batch=MAX_BATCH)
