"""Polls over the JSON API: prepared as drafts, opened and closed live, answered once per person (changed while
open), results to the room only when the organizers show them; bad input a clear error in Chinese, nothing counted."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from live.models import PollBallot, PollChoice


def a_poll(organizer, event, *, multiple=False, options=("大模型应用", "具身智能", "AI基础设施")):
    response = organizer.post(f"/api/v1/events/{event.id}/polls",
                              json={"question": "你最关心哪个方向？", "options": list(options), "multiple": multiple})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_poll_from_draft_to_results(app, room_event, attendee, event_organizer, api):
    organizer, phone, other = api(event_organizer(room_event)), api(attendee(room_event)), \
        api(attendee(room_event, name="乙"))
    poll = a_poll(organizer, room_event)
    assert poll["status"] == "draft" and [o["count"] for o in poll["options"]] == [0, 0, 0]
    pid, (a, b, c) = poll["id"], [o["id"] for o in poll["options"]]
    assert phone.get(f"/api/v1/events/{room_event.id}/polls").get_json()["polls"] == []  # drafts are unseen
    assert phone.get(f"/api/v1/polls/{pid}").status_code == 404
    early = phone.post(f"/api/v1/polls/{pid}/answers", json={"option_ids": [a]})
    assert early.status_code == 404

    assert organizer.post(f"/api/v1/polls/{pid}/open").get_json()["status"] == "open"
    assert phone.post(f"/api/v1/polls/{pid}/answers", json={"option_ids": [a]}).get_json() == {"option_ids": [a]}
    assert phone.post(f"/api/v1/polls/{pid}/answers", json={"option_ids": [b]}).status_code == 200  # changed
    assert other.post(f"/api/v1/polls/{pid}/answers", json={"option_ids": [b]}).status_code == 200
    seen = phone.get(f"/api/v1/polls/{pid}").get_json()
    assert seen["my_option_ids"] == [b] and seen["answers"] is None and {o["count"] for o in seen["options"]} == {None}
    assert [o["count"] for o in organizer.get(f"/api/v1/polls/{pid}").get_json()["options"]] == [0, 2, 0]

    closed = organizer.post(f"/api/v1/polls/{pid}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    late = phone.post(f"/api/v1/polls/{pid}/answers", json={"option_ids": [c]})
    assert late.status_code == 409 and late.get_json()["error"] == {"code": "poll_closed",
                                                                    "message": "这个投票现在不接受作答。"}
    shown = organizer.post(f"/api/v1/polls/{pid}/results", json={"shown": True}).get_json()
    assert shown["results_shown"] is True
    seen = other.get(f"/api/v1/polls/{pid}").get_json()
    assert [o["count"] for o in seen["options"]] == [0, 2, 0] and seen["answers"] == 2
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollBallot)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollChoice)) == 2


def test_multiple_choice_and_bad_answers(app, room_event, attendee, event_organizer, api):
    organizer, phone = api(event_organizer(room_event)), api(attendee(room_event))
    single, multi = a_poll(organizer, room_event), a_poll(organizer, room_event, multiple=True)
    for poll in (single, multi):
        organizer.post(f"/api/v1/polls/{poll['id']}/open")
    ids = [o["id"] for o in multi["options"]]
    assert phone.post(f"/api/v1/polls/{multi['id']}/answers",
                      json={"option_ids": [ids[2], ids[0], ids[0]]}).get_json() == {"option_ids": [ids[0], ids[2]]}
    both = [o["id"] for o in single["options"]][:2]
    two = phone.post(f"/api/v1/polls/{single['id']}/answers", json={"option_ids": both})
    assert two.status_code == 422 and two.get_json()["error"] == {"code": "one_option_only",
                                                                  "message": "这个投票只能选一项。"}
    for bad in ([], [ids[0]], [999999]):  # none, another poll's option, an unknown option
        response = phone.post(f"/api/v1/polls/{single['id']}/answers", json={"option_ids": bad})
        assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_options"
    for body in ({}, {"option_ids": "1"}, {"option_ids": [0]}, {"option_ids": [2**40]}):
        assert phone.post(f"/api/v1/polls/{single['id']}/answers", json=body).status_code == 422
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PollBallot)) == 1


def test_only_organizers_prepare_and_run_polls_with_clear_errors(app, room_event, attendee, event_organizer, api,
                                                                 create_resident):
    organizer, phone = api(event_organizer(room_event)), api(attendee(room_event))
    url = f"/api/v1/events/{room_event.id}/polls"
    assert phone.post(url, json={"question": "我来问", "options": ["是", "否"]}).status_code == 403
    cases = [({"question": " ", "options": ["是", "否"]}, "poll_question_empty", "请写下投票的问题。"),
             ({"question": "好吗", "options": ["是"]}, "poll_options", "投票需要 2 到 10 个选项。"),
             ({"question": "好吗", "options": ["是", " 是 "]}, "poll_options_repeated", "有两个选项内容相同。"),
             ({"question": "好吗", "options": ["是", "否" * 121]}, "poll_option_too_long", "选项最多 120 个字。")]
    for body, code, message in cases:
        response = organizer.post(url, json=body)
        assert response.status_code == 422 and response.get_json()["error"] == {"code": code, "message": message}
    poll = a_poll(organizer, room_event)
    for action in ("open", "close"):
        assert phone.post(f"/api/v1/polls/{poll['id']}/{action}").status_code == 403
    refused = organizer.post(f"/api/v1/polls/{poll['id']}/close")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "poll_not_open"
    outsider = api(create_resident(name="路人"))
    organizer.post(f"/api/v1/polls/{poll['id']}/open")
    refused = outsider.post(f"/api/v1/polls/{poll['id']}/answers", json={"option_ids": [poll["options"][0]["id"]]})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_attendee"
