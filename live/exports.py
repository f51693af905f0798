"""What the live room exports: the people's choice as a sheet of the round's export, beside the judges' ranking
(judging.signals.results_exporting); the questions (with votes and status) and the polls' results of an event, as
XLSX (two sheets) or CSV (one file each), for its organizers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from app import spreadsheets
from judging import signals as judging_signals
from live.services import peoples_choice, polls, questions


def add_peoples_choice_sheet(round_, *, workbook, **_extra) -> None:
    """A sheet "People's choice" (rank, team, votes), for a round whose audience vote was ever opened."""
    state = peoples_choice.state_of(round_.id)
    if state is None:
        return
    rows = peoples_choice.tally(round_.id)
    sheet = spreadsheets.add_sheet(workbook, _("People's choice"))
    spreadsheets.append_row(sheet, [_("Rank"), _("Team"), _("Votes")])
    for row in rows:
        spreadsheets.append_row(sheet, [row["rank"], row["team_name"], row["votes"]])
    sheet.append([])
    spreadsheets.append_row(sheet, [_("Votes cast"), sum(r["votes"] for r in rows)])
    spreadsheets.append_row(sheet, [_("Only people admitted at the door vote, one vote each."),
                                    _("Voting now") if state.status == "open" else _("Voting closed")])


def init_app() -> None:
    judging_signals.results_exporting.connect(add_peoples_choice_sheet)


def questions_rows(event_id: int, organizer) -> tuple[list, list[list]]:
    """The event's questions for its organizers, in the room's order: text, author (per the event's policy on
    anonymous questions), votes, status, pinned, asked at (Asia/Shanghai)."""
    views, _moderator = questions.questions_for(event_id, organizer)
    header = [_("Question"), _("Asked by"), _("Votes"), _("Status"), _("Pinned to the top"), _("Asked at")]
    labels = {"visible": _("Open"), "pending": _("Awaiting approval"), "hidden": _("Hidden"),
              "answered": _("Answered")}
    rows = [[v.question.text, v.author_name or _("Anonymous"), v.votes, labels[v.question.status],
             _("Yes") if v.question.pinned else "", _local(v.question.created_at)] for v in views]
    return header, rows


def polls_rows(event_id: int, organizer) -> tuple[list, list[list]]:
    """Every option of every poll of the event with its count: poll, option, people, share, status."""
    views, _moderator = polls.polls_for(event_id, organizer)
    header = [_("Poll"), _("Option"), _("People"), _("Share"), _("Status")]
    labels = {"draft": _("Not opened yet"), "open": _("Voting now"), "closed": _("Voting closed")}
    rows = []
    for view in reversed(views):
        total = view.ballots or 0
        for option in view.options:
            count = (view.counts or {}).get(option.id, 0)
            rows.append([view.poll.question, option.label, count, f"{round(100 * count / total)}%" if total else "",
                         labels[view.poll.status]])
    return header, rows


def live_room_workbook(event_id: int, organizer) -> bytes:
    workbook = spreadsheets.new_workbook()
    for title, (header, rows) in ((_("Questions from the room"), questions_rows(event_id, organizer)),
                                  (_("Polls"), polls_rows(event_id, organizer))):
        sheet = spreadsheets.add_sheet(workbook, title)
        spreadsheets.append_row(sheet, header)
        for row in rows:
            spreadsheets.append_row(sheet, row)
    return spreadsheets.save(workbook)


def _local(moment) -> str:
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
