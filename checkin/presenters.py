"""Answer shapes of check-in for pages and the API: the attendee as the door may see them, and a scan's answer
(the same shape for a scan decided alone, in a batch, or replayed)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from app.accounts.phones import mask_phone
from checkin import qr
from checkin.tickets import ticket_type
from events.models import Registration
from events.presentation import event_title, event_when


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


# ---- the saved ticket -----------------------------------------------------------------------------------------------

_UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def ticket_file_name(registration: Registration) -> str:
    """'北杨路演日-门票-12.png': the event's title (in the reader's language, without characters file systems
    refuse, at most 40 characters) and the registration, so a saved ticket is found by its event."""
    title = _UNSAFE_IN_FILE_NAMES.sub(" ", event_title(registration.event)).strip()[:40].strip() or "ticket"
    return f"{title}-{_('ticket')}-{registration.id}.png"


def ticket_image(registration: Registration, token: str, *, font_path: str | None) -> bytes:
    """The ticket as an image to save ("保存为图片"): the QR code with the event's title, time (Asia/Shanghai), venue
    and the attendee's name; ASCII text only when the CJK font at `font_path` is missing."""
    event, user = registration.event, registration.user
    shanghai = ZoneInfo("Asia/Shanghai")
    starts, ends = event.starts_at.astimezone(shanghai), event.ends_at.astimezone(shanghai)
    ascii_title = next((t for t in (event.title_en, event.title) if t and t.isascii()), "Beiyang Events")
    span = (f"{starts:%Y-%m-%d %H:%M}-{ends:%H:%M}" if starts.date() == ends.date()
            else f"{starts:%Y-%m-%d %H:%M} - {ends:%Y-%m-%d %H:%M}")
    ascii_lines = [ascii_title, f"{span} (Beijing time, UTC+8)"]
    if (user.display_name or "").isascii():
        ascii_lines.append(user.display_name)
    ascii_lines.append(f"Ticket No. {registration.id}")
    return qr.ticket_png(token, title=event_title(event), when=event_when(event.starts_at, event.ends_at),
                      venue=event.venue or "", name=user.display_name or "",
                      footer=_("Ticket No. %(number)s · show this code at the entrance", number=registration.id),
                      font_path=font_path, ascii_lines=ascii_lines)
