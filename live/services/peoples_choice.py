"""The people's choice (人气奖) of a competition round: the console opens and closes the audience vote; only people
admitted at the door of the round's event vote (checkin.models.Admission), one vote each for a team on stage or
already pitched, decided by the database; the tally stays hidden until the console reveals it rank by rank. It is a
result of its own, beside the judges' ranking (both in the round's export)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.authz import authorize
from app.errors import DomainError, Forbidden
from app.extensions import db, dialect_insert
from checkin.models import Admission
from events.models import Registration
from judging import services as judging
from judging.models import Competition, CompetitionRound, RoundTeam, TeamApplication
from live import signals
from live.models import AudienceVote, AudienceVoteRound


def round_event_id(round_: CompetitionRound) -> int | None:
    """The event at whose door the audience is admitted: the round's own, else its competition's."""
    return round_.event_id or judging.competition_of(round_).event_id


def state_of(round_id: int) -> AudienceVoteRound | None:
    return db.session.get(AudienceVoteRound, round_id)


def open_vote(round_id: int, organizer, *, now: datetime) -> AudienceVoteRound:
    round_ = judging.get_round(round_id)
    judging.authorize_organizer(organizer, round_)
    state = state_of(round_.id)
    if state is None:
        state = AudienceVoteRound(round_id=round_.id, status="closed", revealed_count=0)
        db.session.add(state)
    if state.status != "open":
        state.status, state.opened_at, state.closed_at = "open", now, None
        db.session.flush()
        signals.audience_vote_changed.send(None, round_id=round_.id)
    return state


def close_vote(round_id: int, organizer, *, now: datetime) -> AudienceVoteRound:
    round_ = judging.get_round(round_id)
    judging.authorize_organizer(organizer, round_)
    state = state_of(round_.id)
    if state is None:
        raise DomainError("vote_not_opened", _l("The audience vote of this round has not been opened."), status=409)
    if state.status == "open":
        db.session.execute(sa.update(AudienceVoteRound).where(AudienceVoteRound.round_id == round_.id)
                           .values(status="closed", closed_at=now))
        db.session.refresh(state)
        signals.audience_vote_changed.send(None, round_id=round_.id)
    return state


def reveal(round_id: int, organizer, *, all_: bool = False) -> AudienceVoteRound:
    """Reveal the next rank of the tally (from the bottom), or all of them; only once the vote is closed."""
    round_ = judging.get_round(round_id)
    judging.authorize_organizer(organizer, round_)
    state = state_of(round_.id)
    if state is None or state.status == "open":
        raise DomainError("vote_still_open", _l("Close the audience vote before revealing it."), status=409)
    total = len(tally(round_.id))
    state.revealed_count = total if all_ else min(total, state.revealed_count + 1)
    db.session.flush()
    signals.audience_vote_changed.send(None, round_id=round_.id)
    return state


def admitted_among(event_id: int | None, user_ids) -> set[int]:
    """Which of these people were admitted at the door of the event (the round's: round_event_id): one query,
    however many."""
    if event_id is None:
        return set()
    return set(db.session.scalars(_ADMITTED_AMONG, {"event_id": event_id, "user_ids": sorted(set(user_ids))}))


# The statements that every vote batch and every announcement (each 50 ms) run are built once, with bound parameters:
# building a statement and its cache key anew costs CPU on every call.
_ADMITTED_AMONG = (sa.select(Registration.user_id).join(Admission, Admission.registration_id == Registration.id)
                   .where(Admission.event_id == sa.bindparam("event_id"),
                          Registration.user_id.in_(sa.bindparam("user_ids", expanding=True))))


def _admitted(user, round_: CompetitionRound) -> bool:
    return user.id in admitted_among(round_event_id(round_), [user.id])


def not_admitted() -> Forbidden:
    return Forbidden("not_admitted", _l("Only people admitted at the door of this event can vote for the people's "
                                        "choice."))


def vote_closed() -> DomainError:
    return DomainError("vote_closed", _l("The audience vote is not open."), status=409)


def already_voted(round_team_id: int) -> DomainError:
    return DomainError("already_voted", _l("You have already voted in this round; a vote cannot be changed."),
                       status=409, round_team_id=round_team_id)


def locked_status(round_id: int) -> str | None:
    """The vote's status under a share lock (PostgreSQL: a close waits for the votes in flight, and a vote after
    the close sees it closed), read after the vote's row is written."""
    return db.session.scalar(_LOCKED_STATUS, {"round_id": round_id})


