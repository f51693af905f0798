"""The live room's results in the round's export: the people's choice as a sheet of its own, beside the judges'
ranking (judging.signals.results_exporting)."""

from __future__ import annotations

from flask_babel import gettext as _

from app import spreadsheets
from judging import signals as judging_signals
from live.services import peoples_choice


def add_peoples_choice_sheet(round_, *, workbook, **_extra) -> None:
    """A sheet "People's choice" (rank, team, votes), for a round whose audience vote was ever opened."""
    state = peoples_choice.state_of(round_.id)
    if state is None:
        return
    rows = peoples_choice.tally(round_.id)
    names = peoples_choice.team_names(rows)
    sheet = spreadsheets.add_sheet(workbook, _("People's choice"))
    spreadsheets.append_row(sheet, [_("Rank"), _("Team"), _("Votes")])
    for row in rows:
        spreadsheets.append_row(sheet, [row["rank"], names.get(row["application_id"], ""), row["votes"]])
    sheet.append([])
    spreadsheets.append_row(sheet, [_("Votes cast"), sum(r["votes"] for r in rows)])
    spreadsheets.append_row(sheet, [_("Only people admitted at the door vote, one vote each."),
                                    _("Voting now") if state.status == "open" else _("Voting closed")])


def init_app() -> None:
    judging_signals.results_exporting.connect(add_peoples_choice_sheet)
