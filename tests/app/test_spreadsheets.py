"""Spreadsheets are data, never code: the one module every CSV and XLSX export goes through."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from app import spreadsheets

DANGEROUS = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+86 138", "-2+3", "@SUM(A1:A2)", "\tcmd", "\r=1"]


def test_csv_writes_formula_looking_text_with_a_leading_apostrophe_header_included():
    body = spreadsheets.to_csv(["=问题"] + ["列"] * (len(DANGEROUS) - 1), [DANGEROUS, ["林晓舟", 5, -3, None, "", "a"]])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "'=问题"
    assert rows[1] == ["'" + v for v in DANGEROUS]
    assert rows[2] == ["林晓舟", "5", "-3", "", "", "a"]  # numbers stay numbers, plain text untouched


def test_xlsx_keeps_formula_looking_text_as_exact_text_with_the_quote_prefix():
    body = spreadsheets.to_xlsx(["=标题", "b", "c", "d", "e", "f"], [DANGEROUS, ["林晓舟", 5, -3, None, "ok", "x"]],
                                sheet_title="报名")
    sheet = load_workbook(io.BytesIO(body)).active
    header, first, second = list(sheet.iter_rows())[:3]
    assert header[0].value == "=标题" and header[0].data_type == "s" and header[0].quotePrefix
    for cell, text in zip(first, DANGEROUS, strict=True):
        text = text.replace("\r", "\n")  # XML reads a bare carriage return back as a line feed
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), text
    assert [c.value for c in second] == ["林晓舟", 5, -3, None, "ok", "x"]
    assert second[1].data_type == "n" and not second[0].quotePrefix


def test_xlsx_drops_characters_xml_cannot_hold_instead_of_failing():
    sheet = load_workbook(io.BytesIO(spreadsheets.to_xlsx(["a"], [["林\x01晓\x1f舟"]], sheet_title="x"))).active
    assert sheet["A2"].value == "林晓舟"


@pytest.mark.parametrize(("name", "title"), [
    ("陈/评委", "陈-评委"), ("a\\b?c*d[e]f:g", "a-b-c-d-e-f-g"), ("'引号'", "引号"), ("", "Sheet"),
    ("History", "History-1"),
    ("评" * 40, "评" * 31),
])
def test_sheet_titles_are_cleaned_for_excel(name, title):
    assert spreadsheets.sheet_title(name) == title


def test_sheet_titles_are_unique_within_a_workbook_whatever_the_case_and_length():
    workbook = spreadsheets.new_workbook()
    names = ["陈/评委", "陈:评委", "Judge", "JUDGE", "长" * 40, "长" * 35]
    for name in names:
        spreadsheets.append_row(spreadsheets.add_sheet(workbook, name), [name])
    titles = load_workbook(io.BytesIO(spreadsheets.save(workbook))).sheetnames
    assert titles == ["陈-评委", "陈-评委 (2)", "Judge", "JUDGE (2)", "长" * 31, "长" * 27 + " (2)"]
    assert all(len(t) <= 31 for t in titles)
