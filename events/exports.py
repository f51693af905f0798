"""Lists of registrations for organizers: on screen, as CSV (UTF-8 with BOM, so Excel and WPS show Chinese)
and as XLSX."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from app.accounts.models import User
from app.accounts.phones import format_phone
from app.extensions import db
from events.models import Event, Registration

STATUS_ORDER = {"confirmed": 0, "offered": 1, "pending": 2, "entered": 3, "waitlisted": 4, "cancelled": 5,
                "rejected": 6, "expired": 7}


def registrations_for_event(event_id: int) -> list[Registration]:
    rows = db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event_id).order_by(Registration.waitlist_seq)
    ).all()
    return sorted(rows, key=lambda r: (STATUS_ORDER.get(r.status, 9), r.waitlist_seq))


def registrations_of_user(user_id: int) -> list[Registration]:
    return list(db.session.scalars(
        sa.select(Registration).join(Event).where(Registration.user_id == user_id)
        .order_by(Event.starts_at.desc())
    ))


def export_rows(event: Event, *, labels: dict, status_labels: dict, tz) -> tuple[list[str], list[list]]:
    """The table organizers download: one row per registration, the event's questions as columns."""
    questions = event.questions or []
    header = [labels[k] for k in ("seq", "name", "phone", "company", "title", "persona", "status",
                                  "signed_up_at", "checked_in_at")] + [q["label"] for q in questions]
    rows = []
    users = {u.id: u for u in db.session.scalars(
        sa.select(User).join(Registration, Registration.user_id == User.id).where(Registration.event_id == event.id))}
    for registration in registrations_for_event(event.id):
        user = users[registration.user_id]
        rows.append([registration.waitlist_seq, user.name, format_phone(user.phone), user.company, user.title,
                     user.persona,
                     status_labels.get(registration.status, registration.status),
                     _local(registration.created_at, tz), _local(registration.checked_in_at, tz)]
                    + [registration.answers.get(q["id"], "") for q in questions])
    return header, rows


def _local(value: datetime | None, tz) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def _safe_csv_cell(value):
    """In a CSV, text that Excel or WPS would run as a formula (=, +, -, @) gets a leading apostrophe (OWASP's
    advice: a CSV cell has no way to say "this is text")."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _keep_text_as_text(sheet) -> None:
    """An XLSX cell says what it holds: openpyxl makes "=..." a formula, so such text is typed back to text and
    shows exactly as the person wrote it, with nothing run."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def to_xlsx(header: list[str], rows: list[list], *, sheet_title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31] or "Sheet1"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    _keep_text_as_text(sheet)
    for index, title in enumerate(header, start=1):
        width = max([len(str(title))] + [len(str(r[index - 1])) for r in rows[:200]]) + 4
        sheet.column_dimensions[get_column_letter(index)].width = min(width * 1.6, 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
