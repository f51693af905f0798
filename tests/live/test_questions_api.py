"""Q&A over the JSON API: asking (named, anonymous, pre-moderated, paced), upvoting once, moderating; who may take
part; every bad input a clear error in Chinese with nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from live.models import Question, QuestionVote


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_an_attendee_asks_and_another_upvotes_once_and_takes_it_back(app, room_event, attendee, api):
    asker, voter = api(attendee(room_event, name="提问者")), api(attendee(room_event, name="投票者"))
    asked = asker.post(f"/api/v1/events/{room_event.id}/questions", json={"text": "  模型如何私有化部署？ "})
    assert asked.status_code == 201 and asked.get_json()["status"] == "visible"
    qid = asked.get_json()["id"]

    for _ in range(3):  # repeating changes nothing
        assert voter.post(f"/api/v1/questions/{qid}/vote").get_json() == {"votes": 1}
    listed = voter.get(f"/api/v1/events/{room_event.id}/questions").get_json()
    assert listed["moderator"] is False
    [question] = listed["questions"]
    assert question["text"] == "模型如何私有化部署？" and question["author"] == "提问者"
    assert question["votes"] == 1 and question["voted"] is True
    assert asker.get(f"/api/v1/events/{room_event.id}/questions").get_json()["questions"][0]["voted"] is False

    for _ in range(2):
        assert voter.delete(f"/api/v1/questions/{qid}/vote").get_json() == {"votes": 0}
    assert count(QuestionVote) == 0


def test_anonymous_is_anonymous_to_the_room_and_to_organizers_unless_the_policy_says_so(
        app, room_event, attendee, event_organizer, api):
    asker, other = api(attendee(room_event, name="匿名者")), api(attendee(room_event, name="旁观者"))
    organizer = api(event_organizer(room_event))
    qid = asker.post(f"/api/v1/events/{room_event.id}/questions",
                     json={"text": "薪资结构怎么定？", "anonymous": True}).get_json()["id"]

    def author_seen_by(caller):
        body = caller.get(f"/api/v1/events/{room_event.id}/questions").get_json()
        return next(q for q in body["questions"] if q["id"] == qid)["author"]

    assert author_seen_by(other) is None and author_seen_by(asker) is None and author_seen_by(organizer) is None
    changed = organizer.patch(f"/api/v1/events/{room_event.id}/live-room", json={"organizers_see_anonymous": True})
    assert changed.status_code == 200 and changed.get_json()["organizers_see_anonymous"] is True
    assert author_seen_by(organizer) == "匿名者" and author_seen_by(other) is None
    assert other.get(f"/api/v1/events/{room_event.id}/live-room").get_json()["organizers_see_anonymous"] is True


def test_moderation_hide_show_pin_answered(app, room_event, attendee, event_organizer, api):
    asker, organizer = api(attendee(room_event)), api(event_organizer(room_event))
    first, second = (caller.post(f"/api/v1/events/{room_event.id}/questions", json={"text": text}).get_json()["id"]
                     for caller, text in ((asker, "第一个问题"), (api(attendee(room_event, name="乙")), "第二个问题")))

    hidden = organizer.patch(f"/api/v1/questions/{first}", json={"status": "hidden"})
    assert hidden.status_code == 200 and hidden.get_json()["status"] == "hidden"
    seen = [q["id"] for q in asker.get(f"/api/v1/events/{room_event.id}/questions").get_json()["questions"]]
    assert first not in seen
    assert asker.post(f"/api/v1/questions/{first}/vote").status_code == 404  # the room does not see it
    assert {q["id"] for q in organizer.get(f"/api/v1/events/{room_event.id}/questions").get_json()["questions"]} \
        == {first, second}

    refused = organizer.patch(f"/api/v1/questions/{first}", json={"pinned": True})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "cannot_pin"
    assert organizer.patch(f"/api/v1/questions/{first}", json={"status": "visible"}).status_code == 200
    assert organizer.patch(f"/api/v1/questions/{first}", json={"pinned": True}).get_json()["pinned"] is True
    assert organizer.patch(f"/api/v1/questions/{second}", json={"pinned": True}).get_json()["pinned"] is True
    listed = asker.get(f"/api/v1/events/{room_event.id}/questions").get_json()["questions"]
    assert [(q["id"], q["pinned"]) for q in listed] == [(second, True), (first, False)]  # one pinned per event

    answered = organizer.patch(f"/api/v1/questions/{second}", json={"status": "answered", "pinned": False})
    assert answered.get_json()["status"] == "answered"
    refused = asker.post(f"/api/v1/questions/{second}/vote")
    assert refused.status_code == 409 and refused.get_json()["error"]["message"] == "只能为尚未回答的问题点赞。"

    forbidden = asker.patch(f"/api/v1/questions/{first}", json={"status": "hidden"})
    assert forbidden.status_code == 403
    bad = organizer.patch(f"/api/v1/questions/{first}", json={"status": "deleted"})
    assert bad.status_code == 422


def test_premoderation_holds_questions_until_approved(app, room_event, attendee, event_organizer, api):
    asker, other = api(attendee(room_event)), api(attendee(room_event, name="其他观众"))
    organizer = api(event_organizer(room_event))
    organizer.patch(f"/api/v1/events/{room_event.id}/live-room", json={"premoderation": True})
    asked = asker.post(f"/api/v1/events/{room_event.id}/questions", json={"text": "能否分享幻灯片？"}).get_json()
    assert asked["status"] == "pending"
    assert other.get(f"/api/v1/events/{room_event.id}/questions").get_json()["questions"] == []
    mine = asker.get(f"/api/v1/events/{room_event.id}/questions").get_json()["questions"]
    assert [(q["id"], q["status"]) for q in mine] == [(asked["id"], "pending")]  # the author sees it waiting
    assert other.post(f"/api/v1/questions/{asked['id']}/vote").status_code == 404

    organizer.patch(f"/api/v1/questions/{asked['id']}", json={"status": "visible"})
    assert [q["id"] for q in other.get(f"/api/v1/events/{room_event.id}/questions").get_json()["questions"]] \
        == [asked["id"]]


def test_only_attendees_and_organizers_take_part(app, room_event, attendee, create_resident, api, client):
    outsider = api(create_resident(name="路人"))
    refused = outsider.post(f"/api/v1/events/{room_event.id}/questions", json={"text": "我能问吗？"})
    assert refused.status_code == 403 and refused.get_json()["error"] == {
        "code": "not_attendee", "message": "只有本活动已确认报名的参加者才能参与现场互动。"}
    assert outsider.get(f"/api/v1/events/{room_event.id}/questions").status_code == 403
    assert client.get(f"/api/v1/events/{room_event.id}/questions").status_code == 401
    assert outsider.get("/api/v1/events/999999/questions").status_code == 404
    assert count(Question) == 0


def test_bad_questions_get_clear_errors_and_store_nothing(app, room_event, attendee, api):
    asker = api(attendee(room_event))
    url = f"/api/v1/events/{room_event.id}/questions"
    empty = asker.post(url, json={"text": "   "})
    assert empty.status_code == 422 and empty.get_json()["error"] == {"code": "question_empty",
                                                                      "message": "请写下你的问题。"}
    long = asker.post(url, json={"text": "问" * 500})
    assert long.status_code == 422 and long.get_json()["error"]["code"] == "question_too_long"
    assert long.get_json()["error"]["message"] == "问题最多 300 个字（你写了 500 个字）。"
    for body in ({}, {"text": 5}, {"text": "a\u0000b"}, {"text": "问", "anonymous": "也许"}, []):
        response = asker.post(url, json=body)
        assert response.status_code in (400, 422), (body, response.status_code)
    assert asker.post("/api/v1/questions/12345/vote").status_code == 404
    assert count(Question) == 0

    assert asker.post(url, json={"text": "第一个"}).status_code == 201
    too_fast = asker.post(url, json={"text": "第二个"})
    assert too_fast.status_code == 429
    error = too_fast.get_json()["error"]
    assert error["code"] == "too_fast" and error["message"].startswith("每 30 秒只能提一个问题")
    assert 1 <= error["details"]["retry_after"] <= 30
    assert count(Question) == 1


def test_one_question_per_person_every_thirty_seconds(app, room_event, attendee):
    from app.errors import DomainError
    from live.services import questions

    person = attendee(room_event)
    at = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
    questions.ask(room_event.id, person, text="一", anonymous=False, now=at)
    for later, allowed in ((29, False), (30, True), (45, False), (61, True)):
        try:
            questions.ask(room_event.id, person, text=f"在 {later} 秒", anonymous=False,
                          now=at + timedelta(seconds=later))
            outcome = True
        except DomainError as error:
            assert error.code == "too_fast"
            outcome = False
        assert outcome is allowed, later
    db.session.commit()
    assert count(Question) == 3


def test_merging_a_duplicate_moves_its_votes_once_per_person(app, room_event, attendee, event_organizer, api):
    organizer = api(event_organizer(room_event))
    first_user, dup_user, both_user = (attendee(room_event, name=n) for n in ("原提问者", "重复提问者", "两边都赞的人"))
    url = f"/api/v1/events/{room_event.id}/questions"
    original = api(first_user).post(url, json={"text": "模型怎么部署？"}).get_json()["id"]
    duplicate = api(dup_user).post(url, json={"text": "模型如何部署到本地？"}).get_json()["id"]
    both = api(both_user)
    both.post(f"/api/v1/questions/{original}/vote")
    both.post(f"/api/v1/questions/{duplicate}/vote")
    api(first_user).post(f"/api/v1/questions/{duplicate}/vote")

    merged = organizer.patch(f"/api/v1/questions/{duplicate}", json={"merged_into": original})
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["id"] == original
    assert merged.get_json()["votes"] == 3  # both_user once, first_user, and the duplicate's author
    seen = [q["id"] for q in both.get(url).get_json()["questions"]]
    assert seen == [original]
    refused = organizer.patch(f"/api/v1/questions/{original}", json={"merged_into": duplicate})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "cannot_merge"
    assert organizer.patch(f"/api/v1/questions/{original}", json={"merged_into": original}).status_code == 409
    assert api(first_user).patch(f"/api/v1/questions/{original}", json={}).status_code == 403
    assert count(QuestionVote) == 3
