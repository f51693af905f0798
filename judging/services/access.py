"""Reading a round and who may do what with it: the round (404 when unknown), its organizers, its judges, and the
holders of a judge pass (what an invitation link gives one device: judging of one competition, never the account).
A round's teams, judges, recusals and applications are read once per `one_snapshot` block (the live announcer
builds several payloads of one moment)."""

from __future__ import annotations

import contextlib
import contextvars
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.services import pass_holders
from app.authz import authorize
from app.errors import Forbidden, NotFound
from app.extensions import db
from judging import teams as team_services
from judging.models import Competition, CompetitionRound, Judge, Recusal, RoundTeam, TeamApplication


def get_round(round_id: int, *, with_criteria: bool = False) -> CompetitionRound:
    """The round (404 when unknown); with its criteria in the same statement when asked (a score needs both)."""
    options = [sa.orm.joinedload(CompetitionRound.criteria)] if with_criteria else []
    round_ = db.session.get(CompetitionRound, round_id, options=options)
    if round_ is None:
        raise NotFound("round_not_found", _l("This round does not exist."))
    return round_


def competition_of(round_: CompetitionRound) -> Competition:
    return db.session.get(Competition, round_.competition_id)


def is_organizer(user, round_: CompetitionRound) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return team_services.is_competition_organizer(user, competition_of(round_))


def authorize_organizer(user, round_: CompetitionRound) -> None:
    """Organizers of the competition (or of its event), global organizers and admins; 401/403 for anyone else."""
    team_services.authorize_competition_organizer(user, competition_of(round_))


def judge_of(round_id: int, user) -> Judge | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalars(sa.select(Judge).where(Judge.round_id == round_id, Judge.user_id == user.id)).first()


def require_judge(round_: CompetitionRound, user) -> Judge:
    """The user's judge row in this round; anyone else is refused (401 signed out, 403 otherwise)."""
    authorize(user, "resident")
    judge = judge_of(round_.id, user)
    if judge is None:
        raise Forbidden("not_a_judge", _l("You are not a judge of this round."))
    return judge


def round_team(round_: CompetitionRound, round_team_id) -> RoundTeam:
    team = db.session.get(RoundTeam, round_team_id) if isinstance(round_team_id, int) else None
    if team is None or team.round_id != round_.id:
        raise NotFound("team_not_in_round", _l("This team is not in this round."))
    return team


_snapshot: contextvars.ContextVar[dict | None] = contextvars.ContextVar("judging_snapshot", default=None)


@contextlib.contextmanager
def one_snapshot():
    """Within this block, a round's teams, judges, recusals and applications are read once and reused: for building
    several views of the same moment (the live announcer sends the console and the leaderboard of one read).
    Only for code that changes nothing inside the block."""
    token = _snapshot.set({})
    try:
        yield
    finally:
        _snapshot.reset(token)


def _read_once(key: tuple, read):
    cache = _snapshot.get()
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


def teams_of(round_id: int) -> list[RoundTeam]:
    return _read_once(("teams", round_id), lambda: list(db.session.scalars(
        sa.select(RoundTeam).where(RoundTeam.round_id == round_id).order_by(RoundTeam.position, RoundTeam.id))))


def judges_of(round_id: int) -> list[Judge]:
    return _read_once(("judges", round_id), lambda: list(db.session.scalars(
        sa.select(Judge).where(Judge.round_id == round_id).order_by(Judge.id))))


def applications_by_id(ids) -> dict[int, TeamApplication]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return _read_once(("applications", tuple(ids)), lambda: {a.id: a for a in db.session.scalars(
        sa.select(TeamApplication).where(TeamApplication.id.in_(ids)))})


def recusals_of(round_id: int) -> list[Recusal]:
    return _read_once(("recusals", round_id), lambda: list(db.session.scalars(
        sa.select(Recusal).where(Recusal.round_id == round_id))))


JUDGE_PASS_VALID_FOR = timedelta(days=30)


def judge_pass_scope(competition_id: int) -> str:
    return f"judging:competition:{int(competition_id)}"


def pass_origin(judge: Judge) -> str:
    return f"judge:{judge.id}"


class PassHolder:
    """Whoever holds a live judge pass on this device: the judge's user id, for that competition's judging alone.
    Not an account: no roles (so never an organizer or admin), no profile; `current_user` stays anonymous. Only
    judging_actor makes one, and only the judge's own pages, API calls and Socket.IO room take it."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    via_judge_pass = True
    roles: tuple = ()

    def __init__(self, user_id: int, competition_id: int):
        self.id = user_id
        self.competition_id = competition_id

    def get_id(self):
        raise RuntimeError("a judge pass is not a sign-in")


def judging_actor(round_: CompetitionRound, user, device_passes: list[str], *, now: datetime):
    """Who acts as a judge of this round: the signed-in person when they judge it, else the holder of a live judge
    pass of its competition on this device who judges it, else the signed-in person (or the anonymous visitor),
    whom require_judge then refuses."""
    if judge_of(round_.id, user) is not None:
        return user
    if device_passes:
        for user_id in pass_holders(device_passes, scope=judge_pass_scope(round_.competition_id), now=now):
            holder = PassHolder(user_id, round_.competition_id)
            if judge_of(round_.id, holder) is not None:
                return holder
    return user
