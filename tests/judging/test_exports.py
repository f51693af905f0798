"""results.xlsx is data, never code: judges' names become valid, unique sheet titles, and what people typed (team
names, comments) stays exact text, never a formula."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from app.db_types import utcnow
from app.extensions import db
from judging import services
from tests.conftest import sign_in
from tests.judging.conftest import setup_payload


def test_results_workbook_has_clean_unique_sheet_titles_and_keeps_formulas_as_text(client, organizer, judge_users,
                                                                                   score):
    payload = setup_payload(teams=2, judges=3)
    judges = payload["rounds"][0]["judges"]
    judges[0]["name"], judges[1]["name"], judges[2]["name"] = "陈/评委", "陈:评委", "Judge[" + "长" * 40 + "]"
    payload["teams"][0]["team_name"] = "=HYPERLINK(\"http://evil.example\",\"队伍\")"
    competition, _ = services.create_setup(payload, organizer, now=utcnow())
    db.session.commit()
    prelim = competition.rounds[0]
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    teams = services.teams_of(prelim.id)
    names = {a.id: a.team_name for a in services.applications_by_id(t.application_id for t in teams).values()}
    first_team = next(t for t in teams if names[t.application_id].startswith("="))
    score(prelim, judge_users(prelim)[0], first_team, 7, comment="@SUM(1,2) 很好")
    sign_in(client, organizer)

    response = client.get(f"/judging/rounds/{prelim.id}/results.xlsx")

    assert response.status_code == 200
    workbook = load_workbook(BytesIO(response.data))
    titles = workbook.sheetnames
    assert len(titles) == 4 and len({t.lower() for t in titles}) == 4
    assert all(len(t) <= 31 and not set(t) & set("/\\?*[]:") for t in titles)
    assert titles[1].endswith("-陈-评委") and titles[2].endswith("-陈-评委")
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    team_cells = [c for c in cells if c.value == payload["teams"][0]["team_name"]]
    comment_cells = [c for c in cells if c.value == "@SUM(1,2) 很好"]
    assert team_cells and comment_cells
    assert all(c.data_type == "s" and c.quotePrefix for c in team_cells + comment_cells)
    assert not [c for c in cells if c.data_type == "f"]


def _scored_round(make_competition, organizer, judge_users, score):
    """Two teams (tracks "ai" and "health"), criteria with English names except one the organizer left Chinese."""
    competition, prelim, _, _ = make_competition(teams=2)
    competition.tracks = [{"key": "ai", "label": "AI+制造", "label_en": "AI + manufacturing"},
                          {"key": "health", "label": "AI+医疗"}]
    prelim.criteria[3].label_en = ""  # 可行性, entered in Chinese only: stays as entered
    db.session.commit()
    services.open_round(prelim.id, organizer, now=utcnow())
    db.session.commit()
    for team in services.teams_of(prelim.id):
        score(prelim, judge_users(prelim)[0], team, 7)
    return prelim


def _workbook(client, prelim, **kwargs):
    response = client.get(f"/judging/rounds/{prelim.id}/results.xlsx", **kwargs)
    assert response.status_code == 200
    return load_workbook(BytesIO(response.data))


def test_results_workbook_and_print_page_speak_english_to_an_english_reader(
        client, make_competition, organizer, judge_users, score):
    prelim = _scored_round(make_competition, organizer, judge_users, score)
    sign_in(client, organizer)
    english = {"headers": {"Accept-Language": "en"}}

    workbook = _workbook(client, prelim, **english)
    totals = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert workbook.worksheets[0].title == "Totals"
    assert totals[0] == ("Rank", "Team", "Track", "Score", "Judges counted", "Innovation", "Market", "Team",
                         "可行性")
    assert {row[2] for row in totals[1:3]} == {"AI + manufacturing", "AI+医疗"}  # a label, never the key
    sheet = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert sheet[0][:5] == ("Team", "Innovation (30%)", "Market (25%)", "Team (25%)", "可行性 (20%)")

    page = client.get(f"/judging/rounds/{prelim.id}/print", **english).get_data(as_text=True)
    assert "Innovation (30%)" in page and "可行性 (20%)" in page and "创新性" not in page


def test_results_workbook_and_print_page_in_chinese_show_track_names(
        client, make_competition, organizer, judge_users, score):
    prelim = _scored_round(make_competition, organizer, judge_users, score)
    sign_in(client, organizer)

    workbook = _workbook(client, prelim, headers={"Accept-Language": "zh-CN"})
    totals = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert workbook.worksheets[0].title == "总分"
    assert totals[0][:3] == ("名次", "团队", "赛道") and totals[0][5:] == ("创新性", "市场", "团队", "可行性")
    assert {row[2] for row in totals[1:3]} == {"AI+制造", "AI+医疗"}
    page = client.get(f"/judging/rounds/{prelim.id}/print", headers={"Accept-Language": "zh-CN"})
    assert "创新性 (30%)" in page.get_data(as_text=True)
