"""An announcement's deliveries are planned set-based (one plan per delivery profile, joined in SQL); each person
must get exactly what services.plan_deliveries, the rule, gives them one by one: every mix of channels, choices,
quiet hours (inside, outside, another time zone, off), WeChat, urgent or not."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from notifications import announcements, services, tasks
from notifications.models import Announcement, Delivery, Notification, NotificationSettings, PushSubscription

NIGHT = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai, 15:30 in Berlin


def resident(create_resident, index, *, email=False, phone=True, push=False, settings=None, prefs=None):
    person = create_resident()
    person.email = f"r{index}@example.com" if email is True else (email if email == "" else None)
    if not phone:
        person.phone = ""  # (every account has one; the rule still checks)
    if push:
        db.session.add(PushSubscription(user_id=person.id, endpoint=f"https://push.example.com/p{index}",
                                        p256dh="k", auth="a"))
    if settings is not None:
        db.session.add(NotificationSettings(user_id=person.id, **settings))
    db.session.commit()
    for channel, enabled in (prefs or {}).items():
        services.set_preference(person.id, "announcements", channel, enabled)
    db.session.commit()
    return person


@pytest.mark.parametrize("urgent", [False, True])
def test_set_based_planning_gives_each_person_what_plan_deliveries_gives(app, organizer, create_resident,
                                                                        monkeypatch, urgent):
    monkeypatch.setattr(tasks, "fan_out_announcement", lambda announcement_id: None)  # fanned out below, at NIGHT
    monkeypatch.setattr(tasks, "announce_range", lambda *args: None)  # nothing is sent here
    app.config["NOTIFICATIONS_FANOUT_CHUNK"] = 4  # several chunks
    quiet_now = {"quiet_hours_enabled": True, "quiet_start_minute": 22 * 60, "quiet_end_minute": 7 * 60}
    shapes = [
        {},
        {"email": True},
        {"push": True},
        {"push": True, "email": True, "phone": False},
        {"email": True, "settings": {"quiet_hours_enabled": False}},
        {"push": True, "settings": {"quiet_hours_enabled": False}},
        {"push": True, "email": True, "settings": quiet_now},
        {"push": True, "settings": {**quiet_now, "timezone": "Europe/Berlin"}},  # 15:30 there: not quiet
        {"push": True, "settings": {"quiet_hours_enabled": True, "quiet_start_minute": 14 * 60,
                                    "quiet_end_minute": 16 * 60, "timezone": "Europe/Berlin"}},
        {"push": True, "settings": {"quiet_hours_enabled": True, "quiet_start_minute": 600,
                                    "quiet_end_minute": 600}},  # start == end: never quiet
        {"settings": {"quiet_hours_enabled": True, "wechat_openid": "o-wechat"}},
        {"settings": {"quiet_hours_enabled": False, "wechat_openid": "o-wechat-2"}, "prefs": {"wechat": False}},
        {"settings": {"quiet_hours_enabled": True, "wechat_openid": ""}},
        {"push": True, "email": True, "prefs": {"webpush": False}},
        {"push": True, "email": True, "prefs": {"email": False, "webpush": True}},
        {"phone": True, "prefs": {"sms": True}},  # SMS only for urgent messages to someone without push
        {"push": True, "prefs": {"sms": True}},
        {"push": True, "email": True, "prefs": {"inbox": False}},  # no inbox row at all
        {"email": True, "prefs": {"inbox": True, "email": True, "sms": False, "wechat": True}},
        {"email": "", "push": True},  # an empty address is no address
    ]
    people = [resident(create_resident, i, **shape) for i, shape in enumerate(shapes)]
    announcement = announcements.create_announcement(organizer, segment={"kind": "all"}, title="小镇公告",
                                                     urgent=urgent, now=NIGHT)
    db.session.commit()
    announcement_id = announcement.id
    while not announcements.fan_out_chunk(announcement_id, now=NIGHT)[0]:
        pass

    db.session.expire_all()
    assert db.session.get(Announcement, announcement_id).status == "sent"
    from app.accounts.models import User

    written = {n.user_id: n for n in db.session.scalars(sa.select(Notification).where(
        Notification.announcement_id == announcement_id))}
    assert people[17].id not in written  # switched announcements off in the inbox
    assert set(written) == {organizer.id} | {p.id for p in people} - {people[17].id}
    held = planned_now = 0
    for user_id, notification in written.items():
        expected = services.plan_deliveries(db.session.get(User, user_id), notification,
                                            prefs=services.preferences_of(user_id),
                                            settings=services.settings_of(user_id), now=NIGHT)
        got = db.session.execute(sa.select(Delivery.channel, Delivery.next_attempt_at, Delivery.status)
                                 .where(Delivery.notification_id == notification.id)).all()
        assert {(channel, due) for channel, due, _ in got} == set(expected), (user_id, shapes)
        assert {status for *_, status in got} <= {"pending"}
        held += sum(1 for _, due in expected if due > NIGHT)
        planned_now += sum(1 for _, due in expected if due == NIGHT)
    assert planned_now > 0 and (held > 0) is (not urgent)  # the mix covers both


def test_a_repeated_chunk_adds_no_delivery(app, organizer, create_resident, monkeypatch):
    """The same residents fanned out again (a lost cursor): no second inbox row, and no second delivery either."""
    monkeypatch.setattr(tasks, "fan_out_announcement", lambda announcement_id: None)
    monkeypatch.setattr(tasks, "announce_range", lambda *args: None)
    people = [resident(create_resident, i, push=True, email=True) for i in range(3)]
    announcement = announcements.create_announcement(organizer, segment={"kind": "all"}, title="公告", now=NIGHT)
    db.session.commit()
    announcement_id = announcement.id
    while not announcements.fan_out_chunk(announcement_id, now=NIGHT)[0]:
        pass
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
    db.session.execute(sa.update(Announcement).values(cursor=0, status="sending"))
    db.session.commit()
    later = NIGHT.replace(minute=31)
    assert announcements.fan_out_chunk(announcement_id, now=later) == (False, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == before == 2 * len(people)