_LOCKED_STATUS = (sa.select(AudienceVoteRound.status).where(AudienceVoteRound.round_id == sa.bindparam("round_id"))
                  .with_for_update(read=True))


def cast_vote(round_id: int, user, *, round_team_id: int, now: datetime) -> tuple[AudienceVote, bool]:
    """An admitted person votes for a team on stage or already pitched: (the vote, whether it is new). The same
    vote again answers the first; another team after voting is refused (one vote, final). Flushes."""
    authorize(user, "resident")
    round_ = judging.get_round(round_id)
    if not _admitted(user, round_):
        raise not_admitted()
    state = state_of(round_.id)
    if state is None or state.status != "open":  # a quick answer; the decision is taken again below, in the database
        raise vote_closed()
    team = judging.round_team(round_, round_team_id)
    if not votable(round_, team):
        raise DomainError("team_not_pitched", _l("This team has not pitched yet."), status=409)
    # The vote is written first (on SQLite this takes the one writer's lock, so what is read next is as committed),
    # then the vote's state is read under a share lock (PostgreSQL: a close waits for votes in flight, and a vote
    # after the close sees it closed); a refusal rolls the row back.
    inserted = db.session.execute(
        dialect_insert(AudienceVote).values(round_id=round_.id, user_id=user.id, round_team_id=team.id,
                                            voted_at=now)
        .on_conflict_do_nothing(index_elements=["round_id", "user_id"]).returning(AudienceVote.user_id)).first()
    if locked_status(round_.id) != "open":
        raise vote_closed()
    vote = db.session.get(AudienceVote, (round_.id, user.id), populate_existing=True)
    if inserted is None and vote.round_team_id != team.id:
        raise already_voted(vote.round_team_id)
    if inserted is not None:
        signals.audience_vote_changed.send(None, round_id=round_.id)
    return vote, inserted is not None


def votable(round_: CompetitionRound, team: RoundTeam) -> bool:
    """A team the audience may vote for: in a live round, on stage or already pitched; online, any of the round.
    (Reads round_.mode and .current_team_id, team.id and .scoring_state: the objects, or the rows of
    round_with_teams.)"""
    return round_.mode != "live" or team.scoring_state != "pending" or round_.current_team_id == team.id


def rounds_of_event(event_id: int, *, opened_only: bool) -> list[CompetitionRound]:
    """The competition rounds held at this event (the round's own event, else its competition's), in order; with
    `opened_only`, those whose audience vote was ever opened."""
    query = (sa.select(CompetitionRound).join(Competition, Competition.id == CompetitionRound.competition_id)
             .where(sa.or_(CompetitionRound.event_id == event_id,
                           sa.and_(CompetitionRound.event_id.is_(None), Competition.event_id == event_id))))
    if opened_only:
        query = query.join(AudienceVoteRound, AudienceVoteRound.round_id == CompetitionRound.id)
    return list(db.session.scalars(query.order_by(CompetitionRound.competition_id, CompetitionRound.position,
                                                  CompetitionRound.id)))


def round_with_teams(round_id: int, reader=None) -> tuple:
    """(the round, its teams in order) for deciding votes, in one statement on `reader` (the session, or a
    connection): the round's row has round_id, mode, current_team_id, event_id (the round's own, else its
    competition's, as round_event_id) and status (its vote's; None: never opened); each team's has id and
    scoring_state (as votable() reads them). (None, []) when there is no round."""
    return _round_and_teams((reader or db.session).execute(_ROUND_WITH_TEAMS, {"round_id": round_id}).all())


def round_with_tally(round_id: int, reader=None) -> tuple:
    """(the round, its teams in order) for the board: as round_with_teams, the round's row also with name and
    revealed_count, each team's also with application_id, position, team_name and votes. One statement."""
    return _round_and_teams((reader or db.session).execute(_ROUND_WITH_TALLY, {"round_id": round_id}).all())


def _round_and_teams(rows: list) -> tuple:
    """The round's columns repeat on each team's row (a round without teams: one row, its team's columns None)."""
    if not rows:
        return None, []
    return rows[0], [row for row in rows if row.id is not None]


