"""Scans at the doors of one event decided together (app.group_commit).

At 9 a.m. fifty scanners send a scan every second or two. Decided one by one, each scan reads the event, its key,
the registration and the admission, writes the log row and the admission and commits, and in a threaded server
queues for the interpreter lock after every statement. Here the online scans of this process for the same event
join one queue, and its leader decides everyone queued so far in one transaction, with the same rules and the same
database decisions as a scan decided alone (checkin.admission.record_scan), and each scan's verdict from the same
function (checkin.admission.verdict):

- one read of the event and its key, one of the scanned registrations (with their person, admission and walk-in);
- the log rows in one INSERT ... ON CONFLICT (event, scan_id) DO NOTHING: a scan id seen before is left out, and
  answered as the retry it is (its first answer, read in one query for all of them);
- the admissions in one INSERT ... ON CONFLICT DO NOTHING: only a row this batch inserted says "admitted" (two
  scans of one ticket in one batch: the first in arrival order claims it). A ticket that another process admitted
  meanwhile is answered "already_admitted", and its log row corrected;
- the registrations' check-in time, then one commit.

What a batch does not decide is decided alone, as before: scans of events with re-entry, scans out, tokens of
another event or not shaped like ours, a scan id twice in one batch or once more with another token, scanners
whose bearer token is not valid or not of the door team, and every scan of a batch that failed (its transaction is
rolled back).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db, dialect_insert
from app.group_commit import GroupCommit, Waiting, signed_in
from app.locking import queue_for_sqlite_writer
from checkin import admission, tokens
from checkin.door import may_scan
from checkin.models import Admission, CheckinConfig, Scan, WalkIn
from checkin.presenters import attendee, scan_answer
from checkin.realtime import counters_changed
from checkin.tickets import MAX_TOKEN
from events.models import Event, Registration

MAX_BATCH = 100  # scans in one transaction: bounds the time the write lock is held and the size of its statements


@dataclass(eq=False)
class _Scan(Waiting):
    actor_id: int | None  # who scans, when known (else `bearer` says, once checked)
    claims: tokens.TicketClaims
    payload: bytes
    signature: bytes
    digest: str
    scan_id: str
    gate: str
    device: str
    now: datetime
    result: str = ""
    reason: str = ""
    row: object = None  # the registration's row (None: not one of this event's)
    scan_pk: int | None = None
    answer: dict | None = None  # the API's answer (None: decide it alone)

    def forget(self) -> None:
        self.answer = None


def admit_together(event_id: int, *, actor_id: int | None = None, bearer: str | None = None, token, scan_id: str,
                   gate: str, device: str, now: datetime) -> dict | None:
    """An online scan in, decided and committed in a batch, by a member of the door team (`actor_id`) or by
    whoever holds `bearer`, if that is a member. Returns the API's answer, or None when it must be decided alone
    (checkin.admission.admit_ticket)."""
    me = _scan_of(event_id, actor_id, bearer, token=token, scan_id=scan_id, gate=gate, device=device, now=now)
    if me is None:
        return None
    _scans.join(event_id, me)
    return me.answer


def _scan_of(event_id: int, actor_id: int | None, bearer: str | None, *, token, scan_id: str, gate: str,
             device: str, now: datetime) -> _Scan | None:
    """The scan to queue: a token shaped like ours that names this event (anything else is decided alone)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return None
    try:
        claims, payload, signature = tokens.read_claims(token.strip())
    except tokens.MalformedToken:
        return None
    if claims.event_id != event_id:
        return None
    return _Scan(actor_id, claims, payload, signature, tokens.token_digest(token), scan_id, gate, device, now,
                 bearer=bearer)


def _decide_batch(event_id: int, batch: list[_Scan]) -> bool:
    """Decide what it can of the batch (each decided scan gets its answer); False when it wrote nothing."""
    door = db.session.execute(_door_statement(), {"event_id": event_id}).first()
    if door is None or door.allow_reentry:
        return False  # no key yet (so no valid ticket), or in/out flips: decided alone
    scans = _first_of_each_scan_id(_by_the_door_team(event_id, batch))
    public_key = tokens.load_public_key(door.public_key)
    genuine = {s for s in scans if tokens.signature_valid(public_key, s.payload, s.signature)}
    rows = {row.id: row for row in db.session.execute(
        _registrations_statement(), {"ids": sorted({s.claims.registration_id for s in genuine})})}
    for scan in scans:
        _judge(scan, door, rows.get(scan.claims.registration_id) if scan in genuine else None,
               genuine=scan in genuine, event_id=event_id)
    _claim_admissions(scans)
    queue_for_sqlite_writer()
    logged = _log_scans(event_id, scans)
    _answer_retries(event_id, [s for s in scans if s.scan_pk is None])
    scans = [s for s in scans if s.scan_pk is not None]
    written = {s: s.result for s in scans}
    _claim_admissions(scans)
    admitted = _insert_admissions(event_id, [s for s in scans if s.result == "admitted"])
    for scan in scans:
        if scan.result == "admitted" and scan not in admitted:
            scan.result = "already_admitted"  # another process admitted the ticket a moment ago
    _correct_logged_results([s for s in scans if s.result != written[s]])
    if admitted:
        _note_checked_in(admitted)
        counters_changed(event_id)
    _answer(scans, _admissions_of([s.row.id for s in scans if s.row is not None and s not in admitted]))
    return logged


