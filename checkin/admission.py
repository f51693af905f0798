"""Admission at the door: the one rule that decides a scan (`verdict`), and the scans decided alone.

`verdict` answers, from what is known before any write: is it a valid ticket of this event, is the event still on
and the ticket current, are the doors open at the time of the scan, and (where the caller knows) was it admitted
before. Every scan goes through it: a scan decided alone here (admit_ticket, admit_registration), a walk-in
(checkin.walk_ins), a synced offline scan (checkin.offline) and each scan of a batch (checkin.scan_batches, which
decides most online scans in a rush, with the same answers).

Then the database decides what must never be wrong, on SQLite and PostgreSQL alike:
- a scan claims its scan id with INSERT ... ON CONFLICT (event, scan_id) DO NOTHING: a retry (or a retry racing
  the original) finds the first answer and counts nothing twice;
- a ticket admits once: the admission row (primary key: the registration) is inserted with ON CONFLICT DO NOTHING,
  and only the scan whose insert happened says "admitted"; with re-entry, in/out flip with conditional UPDATEs.
Refused scans are logged too, with their reason (as pretix does), so organizers see what happened at the door.
Services take plain arguments, the acting user and `now`; they flush, callers commit once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import DomainError, NotFound
from app.extensions import db, dialect_insert
from app.locking import queue_for_sqlite_writer
from checkin import tokens
from checkin.door import door_role, event_of, require_supervisor
from checkin.models import Admission, CheckinConfig, Scan
from checkin.realtime import counters_changed
from checkin.tickets import MAX_TOKEN, TICKET_STATUSES, ensure_config, public_key_of, ticket_type
from events.models import Event, Registration

DOORS_CLOSE_AFTER_END = timedelta(hours=6)
SCAN_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_GATE = 40
MAX_DEVICE = 80
MAX_REASON = 300


# ---- the verdict -------------------------------------------------------------------------------------------------

class Door(NamedTuple):
    """What the verdict needs of an event's door. A batch reads the same columns in its one query of the door."""

    status: str
    starts_at: datetime
    ends_at: datetime
    opens_minutes_before: int


def door_of(event: Event, config: CheckinConfig) -> Door:
    return Door(event.status, event.starts_at, event.ends_at, config.opens_minutes_before)


@dataclass(frozen=True)
class Verdict:
    """A scan's answer before any write. `result` None: admissible, and the database decides (admitted, already
    admitted, or with re-entry and scans out: exited, not inside)."""

    result: str | None
    reason: str = ""
    registration: Registration | None = None  # the ticket's registration, when it is one of this event's


def doors_open(door, at: datetime) -> tuple[bool, str]:
    """(open, why not) at `at`: from opens_minutes_before the start until DOORS_CLOSE_AFTER_END after the end."""
    if at < door.starts_at - timedelta(minutes=door.opens_minutes_before):
        return False, "not_yet_open"
    if at > door.ends_at + DOORS_CLOSE_AFTER_END:
        return False, "closed"
    return True, ""


def ticket_refusal(event_status: str, registration_status: str, version: int,
                   claimed_version: int | None) -> str:
    """Why a genuine ticket of this event is revoked ("" when it is not): the event is cancelled, the registration
    no longer holds a seat, or the ticket was re-issued (`claimed_version` None: admitted by name, no version)."""
    if event_status == "cancelled":
        return "event_cancelled"
    if registration_status not in TICKET_STATUSES:
        return registration_status
    if claimed_version is not None and version != claimed_version:
        return "old_version"
    return ""


