"""Every lock the platform takes, in one place: what it locks, on which database, and why.

Rules that must never be wrong (capacity, admission, scores; DESIGN.md) are decided in the database, under a lock
of the one row that guards them, inside the transaction that writes the decision. On PostgreSQL a lock is a row lock
(`SELECT ... FOR UPDATE`, or a conditional `UPDATE` that takes it); on SQLite, which has one writer at a time, the
same statement takes the database's write lock, which serialises writers anyway. Locks are always taken in this
order when a transaction needs more than one (competition, then round, then team; event before registration), so
two transactions never wait for each other in a circle.

Each domain adds its locks below, one function each, with a docstring saying what it guards.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db

# ---- events -------------------------------------------------------------------------------------------------------

def lock_event(event_id: int, *returning: str):
    """Locks one event's row (table `events`) until the transaction ends, and returns the columns named in
    `returning` as they are under the lock (an organizer may have just changed them), or its id.

    PostgreSQL: a row lock, taken by an UPDATE that changes nothing (registration_seq set to itself); SQLite: the
    database's write lock, taken by the same statement. Why: everything that counts an event's seats or arrivals
    (sign-ups, walk-ins, cancellations, approvals, the waitlist and its offers, the lottery's draw) and the pitch
    line-up's decisions run one at a time per event, so the seat counter and the arrival numbers are never decided
    from a stale read. Taken first, before any registration of the event is written (locks are taken in the order
    above). The event's updated_at is kept as it is: it tells calendars when the event itself last changed.

    The table is looked up by name: `app` imports no domain package (DESIGN.md), and events.models has defined it
    before anyone can ask for an event's lock."""
    events = db.metadata.tables["events"]
    columns = [events.c[name] for name in returning] or [events.c.id]
    return db.session.execute(
        sa.update(events).where(events.c.id == event_id)
        .values(registration_seq=events.c.registration_seq, updated_at=events.c.updated_at).returning(*columns)
    ).one()


# ---- check-in ------------------------------------------------------------------------------------------------------

_SQLITE_WRITER = threading.Lock()
_HOLDS_WRITER = "locking.sqlite_writer"


def queue_for_sqlite_writer() -> None:
    """Check-in's scans queue for SQLite's one writer, within this process; held from the scan's first write until
    its transaction ends (released by the session's after_transaction_end, below).

    What: an in-process lock standing for the SQLite database's write lock. Where: SQLite only (PostgreSQL needs
    none: its row locks queue fairly, so this returns at once there). Why: SQLite has one writer at a time, and a
    thread that finds it busy polls with growing sleeps (up to 100 ms each); in a rush at the doors the slowest scans
    then waited for seconds while the database idled between polls. Queued on a lock, they take turns at once.
    A transaction that already writes (a bearer token's last use, say) does not queue: waiting then could wait for a
    waiter of its own. Taken by checkin.admission (a scan decided alone) and checkin.scan_batches (a batch's leader),
    before their first INSERT."""
    session = db.session()
    if session.info.get(_HOLDS_WRITER) or session.get_bind().dialect.name != "sqlite":
        return
    if session.connection().connection.dbapi_connection.in_transaction:
        return
    _SQLITE_WRITER.acquire()
    session.info[_HOLDS_WRITER] = True


@sa.event.listens_for(Session, "after_transaction_end")
def _release_sqlite_writer(session: Session, transaction) -> None:
    """queue_for_sqlite_writer's release: when the outermost transaction of the session that holds it ends
    (commit or rollback), so the next scan writes as soon as this one's COMMIT is done."""
    if transaction.parent is None and session.info.pop(_HOLDS_WRITER, False):
        _SQLITE_WRITER.release()


# The rows locked here, by table name: app imports no domain package (DESIGN.md, direction of imports), so the
# tables are named, not the domain's models. Each is the table the domain's model maps (judging/models.py).
_competitions = sa.table("competitions", sa.column("id"), sa.column("applications_open"))
_competition_rounds = sa.table("competition_rounds", sa.column("id"), sa.column("stage_version"))
_round_teams = sa.table("judging_round_teams", sa.column("id"), sa.column("scoring_state"))
_recusals = sa.table("judging_recusals", sa.column("judge_id"), sa.column("round_team_id"))


# ---- judging ---------------------------------------------------------------------------------------------------------

def lock_competition(competition_id: int) -> None:
    """A competition's row (`competitions`), until COMMIT: its team applications are written one at a time, so two
    teams submitting at once cannot both take a team name or put one phone number in two active applications
    (judging/teams.py). A no-op conditional UPDATE: a row lock on PostgreSQL, the write lock on SQLite."""
    db.session.execute(sa.update(_competitions).where(_competitions.c.id == competition_id)
                       .values(applications_open=_competitions.c.applications_open))


def lock_round(round_) -> None:
    """A round's row (`competition_rounds`), until COMMIT, then read it again: changes of one round's state, stage,
    criteria and revealed ranks (judging/services) happen one at a time, and each sees the one before it (opening a
    round waits for a change of its criteria, or refuses it afterwards). A no-op UPDATE: a row lock on PostgreSQL,
    the write lock on SQLite. `round_` is the round's loaded ORM object (refreshed in place)."""
    db.session.execute(sa.update(_competition_rounds).where(_competition_rounds.c.id == round_.id)
                       .values(stage_version=_competition_rounds.c.stage_version))
    db.session.refresh(round_)


def hold_team_for_scoring(round_team_id: int, judge_id: int) -> bool:
    """A team's row in a round (`judging_round_teams`), until COMMIT, when its scoring is open and this judge is not
    recused from it; False (nothing held) otherwise. Closing the team's scoring (or removing the team) is an UPDATE
    of the same row, so it waits for a score in flight, and a score that comes after the close sees it: no score
    slips in after a close, none is deleted with its team. On PostgreSQL a shared row lock (FOR SHARE): the team's
    judges score side by side while an organizer's UPDATE waits for them all. On SQLite, where writers take turns
    anyway, the first write of the transaction (a no-op UPDATE) takes the database's write lock."""
    not_recused = ~sa.exists().where(_recusals.c.judge_id == judge_id, _recusals.c.round_team_id == round_team_id)
    open_for_judge = (_round_teams.c.id == round_team_id, _round_teams.c.scoring_state == "open", not_recused)
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(sa.select(_round_teams.c.id).where(*open_for_judge)
                                  .with_for_update(read=True, of=_round_teams)).first() is not None
    return bool(db.session.execute(
        sa.update(_round_teams).where(*open_for_judge).values(scoring_state=_round_teams.c.scoring_state)).rowcount)
