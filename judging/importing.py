"""A competition's setup from a spreadsheet prepared in Excel/WPS (XLSX) or a CSV: one table, one row per item, the
first column saying what the row is. It becomes the same setup object the JSON API takes, so one validation
(services.create_setup) decides, and a bad file saves nothing.

    section,round,key,label,weight,min,max,step,mode,phone,name,shadow,track,team,project
    competition,,,港科大百万元奖金创业大赛,,,,,,,,,,,
    track,,ai,AI+制造,,,,,,,,,,,
    round,初赛,preliminary,,,,,,online,,,,,,
    criterion,初赛,innovation,创新性,30,0,10,0.5,,,,,,,
    judge,初赛,,,,,,,,13800000001,李评委,no,,,
    team,,,,,,,,,13900000001,张三,,ai,智造队,智能质检

A `round` row's key is its kind (preliminary, semifinal, final). A `team` row's phone and name are its lead's; more
members are more `team` rows with the same team name and an empty project (a second row with a project is a
duplicate team, and refused). Headers may be in Chinese (类型, 轮次, 标识, 名称, 权重, 最低分,
最高分, 步长, 形式, 手机, 姓名, 见习, 赛道, 队名, 项目).
"""

from __future__ import annotations

import csv
import io

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from app.errors import DomainError

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
HEADERS = {
    "section": "section", "类型": "section", "round": "round", "轮次": "round", "key": "key", "标识": "key",
    "label": "label", "名称": "label", "label_en": "label_en", "英文名称": "label_en", "weight": "weight",
    "权重": "weight", "min": "min", "最低分": "min", "max": "max", "最高分": "max", "step": "step", "步长": "step",
    "mode": "mode", "形式": "mode", "phone": "phone", "手机": "phone", "name": "name", "姓名": "name",
    "shadow": "shadow", "见习": "shadow", "track": "track", "赛道": "track", "team": "team", "队名": "team",
    "project": "project", "项目": "project",
}
SECTIONS = {"competition": "competition", "大赛": "competition", "track": "track", "赛道": "track",
            "round": "round", "轮次": "round", "criterion": "criterion", "评分维度": "criterion", "judge": "judge",
            "评委": "judge", "team": "team", "队伍": "team"}
YES = {"yes", "y", "true", "1", "是", "√"}


def _bad(message, **details) -> DomainError:
    return DomainError("invalid_setup_file", message, status=422, **details)


def read_rows(filename: str, data: bytes) -> list[dict]:
    """The rows of an uploaded .xlsx or .csv (UTF-8, with or without BOM, or GB18030 as WPS saves it)."""
    if len(data) > MAX_BYTES:
        raise _bad(_l("The file is too large (at most 2 MB)."))
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(data)
    elif name.endswith(".csv"):
        table = _csv_rows(data)
    else:
        raise _bad(_l("Please upload an .xlsx or .csv file."))
    if not table:
        raise _bad(_l("The file is empty."))
    header = [HEADERS.get(str(h or "").strip().lower(), HEADERS.get(str(h or "").strip())) for h in table[0]]
    if "section" not in header:
        raise _bad(_l("The first row must name the columns (section, round, key, label, ...)."))
    rows = []
    for number, values in enumerate(table[1:MAX_ROWS + 1], start=2):
        row = {h: ("" if v is None else v) for h, v in zip(header, values, strict=False) if h}
        if not any(str(v).strip() for v in row.values()):
            continue
        row["_line"] = number
        rows.append(row)
    return rows


def _xlsx_rows(data: bytes) -> list[list]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a broken or disguised file: say so, whatever the library's complaint
        raise _bad(_l("This file could not be read as an Excel workbook.")) from None
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _csv_rows(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _bad(_l("The file's text encoding is not UTF-8 or GB18030."))
    return list(csv.reader(io.StringIO(text)))


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _num(value, line: int, column: str, problems: dict):
    text = _text(value)
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        problems[f"line {line}.{column}"] = str(_l("A number, please."))
        return None
    return int(number) if number.is_integer() else number


def rows_to_setup(rows: list[dict]) -> dict:
    """The setup object (see services.create_setup) described by the rows. Problems of the file's shape (unknown
    section, a criterion of an unknown round) raise invalid_setup_file with the line; the rest is validated by the
    setup service."""
    setup: dict = {"name": "", "tracks": [], "rounds": [], "teams": []}
    rounds: dict[str, dict] = {}
    teams: dict[str, dict] = {}
    problems: dict[str, str] = {}
    for row in rows:
        line = row["_line"]
        section = SECTIONS.get(_text(row.get("section", "")).lower(), SECTIONS.get(_text(row.get("section", ""))))
        round_name = _text(row.get("round", ""))
        if section == "competition":
            setup["name"] = _text(row.get("label", "")) or _text(row.get("name", ""))
        elif section == "track":
            setup["tracks"].append({"key": _text(row.get("key", "")), "label": _text(row.get("label", "")),
                                    "label_en": _text(row.get("label_en", ""))})
        elif section == "round":
            if round_name in rounds:
                problems[f"line {line}.round"] = str(_l("This round is listed twice."))
                continue
            spec = {"name": round_name, "kind": _text(row.get("key", "")) or None,
                    "mode": _text(row.get("mode", "")) or None, "criteria": [], "judges": []}
            rounds[round_name] = {k: v for k, v in spec.items() if v is not None}
            setup["rounds"].append(rounds[round_name])
        elif section in ("criterion", "judge"):
            if round_name not in rounds:
                problems[f"line {line}.round"] = str(_l("List the round (a round row) before its criteria and "
                                                        "judges."))
                continue
            if section == "criterion":
                criterion = {"key": _text(row.get("key", "")), "label": _text(row.get("label", "")),
                             "label_en": _text(row.get("label_en", ""))}
                for column in ("weight", "min", "max", "step"):
                    value = _num(row.get(column, ""), line, column, problems)
                    if value is not None:
                        criterion[column] = value
                rounds[round_name]["criteria"].append(criterion)
            else:
                rounds[round_name]["judges"].append({
                    "phone": _text(row.get("phone", "")), "name": _text(row.get("name", "")),
                    "shadow": _text(row.get("shadow", "")).lower() in YES})
        elif section == "team":
            team_name = _text(row.get("team", ""))
            member = {"phone": _text(row.get("phone", "")), "name": _text(row.get("name", ""))}
            if team_name in teams:
                if _text(row.get("project", "")) or any(m["phone"] == member["phone"]
                                                        for m in teams[team_name]["members"]):
                    problems[f"line {line}.team"] = str(_l("This team is listed twice (more members of a team "
                                                           "leave the project empty)."))
                    continue
                teams[team_name]["members"].append(member)
                continue
            teams[team_name] = {"team_name": team_name, "track": _text(row.get("track", "")),
                                "project_name": _text(row.get("project", "")),
                                "members": [member] if member["phone"] else []}
            setup["teams"].append(teams[team_name])
        else:
            problems[f"line {line}.section"] = str(_l("Unknown row type: use competition, track, round, "
                                                      "criterion, judge or team."))
    if problems:
        raise _bad(_l("The file has problems; nothing was saved."), fields=problems)
    return setup