def verdict(door, registration, *, event_id: int, at: datetime | None, genuine: bool = True,
            claimed_version: int | None = None, override: bool = False,
            admitted_before: bool | None = None) -> Verdict:
    """The one rule of admission. `door`: the event's status, start, end and opens_minutes_before (a Door, or the
    batch's row); `registration`: the registration the scan names (a model or a row with id, event_id, status and
    version; None when there is none); `genuine`: the token's signature is the event's key's (a registration
    admitted by name is); `claimed_version`: the ticket's version (None by name); `at`: when it was scanned (None:
    the door hours are not asked); `override`: a supervisor admits regardless of the ticket's state and the hours;
    `admitted_before`: whether the ticket came in before, when the caller read it (None: the database decides).
    Tokens that are not shaped like ours or name another event are refused before (verdict_for_token)."""
    if not genuine:
        return Verdict("invalid", "signature")
    if registration is None or registration.event_id != event_id:
        return Verdict("invalid", "unknown_registration")
    if not override:
        refusal = ticket_refusal(door.status, registration.status, registration.version, claimed_version)
        if refusal:
            return Verdict("revoked", refusal, registration)
        if at is not None:
            is_open, why = doors_open(door, at)
            if not is_open:
                return Verdict("not_open", why, registration)
    if admitted_before is None:
        return Verdict(None, "", registration)
    return Verdict("already_admitted" if admitted_before else "admitted", "", registration)