def _by_the_door_team(event_id: int, batch: list[_Scan]) -> list[_Scan]:
    """The scans made by the event's door team (bearer tokens checked here, app.group_commit.signed_in)."""
    kept = []
    for scan, user in signed_in(batch, now=batch[0].now, may=lambda user: may_scan(user, event_id)):
        if user is not None:
            scan.actor_id = user.id
        kept.append(scan)
    return kept


def _first_of_each_scan_id(batch: list[_Scan]) -> list[_Scan]:
    """The batch without a scan id's second scan (a retry racing its original): it is answered alone afterwards."""
    seen: set[str] = set()
    first = []
    for scan in batch:
        if scan.scan_id not in seen:
            seen.add(scan.scan_id)
            first.append(scan)
    return first


def _judge(scan: _Scan, door, row, *, genuine: bool, event_id: int) -> None:
    """The scan's verdict before any write: checkin.admission.verdict, the one rule of every scan, from the rows
    this batch read (the door's row has the columns of admission.Door). An admissible ticket is "admitted" when it
    had not come in before, until _claim_admissions gives a second scan of it in this batch "already_admitted"."""
    judged = admission.verdict(door, row, event_id=event_id, at=scan.now, genuine=genuine,
                               claimed_version=scan.claims.version,
                               admitted_before=None if row is None else row.first_admitted_at is not None)
    scan.row = judged.registration
    scan.result, scan.reason = judged.result, judged.reason


def _claim_admissions(scans: list[_Scan]) -> None:
    """Among admissible scans, the first of each ticket (in arrival order) claims its admission, unless the ticket
    was admitted before; the others are already admitted."""
    claimed: set[int] = set()
    for scan in scans:
        if scan.result not in ("admitted", "already_admitted") or scan.row is None:
            continue
        first = scan.row.first_admitted_at is None and scan.row.id not in claimed
        scan.result = "admitted" if first else "already_admitted"
        claimed.add(scan.row.id)


def _log_scans(event_id: int, scans: list[_Scan]) -> bool:
    """Every scan's log row, in one statement; sets scan_pk on the scans whose id was new."""
    if not scans:
        return False
    params = [{"event_id": event_id, "scan_id": s.scan_id, "registration_id": s.row.id if s.row else None,
               "token_digest": s.digest, "gate": s.gate, "device": s.device, "direction": "in", "mode": "online",
               "result": s.result, "reason": s.reason, "offline_result": None, "conflict": False,
               "actor_id": s.actor_id, "scanned_at": s.now, "received_at": s.now}
              for s in sorted(scans, key=lambda s: s.scan_id)]  # one order for every process: no deadlock
    ids = {scan_id: pk for pk, scan_id in db.session.execute(_log_statement(), params)}
    for scan in scans:
        scan.scan_pk = ids.get(scan.scan_id)
    return bool(ids)


def _insert_admissions(event_id: int, scans: list[_Scan]) -> set[_Scan]:
    """The admission rows of the scans that claim one; the scans whose row was inserted (admitted)."""
    if not scans:
        return set()
    params = [{"registration_id": s.row.id, "event_id": event_id, "first_admitted_at": s.now, "gate": s.gate,
               "first_scan_id": s.scan_pk, "inside": True, "entries": 1, "last_moved_at": s.now}
              for s in sorted(scans, key=lambda s: s.row.id)]
    inserted = set(db.session.execute(_admission_statement(), params).scalars().all())
    return {s for s in scans if s.row.id in inserted}


def _correct_logged_results(scans: list[_Scan]) -> None:
    if scans:
        db.session.execute(_correct_statement(), [{"pk": s.scan_pk, "new_result": s.result} for s in scans])


def _note_checked_in(scans: set[_Scan]) -> None:
    """events' own column: when the person first came in (the earliest admission), in one statement."""
    db.session.execute(_checked_in_statement(), {"ids": sorted(s.row.id for s in scans)})


def _admissions_of(registration_ids: list[int]) -> dict[int, object]:
    """The admissions (first_admitted_at, gate, inside) of tickets this batch did not admit, as they are now."""
    if not registration_ids:
        return {}
    return {row.registration_id: row for row in db.session.execute(
        _admissions_statement(), {"ids": sorted(set(registration_ids))})}


def _answer(scans: list[_Scan], earlier: dict[int, object]) -> None:
    for scan in scans:
        row = scan.row
        admission = None
        if row is not None:
            admission = (SimpleNamespace(first_admitted_at=scan.now, gate=scan.gate, inside=True)
                         if scan.result == "admitted" else earlier.get(row.id))
        scan.answer = scan_answer(scan.result, scan.reason, scan_id=scan.scan_id, gate=scan.gate, replayed=False,
                                  attendee=_attendee(row.id, row) if row is not None else None, admission=admission)


