"""Rules of check-in: tickets (signed tokens and QR images), door roles, and admission at the door.

Services take plain arguments, the acting user and `now`; they flush, callers commit once. Every decision that
must never be wrong is taken by the database, on SQLite and PostgreSQL alike:
- an event's key pair is created with INSERT ... ON CONFLICT DO NOTHING (two first tickets at once share one key);
- a scan claims its scan id with INSERT ... ON CONFLICT (event, scan_id) DO NOTHING: a retry (or a retry racing
  the original) finds the first answer and counts nothing twice;
- a ticket admits once: the admission row (primary key: the registration) is inserted with ON CONFLICT DO NOTHING,
  and only the scan whose insert happened says "admitted"; with re-entry, in/out flip with conditional UPDATEs.
Refused scans are logged too, with their reason (as pretix does), so organizers see what happened at the door.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.authz import authorize, has_role, scope_key
from app.errors import DomainError, Forbidden, NotFound, Unauthorized
from app.extensions import db, dialect_insert
from checkin import tokens
from checkin.models import SCAN_RESULTS, Admission, CheckinConfig, Scan, WalkIn
from events import services as event_services
from events.models import Event, Registration

TICKET_STATUSES = ("confirmed",)  # only a held seat has a ticket
DOORS_CLOSE_AFTER_END = timedelta(hours=6)
SCAN_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_GATE = 40
MAX_DEVICE = 80
MAX_REASON = 300
MAX_TOKEN = 2000  # what a camera read; longer is not a ticket of ours, and is not kept


# ---- database helpers --------------------------------------------------------------------------------------------

# SQLite has one writer at a time, and a thread that finds it busy polls with growing sleeps (up to 100 ms each):
# in a rush at the doors the slowest scans then wait for seconds while the database idles between polls. Within one
# process, scans queue for the write on a lock instead, held from their first write until their transaction ends.
# (PostgreSQL needs none of this: its row locks queue fairly.)
_SQLITE_WRITER = threading.Lock()
_HOLDS_WRITER = "checkin.sqlite_writer"


def queue_for_sqlite_writer() -> None:
    session = db.session()
    if session.info.get(_HOLDS_WRITER) or session.get_bind().dialect.name != "sqlite":
        return
    if session.connection().connection.dbapi_connection.in_transaction:
        return  # this transaction already writes (a token's last use): waiting now could wait for a waiter of ours
    _SQLITE_WRITER.acquire()
    session.info[_HOLDS_WRITER] = True


@sa.event.listens_for(Session, "after_transaction_end")
def _release_sqlite_writer(session: Session, transaction) -> None:
    if transaction.parent is None and session.info.pop(_HOLDS_WRITER, False):
        _SQLITE_WRITER.release()



# ---- keys --------------------------------------------------------------------------------------------------------

def config_for(event_id: int) -> CheckinConfig | None:
    return db.session.get(CheckinConfig, event_id)


def ensure_config(event_id: int, *, now: datetime) -> CheckinConfig:
    """The event's check-in settings and key pair, created on first use. Two requests creating it at the same
    moment end up with the same key: the row is inserted with ON CONFLICT DO NOTHING and read back."""
    config = config_for(event_id)
    if config is not None:
        return config
    private, public_text = tokens.new_key_pair()
    sealed = tokens.seal_private_key(private, event_id=event_id, secret_key=current_app.config["SECRET_KEY"])
    db.session.execute(
        dialect_insert(CheckinConfig).values(event_id=event_id, public_key=public_text, sealed_private_key=sealed,
                                      allow_reentry=False, opens_minutes_before=120, created_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    return db.session.scalars(
        sa.select(CheckinConfig).where(CheckinConfig.event_id == event_id).execution_options(populate_existing=True)
    ).one()


def public_key_of(event_id: int) -> str | None:
    return db.session.scalar(sa.select(CheckinConfig.public_key).where(CheckinConfig.event_id == event_id))


# ---- tickets -----------------------------------------------------------------------------------------------------

def ticket_registration(registration_id: int, actor) -> Registration:
    """A registration whose ticket `actor` may see: their own, or one of an event they organize. Only confirmed
    registrations of events that are not cancelled have a ticket."""
    registration = event_services.get_registration(registration_id)
    if registration.user_id != getattr(actor, "id", None):
        event_services.authorize_organizer(actor, registration.event)
    if registration.event.status == "cancelled":
        raise DomainError("event_cancelled", _l("This event is cancelled."), status=409)
    if registration.status not in TICKET_STATUSES:
        raise DomainError("no_ticket", _l("Only confirmed registrations have a ticket."), status=409)
    return registration


def issue_token(registration: Registration, *, now: datetime) -> str:
    """The ticket's token: event, registration and version signed with the event's key. Ed25519 signatures are
    deterministic, so the same ticket version always gives the same token (and the same QR code)."""
    config = ensure_config(registration.event_id, now=now)
    private = tokens.unseal_private_key(config.sealed_private_key, event_id=registration.event_id,
                                        secret_key=current_app.config["SECRET_KEY"])
    return tokens.sign_token(private, tokens.TicketClaims(registration.event_id, registration.id,
                                                          registration.version))


def ticket_for(registration_id: int, actor, *, now: datetime) -> tuple[Registration, str]:
    """(registration, token) for the owner or an organizer of the event."""
    registration = ticket_registration(registration_id, actor)
    return registration, issue_token(registration, now=now)


def reissue_ticket(registration_id: int, actor, *, now: datetime) -> tuple[Registration, str]:
    """A new ticket (a screenshot went round, a phone was lost): the version goes up, so the old code is revoked
    at every door, online at once and offline from the next ticket-list download."""
    registration = ticket_registration(registration_id, actor)
    db.session.execute(
        sa.update(Registration).where(Registration.id == registration.id)
        .values(version=Registration.version + 1).execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)
    return registration, issue_token(registration, now=now)


# ---- QR images ---------------------------------------------------------------------------------------------------

def qr_png(token: str, *, box_size: int = 10) -> bytes:
    """The token as a QR code (error correction M, a quiet zone of 4 modules), PNG."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(token)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(token: str) -> str:
    """The same QR code as SVG (one path; scales to any screen without blurring)."""
    import qrcode
    import qrcode.image.svg
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4,
                         image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(token)
    code.make(fit=True)
    return code.make_image().to_string(encoding="unicode")