# The statements that every vote batch and every announcement (each 50 ms) run are built once, with bound parameters:
# building a statement and its cache key anew costs CPU on every call.
_ROUND = (sa.select(CompetitionRound.id.label("round_id"), CompetitionRound.name, CompetitionRound.mode,
                    CompetitionRound.current_team_id,
                    sa.func.coalesce(CompetitionRound.event_id, Competition.event_id).label("event_id"),
                    AudienceVoteRound.status, AudienceVoteRound.revealed_count)
          .join(Competition, Competition.id == CompetitionRound.competition_id)
          .outerjoin(AudienceVoteRound, AudienceVoteRound.round_id == CompetitionRound.id)
          .outerjoin(RoundTeam, RoundTeam.round_id == CompetitionRound.id)
          .where(CompetitionRound.id == sa.bindparam("round_id")).order_by(RoundTeam.position, RoundTeam.id))
_ROUND_WITH_TEAMS = _ROUND.add_columns(RoundTeam.id, RoundTeam.scoring_state)
_VOTES_PER_TEAM = (sa.select(AudienceVote.round_team_id, sa.func.count().label("votes"))
                   .where(AudienceVote.round_id == sa.bindparam("round_id")).group_by(AudienceVote.round_team_id)
                   .subquery())
_ROUND_WITH_TALLY = (_ROUND.add_columns(RoundTeam.id, RoundTeam.scoring_state, RoundTeam.application_id,
                                        RoundTeam.position, TeamApplication.team_name,
                                        sa.func.coalesce(_VOTES_PER_TEAM.c.votes, 0).label("votes"))
                     .outerjoin(TeamApplication, TeamApplication.id == RoundTeam.application_id)
                     .outerjoin(_VOTES_PER_TEAM, _VOTES_PER_TEAM.c.round_team_id == RoundTeam.id))


def _ranked(teams: list) -> list[dict]:
    """Every team with its votes, most first, ranked (equal votes share a rank)."""
    rows = sorted(({"round_team_id": t.id, "application_id": t.application_id, "team_name": t.team_name or "",
                    "votes": t.votes, "position": t.position} for t in teams),
                  key=lambda r: (-r["votes"], r["position"]))
    for i, row in enumerate(rows):
        row["rank"] = rows[i - 1]["rank"] if i and rows[i - 1]["votes"] == row["votes"] else i + 1
    return rows


def tally(round_id: int, reader=None) -> list[dict]:
    """Every team of the round with its name and votes, most first, ranked (equal votes share a rank)."""
    return _ranked(round_with_tally(round_id, reader)[1])


def runs_vote(user, round_: CompetitionRound) -> bool:
    """Whether `user` runs this round's audience vote (the competition's organizers)."""
    return judging.is_organizer(user, round_)


def board(round_id: int, viewer, *, everything: bool = False) -> dict:
    """What the screen and the phones see (`everything`: the console, organizers only): the vote's status, how many
    voted, the revealed ranks (from the bottom), and the team I voted for."""
    round_ = judging.get_round(round_id)
    if everything:
        judging.authorize_organizer(viewer, round_)
    mine = None
    if getattr(viewer, "is_authenticated", False):
        mine = db.session.scalar(sa.select(AudienceVote.round_team_id).where(
            AudienceVote.round_id == round_.id, AudienceVote.user_id == viewer.id))
    return {**_board_of(*round_with_tally(round_.id), everything=everything), "my_round_team_id": mine}


def announced_board(connection, round_id: int) -> tuple[int | None, dict] | None:
    """(the round's event, the board as the screen and the phones see it) read on `connection` after COMMIT, in
    one statement; None when the round is gone."""
    round_, teams = round_with_tally(round_id, connection)
    if round_ is None:
        return None
    return round_.event_id, {**_board_of(round_, teams), "my_round_team_id": None}


def _board_of(round_, teams: list, *, everything: bool = False) -> dict:
    """The board, but for the viewer's own vote, of a round and its teams as round_with_tally reads them."""
    rows = _ranked(teams)
    revealed = round_.revealed_count or 0
    shown = rows if everything else rows[len(rows) - revealed:] if revealed else []
    return {"round_id": round_.round_id, "round_name": round_.name, "status": round_.status or "not_opened",
            "teams": [{"round_team_id": t.id, "team_name": t.team_name or "",
                       "on_stage": t.id == round_.current_team_id} for t in teams if votable(round_, t)],
            "votes_cast": sum(r["votes"] for r in rows), "revealed_count": revealed, "teams_count": len(rows),
            "ranking": [{k: r[k] for k in ("rank", "round_team_id", "team_name", "votes")} for r in shown]}
