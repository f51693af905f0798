# ruff: noqa: F811  (mentoring's fixtures, imported below, are parameters of the tests)
"""Reminders before events and office hours (a periodic sweep: idempotent, safe with several workers at once), and
messages from mentoring's and judging's signals, in each recipient's language."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from events import services as events
from events.models import Registration
from notifications import reminders, tasks
from notifications.models import Notification
from tests.mentoring.conftest import ask, create_cycle, create_mentor, matched  # noqa: F401  (fixtures)
from tests.notifications.conftest import messages_of


def seated(event, person, *, since):
    """A confirmed seat taken at `since` (the reminder windows look at when the seat was taken)."""
    registration, _ = events.register_for_event(event.id, person, now=utcnow())
    registration.confirmed_at = registration.created_at = since
    db.session.commit()
    return registration


def kinds(user_id, prefix=""):
    return [m.kind for m in messages_of(user_id) if m.kind.startswith(prefix)]


# ---- events ------------------------------------------------------------------------------------------------------

def test_a_day_and_an_hour_before_an_event_each_seated_person_is_reminded_once(create_event, create_resident):
    event = create_event(title="技术沙龙：Agent 工程", starts_in=timedelta(days=3))
    starts = event.starts_at
    early, late, waiting = create_resident(), create_resident(), create_resident()
    seated(event, early, since=starts - timedelta(days=2))
    seated(event, late, since=starts - timedelta(hours=5))  # took the seat after the day-ahead window opened
    registration, _ = events.register_for_event(event.id, waiting, now=utcnow())
    registration.status = "waitlisted"
    db.session.commit()

    assert reminders.send_event_reminders(now=starts - timedelta(hours=25)) == 0  # not yet
    assert reminders.send_event_reminders(now=starts - timedelta(hours=20)) == 1
    assert reminders.send_event_reminders(now=starts - timedelta(hours=19)) == 0  # a second sweep writes nothing
    assert reminders.send_event_reminders(now=starts - timedelta(minutes=50)) == 2
    assert reminders.send_event_reminders(now=starts - timedelta(minutes=10)) == 0
    assert reminders.send_event_reminders(now=starts + timedelta(minutes=1)) == 0  # begun: no more reminders

    assert kinds(early.id, "event_reminder") == ["event_reminder_24h", "event_reminder_1h"]
    assert kinds(late.id, "event_reminder") == ["event_reminder_1h"]
    assert kinds(waiting.id, "event_reminder") == []
    day, hour = [m for m in messages_of(early.id) if m.kind.startswith("event_reminder")]
    assert day.category == hour.category == "reminders"
    assert "Agent 工程" in day.title and day.locale == "zh_Hans_CN" and day.link == f"/events/{event.id}"
    assert hour.urgent and not day.urgent  # the hour-ahead one is not held back by quiet hours


def test_reminders_are_in_the_persons_language_and_skip_cancelled_events(create_event, create_resident):
    event = create_event(title="路演日", title_en="Roadshow day", starts_in=timedelta(days=3))
    gone = create_event(title="取消的沙龙", starts_in=timedelta(days=3))
    english = create_resident(locale="en")
    seated(event, english, since=event.starts_at - timedelta(days=2))
    seated(gone, english, since=gone.starts_at - timedelta(days=2))
    events.cancel_event(gone.id, _organizer(create_resident), reason="场地冲突", now=utcnow())
    db.session.commit()
    reminders.send_event_reminders(now=event.starts_at - timedelta(hours=20))
    [reminder] = [m for m in messages_of(english.id) if m.kind == "event_reminder_24h"]
    assert reminder.title == "Tomorrow: Roadshow day" and reminder.event_id == event.id


def _organizer(create_resident):
    return create_resident(name="组织者", roles=["organizer"])


def test_an_event_that_moves_is_reminded_of_at_its_new_time(create_event, create_resident):
    event = create_event(starts_in=timedelta(days=3))
    person = create_resident()
    seated(event, person, since=event.starts_at - timedelta(days=2))
    reminders.send_event_reminders(now=event.starts_at - timedelta(hours=20))
    event.starts_at += timedelta(hours=2)
    event.ends_at += timedelta(hours=2)
    db.session.commit()
    reminders.send_event_reminders(now=event.starts_at - timedelta(hours=20))
    assert kinds(person.id, "event_reminder") == ["event_reminder_24h", "event_reminder_24h"]


def test_sweeps_racing_in_several_workers_write_each_reminder_once(app, create_event, create_resident):
    events_ = [create_event(title=f"沙龙{i}", starts_in=timedelta(days=3)) for i in range(3)]
    people = [create_resident() for _ in range(12)]
    for event in events_:
        for person in people:
            seated(event, person, since=event.starts_at - timedelta(days=2))
    now = events_[-1].starts_at - timedelta(hours=20)
    errors, written = [], []
    start = threading.Barrier(4)

    def sweep():
        with app.app_context():
            try:
                start.wait()
                written.append(reminders.send_event_reminders(now=now))
            except Exception as error:  # noqa: BLE001  (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(written) == 3 * 12
    per_person = db.session.execute(sa.select(Notification.user_id, Notification.event_id, sa.func.count())
                                    .where(Notification.kind == "event_reminder_24h")
                                    .group_by(Notification.user_id, Notification.event_id)).all()
    assert len(per_person) == 3 * 12 and {count for *_, count in per_person} == {1}


def test_the_periodic_task_sends_them(create_event, create_resident, monkeypatch):
    event = create_event(starts_in=timedelta(minutes=40))
    person = create_resident()
    seated(event, person, since=event.starts_at - timedelta(days=1))
    assert tasks.send_reminders().get() == 1
    assert kinds(person.id, "event_reminder") == ["event_reminder_1h"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


# ---- mentoring -----------------------------------------------------------------------------------------------------

def test_a_published_match_asks_the_mentor_and_the_answer_reaches_the_founder(organizer, create_cycle,
                                                                                create_mentor, create_resident, ask):
    from mentoring import services

    cycle = create_cycle()
    mentor = create_mentor("李导师", capacity=1)
    founder = create_resident(name="张创业", locale="en")
    ask(cycle, founder)
    services.run_matching(cycle.id, organizer, now=utcnow())
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    db.session.commit()
    [asked] = [m for m in messages_of(mentor.id) if m.kind == "mentor_matched"]
    assert "张创业" in asked.title and asked.category == "mentoring" and asked.link == "/mentoring/"
    [match] = services.my_mentees(mentor)
    services.respond_to_match(match.id, mentor, accept=True, now=utcnow())
    db.session.commit()
    [accepted] = [m for m in messages_of(founder.id) if m.kind == "match_accepted"]
    assert accepted.title == "李导师 is your mentor" and accepted.link == f"/mentoring/mentors/{mentor.id}/book"


def test_a_declined_match_tells_the_founder_without_naming_who_declined(organizer, create_cycle, create_mentor,
                                                                         create_resident, ask):
    from mentoring import services

    cycle = create_cycle()
    mentor = create_mentor("王导师", capacity=1)
    founder = create_resident(name="创业者")
    ask(cycle, founder)
    services.run_matching(cycle.id, organizer, now=utcnow())
    services.publish_cycle(cycle.id, organizer, now=utcnow())
    [match] = services.my_mentees(mentor)
    services.respond_to_match(match.id, mentor, accept=False, reason="时间不够", now=utcnow())
    db.session.commit()
    [declined] = [m for m in messages_of(founder.id) if m.kind == "match_declined"]
    assert "王导师" not in declined.title + declined.body and "时间不够" not in declined.body


def test_office_hours_booked_moved_cancelled_and_reminded(matched):
    from mentoring import office_hours

    mentor, [founder] = matched(1)
    first, second = office_hours.open_slots(mentor.id, now=utcnow())[:2]
    booking = office_hours.book_slot(first.id, founder, topic="融资", now=utcnow())
    db.session.commit()
    assert kinds(mentor.id, "office_hour") == ["office_hour_booked"]
    assert kinds(founder.id, "office_hour") == ["office_hour_booked"]
    moved = office_hours.move_booking(booking.id, founder, new_slot_id=second.id, now=utcnow())
    db.session.commit()
    mentor_messages = [m for m in messages_of(mentor.id) if m.kind.startswith("office_hour")]
    assert [m.kind for m in mentor_messages] == ["office_hour_booked", "office_hour_booked"]
    assert "创业者0" in mentor_messages[-1].title and mentor_messages[-1].title != mentor_messages[0].title

    starts = second.starts_at
    assert office_hours.send_due_reminders(now=starts - timedelta(hours=3)) == 1  # mentoring's day-ahead signal
    db.session.commit()
    assert reminders.send_office_hour_reminders(now=starts - timedelta(minutes=30)) == 2
    assert reminders.send_office_hour_reminders(now=starts - timedelta(minutes=20)) == 0
    for person in (mentor, founder):
        assert kinds(person.id, "office_hour_reminder") == ["office_hour_reminder_24h", "office_hour_reminder_1h"]

    office_hours.cancel_booking(moved.id, mentor, now=utcnow())
    db.session.commit()
    [cancelled] = [m for m in messages_of(founder.id) if m.kind == "office_hour_cancelled"]
    assert cancelled.urgent and cancelled.transactional and "约谈导师" in cancelled.title
    assert kinds(mentor.id, "office_hour_cancelled") == []  # the one who cancelled is not told


def test_shared_feedback_is_announced_to_the_other_side_private_feedback_is_not(matched):
    from mentoring import office_hours

    mentor, [founder] = matched(1)
    slot = office_hours.open_slots(mentor.id, now=utcnow())[0]
    booking = office_hours.book_slot(slot.id, founder, now=utcnow())
    db.session.commit()
    after = slot.starts_at + timedelta(minutes=5)
    office_hours.give_feedback(booking.id, founder, rating=5, comment="很有帮助", shared=False, now=after)
    db.session.commit()
    assert kinds(mentor.id, "feedback") == []
    office_hours.give_feedback(booking.id, mentor, rating=4, comment="准备充分", shared=True, now=after)
    db.session.commit()
    [told] = [m for m in messages_of(founder.id) if m.kind == "feedback_given"]
    assert "准备充分" not in told.body  # the text stays on the feedback page


def test_roadshow_meetings_published_tell_each_person_once(create_event, create_resident):
    from mentoring import signals

    event = create_event(kind="roadshow", title="模速路演日")
    a, b = create_resident(), create_resident()
    signals.roadshow_meetings_published.send(None, event_id=event.id, person_ids=[a.id, b.id, a.id],
                                             meeting_ids=[1, 2])
    db.session.commit()
    assert kinds(a.id, "roadshow") == ["roadshow_meetings"] and kinds(b.id, "roadshow") == ["roadshow_meetings"]


# ---- judging -------------------------------------------------------------------------------------------------------

def _competition():
    from judging.models import Competition, CompetitionRound

    competition = Competition(name="港科大百万元创业大赛")
    db.session.add(competition)
    db.session.flush()
    round_ = CompetitionRound(competition_id=competition.id, kind="online", name="初赛")
    db.session.add(round_)
    db.session.commit()
    return competition, round_


def test_a_judge_gets_the_invitation_link_and_a_new_link_is_a_new_message(create_resident):
    from judging import signals

    competition, round_ = _competition()
    judge = create_resident(name="评委")
    for path in ("/judging/invite/first-token", "/judging/invite/first-token", "/judging/invite/second-token"):
        signals.judge_invited.send(None, competition_id=competition.id, round_id=round_.id, judge_id=7,
                                   user_id=judge.id, invite_path=path, expires_at=utcnow() + timedelta(days=7),
                                   is_shadow=False)
        db.session.commit()
    invites = [m for m in messages_of(judge.id) if m.kind == "judge_invited"]
    assert [m.link for m in invites] == ["/judging/invite/first-token", "/judging/invite/second-token"]
    assert "初赛" in invites[0].title and "港科大" in invites[0].body and invites[0].category == "results"


def test_results_and_advancement_reach_every_member_of_each_team(create_resident):
    from judging import signals

    competition, round_ = _competition()
    alice, bob, carol = create_resident(), create_resident(locale="en"), create_resident()
    signals.results_published.send(None, competition_id=competition.id, round_id=round_.id, round_name="初赛",
                                   teams=[{"application_id": 11, "rank": 1, "score": 91.5,
                                           "member_user_ids": [alice.id, bob.id]},
                                          {"application_id": 12, "rank": 2, "score": 80.0,
                                           "member_user_ids": [carol.id]}])
    signals.team_advanced.send(None, competition_id=competition.id, round_id=round_.id, to_round_id=round_.id + 1,
                               to_round_name="复赛", application_id=11, member_user_ids=[alice.id, bob.id], how="top_n")
    db.session.commit()
    assert kinds(alice.id) == ["results_published", "team_advanced"]
    assert kinds(carol.id) == ["results_published"]
    [result] = [m for m in messages_of(bob.id) if m.kind == "results_published"]
    assert result.title == "Results are out: 初赛" and "number 1" in result.body and result.link == "/teams/11"
