"""The room moves live over Socket.IO: phones joined to event:<id>:live hear each question asked, upvoted or
moderated (after COMMIT, anonymous ones without an author, hidden ones as removed); moderators hear everything;
people who are not attendees cannot join."""

from __future__ import annotations

import contextvars
import time

import pytest

from app.extensions import db, socketio
from tests.conftest import eventually, sign_in, socket_rooms


def connect(app, user):
    http = app.test_client()
    sign_in(http, user)
    return contextvars.Context().run(socketio.test_client, app, flask_test_client=http)


def join(sio, event_id, what="join_live"):
    return contextvars.Context().run(sio.emit, what, {"event_id": event_id}, callback=True)


def heard(sio) -> list[dict]:
    return [e["args"][0] for e in sio.get_received() if e["name"] == "question"]


def test_phones_and_moderators_hear_questions_move(app, room_event, attendee, event_organizer, api, create_resident):
    asker_user, phone_user = attendee(room_event, name="提问者"), attendee(room_event, name="另一部手机")
    organizer_user = event_organizer(room_event)
    phone, moderator = connect(app, phone_user), connect(app, organizer_user)
    assert join(phone, room_event.id) == {"ok": True, "room": f"event:{room_event.id}:live"}
    assert join(moderator, room_event.id, "join_live_moderators")["ok"]
    phone.get_received(), moderator.get_received()

    asker, organizer = api(asker_user), api(organizer_user)
    qid = asker.post(f"/api/v1/events/{room_event.id}/questions",
                     json={"text": "开源模型的许可怎么选？", "anonymous": True}).get_json()["id"]
    [asked] = heard(phone)
    assert asked["id"] == qid and asked["text"] == "开源模型的许可怎么选？" and asked["author"] is None
    assert asked["votes"] == 0 and asked["status"] == "visible" and "voted" not in asked
    assert heard(moderator)[0]["id"] == qid

    api(phone_user).post(f"/api/v1/questions/{qid}/vote")
    api(phone_user).post(f"/api/v1/questions/{qid}/vote")  # a repeat changes nothing: nothing is announced
    assert [q["votes"] for q in heard(phone)] == [1]

    organizer.patch(f"/api/v1/questions/{qid}", json={"status": "hidden"})
    assert heard(phone) == [{"id": qid, "event_id": room_event.id, "removed": True}]
    assert [q["status"] for q in heard(moderator)][-1] == "hidden"


def test_a_rolled_back_question_is_never_announced(app, room_event, attendee):
    from app.db_types import utcnow
    from live.services import questions

    person = attendee(room_event)
    phone = connect(app, attendee(room_event, name="听众"))
    join(phone, room_event.id)
    phone.get_received()
    questions.ask(room_event.id, person, text="撤回的问题", anonymous=False, now=utcnow())
    db.session.rollback()
    questions.ask(room_event.id, person, text="真正的问题", anonymous=False, now=utcnow())
    db.session.commit()
    assert [q["text"] for q in heard(phone)] == ["真正的问题"]


def test_outsiders_cannot_join_and_attendees_cannot_join_the_moderators(app, room_event, attendee, create_resident):
    outsider = connect(app, create_resident(name="路人"))
    ack = join(outsider, room_event.id)
    assert ack["ok"] is False and ack["code"] == "not_attendee"
    assert join(outsider, "abc")["code"] == "event_not_found"
    phone = connect(app, attendee(room_event))
    assert join(phone, room_event.id, "join_live_moderators")["code"] == "forbidden"
    assert f"event:{room_event.id}:live" not in socket_rooms(outsider)


def test_a_cancelled_seat_leaves_the_room(app, room_event, attendee):
    import sqlalchemy as sa

    from app.accounts.signals import access_changed
    from events.models import Registration

    person = attendee(room_event)
    phone = connect(app, person)
    assert join(phone, room_event.id)["ok"]
    db.session.execute(sa.update(Registration).where(Registration.user_id == person.id).values(status="cancelled"))
    access_changed.send(None, user_id=person.id)
    db.session.commit()
    assert eventually(lambda: f"event:{room_event.id}:live" not in socket_rooms(phone))


def polls_heard(sio) -> list[dict]:
    return [e["args"][0] for e in sio.get_received() if e["name"] == "poll"]


def test_phones_hear_a_poll_open_and_its_results_only_when_shown(app, room_event, attendee, event_organizer, api):
    phone_user, organizer_user = attendee(room_event), event_organizer(room_event)
    phone, moderator = connect(app, phone_user), connect(app, organizer_user)
    join(phone, room_event.id), join(moderator, room_event.id, "join_live_moderators")
    phone.get_received(), moderator.get_received()
    organizer = api(organizer_user)

    poll = organizer.post(f"/api/v1/events/{room_event.id}/polls",
                          json={"question": "下期沙龙的主题？", "options": ["RAG", "Agent"]}).get_json()
    assert polls_heard(phone) == [] and polls_heard(moderator)[0]["status"] == "draft"  # drafts stay backstage
    organizer.post(f"/api/v1/polls/{poll['id']}/open")
    [opened] = polls_heard(phone)
    assert opened["status"] == "open" and [o["label"] for o in opened["options"]] == ["RAG", "Agent"]
    assert {o["count"] for o in opened["options"]} == {None}

    api(phone_user).post(f"/api/v1/polls/{poll['id']}/answers", json={"option_ids": [poll["options"][1]["id"]]})
    [answered] = polls_heard(phone)
    assert answered["answers"] is None and "my_option_ids" not in answered
    assert [o["count"] for o in polls_heard(moderator)[-1]["options"]] == [0, 1]

    organizer.post(f"/api/v1/polls/{poll['id']}/results", json={"shown": True})
    [shown] = polls_heard(phone)
    assert shown["results_shown"] is True and [o["count"] for o in shown["options"]] == [0, 1]
    assert shown["answers"] == 1