# ---- door roles --------------------------------------------------------------------------------------------------

def event_of(event_id: int) -> Event:
    return event_services.get_event(event_id, include_drafts=True)


def door_role(user, event: Event) -> str:
    """"supervisor" (organizers of the event count as supervisors: scan, search, admit by hand, override) or
    "steward" (scan only). Anyone else: 401 when not signed in, 403 otherwise."""
    return door_role_at(user, event.id)


def door_role_at(user, event_id: int) -> str:
    """door_role by the event's id, for a caller that has not read the event."""
    scope = scope_key("event", event_id)
    if has_role(user, "organizer", scope) or has_role(user, "supervisor", scope):
        return "supervisor"
    if has_role(user, "steward", scope):
        return "steward"
    authorize(user, "steward", scope)  # raises the right error
    raise _forbidden()


def require_supervisor(user, event: Event) -> None:
    if door_role(user, event) != "supervisor":
        raise Forbidden("supervisor_only", _l("Only a supervisor can do this; stewards scan tickets."))


def _forbidden() -> Forbidden:
    return Forbidden("forbidden", _l("You are not allowed to do this."))


# ---- admission -----------------------------------------------------------------------------------------------------

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


@dataclass
class _Verdict:
    result: str | None  # None: admissible so far (the database decides admitted / already admitted)
    registration: Registration | None = None
    reason: str = ""


def _clean_scan_input(*, scan_id, gate, device, direction) -> tuple[str, str, str]:
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


def doors_open(event: Event, config: CheckinConfig, at: datetime) -> tuple[bool, str]:
    opens = event.starts_at - timedelta(minutes=config.opens_minutes_before)
    if at < opens:
        return False, "not_yet_open"
    if at > event.ends_at + DOORS_CLOSE_AFTER_END:
        return False, "closed"
    return True, ""


