"""After the event: the questions (with votes and status, anonymous ones without their author unless the event's
policy says so) and the polls' results, as XLSX and CSV for the organizers; formulas stay text."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app.db_types import utcnow
from app.extensions import db
from live.services import polls, questions
from tests.conftest import sign_in


def test_organizers_export_questions_and_poll_results(app, client, room_event, attendee, event_organizer):
    organizer = event_organizer(room_event)
    named, anonymous, voter = attendee(room_event, name="实名者"), attendee(room_event, name="匿名者"), \
        attendee(room_event, name="投票者")
    first = questions.ask(room_event.id, named, text="=HYPERLINK(\"http://x\")", anonymous=False, now=utcnow())
    questions.ask(room_event.id, anonymous, text="有没有开源计划？", anonymous=True, now=utcnow())
    questions.vote(first.id, voter, now=utcnow())
    questions.moderate(first.id, organizer, status="answered", now=utcnow())
    poll = polls.create_poll(room_event.id, organizer, question="满意度？", options=["满意", "一般"], multiple=False,
                             now=utcnow())
    polls.open_poll(poll.id, organizer, now=utcnow())
    polls.answer(poll.id, voter, option_ids=[poll_option(poll, 0)], now=utcnow())
    db.session.commit()

    sign_in(client, voter)
    assert client.get(f"/events/{room_event.id}/live/export.xlsx").status_code == 403
    sign_in(client, organizer)
    response = client.get(f"/events/{room_event.id}/live/export.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["现场提问", "投票"]
    rows = [[c.value for c in row] for row in workbook["现场提问"].iter_rows()]
    assert rows[0] == ["问题", "提问者", "票数", "状态", "置顶", "提问时间"]
    assert rows[1][:4] == ["有没有开源计划？", "匿名", 0, "未回答"]
    assert rows[2][:4] == ["=HYPERLINK(\"http://x\")", "实名者", 1, "已回答"]
    assert workbook["现场提问"]["A3"].data_type == "s"  # a formula stays text
    assert [[c.value for c in row] for row in workbook["投票"].iter_rows()] == [
        ["投票", "选项", "人数", "占比", "状态"], ["满意度？", "满意", 1, "100%", "投票进行中"],
        ["满意度？", "一般", 0, "0%", "投票进行中"]]

    text = client.get(f"/events/{room_event.id}/live/questions.csv").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][0] == "问题" and lines[2][0] == "'=HYPERLINK(\"http://x\")"
    assert client.get(f"/events/{room_event.id}/live/polls.csv").status_code == 200


def poll_option(poll, index: int) -> int:
    import sqlalchemy as sa

    from live.models import PollOption

    return db.session.scalars(sa.select(PollOption.id).where(PollOption.poll_id == poll.id)
                              .order_by(PollOption.position)).all()[index]
