"""Numbers of the door: live counters, who is inside now, attendance after the event, the scan log, and tickets
admitted twice (conflicts of offline scanners). Read-only."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.accounts.phones import mask_phone
from app.extensions import db
from checkin.door import door_role, event_of, require_supervisor
from checkin.models import Admission, Scan
from checkin.presenters import attendee_of
from checkin.tickets import TICKET_STATUSES
from events.models import Registration


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
    rows = db.session.execute(
        sa.select(Registration.id, User.name, User.phone, Admission.first_admitted_at, Admission.gate)
        .join(User, User.id == Registration.user_id)
        .outerjoin(Admission, Admission.registration_id == Registration.id)
        .where(Registration.event_id == event_id, Registration.status.in_(TICKET_STATUSES))
        .order_by(Admission.first_admitted_at.is_(None), Admission.first_admitted_at, User.name)
    ).all()
    came = [{"registration_id": r.id, "name": r.name, "phone": mask_phone(r.phone), "at": r.first_admitted_at,
             "gate": r.gate} for r in rows if r.first_admitted_at is not None]
    absent = [{"registration_id": r.id, "name": r.name, "phone": mask_phone(r.phone)} for r in rows
              if r.first_admitted_at is None]
    total = len(rows)
    return {"expected": total, "came": came, "no_shows": absent,
            "rate": round(100 * len(came) / total) if total else 0}


def scan_log(event_id: int, *, limit: int | None = 50) -> list[dict]:
    """The check-in log, newest first: who, when, which gate and device, online or offline, what it answered."""
    person = aliased(User)
    actor = aliased(User)
    query = (sa.select(Scan, person.name, person.phone, actor.name)
             .outerjoin(Registration, Registration.id == Scan.registration_id)
             .outerjoin(person, person.id == Registration.user_id)
             .outerjoin(actor, actor.id == Scan.actor_id)
             .where(Scan.event_id == event_id).order_by(Scan.received_at.desc(), Scan.id.desc()))
    if limit:
        query = query.limit(limit)
    return [{"scanned_at": scan.scanned_at, "received_at": scan.received_at, "name": name or "",
             "phone": mask_phone(phone) if phone else "", "gate": scan.gate, "device": scan.device,
             "mode": scan.mode, "direction": scan.direction, "result": scan.result, "reason": scan.reason,
             "by": by or "", "conflict": scan.conflict, "scan_id": scan.scan_id}
            for scan, name, phone, by in db.session.execute(query).all()]


def door_counters(event_id: int, actor) -> dict:
    event = event_of(event_id)
    door_role(actor, event)
    return counters(event.id)


def inside_now(event_id: int, actor) -> list[dict]:
    """Who is inside now (admitted and not scanned out), latest arrivals first. Supervisors and organizers."""
    event = event_of(event_id)
    require_supervisor(actor, event)
    rows = db.session.execute(
        sa.select(Registration.id, User.name, User.phone, Admission.last_moved_at, Admission.entries, Admission.gate)
        .join(Registration, Registration.id == Admission.registration_id)
        .join(User, User.id == Registration.user_id)
        .where(Admission.event_id == event.id, Admission.inside.is_(True))
        .order_by(Admission.last_moved_at.desc(), Registration.id)
    ).all()
    return [{"registration_id": r.id, "name": r.name or mask_phone(r.phone), "phone": mask_phone(r.phone),
             "since": r.last_moved_at.isoformat(), "entries": r.entries, "gate": r.gate} for r in rows]


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