@pytest.fixture
def throttled(app_config):
    app_config.LIVE_ANNOUNCE_INTERVAL = app_config.LIVE_PHONES_ANNOUNCE_INTERVAL = 0.3
    return app_config


def test_a_burst_of_votes_is_announced_at_once_then_once_more_with_the_last_count(throttled, app, room_event,
                                                                                  attendee):
    from app.db_types import utcnow
    from live.services import questions

    question = questions.ask(room_event.id, attendee(room_event, name="提问者"), text="热门问题", anonymous=False,
                             now=utcnow())
    db.session.commit()
    phone = connect(app, attendee(room_event, name="看屏幕的人"))
    join(phone, room_event.id)
    phone.get_received()
    voters = [attendee(room_event, name=f"观众{i}") for i in range(5)]
    time.sleep(0.35)  # the question's own announcement is out of the interval
    for voter in voters:
        questions.vote(question.id, voter, now=utcnow())
        db.session.commit()
    seen: list[dict] = []
    assert eventually(lambda: seen.extend(heard(phone)) or any(q["votes"] == 5 for q in seen), timeout=3)
    counts = [q["votes"] for q in seen]
    assert counts[0] == 1 and counts[-1] == 5 and len(counts) <= 3, counts  # at once, then the trailing one


@pytest.fixture
def slow_phones(app_config, monkeypatch):
    from live import realtime

    monkeypatch.setattr(realtime, "_last_announced", {})  # no other test's announcements in this one's intervals
    app_config.LIVE_ANNOUNCE_INTERVAL, app_config.LIVE_PHONES_ANNOUNCE_INTERVAL = 0.0, 0.5
    return app_config


def test_the_big_screen_hears_every_change_while_the_phones_hear_the_burst_throttled(slow_phones, app, room_event,
                                                                                     attendee, create_resident):
    from app.db_types import utcnow
    from live.services import questions

    question = questions.ask(room_event.id, attendee(room_event, name="提问者"), text="热门问题", anonymous=False,
                             now=utcnow())
    db.session.commit()
    screen, phone = connect(app, attendee(room_event, name="大屏幕")), connect(app, attendee(room_event, name="手机"))
    joined = contextvars.Context().run(screen.emit, "join_live", {"event_id": room_event.id, "screen": True},
                                       callback=True)
    assert joined == {"ok": True, "room": f"event:{room_event.id}:live:screen"}
    assert f"event:{room_event.id}:live" not in socket_rooms(screen)  # not twice: the screen hears it once
    join(phone, room_event.id)
    outsider = connect(app, create_resident(name="路人"))
    refused = contextvars.Context().run(outsider.emit, "join_live", {"event_id": room_event.id, "screen": True},
                                        callback=True)
    assert refused["ok"] is False and refused["code"] == "not_attendee"
    time.sleep(0.55)  # the question's own announcement to the phones is out of the interval
    screen.get_received(), phone.get_received()
    for voter in [attendee(room_event, name=f"观众{i}") for i in range(4)]:
        questions.vote(question.id, voter, now=utcnow())
        db.session.commit()
    assert [q["votes"] for q in heard(screen)] == [1, 2, 3, 4]  # at once, each
    seen: list[dict] = []
    assert eventually(lambda: seen.extend(heard(phone)) or any(q["votes"] == 4 for q in seen), timeout=3)
    counts = [q["votes"] for q in seen]
    assert counts[-1] == 4 and len(counts) <= 2, counts  # at once, then the trailing one with the last count


def test_with_several_instances_one_of_them_announces_per_interval(app, monkeypatch):
    """REDIS_URL: the announcement slot is the cluster's (SET NX PX), so two instances do not both send a tally to
    every phone in the same interval; the one that finds the slot taken hears how long it still lasts."""
    import secrets

    from live.realtime import _claim
    from tests import services

    problem = services.redis_available()
    if problem:
        services.service_missing("Redis", problem)
    monkeypatch.setitem(app.config, "REDIS_URL", services.REDIS_URL)
    monkeypatch.setitem(app.config, "SOCKETIO_CHANNEL", f"test-live-{secrets.token_hex(4)}")
    key = ("poll", 1, "phones")
    assert _claim(app, key, 0.5) == 0  # this instance announces now
    assert 0 < _claim(app, key, 0.5) <= 0.5  # another (or this one) waits for the slot to end
    assert _claim(app, ("poll", 1, "screens"), 0.5) == 0  # each audience has its own cadence
    time.sleep(0.55)
    assert _claim(app, key, 0.5) == 0
