"""A scan at the door, online: a batch of one where a batch can decide it (checkin.scan_batches, with the scans of
this event arriving at the same moment), alone otherwise (checkin.admission.admit_ticket). Both ask the same
verdict (checkin.admission.verdict) and give the same answer (checkin.presenters.scan_answer)."""

from __future__ import annotations

from datetime import datetime

from app.errors import DomainError
from app.extensions import db
from checkin.admission import admit_ticket, clean_scan_input
from checkin.door import may_scan
from checkin.presenters import outcome_payload
from checkin.scan_batches import admit_together


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
    if direction != "in":
        return None
    try:
        scan_id, gate, device = clean_scan_input(scan_id=scan_id, gate=gate, device=device, direction=direction)
    except DomainError:
        return None  # decided alone, which says what is wrong
    return admit_together(event_id, actor_id=actor_id, bearer=bearer, token=token, scan_id=scan_id, gate=gate,
                          device=device, now=now)
