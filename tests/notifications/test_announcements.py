"""Organizers' announcements to segments: exactly the segment's residents get one inbox message each, in their
language; nobody outside the segment does; empty segments and bad input are refused before anything is sent."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from notifications import announcements
from notifications.models import Announcement, Notification
from tests.notifications.conftest import messages_of


def announce(actor, **fields):
    fields.setdefault("title", "小镇公告：周五停水")
    fields.setdefault("body", "周五 9:00–12:00 人才公寓停水。")
    announcement = announcements.create_announcement(actor, now=utcnow(), **fields)
    db.session.commit()  # the fan-out job runs after commit (immediately, in tests)
    db.session.expire_all()
    return db.session.get(Announcement, announcement.id)


def recipients_of(announcement):
    return sorted(db.session.scalars(sa.select(Notification.user_id).where(
        Notification.announcement_id == announcement.id)))


def test_an_announcement_to_all_reaches_every_resident_once_in_their_language(app, organizer, create_resident):
    app.config["NOTIFICATIONS_FANOUT_CHUNK"] = 3  # several chunks
    people = [create_resident() for _ in range(7)] + [create_resident(locale="en")]
    announcement = announce(organizer, segment={"kind": "all"}, title_en="Town notice: no water on Friday",
                            body_en="Friday 9:00–12:00, talent apartments.")
    assert announcement.status == "sent" and announcement.finished_at is not None
    everyone = sorted([organizer.id] + [p.id for p in people])
    assert recipients_of(announcement) == everyone and announcement.recipients == len(everyone)
    assert messages_of(people[0].id)[0].title == "小镇公告：周五停水"
    english = messages_of(people[-1].id)[0]
    assert (english.title, english.locale) == ("Town notice: no water on Friday", "en")
    assert announcements.fan_out(announcement.id) == 0  # running it again writes nothing


def test_a_resumed_fan_out_never_doubles_a_message(app, organizer, create_resident):
    """A worker killed after committing some chunks: the next run starts at the cursor; even a run that starts
    from the beginning again (a lost cursor) cannot double a message (unique per person and announcement)."""
    app.config["NOTIFICATIONS_FANOUT_CHUNK"] = 2
    people = [create_resident() for _ in range(5)]
    announcement = announcements.create_announcement(organizer, segment={"kind": "all"}, title="公告", now=utcnow())
    db.session.flush()
    announcement_id = announcement.id
    db.session.info.pop("beiyang.after_commit", None)  # as if the worker died before the job ran
    db.session.commit()
    announcements.fan_out_chunk(announcement_id, now=utcnow())  # one chunk done, then the worker "dies"
    db.session.execute(sa.update(Announcement).values(cursor=0))  # worst case: the cursor is lost too
    db.session.commit()
    announcements.fan_out(announcement_id)
    counts = db.session.execute(sa.select(Notification.user_id, sa.func.count()).where(
        Notification.announcement_id == announcement_id).group_by(Notification.user_id)).all()
    assert sorted(counts) == sorted((p, 1) for p in [organizer.id] + [p.id for p in people])


def test_an_events_registrants_and_no_one_else(app, organizer, create_event, create_resident, sign_up):
    event, other = create_event(created_by_id=organizer.id), create_event()
    inside = [create_resident() for _ in range(3)]
    outside = create_resident()
    for person in inside:
        sign_up(event, person)
    sign_up(other, outside)
    announcement = announce(organizer, segment={"kind": "registrants", "event_id": event.id}, title="入场须知")
    assert recipients_of(announcement) == sorted(p.id for p in inside)
    assert announcement.link == f"/events/{event.id}"
    assert [m.kind for m in messages_of(outside.id)] == ["registration_confirmed"]


def test_checked_in_and_no_show_segments(app, organizer, create_event, create_resident, sign_up):
    event = create_event(created_by_id=organizer.id, starts_in=timedelta(hours=-3), hours=2,
                         registration_closes_at=None)
    came, stayed_away = create_resident(), create_resident()
    from events.models import Registration

    for person in (came, stayed_away):
        db.session.add(Registration(event_id=event.id, user_id=person.id, status="confirmed", waitlist_seq=person.id,
                                    confirmed_at=utcnow()))
    db.session.commit()
    db.session.execute(sa.update(Registration).where(Registration.user_id == came.id)
                       .values(checked_in_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    thanks = announce(organizer, segment={"kind": "checked_in", "event_id": event.id}, title="感谢参加")
    missed = announce(organizer, segment={"kind": "no_show", "event_id": event.id}, title="错过了？这是回放")
    assert recipients_of(thanks) == [came.id] and recipients_of(missed) == [stayed_away.id]


def test_by_interest_tag_and_by_company(app, organizer, create_resident):
    tagged = create_resident()
    tagged.interests = ["具身智能", "大模型应用"]
    untagged = create_resident()
    untagged.interests = ["硬件"]
    colleague = create_resident(company="模速科技")
    db.session.commit()
    by_tag = announce(organizer, segment={"kind": "interest", "tag": "具身智能"}, title="具身智能沙龙")
    by_company = announce(organizer, segment={"kind": "company", "company": "模速科技 "}, title="企业服务")
    assert recipients_of(by_tag) == [tagged.id]
    assert recipients_of(by_company) == [colleague.id]


def test_an_empty_segment_or_missing_text_is_refused_and_nothing_is_sent(app, organizer, create_event):
    event = create_event(created_by_id=organizer.id)
    cases = [({"segment": {"kind": "registrants", "event_id": event.id}, "title": "x"}, "empty_segment"),
             ({"segment": {"kind": "everyone"}, "title": "x"}, "invalid_segment"),
             ({"segment": {"kind": "interest"}, "title": "x"}, "invalid_segment"),
             ({"segment": {"kind": "all"}, "title": ""}, "invalid_announcement"),
             ({"segment": {"kind": "all"}, "title": "x", "link": "https://evil.example"}, "invalid_announcement")]
    for fields, code in cases:
        with pytest.raises(DomainError) as error:
            announcements.create_announcement(organizer, now=utcnow(), **fields)
        assert error.value.code == code
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0


def test_only_organizers_announce_and_event_organizers_only_to_their_event(app, create_resident, create_event,
                                                                            sign_up):
    resident = create_resident()
    event_organizer = create_resident()
    event = create_event()
    from app.accounts.services import grant_role

    grant_role(event_organizer, "organizer", f"event:{event.id}")
    db.session.commit()
    sign_up(event, resident)
    for actor, segment in ((resident, {"kind": "all"}), (event_organizer, {"kind": "all"}),
                           (resident, {"kind": "registrants", "event_id": event.id})):
        with pytest.raises(DomainError) as error:
            announcements.create_announcement(actor, segment=segment, title="x", now=utcnow())
        assert error.value.code == "forbidden"
        db.session.rollback()
    assert announce(event_organizer, segment={"kind": "registrants", "event_id": event.id}).recipients == 1


def test_residents_who_switched_announcements_off_get_none(app, organizer, create_resident):
    from notifications.services import set_preference

    quiet, keen = create_resident(), create_resident()
    set_preference(quiet.id, "announcements", "inbox", False)
    db.session.commit()
    announcement = announce(organizer, segment={"kind": "all"})
    assert quiet.id not in recipients_of(announcement) and keen.id in recipients_of(announcement)
