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