def _answer_retries(event_id: int, retries: list[_Scan]) -> None:
    """A scan id seen before (a phone that lost the answer): its first answer, as checkin.admission.replay gives
    it, with the admission as it is now. One sent with another token is decided alone, which refuses it."""
    if not retries:
        return
    first = {row.scan_id: row for row in db.session.execute(
        _earlier_scans_statement(), {"event_id": event_id, "scan_ids": sorted(s.scan_id for s in retries)})}
    for scan in retries:
        row = first.get(scan.scan_id)
        if row is None or row.token_digest != scan.digest:
            continue
        came_in = row.first_admitted_at is not None
        admission = SimpleNamespace(first_admitted_at=row.first_admitted_at, gate=row.admission_gate,
                                    inside=row.inside) if came_in else None
        attendee = _attendee(row.registration_id, row) if row.registration_id is not None else None
        scan.answer = scan_answer(row.result, row.reason, scan_id=scan.scan_id, gate=row.gate, replayed=True,
                                  attendee=attendee, admission=admission)


def _attendee(registration_id: int, row) -> dict:
    return attendee(registration_id, name=row.name, phone=row.phone, walk_in=row.walk_in is not None)


# ---- statements, built once (building one costs more than running it) ------------------------------------------

@functools.cache
def _door_statement():
    return (sa.select(Event.status, Event.starts_at, Event.ends_at, CheckinConfig.public_key,
                      CheckinConfig.opens_minutes_before, CheckinConfig.allow_reentry)
            .join(CheckinConfig, CheckinConfig.event_id == Event.id)
            .where(Event.id == sa.bindparam("event_id")))


@functools.cache
def _registrations_statement():
    return (sa.select(Registration.id, Registration.event_id, Registration.status, Registration.version, User.name,
                      User.phone, Admission.first_admitted_at, WalkIn.registration_id.label("walk_in"))
            .join(User, User.id == Registration.user_id)
            .outerjoin(Admission, Admission.registration_id == Registration.id)
            .outerjoin(WalkIn, WalkIn.registration_id == Registration.id)
            .where(Registration.id.in_(sa.bindparam("ids", expanding=True))))


def _log_statement():
    return _log_statement_for(db.session.get_bind().dialect.name)


@functools.cache
def _log_statement_for(dialect: str):
    scans = Scan.__table__
    return (dialect_insert(scans, dialect).on_conflict_do_nothing(index_elements=["event_id", "scan_id"])
            .returning(scans.c.id, scans.c.scan_id))


def _admission_statement():
    return _admission_statement_for(db.session.get_bind().dialect.name)


@functools.cache
def _admission_statement_for(dialect: str):
    admissions = Admission.__table__
    return (dialect_insert(admissions, dialect).on_conflict_do_nothing(index_elements=["registration_id"])
            .returning(admissions.c.registration_id))


@functools.cache
def _correct_statement():
    scans = Scan.__table__
    return scans.update().where(scans.c.id == sa.bindparam("pk")).values(result=sa.bindparam("new_result"))


@functools.cache
def _checked_in_statement():
    registrations, admissions = Registration.__table__, Admission.__table__
    first_in = (sa.select(admissions.c.first_admitted_at)
                .where(admissions.c.registration_id == registrations.c.id).scalar_subquery())
    return (registrations.update()
            .where(registrations.c.id.in_(sa.bindparam("ids", expanding=True)),
                   sa.or_(registrations.c.checked_in_at.is_(None), registrations.c.checked_in_at > first_in))
            .values(checked_in_at=first_in))


@functools.cache
def _earlier_scans_statement():
    return (sa.select(Scan.scan_id, Scan.result, Scan.reason, Scan.gate, Scan.token_digest, Scan.registration_id,
                      User.name, User.phone, WalkIn.registration_id.label("walk_in"), Admission.first_admitted_at,
                      Admission.gate.label("admission_gate"), Admission.inside)
            .outerjoin(Registration, Registration.id == Scan.registration_id)
            .outerjoin(User, User.id == Registration.user_id)
            .outerjoin(WalkIn, WalkIn.registration_id == Scan.registration_id)
            .outerjoin(Admission, Admission.registration_id == Scan.registration_id)
            .where(Scan.event_id == sa.bindparam("event_id"),
                   Scan.scan_id.in_(sa.bindparam("scan_ids", expanding=True))))


@functools.cache
def _admissions_statement():
    return (sa.select(Admission.registration_id, Admission.first_admitted_at, Admission.gate, Admission.inside)
            .where(Admission.registration_id.in_(sa.bindparam("ids", expanding=True))))


_scans: GroupCommit[_Scan] = GroupCommit(_decide_batch, name="scans", max_batch=MAX_BATCH)
