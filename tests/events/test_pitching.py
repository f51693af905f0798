"""Roadshow days: founders apply to pitch, organizers decide (never more than the pitch slots, whatever the
concurrency), build and publish the line-up. Services, the JSON API and the pages; SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from app.accounts.services import issue_api_token
from app.authz import scope_key
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from events import pitching, signals
from events.models import PitchApplication, PitchSlot
from tests.conftest import csrf_token_from, sign_in
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]

VALID = {
    "project_name": "星河智算",
    "one_liner": "为中小企业提供低成本、可私有化部署的大模型推理服务",
    "stage": "seed",
    "funding_ask": "天使轮 500 万元",
    "deck_url": "https://docs.example.cn/deck/xinghe.pdf",
    "team": [{"name": "林晓舟", "role": "CEO"}, {"name": "赵一鸣", "role": "CTO"}],
}


# ---- the Chinese catalogue, with this module's strings until they are merged into the .po ---------------------------


@pytest.fixture
def roadshow(create_event):
    def make(**fields):
        values = {"title": "模速路演日 · 测试专场", "kind": "roadshow", "hours": 3.5, "capacity": 200,
                  "pitch_slots_capacity": 3, "pitch_applications_open": True}
        values.update(fields)
        return create_event(**values)
    return make


@pytest.fixture
def founders(create_resident):
    def make(n):
        return [create_resident(name=f"创始人{i}", company=f"AI 公司{i}") for i in range(n)]
    return make


def apply(event, user, **overrides):
    application, _ = pitching.submit_application(event.id, user, now=utcnow(), **{**VALID, **overrides})
    db.session.commit()
    return application


def applications_for(event, founders_list):
    return [apply(event, f, project_name=f"项目{i}") for i, f in enumerate(founders_list)]


@contextmanager
def captured(*signal_list):
    """Record (signal name, kwargs) of every signal sent inside the block."""
    seen = []
    receivers = []
    for signal in signal_list:
        def receiver(sender, _name=signal.name, **kwargs):
            seen.append((_name, kwargs))
        signal.connect(receiver)
        receivers.append((signal, receiver))
    try:
        yield seen
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver)


def error_of(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    db.session.rollback()
    return caught.value


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def token_for(user):
    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    return token


def count(model=PitchApplication):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# ---- applying --------------------------------------------------------------------------------------------------

def test_a_founder_applies_and_a_double_tap_returns_the_same_application(roadshow, founders):
    event, (founder,) = roadshow(), founders(1)
    with captured(signals.pitch_application_submitted) as seen:
        first, created = pitching.submit_application(event.id, founder, now=utcnow(), **VALID)
        db.session.commit()
        again, created_again = pitching.submit_application(event.id, founder, now=utcnow(),
                                                           **{**VALID, "project_name": "别的名字"})
        db.session.commit()
    assert (created, created_again) == (True, False) and first.id == again.id
    assert again.project_name == "星河智算" and again.status == "submitted"
    assert again.team == VALID["team"] and again.stage == "seed"
    assert count() == 1
    assert seen == [("pitch-application-submitted",
                     {"application_id": first.id, "event_id": event.id, "user_id": founder.id})]


def test_text_is_trimmed_and_html_is_kept_as_text(roadshow, founders):
    event, (founder,) = roadshow(), founders(1)
    application = apply(event, founder, project_name="  <script>alert(1)</script>  ",
                        one_liner="<b>大模型</b>\n  应用", team=[{"name": " 林晓舟 ", "role": ""}])
    assert application.project_name == "<script>alert(1)</script>"
    assert application.one_liner == "<b>大模型</b> 应用"
    assert application.team == [{"name": "林晓舟", "role": ""}]


@pytest.mark.parametrize("overrides, field", [
    ({"project_name": ""}, "project_name"),
    ({"project_name": "   "}, "project_name"),
    ({"project_name": "长" * 121}, "project_name"),
    ({"one_liner": ""}, "one_liner"),
    ({"one_liner": "字" * 201}, "one_liner"),
    ({"stage": "series_z"}, "stage"),
    ({"stage": None}, "stage"),
    ({"funding_ask": "万" * 81}, "funding_ask"),
    ({"deck_url": "javascript:alert(1)"}, "deck_url"),
    ({"deck_url": "ftp://files.example.cn/deck.pdf"}, "deck_url"),
    ({"deck_url": "https://"}, "deck_url"),
    ({"deck_url": "deck.pdf"}, "deck_url"),
    ({"deck_url": "https://exa mple.cn/deck"}, "deck_url"),
    ({"deck_url": "https://example.cn/" + "a" * 490}, "deck_url"),
    ({"team": [{"name": f"成员{i}", "role": ""} for i in range(11)]}, "team"),
    ({"team": [{"name": "", "role": "CTO"}]}, "team"),
    ({"team": [{"name": "林晓舟", "role": "职" * 41}]}, "team"),
    ({"team": [{"name": "林晓舟", "phone": "13800000000"}]}, "team"),
    ({"team": "林晓舟"}, "team"),
    ({"project_name": 42}, "project_name"),
])
def test_bad_input_names_the_field_and_writes_nothing(roadshow, founders, overrides, field):
    event, (founder,) = roadshow(), founders(1)
    error = error_of(lambda: pitching.submit_application(event.id, founder, now=utcnow(), **{**VALID, **overrides}))
    assert error.code == "invalid_pitch_application" and error.status == 400
    assert field in error.details["fields"]
    assert count() == 0


def test_a_deck_link_is_optional_and_http_or_https(roadshow, founders):
    event = roadshow()
    a, b = founders(2)
    assert apply(event, a, deck_url="").deck_url == ""
    assert apply(event, b, deck_url="http://pan.example.cn/s/1AbC?pwd=x").deck_url.startswith("http://")


@pytest.mark.parametrize("event_fields, code, status", [
    ({"kind": "salon"}, "not_a_roadshow", 409),
    ({"pitch_applications_open": False}, "applications_closed", 409),
    ({"starts_in": timedelta(hours=-1)}, "event_past", 409),
    ({"status": "cancelled"}, "event_cancelled", 409),
    ({"status": "draft"}, "event_not_found", 404),
])
def test_only_an_open_published_future_roadshow_takes_applications(roadshow, founders, event_fields, code, status):
    event, (founder,) = roadshow(**event_fields), founders(1)
    error = error_of(lambda: pitching.submit_application(event.id, founder, now=utcnow(), **VALID))
    assert (error.code, error.status) == (code, status)
    assert count() == 0


def test_the_profile_comes_first(roadshow, create_resident):
    event, newcomer = roadshow(), create_resident(profile=False)
    assert error_of(lambda: pitching.submit_application(event.id, newcomer, now=utcnow(), **VALID)).code \
        == "profile_incomplete"


def test_the_founder_edits_while_under_review_only(roadshow, founders, organizer):
    event = roadshow()
    founder, other = founders(2)
    application = apply(event, founder)
    pitching.update_application(application.id, founder, now=utcnow(), one_liner="新的一句话介绍", team=[])
    db.session.commit()
    assert (application.one_liner, application.team, application.project_name) == ("新的一句话介绍", [], "星河智算")

    assert error_of(lambda: pitching.update_application(application.id, other, now=utcnow(),
                                                        one_liner="冒名修改")).code == "forbidden"
    assert error_of(lambda: pitching.update_application(application.id, founder, now=utcnow(),
                                                        deck_url="javascript:alert(1)")).code \
        == "invalid_pitch_application"
    pitching.decide_applications(event.id, [application.id], organizer, decision="accept", now=utcnow())
    db.session.commit()
    error = error_of(lambda: pitching.update_application(application.id, founder, now=utcnow(), one_liner="晚了"))
    assert error.code == "application_not_editable"
    db.session.refresh(application)
    assert application.one_liner == "新的一句话介绍"


def test_withdrawing_then_applying_again_reuses_the_application(roadshow, founders):
    event, (founder,) = roadshow(), founders(1)
    application = apply(event, founder)
    with captured(signals.pitch_application_withdrawn) as seen:
        for _ in range(2):  # twice is harmless
            pitching.withdraw_application(application.id, founder, now=utcnow())
            db.session.commit()
    assert application.status == "withdrawn" and len(seen) == 1
    again, created = pitching.submit_application(event.id, founder, now=utcnow(), **{**VALID, "stage": "angel"})
    db.session.commit()
    assert created and again.id == application.id and (again.status, again.stage) == ("submitted", "angel")
    assert count() == 1


def test_a_declined_founder_cannot_apply_again_or_withdraw(roadshow, founders, organizer):
    event, (founder,) = roadshow(), founders(1)
    application = apply(event, founder)
    pitching.decide_applications(event.id, [application.id], organizer, decision="decline", note="本期方向不符",
                                 now=utcnow())
    db.session.commit()
    assert error_of(lambda: pitching.submit_application(event.id, founder, now=utcnow(), **VALID)).code \
        == "application_declined"
    assert error_of(lambda: pitching.withdraw_application(application.id, founder, now=utcnow())).code \
        == "application_declined"


# ---- deciding --------------------------------------------------------------------------------------------------

def test_organizers_accept_and_decline_in_bulk_with_a_note(roadshow, founders, organizer):
    event = roadshow()
    a, b, c = applications_for(event, founders(3))
    with captured(signals.pitch_application_decided) as seen:
        pitching.decide_applications(event.id, [a.id, b.id], organizer, decision="accept",
                                     note="请提前 30 分钟到场调试投影", now=utcnow())
        pitching.decide_applications(event.id, [c.id], organizer, decision="decline", note="", now=utcnow())
        pitching.decide_applications(event.id, [a.id], organizer, decision="accept", now=utcnow())  # again: no-op
        db.session.commit()
    assert [x.status for x in (a, b, c)] == ["accepted", "accepted", "declined"]
    assert a.review_note == "请提前 30 分钟到场调试投影"
    assert [(name, kw["application_id"], kw["status"], kw["previous_status"]) for name, kw in seen] == [
        ("pitch-application-decided", a.id, "accepted", "submitted"),
        ("pitch-application-decided", b.id, "accepted", "submitted"),
        ("pitch-application-decided", c.id, "declined", "submitted"),
    ]
    assert seen[0][1]["note"] == "请提前 30 分钟到场调试投影" and seen[0][1]["user_id"] == a.applicant_id
    assert pitching.application_counts(event.id) == {"submitted": 0, "accepted": 2, "declined": 1, "withdrawn": 0}
    assert [x.id for x in pitching.list_applications(event.id, organizer, status="accepted")] == [a.id, b.id]


def test_acceptances_never_exceed_the_pitch_slots_and_a_batch_is_all_or_nothing(roadshow, founders, organizer):
    event = roadshow(pitch_slots_capacity=3)
    apps = applications_for(event, founders(5))
    pitching.decide_applications(event.id, [apps[0].id, apps[1].id], organizer, decision="accept", now=utcnow())
    db.session.commit()
    error = error_of(lambda: pitching.decide_applications(event.id, [apps[2].id, apps[3].id], organizer,
                                                          decision="accept", now=utcnow()))
    assert (error.code, error.status, error.details["slots_left"]) == ("pitch_slots_full", 409, 1)
    assert pitching.accepted_count(event.id) == 2
    assert [db.session.get(PitchApplication, x.id).status for x in apps[2:]] == ["submitted"] * 3
    # Declining an accepted team frees its slot for another.
    pitching.decide_applications(event.id, [apps[0].id], organizer, decision="decline", now=utcnow())
    pitching.decide_applications(event.id, [apps[2].id, apps[3].id], organizer, decision="accept", now=utcnow())
    db.session.commit()
    assert pitching.accepted_count(event.id) == 3


def test_pitch_slots_cannot_drop_below_the_teams_accepted(roadshow, founders, organizer):
    from events.services import update_event

    event = roadshow(pitch_slots_capacity=3)
    apps = applications_for(event, founders(2))
    pitching.decide_applications(event.id, [a.id for a in apps], organizer, decision="accept", now=utcnow())
    db.session.commit()
    error = error_of(lambda: update_event(event.id, organizer, now=utcnow(), pitch_slots_capacity=1))
    assert error.code == "invalid_event" and "pitch_slots_capacity" in error.details["fields"]
    update_event(event.id, organizer, now=utcnow(), pitch_slots_capacity=2)
    db.session.commit()
    assert event.pitch_slots_capacity == 2


def test_no_limit_when_the_event_sets_none(roadshow, founders, organizer):
    event = roadshow(pitch_slots_capacity=None)
    apps = applications_for(event, founders(4))
    pitching.decide_applications(event.id, [a.id for a in apps], organizer, decision="accept", now=utcnow())
    db.session.commit()
    assert pitching.accepted_count(event.id) == 4


def test_zero_pitch_slots_accepts_nobody(roadshow, founders, organizer):
    event = roadshow(pitch_slots_capacity=0)
    (application,) = applications_for(event, founders(1))
    assert error_of(lambda: pitching.decide_applications(event.id, [application.id], organizer, decision="accept",
                                                         now=utcnow())).code == "pitch_slots_full"


def test_withdrawn_or_foreign_applications_cannot_be_decided(roadshow, founders, organizer):
    event, other_event = roadshow(), roadshow(title="另一场路演")
    mine, theirs = founders(2)
    application = apply(event, mine)
    foreign = apply(other_event, theirs)
    pitching.withdraw_application(application.id, mine, now=utcnow())
    db.session.commit()
    error = error_of(lambda: pitching.decide_applications(event.id, [application.id], organizer,
                                                          decision="accept", now=utcnow()))
    assert (error.code, error.status) == ("application_withdrawn", 409)
    error = error_of(lambda: pitching.decide_applications(event.id, [foreign.id], organizer, decision="accept",
                                                          now=utcnow()))
    assert (error.code, error.status) == ("application_not_found", 404)
    assert error_of(lambda: pitching.decide_applications(event.id, [foreign.id], organizer, decision="maybe",
                                                         now=utcnow())).code == "invalid_decision"
    assert error_of(lambda: pitching.decide_applications(event.id, [], organizer, decision="accept",
                                                         now=utcnow())).code == "invalid_decision"
    assert error_of(lambda: pitching.decide_applications(event.id, [foreign.id], organizer, decision="accept",
                                                         note="长" * 501, now=utcnow())).code == "invalid_decision"


def test_only_the_events_organizers_review(roadshow, founders, create_resident):
    event, other_event = roadshow(), roadshow(title="另一场路演")
    founder, stranger = founders(2)
    application = apply(event, founder)
    scoped = create_resident(name="本场组织者", roles=[("organizer", scope_key("event", event.id))])
    elsewhere = create_resident(name="别场组织者", roles=[("organizer", scope_key("event", other_event.id))])
    for person in (founder, stranger, elsewhere):
        assert error_of(lambda p=person: pitching.list_applications(event.id, p)).code == "forbidden"
        assert error_of(lambda p=person: pitching.decide_applications(event.id, [application.id], p,
                                                                      decision="accept", now=utcnow())).code \
            == "forbidden"
    pitching.decide_applications(event.id, [application.id], scoped, decision="accept", now=utcnow())
    db.session.commit()
    assert application.status == "accepted"


# ---- the line-up ------------------------------------------------------------------------------------------------

def accepted_apps(event, founders, organizer, n):
    apps = applications_for(event, founders(n))
    pitching.decide_applications(event.id, [a.id for a in apps], organizer, decision="accept", now=utcnow())
    db.session.commit()
    return apps


def times(event):
    return [(s.application_id, s.position, s.starts_at, s.ends_at) for s in pitching.lineup(event.id)]


def test_a_line_up_from_a_start_a_pitch_length_and_a_break(roadshow, founders, organizer):
    event = roadshow()
    a, b, c = accepted_apps(event, founders, organizer, 3)
    start = event.starts_at + timedelta(minutes=15)
    with captured(signals.pitch_slot_assigned) as seen:
        pitching.set_lineup(event.id, organizer, now=utcnow(), application_ids=[c.id, a.id, b.id], starts_at=start,
                            slot_minutes=13, gap_minutes=2)
        db.session.commit()
    minute = timedelta(minutes=1)
    assert times(event) == [(c.id, 1, start, start + 13 * minute), (a.id, 2, start + 15 * minute, start + 28 * minute),
                            (b.id, 3, start + 30 * minute, start + 43 * minute)]
    assert seen == []  # not published: nobody is told yet
    assert pitching.published_lineup(event.id) == []


def test_explicit_times_are_checked(roadshow, founders, organizer):
    event = roadshow()
    a, b, c = accepted_apps(event, founders, organizer, 3)
    submitted = apply(event, founders(1)[0])
    s = event.starts_at
    m = timedelta(minutes=1)

    def plan(*rows):
        return lambda: pitching.set_lineup(event.id, organizer, now=utcnow(),
                                           slots=[pitching.SlotPlan(*row) for row in rows])

    cases = [
        (plan((a.id, s, s + 10 * m), (b.id, s + 5 * m, s + 15 * m)), "slots.1"),  # overlap
        (plan((a.id, s - 10 * m, s + 5 * m)), "slots.0"),  # before the event
        (plan((a.id, event.ends_at - 5 * m, event.ends_at + 5 * m)), "slots.0"),  # after it
        (plan((a.id, s + 10 * m, s + 10 * m)), "slots.0"),  # ends at its start
        (plan((a.id, s, s + 10 * m), (a.id, s + 10 * m, s + 20 * m)), "slots.1"),  # twice
        (plan((submitted.id, s, s + 10 * m)), "slots.0"),  # not accepted
        (plan((999_999, s, s + 10 * m)), "slots.0"),  # unknown
        (plan((a.id, s.replace(tzinfo=None), (s + 10 * m).replace(tzinfo=None))), "slots.0"),  # no offset
    ]
    for call, field in cases:
        error = error_of(call)
        assert error.code == "invalid_lineup" and field in error.details["fields"], (field, error.details)
    for kwargs, field in [({"slot_minutes": 0}, "slot_minutes"), ({"gap_minutes": -1}, "gap_minutes"),
                          ({"starts_at": s.replace(tzinfo=None)}, "starts_at")]:
        args = {"application_ids": [a.id], "starts_at": s, "slot_minutes": 10, "gap_minutes": 0, **kwargs}
        error = error_of(lambda args=args: pitching.set_lineup(event.id, organizer, now=utcnow(), **args))
        assert error.code == "invalid_lineup" and field in error.details["fields"]
    assert count(PitchSlot) == 0

    pitching.set_lineup(event.id, organizer, now=utcnow(), slots=[
        pitching.SlotPlan(a.id, s, s + 10 * m), pitching.SlotPlan(b.id, s + 10 * m, s + 25 * m)])  # back to back
    db.session.commit()
    assert [row[0] for row in times(event)] == [a.id, b.id]


def test_reordering_swaps_time_windows_and_keeps_slot_rows(roadshow, founders, organizer):
    event = roadshow()
    a, b, c = accepted_apps(event, founders, organizer, 3)
    pitching.set_lineup(event.id, organizer, now=utcnow(), application_ids=[a.id, b.id, c.id],
                        starts_at=event.starts_at, slot_minutes=10, gap_minutes=5)
    db.session.commit()
    before = times(event)
    slot_ids = {s.application_id: s.id for s in pitching.lineup(event.id)}
    pitching.move_in_lineup(event.id, c.id, -1, organizer, now=utcnow())
    db.session.commit()
    after = times(event)
    assert [row[0] for row in after] == [a.id, c.id, b.id]
    assert [row[1:] for row in after] == [row[1:] for row in before]  # same windows, teams swapped
    assert {s.application_id: s.id for s in pitching.lineup(event.id)} == slot_ids
    pitching.move_in_lineup(event.id, a.id, -1, organizer, now=utcnow())  # already first: nothing moves
    pitching.remove_from_lineup(event.id, c.id, organizer, now=utcnow())
    db.session.commit()
    assert [(row[0], row[1], row[2]) for row in times(event)] == [(a.id, 1, before[0][2]), (b.id, 2, before[2][2])]
    assert db.session.get(PitchApplication, c.id).status == "accepted"


def test_publishing_tells_each_team_and_later_changes_are_signalled(roadshow, founders, organizer):
    event = roadshow()
    assert error_of(lambda: pitching.publish_lineup(event.id, organizer, now=utcnow())).code == "lineup_empty"
    a, b, c = accepted_apps(event, founders, organizer, 3)
    pitching.set_lineup(event.id, organizer, now=utcnow(), application_ids=[a.id, b.id],
                        starts_at=event.starts_at, slot_minutes=10, gap_minutes=0)
    db.session.commit()
    wanted = (signals.pitch_slot_assigned, signals.pitch_slot_changed, signals.pitch_slot_removed,
              signals.pitch_lineup_published, signals.pitch_lineup_unpublished)
    with captured(*wanted) as seen:
        pitching.publish_lineup(event.id, organizer, now=utcnow())
        pitching.publish_lineup(event.id, organizer, now=utcnow())  # twice: told once
        db.session.commit()
    assert [(name, kw.get("application_id")) for name, kw in seen] == [
        ("pitch-lineup-published", None), ("pitch-slot-assigned", a.id), ("pitch-slot-assigned", b.id)]
    assert seen[1][1]["user_id"] == a.applicant_id and seen[1][1]["starts_at"] == event.starts_at
    assert [s.application_id for s in pitching.published_lineup(event.id)] == [a.id, b.id]

    with captured(*wanted) as seen:
        pitching.set_lineup(event.id, organizer, now=utcnow(), application_ids=[b.id, c.id],
                            starts_at=event.starts_at, slot_minutes=10, gap_minutes=0)
        db.session.commit()
    assert sorted((name, kw["application_id"]) for name, kw in seen) == sorted([
        ("pitch-slot-removed", a.id), ("pitch-slot-assigned", c.id), ("pitch-slot-changed", b.id)])
    changed = next(kw for name, kw in seen if name == "pitch-slot-changed")
    assert changed["old_starts_at"] == event.starts_at + timedelta(minutes=10) and changed["position"] == 1
    assert all(s.published for s in pitching.lineup(event.id))  # a team joining a published line-up is shown

    with captured(*wanted) as seen:
        pitching.decide_applications(event.id, [b.id], organizer, decision="decline", now=utcnow())
        db.session.commit()
    assert ("pitch-slot-removed", b.id) in [(name, kw.get("application_id")) for name, kw in seen]
    assert [(s.application_id, s.position) for s in pitching.lineup(event.id)] == [(c.id, 1)]

    with captured(*wanted) as seen:
        pitching.unpublish_lineup(event.id, organizer, now=utcnow())
        db.session.commit()
    assert [name for name, _ in seen] == ["pitch-lineup-unpublished"]
    assert pitching.published_lineup(event.id) == [] and len(pitching.lineup(event.id)) == 1


def test_a_withdrawal_takes_the_team_out_of_the_line_up(roadshow, founders, organizer):
    event = roadshow()
    a, b = accepted_apps(event, founders, organizer, 2)
    pitching.set_lineup(event.id, organizer, now=utcnow(), application_ids=[a.id, b.id], starts_at=event.starts_at,
                        slot_minutes=10, gap_minutes=0)
    pitching.publish_lineup(event.id, organizer, now=utcnow())
    db.session.commit()
    with captured(signals.pitch_slot_removed, signals.pitch_application_withdrawn) as seen:
        pitching.withdraw_application(a.id, a.applicant, now=utcnow())
        db.session.commit()
    assert [name for name, _ in seen] == ["pitch-slot-removed", "pitch-application-withdrawn"]
    assert seen[1][1]["previous_status"] == "accepted"
    assert [(s.application_id, s.position) for s in pitching.published_lineup(event.id)] == [(b.id, 1)]
    assert pitching.accepted_count(event.id) == 1


def test_line_up_changes_are_for_organizers_and_roadshows_only(roadshow, create_event, founders, organizer):
    event = roadshow()
    (founder,) = founders(1)
    salon = create_event(kind="salon")
    assert error_of(lambda: pitching.set_lineup(event.id, founder, now=utcnow(), slots=[])).code == "forbidden"
    assert error_of(lambda: pitching.publish_lineup(event.id, founder, now=utcnow())).code == "forbidden"
    assert error_of(lambda: pitching.set_lineup(salon.id, organizer, now=utcnow(), slots=[])).code \
        == "not_a_roadshow"
    past = roadshow(title="上期路演", starts_in=timedelta(days=-3))
    assert error_of(lambda: pitching.set_lineup(past.id, organizer, now=utcnow(), slots=[])).code == "event_past"


# ---- concurrency: the last pitch slot, two organizers, one moment ------------------------------------------------

def fire_together(jobs):
    barrier = threading.Barrier(len(jobs))

    def send(job):
        method, url, token, body = job
        session = requests.Session()
        barrier.wait(timeout=30)
        response = session.request(method, url, headers=bearer(token), json=body, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(send, jobs))


def test_parallel_acceptances_never_exceed_the_pitch_slots(app, roadshow, founders, create_resident, monkeypatch):
    capacity, teams = 5, 30
    counted = pitching.accepted_count

    def slow_count(event_id):  # widen the window between counting and writing: a race would surely show
        result = counted(event_id)
        time.sleep(0.03)
        return result

    monkeypatch.setattr(pitching, "accepted_count", slow_count)
    event = roadshow(pitch_slots_capacity=capacity)
    apps = applications_for(event, founders(teams))
    organizers = [create_resident(name=f"组织者{i}", roles=["organizer"]) for i in range(6)]
    tokens = [token_for(o) for o in organizers]
    with live_server(app) as base:
        url = f"{base}/api/v1/events/{event.id}/pitch-applications/decisions"
        # Each request accepts two teams; batches overlap, so the same team is often accepted twice at once.
        jobs = [("POST", url, tokens[i % len(tokens)],
                 {"application_ids": [apps[i].id, apps[(i + 1) % teams].id], "decision": "accept"})
                for i in range(teams)]
        results = fire_together(jobs)
    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 409}, results[:3]
    assert all(body["error"]["code"] == "pitch_slots_full" for status, body in results if status == 409)
    db.session.expire_all()
    assert pitching.accepted_count(event.id) == capacity
    assert pitching.accepted_count(event.id) == db.session.scalar(
        sa.select(sa.func.count()).select_from(PitchApplication)
        .where(PitchApplication.event_id == event.id, PitchApplication.status == "accepted"))
    assert 200 in statuses


def test_parallel_double_taps_make_one_application(app, roadshow, founders):
    event, (founder,) = roadshow(), founders(1)
    token = token_for(founder)
    with live_server(app) as base:
        url = f"{base}/api/v1/events/{event.id}/pitch-applications"
        results = fire_together([("POST", url, token, VALID)] * 8)
    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert len({body["id"] for _, body in results}) == 1
    db.session.expire_all()
    assert count() == 1


# ---- the JSON API ---------------------------------------------------------------------------------------------------

def test_api_apply_read_edit_withdraw(client, roadshow, founders):
    event = roadshow()
    founder, other = founders(2)
    token, other_token = token_for(founder), token_for(other)
    url = f"/api/v1/events/{event.id}/pitch-applications"

    created = client.post(url, json=VALID, headers=bearer(token))
    assert created.status_code == 201, created.json
    body = created.json
    assert body["status"] == "submitted" and body["stage_label"] and body["slot"] is None
    assert body["applicant"]["name"] == "创始人0" and "phone" not in str(body)
    again = client.post(url, json=VALID, headers=bearer(token))
    assert (again.status_code, again.json["id"]) == (200, body["id"])

    item = f"/api/v1/pitch-applications/{body['id']}"
    assert client.get(item, headers=bearer(token)).status_code == 200
    assert client.get(item, headers=bearer(other_token)).status_code == 403
    assert client.get(item).status_code == 401
    assert client.patch(item, json={"one_liner": "冒名"}, headers=bearer(other_token)).status_code == 403
    assert client.delete(item, headers=bearer(other_token)).status_code == 403

    changed = client.patch(item, json={"one_liner": "更新后的一句话", "team": []}, headers=bearer(token))
    assert changed.status_code == 200 and changed.json["one_liner"] == "更新后的一句话" and changed.json["team"] == []
    bad = client.patch(item, json={"deck_url": "javascript:alert(1)", "project_name": ""}, headers=bearer(token))
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_pitch_application"
    assert set(bad.json["error"]["details"]["fields"]) == {"deck_url", "project_name"}

    mine = client.get("/api/v1/me/pitch-applications", headers=bearer(token)).json
    assert [a["id"] for a in mine] == [body["id"]] and mine[0]["event_title"] == event.title
    assert client.get("/api/v1/me/pitch-applications", headers=bearer(other_token)).json == []

    withdrawn = client.delete(item, headers=bearer(token))
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"


@pytest.mark.parametrize("body, status, code", [
    ({**VALID, "deck_url": "ftp://x.cn/deck"}, 400, "invalid_pitch_application"),
    ({**VALID, "project_name": "长" * 121}, 400, "invalid_pitch_application"),
    ({**VALID, "team": [{"name": "林晓舟", "role": "CEO", "phone": "13800000000"}]}, 422, "invalid_input"),
    ({**VALID, "surprise": 1}, 422, "invalid_input"),
    ({**VALID, "one_liner": 5}, 422, "invalid_input"),
])
def test_api_bad_input_gets_clear_codes(client, roadshow, founders, body, status, code):
    event, (founder,) = roadshow(), founders(1)
    response = client.post(f"/api/v1/events/{event.id}/pitch-applications", json=body,
                           headers=bearer(token_for(founder)))
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert count() == 0


def test_api_closed_and_wrong_kind(client, roadshow, create_event, founders):
    (founder,) = founders(1)
    token = token_for(founder)
    closed, salon = roadshow(pitch_applications_open=False), create_event(kind="salon")
    for event, code in ((closed, "applications_closed"), (salon, "not_a_roadshow")):
        response = client.post(f"/api/v1/events/{event.id}/pitch-applications", json=VALID, headers=bearer(token))
        assert (response.status_code, response.json["error"]["code"]) == (409, code)
    assert client.post("/api/v1/events/999999/pitch-applications", json=VALID,
                       headers=bearer(token)).status_code == 404
    assert client.post(f"/api/v1/events/{closed.id}/pitch-applications", json=VALID).status_code == 401


def test_api_errors_speak_chinese(client, roadshow, founders):
    event, (founder,) = roadshow(pitch_applications_open=False), founders(1)
    response = client.post(f"/api/v1/events/{event.id}/pitch-applications", json=VALID,
                           headers={**bearer(token_for(founder)), "Accept-Language": "zh-CN"})
    assert response.json["error"]["code"] == "applications_closed"
    assert response.json["error"]["message"] == "本场路演申请已截止。"


def test_api_review_decide_and_line_up(client, roadshow, founders, organizer):
    event = roadshow(pitch_slots_capacity=2)
    apps = applications_for(event, founders(3))
    org, founder_token = token_for(organizer), token_for(apps[0].applicant)
    base = f"/api/v1/events/{event.id}"

    assert client.get(f"{base}/pitch-applications", headers=bearer(founder_token)).status_code == 403
    listed = client.get(f"{base}/pitch-applications", headers=bearer(org))
    assert listed.status_code == 200 and [a["id"] for a in listed.json] == [a.id for a in apps]
    assert client.get(f"{base}/pitch-applications?status=maybe", headers=bearer(org)).status_code == 422
    denied = client.post(f"{base}/pitch-applications/decisions", headers=bearer(founder_token),
                         json={"application_ids": [apps[0].id], "decision": "accept"})
    assert denied.status_code == 403

    full = client.post(f"{base}/pitch-applications/decisions", headers=bearer(org),
                       json={"application_ids": [a.id for a in apps], "decision": "accept", "note": "恭喜入选"})
    assert full.status_code == 409 and full.json["error"]["code"] == "pitch_slots_full"
    assert full.json["error"]["details"]["slots_left"] == 2
    decided = client.post(f"{base}/pitch-applications/decisions", headers=bearer(org),
                          json={"application_ids": [apps[1].id, apps[0].id], "decision": "accept",
                                "note": "恭喜入选"})
    assert decided.status_code == 200 and [a["status"] for a in decided.json] == ["accepted", "accepted"]
    assert client.get(f"{base}/pitch-applications?status=accepted", headers=bearer(org)).json[0]["review_note"] \
        == "恭喜入选"

    start = event.starts_at.isoformat()
    assert client.put(f"{base}/lineup", headers=bearer(founder_token),
                      json={"application_ids": [apps[0].id], "starts_at": start, "slot_minutes": 10}).status_code \
        == 403
    bad = client.put(f"{base}/lineup", headers=bearer(org),
                     json={"application_ids": [apps[0].id, apps[2].id], "starts_at": start, "slot_minutes": 10})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_lineup"
    assert "slots.1" in bad.json["error"]["details"]["fields"]
    naive = client.put(f"{base}/lineup", headers=bearer(org),
                       json={"application_ids": [apps[0].id], "starts_at": "2030-01-01T14:00:00", "slot_minutes": 10})
    assert naive.status_code == 400 and "starts_at" in naive.json["error"]["details"]["fields"]
    assert client.put(f"{base}/lineup", headers=bearer(org), json={"starts_at": start}).status_code == 422

    grid = client.put(f"{base}/lineup", headers=bearer(org), json={
        "application_ids": [apps[1].id, apps[0].id], "starts_at": start, "slot_minutes": 12, "gap_minutes": 3})
    assert grid.status_code == 200, grid.json
    assert [s["application_id"] for s in grid.json["slots"]] == [apps[1].id, apps[0].id]
    assert grid.json["published"] is False

    s = event.starts_at
    explicit = client.put(f"{base}/lineup", headers=bearer(org), json=[  # a bare ordered list works too
        {"application_id": apps[0].id, "starts_at": s.isoformat(), "ends_at": (s + timedelta(minutes=8)).isoformat()},
        {"application_id": apps[1].id, "starts_at": (s + timedelta(minutes=10)).isoformat(),
         "ends_at": (s + timedelta(minutes=20)).isoformat()}])
    assert explicit.status_code == 200 and [x["position"] for x in explicit.json["slots"]] == [1, 2]

    public = client.get(f"{base}/lineup")
    assert public.status_code == 200 and public.json == {"event_id": event.id, "published": False, "slots": []}
    assert client.post(f"{base}/lineup/publish", headers=bearer(founder_token)).status_code == 403
    assert client.post(f"{base}/lineup/publish", headers=bearer(org)).json["published"] is True

    public = client.get(f"{base}/lineup")
    assert public.json["published"] is True
    first = public.json["slots"][0]
    assert (first["project_name"], first["one_liner"]) == (apps[0].project_name, apps[0].one_liner)
    assert first["starts_at"] and first["ends_at"]
    text = public.get_data(as_text=True)
    assert apps[0].applicant.phone not in text and apps[0].applicant.phone[3:] not in text

    mine = client.get(f"/api/v1/pitch-applications/{apps[0].id}", headers=bearer(founder_token)).json
    assert mine["slot"]["position"] == 1 and mine["slot"]["published"] is True
    assert client.post(f"{base}/lineup/unpublish", headers=bearer(org)).json["published"] is False
    assert client.get(f"{base}/lineup").json["slots"] == []
    assert client.get(f"/api/v1/pitch-applications/{apps[0].id}", headers=bearer(founder_token)).json["slot"] is None


def test_api_cookie_writes_need_the_csrf_token(client, roadshow, founders):
    event, (founder,) = roadshow(), founders(1)
    sign_in(client, founder)
    url = f"/api/v1/events/{event.id}/pitch-applications"
    assert client.post(url, json=VALID).status_code == 400
    assert client.post(url, json=VALID, headers={"X-CSRFToken": csrf_token_from(client)}).status_code == 201


def test_the_openapi_document_describes_pitching(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/events/{event_id}/pitch-applications", "/api/v1/me/pitch-applications",
                 "/api/v1/pitch-applications/{application_id}",
                 "/api/v1/events/{event_id}/pitch-applications/decisions",
                 "/api/v1/events/{event_id}/lineup", "/api/v1/events/{event_id}/lineup/publish",
                 "/api/v1/events/{event_id}/lineup/unpublish"):
        assert path in paths, path


# ---- pages --------------------------------------------------------------------------------------------------------

def test_the_apply_form_keeps_what_was_typed_and_names_the_mistakes(client, roadshow, founders):
    event, (founder,) = roadshow(), founders(1)
    sign_in(client, founder)
    page = f"/events/{event.id}/pitch/apply"
    form = client.get(page)
    assert form.status_code == 200 and 'value="AI 公司0"' in form.get_data(as_text=True)  # from the profile
    token = csrf_token_from(client, page)
    response = client.post(page, data={"csrf_token": token, "project_name": "<i>灵犀</i>", "one_liner": "医疗影像 AI",
                                       "stage": "", "deck_url": "javascript:alert(1)",
                                       "team-0-name": "孙雨桐", "team-0-role": "联合创始人",
                                       "team-1-name": "", "team-1-role": "算法负责人"},
                           headers={"Accept-Language": "zh-CN"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and count() == 0
    assert 'value="&lt;i&gt;灵犀&lt;/i&gt;"' in html and "医疗影像 AI" in html and "javascript:alert(1)" in html
    assert "孙雨桐" in html and "算法负责人" in html
    assert html.count('class="field-error"') == 3  # stage, deck link, the member without a name

    more = client.post(page, data={"csrf_token": token, "project_name": "灵犀", "add_member": "1",
                                   "team-0-name": "孙雨桐", "team-0-role": ""})
    assert more.get_data(as_text=True).count('name="team-') == 4 and count() == 0  # two rows, nothing saved

    done = client.post(page, data={"csrf_token": token, "project_name": "<i>灵犀</i>", "one_liner": "医疗影像 AI",
                                   "stage": "angel", "team-0-name": "孙雨桐", "team-0-role": "联合创始人",
                                   "team-1-name": "", "team-1-role": ""})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/events/{event.id}/pitch/mine")
    application = db.session.scalars(sa.select(PitchApplication)).one()
    assert application.team == [{"name": "孙雨桐", "role": "联合创始人"}] and application.stage == "angel"
    status = client.get(f"/events/{event.id}/pitch/mine").get_data(as_text=True)
    assert "&lt;i&gt;灵犀&lt;/i&gt;" in status and "<i>灵犀</i>" not in status


def test_the_event_page_shows_the_published_line_up_escaped(client, roadshow, founders, organizer):
    event = roadshow()
    (application,) = applications_for(event, founders(1))
    pitching.update_application(application.id, application.applicant, now=utcnow(),
                                project_name="<img src=x onerror=alert(1)>")
    pitching.decide_applications(event.id, [application.id], organizer, decision="accept", now=utcnow())
    pitching.set_lineup(event.id, organizer, now=utcnow(), application_ids=[application.id],
                        starts_at=event.starts_at, slot_minutes=10, gap_minutes=0)
    db.session.commit()
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'data-testid="pitch-panel"' in html and 'data-testid="pitch-lineup"' not in html  # not yet published
    pitching.publish_lineup(event.id, organizer, now=utcnow())
    db.session.commit()
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert 'data-testid="pitch-lineup"' in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html and application.applicant.phone not in html


def test_the_event_page_offers_to_apply_only_when_open(client, roadshow, create_event, founders):
    (founder,) = founders(1)
    sign_in(client, founder)
    open_event, closed, salon = roadshow(), roadshow(pitch_applications_open=False), create_event(kind="salon")
    assert 'data-testid="apply-to-pitch"' in client.get(f"/events/{open_event.id}").get_data(as_text=True)
    assert 'data-testid="apply-to-pitch"' not in client.get(f"/events/{closed.id}").get_data(as_text=True)
    assert 'data-testid="pitch-panel"' not in client.get(f"/events/{salon.id}").get_data(as_text=True)
    assert client.get(f"/events/{closed.id}/pitch/apply").status_code == 200  # explains that it is closed
    apply(open_event, founder)
    html = client.get(f"/events/{open_event.id}").get_data(as_text=True)
    assert 'data-testid="my-pitch-status"' in html and 'data-testid="apply-to-pitch"' not in html


def test_a_newcomer_fills_in_the_profile_before_applying(client, roadshow, create_resident):
    event, newcomer = roadshow(), create_resident(profile=False)
    sign_in(client, newcomer)
    response = client.get(f"/events/{event.id}/pitch/apply")
    assert response.status_code == 302 and "/profile?next=" in response.headers["Location"]


def test_organizer_pages_refuse_others(client, roadshow, founders, organizer):
    event, (founder,) = roadshow(), founders(1)
    assert client.get(f"/events/{event.id}/pitch/review").status_code == 302  # to sign in
    sign_in(client, founder)
    for path in (f"/events/{event.id}/pitch/review", f"/events/{event.id}/pitch/lineup"):
        assert client.get(path).status_code == 403
    token = csrf_token_from(client)
    assert client.post(f"/events/{event.id}/pitch/lineup/publish", data={"csrf_token": token}).status_code == 403


def test_organizers_review_and_build_the_line_up_on_pages(client, roadshow, founders, organizer):
    event = roadshow(pitch_slots_capacity=2)
    apps = applications_for(event, founders(3))
    sign_in(client, organizer)
    review = f"/events/{event.id}/pitch/review"
    token = csrf_token_from(client, review)
    too_many = client.post(review, data={"csrf_token": token, "decision": "accept", "note": "恭喜",
                                         "application_ids": [str(a.id) for a in apps]})
    html = too_many.get_data(as_text=True)
    assert too_many.status_code == 200 and 'data-testid="form-error"' in html and "恭喜" in html
    assert html.count("checked") == 3 and pitching.accepted_count(event.id) == 0
    done = client.post(review, data={"csrf_token": token, "decision": "accept", "note": "恭喜",
                                     "application_ids": [str(apps[0].id), str(apps[1].id)]})
    assert done.status_code == 302 and pitching.accepted_count(event.id) == 2

    lineup = f"/events/{event.id}/pitch/lineup"
    page = client.get(lineup).get_data(as_text=True)
    assert 'name="starts_at"' in page and apps[0].project_name in page
    bad = client.post(lineup, data={"csrf_token": token, "starts_at": "明天下午", "slot_minutes": "十",
                                    "gap_minutes": "2", "order": [str(apps[0].id), str(apps[1].id)],
                                    "include": [str(apps[0].id)]})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "明天下午" in html and html.count('class="field-error"') == 2
    first = (event.starts_at + timedelta(minutes=1)).replace(second=0, microsecond=0)  # factories' times have seconds
    local_start = first.astimezone(ZoneInfo("Asia/Shanghai"))
    saved = client.post(lineup, data={"csrf_token": token, "starts_at": local_start.strftime("%Y-%m-%dT%H:%M"),
                                      "slot_minutes": "13", "gap_minutes": "2",
                                      "order": [str(apps[1].id), str(apps[0].id)],
                                      "include": [str(apps[0].id), str(apps[1].id)]})
    assert saved.status_code == 302
    db.session.expire_all()
    assert [(s.application_id, s.starts_at) for s in pitching.lineup(event.id)] == [
        (apps[1].id, first), (apps[0].id, first + timedelta(minutes=15))]
    assert client.post(f"{lineup}/down", data={"csrf_token": token, "application_id": apps[1].id}).status_code == 302
    assert client.post(f"{lineup}/publish", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert [s.application_id for s in pitching.published_lineup(event.id)] == [apps[0].id, apps[1].id]
