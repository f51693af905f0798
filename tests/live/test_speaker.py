"""The answered questions go to the speaker: the organizers choose the speaker by mobile number (an account is made
for a new number) and "发送给讲者" sends the questions marked answered (text, votes, when asked; the author's name,
never for an anonymous one) to the speaker's inbox through notifications (and their channels); the errors say why in
Chinese; attendees cannot do either."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from live.services import questions
from tests.conftest import sign_in


def asked(event, author, text, *, anonymous=False, voters=(), answered=True) -> int:
    question = questions.ask(event.id, author, text=text, anonymous=anonymous, now=utcnow())
    db.session.flush()
    for voter in voters:
        questions.vote(question.id, voter, now=utcnow())
    db.session.commit()
    return question.id


def test_the_answered_questions_reach_the_speakers_inbox_with_anonymous_ones_anonymous(
        app, room_event, attendee, event_organizer, api):
    organizer = api(event_organizer(room_event))
    base = f"/api/v1/events/{room_event.id}/live-room/speaker"
    named_author, secret_author = attendee(room_event, name="林晓舟"), attendee(room_event, name="不愿具名的人")
    voters = [attendee(room_event, name=f"观众{i}") for i in range(3)]
    named = asked(room_event, named_author, "开源模型的许可怎么选？", voters=voters[:2])
    secret = asked(room_event, secret_author, "贵公司裁员了吗？", anonymous=True, voters=voters[:1])
    asked(room_event, voters[2], "还没回答的问题")

    refused = organizer.post(f"{base}/send")
    assert refused.status_code == 409 and refused.get_json()["error"] == {
        "code": "no_speaker", "message": "请先选定讲者（填写讲者的手机号）。"}
    wrong = organizer.put(base, json={"phone": "12345"})
    assert wrong.status_code == 400 and wrong.get_json()["error"] == {"code": "invalid_phone",
                                                                      "message": "手机号码无效。"}
    chosen = organizer.put(base, json={"phone": "13912345678", "name": "张教授"})
    assert chosen.status_code == 200 and chosen.get_json()["speaker"]["name"] == "张教授"
    assert "5678" in chosen.get_json()["speaker"]["phone"] and "1391234" not in chosen.get_json()["speaker"]["phone"]
    speaker = db.session.scalars(sa.select(User).where(User.phone == "+8613912345678")).one()  # a new account

    nothing = organizer.post(f"{base}/send")
    assert nothing.status_code == 409 and nothing.get_json()["error"]["message"] == "还没有标记为已回答的问题。"
    for qid in (named, secret):
        assert organizer.patch(f"/api/v1/questions/{qid}", json={"status": "answered"}).status_code == 200
    sent = organizer.post(f"{base}/send")
    assert sent.status_code == 200 and sent.get_json()["sent"] == 2

    inbox = api(speaker).get("/api/v1/notifications").get_json()["items"]
    [message] = inbox
    assert message["title"] == f"已回答的问题：{room_event.title}"
    body = message["body"]
    assert "1. 开源模型的许可怎么选？（2 票" in body and "由 林晓舟 提问）" in body  # most upvoted first
    assert "2. 贵公司裁员了吗？（1 票" in body and "由 匿名 提问）" in body
    assert "不愿具名的人" not in body and "还没回答的问题" not in body
    again = organizer.post(f"{base}/send")  # the same list again: the same message, not a second one
    assert again.status_code == 200 and len(api(speaker).get("/api/v1/notifications").get_json()["items"]) == 1


def test_only_organizers_choose_the_speaker_and_send(app, room_event, attendee, api):
    person = api(attendee(room_event))
    base = f"/api/v1/events/{room_event.id}/live-room/speaker"
    assert person.put(base, json={"phone": "13912345678"}).status_code == 403
    assert person.post(f"{base}/send").status_code == 403


def test_the_moderators_page_offers_sending_to_the_speaker(app, client, room_event, event_organizer, api):
    organizer = event_organizer(room_event)
    api(organizer).put(f"/api/v1/events/{room_event.id}/live-room/speaker",
                       json={"phone": "13912345678", "name": "张教授"})
    sign_in(client, organizer)
    page = client.get(f"/events/{room_event.id}/live/moderate", headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "发送给讲者" in html and "张教授" in html and "匿名提问仍保持匿名" in html