def verdict_for_token(event: Event, config: CheckinConfig | None, token, *, at: datetime | None = None) -> Verdict:
    """A scanned token's verdict (reads the registration, writes nothing): invalid, wrong_event, revoked, not_open
    (when `at` is given) or admissible."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return Verdict("invalid", "malformed")
    try:
        claims, payload, signature = tokens.read_claims(token.strip())
    except tokens.MalformedToken:
        return Verdict("invalid", "malformed")
    if claims.event_id != event.id:
        # Say "another event" only when that event's key really signed it: a forged token learns nothing.
        other_key = public_key_of(claims.event_id)
        if other_key and tokens.signature_valid(tokens.load_public_key(other_key), payload, signature):
            return Verdict("wrong_event", f"event:{claims.event_id}")
        return Verdict("invalid", "signature")
    if config is None or not tokens.signature_valid(tokens.load_public_key(config.public_key), payload, signature):
        return verdict(None, None, event_id=event.id, at=at, genuine=False)
    registration = db.session.get(Registration, claims.registration_id, options=[joinedload(Registration.user)])
    judged = verdict(door_of(event, config), registration, event_id=event.id, at=at,
                     claimed_version=claims.version)
    if judged.result is None:
        ticket_type(registration)  # read now, before the scan queues to write
    return judged


# ---- scans decided alone -----------------------------------------------------------------------------------------

@dataclass
class ScanOutcome:
    """What a scan answered. `replayed`: the same scan id was seen before; this is its first answer."""

    scan: Scan
    registration: Registration | None
    admission: Admission | None
    replayed: bool = False

    @property
    def result(self) -> str:
        return self.scan.result


def clean_scan_input(*, scan_id, gate, device, direction) -> tuple[str, str, str]:
    """(scan_id, gate, device) checked and trimmed, or a 422 that says which field is wrong."""
    errors = {}
    if not isinstance(scan_id, str) or not SCAN_ID_PATTERN.fullmatch(scan_id):
        errors["scan_id"] = _l("1 to 64 letters, digits or . _ : - (a UUID is good).")
    gate = (gate or "").strip() if isinstance(gate, str) else None
    if not gate or len(gate) > MAX_GATE:
        errors["gate"] = _l("Name the gate (at most %(n)d characters).", n=MAX_GATE)
    device = (device or "").strip() if isinstance(device, str) or device is None else None
    if device is None or len(device) > MAX_DEVICE:
        errors["device"] = _l("At most %(n)d characters.", n=MAX_DEVICE)
    if direction not in ("in", "out"):
        errors["direction"] = _l("Choose in or out.")
    if errors:
        raise DomainError("invalid_scan", _l("Please correct the highlighted fields."), status=422,
                          fields={k: str(v) for k, v in errors.items()})
    return scan_id, gate, device


def find_scan(event_id: int, scan_id: str) -> Scan | None:
    return db.session.scalars(
        sa.select(Scan).where(Scan.event_id == event_id, Scan.scan_id == scan_id)
        .execution_options(populate_existing=True)
    ).first()


def replay(existing: Scan, digest: str) -> ScanOutcome:
    """The first answer of a scan id seen before; the same id with another ticket is refused (409)."""
    if existing.token_digest != digest:
        raise DomainError("scan_id_reused", _l("This scan id was already used for another ticket."), status=409)
    registration = db.session.get(Registration, existing.registration_id) if existing.registration_id else None
    admission = db.session.get(Admission, existing.registration_id) if existing.registration_id else None
    return ScanOutcome(existing, registration, admission, replayed=True)


def record_scan(event: Event, config: CheckinConfig | None, judged: Verdict, actor, *, scan_id: str, digest: str,
                gate: str, device: str, direction: str, mode: str, scanned_at: datetime, now: datetime,
                reason: str = "", offline_result: str | None = None) -> ScanOutcome:
    """Claim the scan id, then, for an admissible verdict, let the database decide admission; log the answer in
    the scan's row."""
    registration = judged.registration
    queue_for_sqlite_writer()
    scan = db.session.scalars(
        dialect_insert(Scan).values(
            event_id=event.id, scan_id=scan_id, registration_id=registration.id if registration else None,
            token_digest=digest, gate=gate, device=device, direction=direction, mode=mode,
            result=judged.result or "pending", reason=(reason or judged.reason)[:MAX_REASON],
            offline_result=offline_result, conflict=False, actor_id=getattr(actor, "id", None),
            scanned_at=scanned_at, received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id", "scan_id"]).returning(Scan),
        execution_options={"populate_existing": True},
    ).first()
    if scan is None:  # the same scan id was seen before (a retry, or a retry racing the original): its answer
        return replay(find_scan(event.id, scan_id), digest)
    scan_pk = scan.id

    result = judged.result
    if result is None:
        result = _admit_or_exit(event, config, registration, scan_pk=scan_pk, gate=gate, direction=direction,
                                at=scanned_at, offline_admitted=mode == "offline" and offline_result == "admitted")
        db.session.execute(sa.update(Scan).where(Scan.id == scan_pk).values(result=result)
                           .execution_options(synchronize_session=False))
        if mode == "offline":
            db.session.refresh(scan)  # a double admission flags the scan as a conflict
        else:
            set_committed_value(scan, "result", result)
    if result in ("admitted", "exited") or mode == "offline":
        counters_changed(event.id)  # every scanner's counters move, once this transaction has committed
    admission = db.session.get(Admission, registration.id, populate_existing=True) if registration else None
    return ScanOutcome(scan, registration, admission)


def _admit_or_exit(event: Event, config: CheckinConfig | None, registration: Registration, *, scan_pk: int,
                   gate: str, direction: str, at: datetime, offline_admitted: bool = False) -> str:
    """The one place where a person comes in (or goes out) alone. Decided by the database: whoever inserts the
    admission row admitted the person; re-entry flips `inside` only from the other state. An offline scan that
    the scanner already let through (`offline_admitted`) may turn out to be a second admission of the ticket: both
    scans are kept and marked as a conflict, and the earlier one (by scanned_at) is the admission."""
    reentry = bool(config and config.allow_reentry)
    if direction == "out":
        if not reentry:
            return "not_inside"
        moved = db.session.execute(
            sa.update(Admission).where(Admission.registration_id == registration.id, Admission.inside.is_(True))
            .values(inside=False, last_moved_at=at).execution_options(synchronize_session=False)
        ).rowcount
        return "exited" if moved else "not_inside"
    inserted = db.session.execute(
        dialect_insert(Admission).values(registration_id=registration.id, event_id=event.id, first_admitted_at=at,
                                  gate=gate, first_scan_id=scan_pk, inside=True, entries=1, last_moved_at=at)
        .on_conflict_do_nothing(index_elements=["registration_id"]).returning(Admission.registration_id)
    ).scalar()
    if inserted is not None:
        _note_checked_in(registration.id, at)
        return "admitted"
    if reentry:
        moved = db.session.execute(
            sa.update(Admission).where(Admission.registration_id == registration.id, Admission.inside.is_(False))
            .values(inside=True, entries=Admission.entries + 1, last_moved_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved:
            return "admitted"
    if offline_admitted:
        return _settle_double_admission(registration, scan_pk=scan_pk, gate=gate, at=at)
    return "already_admitted"


def _settle_double_admission(registration: Registration, *, scan_pk: int, gate: str, at: datetime) -> str:
    """Two scanners both let one ticket in (at least one offline). Both scans are flagged; the earlier one is the
    admission. Moving the admission is a compare-and-set on (first_scan_id, first_admitted_at), so two syncs
    settling the same ticket at once cannot both win."""
    for _ in range(5):
        current = db.session.execute(
            sa.select(Admission.first_scan_id, Admission.first_admitted_at)
            .where(Admission.registration_id == registration.id)
        ).one()
        if current.first_admitted_at <= at:
            _flag_conflict(scan_pk, current.first_scan_id)
            return "already_admitted"
        moved = db.session.execute(
            sa.update(Admission).where(Admission.registration_id == registration.id,
                                       Admission.first_admitted_at == current.first_admitted_at,
                                       _same_scan(current.first_scan_id))
            .values(first_admitted_at=at, gate=gate, first_scan_id=scan_pk)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved:
            _flag_conflict(scan_pk, current.first_scan_id)
            _note_checked_in(registration.id, at)
            return "admitted"
    raise DomainError("busy", _l("Please try again."), status=503)


def _same_scan(scan_pk: int | None):
    return Admission.first_scan_id.is_(None) if scan_pk is None else Admission.first_scan_id == scan_pk


def _flag_conflict(*scan_pks: int | None) -> None:
    ids = [pk for pk in scan_pks if pk is not None]
    db.session.execute(sa.update(Scan).where(Scan.id.in_(ids)).values(conflict=True)
                       .execution_options(synchronize_session=False))


def _note_checked_in(registration_id: int, at: datetime) -> None:
    """events' own column: when the person first came in (the earliest admission, offline scans included)."""
    db.session.execute(
        sa.update(Registration).where(Registration.id == registration_id,
                                      sa.or_(Registration.checked_in_at.is_(None), Registration.checked_in_at > at))
        .values(checked_in_at=at).execution_options(synchronize_session=False)
    )


def admit_ticket(event_id: int, actor, *, token, gate, scan_id, now: datetime, device: str = "",
                 direction: str = "in") -> ScanOutcome:
    """A scanned ticket at a gate of this event (stewards, supervisors, organizers of the event). Answers
    admitted, already_admitted (with when and where the first admission was), invalid, revoked, wrong_event or
    not_open; every answer is logged. The same scan id again returns the first answer and counts nothing."""
    event = event_of(event_id)
    door_role(actor, event)
    scan_id, gate, device = clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction=direction)
    digest = tokens.token_digest(token if isinstance(token, str) else repr(token))
    # No read of the scan id first: the scan's INSERT ... ON CONFLICT finds a retry (and answers as the first time).
    config = db.session.get(CheckinConfig, event.id)
    judged = verdict_for_token(event, config, token, at=now)
    return record_scan(event, config, judged, actor, scan_id=scan_id, digest=digest, gate=gate, device=device,
                       direction=direction, mode="online", scanned_at=now, now=now)


def admit_registration(event_id: int, registration_id: int, actor, *, gate, scan_id, now: datetime,
                       device: str = "", reason: str = "", override: bool = False) -> ScanOutcome:
    """A supervisor admits someone found by name or phone (their phone is dead). With `override` (and a reason,
    which is logged) a supervisor admits even a cancelled registration or outside the door hours; a ticket still
    admits only once."""
    event = event_of(event_id)
    require_supervisor(actor, event)
    scan_id, gate, device = clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction="in")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if override and len(reason) < 2:
        raise DomainError("reason_required", _l("Say why you override (it is logged)."), status=422,
                          fields={"reason": str(_l("Please give a reason."))})
    digest = tokens.token_digest(f"registration:{int(registration_id)}")
    existing = find_scan(event.id, scan_id)
    if existing is not None:
        return replay(existing, digest)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound("registration_not_found", _l("This registration does not exist."))
    config = ensure_config(event.id, now=now)
    judged = verdict(door_of(event, config), registration, event_id=event.id, at=now, override=override)
    return record_scan(event, config, judged, actor, scan_id=scan_id, digest=digest, gate=gate, device=device,
                       direction="in", mode="override" if override else "manual", scanned_at=now, now=now,
                       reason=reason[:MAX_REASON])