def verdict_for_token(event: Event, config: CheckinConfig | None, token) -> _Verdict:
    """Check a scanned token without touching any row: invalid, wrong_event, revoked, or admissible."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return _Verdict("invalid", reason="malformed")
    try:
        claims, payload, signature = tokens.read_claims(token.strip())
    except tokens.MalformedToken:
        return _Verdict("invalid", reason="malformed")
    if claims.event_id != event.id:
        # Say "another event" only when that event's key really signed it: a forged token learns nothing.
        other_key = public_key_of(claims.event_id)
        if other_key and tokens.signature_valid(tokens.load_public_key(other_key), payload, signature):
            return _Verdict("wrong_event", reason=f"event:{claims.event_id}")
        return _Verdict("invalid", reason="signature")
    if config is None or not tokens.signature_valid(tokens.load_public_key(config.public_key), payload, signature):
        return _Verdict("invalid", reason="signature")
    registration = db.session.get(Registration, claims.registration_id, options=[joinedload(Registration.user)])
    if registration is None or registration.event_id != event.id:
        return _Verdict("invalid", reason="unknown_registration")
    refusal = ticket_refusal(event.status, registration.status, registration.version, claims.version)
    if refusal:
        return _Verdict("revoked", registration, refusal)
    ticket_type(registration)  # read now, before the scan queues to write
    return _Verdict(None, registration)


def ticket_refusal(event_status: str, registration_status: str, version: int, claimed_version: int) -> str:
    """Why a genuine ticket of this event is revoked ("" when it is not): the event is cancelled, the registration
    no longer holds a seat, or the ticket was re-issued."""
    if event_status == "cancelled":
        return "event_cancelled"
    if registration_status not in TICKET_STATUSES:
        return registration_status
    if version != claimed_version:
        return "old_version"
    return ""


def _verdict_for_registration(event: Event, registration: Registration, *, override: bool) -> _Verdict:
    if event.status == "cancelled" and not override:
        return _Verdict("revoked", registration, "event_cancelled")
    if registration.status not in TICKET_STATUSES and not override:
        return _Verdict("revoked", registration, registration.status)
    return _Verdict(None, registration)


def _find_scan(event_id: int, scan_id: str) -> Scan | None:
    return db.session.scalars(
        sa.select(Scan).where(Scan.event_id == event_id, Scan.scan_id == scan_id)
        .execution_options(populate_existing=True)
    ).first()


def _replay(existing: Scan, digest: str) -> ScanOutcome:
    if existing.token_digest != digest:
        raise DomainError("scan_id_reused", _l("This scan id was already used for another ticket."), status=409)
    registration = db.session.get(Registration, existing.registration_id) if existing.registration_id else None
    admission = db.session.get(Admission, existing.registration_id) if existing.registration_id else None
    return ScanOutcome(existing, registration, admission, replayed=True)


def _record(event: Event, config: CheckinConfig | None, verdict: _Verdict, actor, *, scan_id: str, digest: str,
            gate: str, device: str, direction: str, mode: str, scanned_at: datetime, now: datetime,
            reason: str = "", offline_result: str | None = None, ignore_window: bool = False) -> ScanOutcome:
    """Claim the scan id, then let the database decide admission; log the answer in the scan's row."""
    registration = verdict.registration
    if verdict.result is None and config is not None and not ignore_window:
        is_open, why = doors_open(event, config, scanned_at)
        if not is_open:
            verdict = _Verdict("not_open", registration, why)
    queue_for_sqlite_writer()
    scan = db.session.scalars(
        dialect_insert(Scan).values(
            event_id=event.id, scan_id=scan_id, registration_id=registration.id if registration else None,
            token_digest=digest, gate=gate, device=device, direction=direction, mode=mode,
            result=verdict.result or "pending", reason=(reason or verdict.reason)[:MAX_REASON],
            offline_result=offline_result, conflict=False, actor_id=getattr(actor, "id", None),
            scanned_at=scanned_at, received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id", "scan_id"]).returning(Scan),
        execution_options={"populate_existing": True},
    ).first()
    if scan is None:  # the same scan id was seen before (a retry, or a retry racing the original): its answer
        existing = _find_scan(event.id, scan_id)
        return _replay(existing, digest)
    scan_pk = scan.id

    result = verdict.result
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
        from checkin.realtime import counters_changed

        counters_changed(event.id)  # every scanner's counters move, once this transaction has committed
    admission = db.session.get(Admission, registration.id, populate_existing=True) if registration else None
    return ScanOutcome(scan, registration, admission)


def _admit_or_exit(event: Event, config: CheckinConfig | None, registration: Registration, *, scan_pk: int,
                   gate: str, direction: str, at: datetime, offline_admitted: bool = False) -> str:
    """The one place where a person comes in (or goes out). Decided by the database: whoever inserts the
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
    scan_id, gate, device = _clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction=direction)
    digest = tokens.token_digest(token if isinstance(token, str) else repr(token))
    # No read of the scan id first: the scan's INSERT ... ON CONFLICT finds a retry (and answers as the first time).
    config = config_for(event.id)
    verdict = verdict_for_token(event, config, token)
    return _record(event, config, verdict, actor, scan_id=scan_id, digest=digest, gate=gate, device=device,
                   direction=direction, mode="online", scanned_at=now, now=now)


def scan_ticket(event_id: int, actor, *, token, gate, scan_id, now: datetime, device: str = "",
                direction: str = "in") -> dict:
    """The API's answer to a scanned ticket (admit_ticket), committed. In a rush an online scan in is decided
    together with the other scans of this event arriving at the same moment (checkin.scan_batches), with the same
    answer, and committed with them."""
    answer = None
    if may_scan(actor, event_id):
        answer = _scan_together(event_id, actor_id=actor.id, token=token, gate=gate, scan_id=scan_id, now=now,
                                device=device, direction=direction)
    if answer is None:
        answer = outcome_payload(admit_ticket(event_id, actor, token=token, gate=gate, scan_id=scan_id, now=now,
                                              device=device, direction=direction))
        db.session.commit()
    return answer


def scan_with_bearer(event_id: int, bearer: str, *, token, gate, scan_id, now: datetime, device: str = "",
                     direction: str = "in") -> dict | None:
    """scan_ticket for a scanner device whose bearer token is not checked yet: the token is checked in the batch,
    with the other scans' tokens in one query. None when the scan was not decided (the token is not valid or not
    of this event's door team, or the scan is one a batch leaves alone): the caller then signs in with the token
    and calls scan_ticket, which says why."""
    return _scan_together(event_id, bearer=bearer, token=token, gate=gate, scan_id=scan_id, now=now, device=device,
                          direction=direction)


def _scan_together(event_id: int, *, token, gate, scan_id, now: datetime, device, direction, actor_id=None,
                   bearer=None) -> dict | None:
    from checkin.scan_batches import admit_together

    if direction != "in":
        return None
    try:
        scan_id, gate, device = _clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction=direction)
    except DomainError:
        return None  # decided alone, which says what is wrong
    return admit_together(event_id, actor_id=actor_id, bearer=bearer, token=token, scan_id=scan_id, gate=gate,
                          device=device, now=now)


def may_scan(actor, event_id: int) -> bool:
    """Whether `actor` is on the door team of this event (without reading the event: admit_ticket says why not)."""
    try:
        door_role_at(actor, event_id)
    except (Forbidden, Unauthorized):
        return False
    return True


def admit_registration(event_id: int, registration_id: int, actor, *, gate, scan_id, now: datetime,
                       device: str = "", reason: str = "", override: bool = False) -> ScanOutcome:
    """A supervisor admits someone found by name or phone (their phone is dead). With `override` (and a reason,
    which is logged) a supervisor admits even a cancelled registration or outside the door hours; a ticket still
    admits only once."""
    event = event_of(event_id)
    require_supervisor(actor, event)
    scan_id, gate, device = _clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction="in")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if override and len(reason) < 2:
        raise DomainError("reason_required", _l("Say why you override (it is logged)."), status=422,
                          fields={"reason": str(_l("Please give a reason."))})
    digest = tokens.token_digest(f"registration:{int(registration_id)}")
    existing = _find_scan(event.id, scan_id)
    if existing is not None:
        return _replay(existing, digest)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound("registration_not_found", _l("This registration does not exist."))
    config = ensure_config(event.id, now=now)
    verdict = _verdict_for_registration(event, registration, override=override)
    return _record(event, config, verdict, actor, scan_id=scan_id, digest=digest, gate=gate, device=device,
                   direction="in", mode="override" if override else "manual", scanned_at=now, now=now,
                   reason=reason[:MAX_REASON], ignore_window=override)


# ---- walk-ins -------------------------------------------------------------------------------------------------------

MAX_NAME = 80


def register_walk_in(event_id: int, actor, *, phone, name, gate, scan_id, now: datetime,
                     device: str = "") -> ScanOutcome:
    """A supervisor registers someone at the door, while the doors are open, if a seat remains (decided by the
    database, as for any sign-up: events.services.register_at_the_door), and admits them at once. The person is
    found by mobile number (an account is made for a new number, named as given). The registration's ticket type
    is "walk-in". The same scan id again returns the first answer; someone who already holds a ticket is simply
    admitted (or told they already came in)."""
    from app.accounts.phones import normalise_phone
    from app.accounts.services import get_or_create_user

    event = event_of(event_id)
    require_supervisor(actor, event)
    scan_id, gate, device = _clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction="in")
    name = (name or "").strip() if isinstance(name, str) else ""
    try:
        phone = normalise_phone(phone if isinstance(phone, str) else "")
    except DomainError as error:
        raise DomainError("invalid_walk_in", _l("Please correct the highlighted fields."), status=422,
                          fields={"phone": str(error.message)}) from None
    if len(name) > MAX_NAME:
        raise DomainError("invalid_walk_in", _l("Please correct the highlighted fields."), status=422,
                          fields={"name": str(_l("At most %(n)d characters.", n=MAX_NAME))})
    digest = tokens.token_digest(f"walk_in:{phone}")
    existing = _find_scan(event.id, scan_id)
    if existing is not None:
        return _replay(existing, digest)
    config = ensure_config(event.id, now=now)
    is_open, why = doors_open(event, config, now)
    if not is_open:
        raise DomainError("not_open", _l("Check-in is not open."), status=409, reason=why)
    person = get_or_create_user(phone, now=now, name=name)
    if not person.name and name:
        person.name = name
    registration, newly_confirmed = event_services.register_at_the_door(event.id, person, now=now)
    if newly_confirmed:
        db.session.execute(
            dialect_insert(WalkIn).values(registration_id=registration.id, event_id=event.id,
                                   created_by_id=getattr(actor, "id", None), created_at=now)
            .on_conflict_do_nothing(index_elements=["registration_id"])
        )
        db.session.info.setdefault(_TICKET_TYPES, {})[registration.id] = "walk_in"
    return _record(event, config, _Verdict(None, registration), actor, scan_id=scan_id, digest=digest, gate=gate,
                   device=device, direction="in", mode="walk_in" if newly_confirmed else "manual", scanned_at=now,
                   now=now)


# ---- door settings -------------------------------------------------------------------------------------------------

MAX_OPENS_BEFORE = 24 * 60


def door_settings(event_id: int, actor, *, now: datetime) -> CheckinConfig:
    event = event_of(event_id)
    door_role(actor, event)
    return ensure_config(event.id, now=now)


def update_door_settings(event_id: int, actor, *, now: datetime, allow_reentry: bool | None = None,
                         opens_minutes_before: int | None = None) -> CheckinConfig:
    """Organizers of the event switch re-entry (scan out, scan in again) on or off and say how long before the
    start the doors open. Scans already made keep their answers; people inside stay inside."""
    event = event_of(event_id)
    event_services.authorize_organizer(actor, event)
    config = ensure_config(event.id, now=now)
    errors = {}
    if allow_reentry is not None and not isinstance(allow_reentry, bool):
        errors["allow_reentry"] = _l("Choose yes or no.")
    if opens_minutes_before is not None and (isinstance(opens_minutes_before, bool)
                                             or not isinstance(opens_minutes_before, int)
                                             or not 0 <= opens_minutes_before <= MAX_OPENS_BEFORE):
        errors["opens_minutes_before"] = _l("Between 0 and %(n)d minutes.", n=MAX_OPENS_BEFORE)
    if errors:
        raise DomainError("invalid_settings", _l("Please correct the highlighted fields."), status=422,
                          fields={k: str(v) for k, v in errors.items()})
    if allow_reentry is not None:
        config.allow_reentry = allow_reentry
    if opens_minutes_before is not None:
        config.opens_minutes_before = opens_minutes_before
    db.session.flush()
    return config


def inside_now(event_id: int, actor) -> list[dict]:
    """Who is inside now (admitted and not scanned out), latest arrivals first. Supervisors and organizers."""
    from app.accounts.models import User

    event = event_of(event_id)
    require_supervisor(actor, event)
    rows = db.session.execute(
        sa.select(Registration.id, User.name, User.phone, Admission.last_moved_at, Admission.entries, Admission.gate)
        .join(Registration, Registration.id == Admission.registration_id)
        .join(User, User.id == Registration.user_id)
        .where(Admission.event_id == event.id, Admission.inside.is_(True))
        .order_by(Admission.last_moved_at.desc(), Registration.id)
    ).all()
    from app.accounts.phones import mask_phone

    return [{"registration_id": r.id, "name": r.name or mask_phone(r.phone), "phone": mask_phone(r.phone),
             "since": r.last_moved_at.isoformat(), "entries": r.entries, "gate": r.gate} for r in rows]


# ---- offline scanners ----------------------------------------------------------------------------------------------

MAX_SYNC_BATCH = 500
CLOCK_SKEW = timedelta(minutes=5)


def offline_kit(event_id: int, actor, *, now: datetime) -> dict:
    """What a scanner needs to keep working without a network: the event's public key, the door hours, and the
    valid tickets with just enough to show on the green screen and to search (name, masked phone, type). The
    private key never leaves the server. Stewards, supervisors and organizers of the event."""
    event = event_of(event_id)
    role = door_role(actor, event)
    config = ensure_config(event.id, now=now)
    rows = db.session.execute(
        sa.select(Registration.id, Registration.version, Registration.user_id, Admission.registration_id,
                  Admission.inside, WalkIn.registration_id, Admission.gate, Admission.first_admitted_at)
        .outerjoin(Admission, Admission.registration_id == Registration.id)
        .outerjoin(WalkIn, WalkIn.registration_id == Registration.id)
        .where(Registration.event_id == event.id, Registration.status.in_(TICKET_STATUSES))
        .order_by(Registration.id)
    ).all()
    from app.accounts.models import User

    users = {u.id: u for u in db.session.scalars(
        sa.select(User).where(User.id.in_({row[2] for row in rows})))} if rows else {}
    tickets = [{"registration_id": rid, "version": version, "name": users[uid].display_name,
                "phone": users[uid].masked_phone, "ticket_type": "walk_in" if walk_in else "standard",
                "admitted": admitted is not None, "inside": bool(inside) if admitted is not None else False,
                "gate": gate or "", "first_admitted_at": first_at.isoformat() if first_at else None}
               for rid, version, uid, admitted, inside, walk_in, gate, first_at in rows]
    opens = event.starts_at - timedelta(minutes=config.opens_minutes_before)
    return {"event_id": event.id, "public_key": config.public_key, "key_type": "Ed25519",
            "token_format": "base64url(payload 13 bytes: format=1, event_id, registration_id, version as u8 u32 u32 "
                            "u32 big-endian | Ed25519 signature 64 bytes)",
            "allow_reentry": config.allow_reentry, "doors_open_at": opens.isoformat(),
            "doors_close_at": (event.ends_at + DOORS_CLOSE_AFTER_END).isoformat(), "role": role,
            "generated_at": now.isoformat(), "tickets": tickets}


def record_offline_scan(event_id: int, actor, *, token, gate, scan_id, scanned_at: datetime, now: datetime,
                        device: str = "", direction: str = "in", offline_result: str = "admitted") -> ScanOutcome:
    """One scan a scanner made while offline, synced later. It goes through the same checks and the same
    exactly-once admission as an online scan, at the time it happened (the device's clock; a time in the future
    is taken as now). If the scanner let the person in and the ticket had been admitted elsewhere, both scans are
    kept and flagged as a conflict; the earlier one is the admission."""
    event = event_of(event_id)
    door_role(actor, event)
    scan_id, gate, device = _clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction=direction)
    if scanned_at.tzinfo is None:
        raise DomainError("invalid_scan", _l("Please correct the highlighted fields."), status=422,
                          fields={"scanned_at": str(_l("Give the time with its offset."))})
    reason = ""
    if scanned_at > now + CLOCK_SKEW:
        scanned_at, reason = now, "device_clock_ahead"
    digest = tokens.token_digest(token if isinstance(token, str) else repr(token))
    existing = _find_scan(event.id, scan_id)
    if existing is not None:
        return _replay(existing, digest)
    config = config_for(event.id)
    verdict = verdict_for_token(event, config, token)
    offline_result = offline_result if offline_result in SCAN_RESULTS else "admitted"
    if direction == "in" and offline_result != "admitted" and verdict.result is None:
        # The scanner turned the person away (its list was older, say): log what happened at the door, admit nobody.
        verdict = _Verdict(offline_result, verdict.registration, "refused_offline")
    return _record(event, config, verdict, actor, scan_id=scan_id, digest=digest, gate=gate, device=device,
                   direction=direction, mode="offline", scanned_at=scanned_at, now=now, reason=reason,
                   offline_result=offline_result)


def sync_order(scans: list[dict]) -> list[int]:
    """The order in which to apply a batch of queued scans: by scanned_at (the first admission wins), stable."""
    return sorted(range(len(scans)), key=lambda i: scans[i]["scanned_at"])


def conflicts(event_id: int, actor) -> list[dict]:
    """Tickets admitted twice (offline scanners at two gates): every scan of each, and which one is the
    admission. For supervisors and organizers."""
    event = event_of(event_id)
    require_supervisor(actor, event)
    flagged = db.session.scalars(
        sa.select(Scan).where(Scan.event_id == event.id, Scan.conflict.is_(True))
        .order_by(Scan.registration_id, Scan.scanned_at, Scan.id)
    ).all()
    grouped: dict[int, list[Scan]] = {}
    for scan in flagged:
        grouped.setdefault(scan.registration_id, []).append(scan)
    answer = []
    for registration_id, scans in grouped.items():
        registration = db.session.get(Registration, registration_id)
        admission = db.session.get(Admission, registration_id)
        answer.append({"attendee": attendee_of(registration),
                       "first_admitted_at": admission.first_admitted_at.isoformat() if admission else None,
                       "scans": [{"scan_id": s.scan_id, "gate": s.gate, "device": s.device, "mode": s.mode,
                                  "scanned_at": s.scanned_at.isoformat(), "received_at": s.received_at.isoformat(),
                                  "result": s.result, "offline_result": s.offline_result,
                                  "won": bool(admission and admission.first_scan_id == s.id)} for s in scans]})
    return answer


# ---- numbers -------------------------------------------------------------------------------------------------------

def counters(event_id: int, connection=None) -> dict:
    """Live numbers of the door: expected (confirmed tickets), admitted, inside now, admitted per gate (where
    each person first came in), conflicts. Read-only; `connection` lets the after-commit broadcast read them
    without the request's session."""
    reader = connection if connection is not None else db.session
    expected, conflicted = reader.execute(sa.select(
        sa.select(sa.func.count()).select_from(Registration).where(
            Registration.event_id == event_id, Registration.status.in_(TICKET_STATUSES)).scalar_subquery(),
        sa.select(sa.func.count(sa.distinct(Scan.registration_id))).where(
            Scan.event_id == event_id, Scan.conflict.is_(True)).scalar_subquery(),
    )).one()
    by_gate = reader.execute(
        sa.select(Admission.gate, sa.func.count(), sa.func.sum(sa.case((Admission.inside.is_(True), 1), else_=0)))
        .where(Admission.event_id == event_id).group_by(Admission.gate)
    ).all()
    gates = {gate: n for gate, n, _ in by_gate}
    inside = sum(int(i or 0) for _, _, i in by_gate)
    return {"event_id": event_id, "expected": expected, "admitted": sum(gates.values()), "inside": inside,
            "gates": dict(sorted(gates.items())), "conflicts": conflicted}


def attendance(event_id: int) -> dict:
    """After the event: who came and who did not (confirmed tickets never admitted), by name."""
    from app.accounts.models import User

    rows = db.session.execute(
        sa.select(Registration.id, User.name, User.phone, Admission.first_admitted_at, Admission.gate)
        .join(User, User.id == Registration.user_id)
        .outerjoin(Admission, Admission.registration_id == Registration.id)
        .where(Registration.event_id == event_id, Registration.status.in_(TICKET_STATUSES))
        .order_by(Admission.first_admitted_at.is_(None), Admission.first_admitted_at, User.name)
    ).all()
    from app.accounts.phones import mask_phone

    came = [{"registration_id": r.id, "name": r.name, "phone": mask_phone(r.phone), "at": r.first_admitted_at,
             "gate": r.gate} for r in rows if r.first_admitted_at is not None]
    absent = [{"registration_id": r.id, "name": r.name, "phone": mask_phone(r.phone)} for r in rows
              if r.first_admitted_at is None]
    total = len(rows)
    return {"expected": total, "came": came, "no_shows": absent,
            "rate": round(100 * len(came) / total) if total else 0}


def scan_log(event_id: int, *, limit: int | None = 50) -> list[dict]:
    """The check-in log, newest first: who, when, which gate and device, online or offline, what it answered."""
    from sqlalchemy.orm import aliased

    from app.accounts.models import User

    person = aliased(User)
    actor = aliased(User)
    query = (sa.select(Scan, person.name, person.phone, actor.name)
             .outerjoin(Registration, Registration.id == Scan.registration_id)
             .outerjoin(person, person.id == Registration.user_id)
             .outerjoin(actor, actor.id == Scan.actor_id)
             .where(Scan.event_id == event_id).order_by(Scan.received_at.desc(), Scan.id.desc()))
    if limit:
        query = query.limit(limit)
    from app.accounts.phones import mask_phone

    return [{"scanned_at": scan.scanned_at, "received_at": scan.received_at, "name": name or "",
             "phone": mask_phone(phone) if phone else "", "gate": scan.gate, "device": scan.device,
             "mode": scan.mode, "direction": scan.direction, "result": scan.result, "reason": scan.reason,
             "by": by or "", "conflict": scan.conflict, "scan_id": scan.scan_id}
            for scan, name, phone, by in db.session.execute(query).all()]


def door_counters(event_id: int, actor) -> dict:
    event = event_of(event_id)
    door_role(actor, event)
    return counters(event.id)


# ---- answers -------------------------------------------------------------------------------------------------------

_TICKET_TYPES = "checkin.ticket_types"


def ticket_type(registration: Registration) -> str:
    """standard or walk_in, remembered for the session (register_walk_in records a new walk-in there too), so a
    scan reads it before it queues to write, not while it holds the database."""
    known = db.session.info.setdefault(_TICKET_TYPES, {})
    if registration.id not in known:
        walk_in = db.session.scalar(sa.select(WalkIn.registration_id)
                                    .where(WalkIn.registration_id == registration.id))
        known[registration.id] = "walk_in" if walk_in else "standard"
    return known[registration.id]


def attendee_of(registration: Registration) -> dict:
    """What the door may see: name, masked phone, ticket type. Never the full phone."""
    user = registration.user
    return attendee(registration.id, name=user.name, phone=user.phone,
                    walk_in=ticket_type(registration) == "walk_in")


def attendee(registration_id: int, *, name: str, phone: str, walk_in: bool) -> dict:
    """attendee_of, from the columns (a batch of scans reads them in one query)."""
    from app.accounts.phones import mask_phone

    return {"registration_id": registration_id, "name": name or mask_phone(phone), "phone": mask_phone(phone),
            "ticket_type": "walk_in" if walk_in else "standard"}


def outcome_payload(outcome: ScanOutcome) -> dict:
    """The API's answer to a scan."""
    scan, registration = outcome.scan, outcome.registration
    shows_person = registration is not None and scan.result not in ("invalid", "wrong_event")
    return scan_answer(scan.result, scan.reason, scan_id=scan.scan_id, gate=scan.gate, replayed=outcome.replayed,
                       attendee=attendee_of(registration) if shows_person else None, admission=outcome.admission)


def scan_answer(result: str, reason: str, *, scan_id: str, gate: str, replayed: bool, attendee: dict | None,
                admission) -> dict:
    """The API's answer to a scan, from its result, the attendee (attendee_of) and the admission (anything with
    first_admitted_at, gate and inside; None when the person never came in). Invalid and wrong-event scans say
    nothing about any person."""
    shows_person = attendee is not None and result not in ("invalid", "wrong_event")
    admitted = admission is not None and shows_person
    return {
        "result": result,
        "reason": reason if result != "admitted" else "",
        "scan_id": scan_id,
        "replayed": replayed,
        "attendee": attendee if shows_person else None,
        "first_admitted_at": admission.first_admitted_at.isoformat() if admitted else None,
        "gate": admission.gate if admitted else gate,
        "scanned_gate": gate,
        "inside": admission.inside if admitted else None,
    }
