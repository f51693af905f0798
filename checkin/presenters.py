"""Answer shapes of check-in for pages and the API: the attendee as the door may see them, and a scan's answer
(the same shape for a scan decided alone, in a batch, or replayed)."""

from __future__ import annotations

from app.accounts.phones import mask_phone
from checkin.tickets import ticket_type
from events.models import Registration


def attendee_of(registration: Registration) -> dict:
    """What the door may see: name, masked phone, ticket type. Never the full phone."""
    user = registration.user
    return attendee(registration.id, name=user.name, phone=user.phone,
                    walk_in=ticket_type(registration) == "walk_in")


def attendee(registration_id: int, *, name: str, phone: str, walk_in: bool) -> dict:
    """attendee_of, from the columns (a batch of scans reads them in one query)."""
    return {"registration_id": registration_id, "name": name or mask_phone(phone), "phone": mask_phone(phone),
            "ticket_type": "walk_in" if walk_in else "standard"}


def outcome_payload(outcome) -> dict:
    """The API's answer to a scan decided alone (checkin.admission.ScanOutcome)."""
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
