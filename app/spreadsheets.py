"""Spreadsheets are data, never code: every CSV and XLSX the platform hands out is written through here.

- Text that Excel or WPS would run as a formula (it starts with =, +, -, @, a tab or a carriage return) is written as
  text: in a CSV with a leading apostrophe (OWASP's advice: a CSV cell has no way to say "this is text"); in an XLSX
  typed as a string with the quote prefix set, so the cell shows exactly what the person wrote and nothing runs.
- Sheet titles made from people's names are cleaned (Excel refuses / \\ ? * [ ] : and more than 31 characters) and
  made unique within the workbook.
- Characters XML cannot hold (control characters) are dropped from XLSX cells instead of failing the download.
- Every download answers through `download` (and `csv_download` for CSV): one Content-Type (`text/csv;
  charset=utf-8`, said once: Flask adds the charset to a text/ mimetype itself, so passing it in the mimetype
  said it twice), a Content-Disposition with an ASCII name and the real (often Chinese) one per RFC 5987, and
  `Cache-Control: no-store` (these files hold people's names and numbers).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_MAX = 31
_SHEET_TITLE_REFUSED = re.compile(r"[\\/?*\[\]:]")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"  # the whole header: given as content_type, nothing is added
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_MIMETYPE}
DOWNLOAD_CACHE_CONTROL = "no-store"  # personal data: never kept by a proxy or the browser cache
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def looks_like_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


# ---- CSV ---------------------------------------------------------------------------------------------------------

def csv_cell(value):
    """A CSV cell that no spreadsheet runs: formula-looking text gets a leading apostrophe."""
    if looks_like_formula(value):
        return "'" + value
    return value


def to_csv(header: Iterable, rows: Iterable[Iterable]) -> bytes:
    """UTF-8 with a BOM, so Excel and WPS show Chinese. The header is data too (question labels are typed by people)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ---- XLSX --------------------------------------------------------------------------------------------------------

def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """A title Excel accepts, unique (Excel compares titles without case) among `taken`."""
    title = _SHEET_TITLE_REFUSED.sub("-", ILLEGAL_CHARACTERS_RE.sub("", str(name or ""))).strip().strip("'").strip()
    title = title[:SHEET_TITLE_MAX].strip() or "Sheet"
    if title.lower() == "history":  # reserved by Excel
        title = title + "-1"
    used = {t.lower() for t in taken}
    candidate, number = title, 1
    while candidate.lower() in used:
        number += 1
        suffix = f" ({number})"
        candidate = title[:SHEET_TITLE_MAX - len(suffix)].rstrip() + suffix
    return candidate


def new_workbook() -> Workbook:
    """A workbook with no sheets: add them with add_sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def add_sheet(workbook: Workbook, name: str) -> Worksheet:
    return workbook.create_sheet(sheet_title(name, workbook.sheetnames))


def append_row(sheet: Worksheet, values: Iterable) -> None:
    """Append a row whose text stays text: formula-looking strings are typed as strings with the quote prefix."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True


def save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_xlsx(header: list, rows: list[list], *, sheet_title: str) -> bytes:
    """One sheet: a header row (frozen) and the rows, columns sized to their content."""
    workbook = new_workbook()
    sheet = add_sheet(workbook, sheet_title)
    append_row(sheet, header)
    for row in rows:
        append_row(sheet, row)
    for index, title in enumerate(header, start=1):
        width = max([len(str(title))] + [len(str(r[index - 1])) for r in rows[:200] if len(r) >= index]) + 4
        sheet.column_dimensions[get_column_letter(index)].width = min(width * 1.6, 60)
    sheet.freeze_panes = "A2"
    return save(workbook)


# ---- downloads ---------------------------------------------------------------------------------------------------

def download(body: bytes, *, extension: str, filename: str, ascii_filename: str | None = None) -> Response:
    """A CSV or XLSX file as an attachment. `filename` is what people see (Chinese welcome), `ascii_filename` the
    name for clients that do not read RFC 5987 (defaults to `filename` when that is ASCII)."""
    readable = " ".join(_FILENAME_UNSAFE.sub("-", filename).split()) or f"export.{extension}"
    fallback = ascii_filename or (readable if readable.isascii() else f"export.{extension}")
    fallback = fallback.replace('"', "").replace("\\", "")
    response = Response(body, content_type=CONTENT_TYPES[extension])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(readable, safe='')}")
    response.headers["Cache-Control"] = DOWNLOAD_CACHE_CONTROL
    return response


def csv_download(header: Iterable, rows: Iterable[Iterable], *, filename: str,
                 ascii_filename: str | None = None) -> Response:
    """Every CSV download: `to_csv` (BOM, formulas as text) answered by `download`."""
    return download(to_csv(header, rows), extension="csv", filename=filename, ascii_filename=ascii_filename)


def xlsx_download(body: bytes, *, filename: str, ascii_filename: str | None = None) -> Response:
    return download(body, extension="xlsx", filename=filename, ascii_filename=ascii_filename)
