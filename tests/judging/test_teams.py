"""The competition's team applications: a team applies (members by mobile number, exactly one lead), every member
with an account sees, edits and may withdraw it, organizers review in bulk and export. Services, the JSON API and
the pages; SQLite and PostgreSQL (TEST_DATABASE=postgres)."""

from __future__ import annotations

import csv
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from openpyxl import load_workbook

from app.accounts.services import issue_api_token
from app.authz import scope_key
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from judging import signals, teams
from judging.models import Competition, TeamApplication, TeamMember
from tests.conftest import csrf_token_from, sign_in
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]

TRACKS = [{"key": "ai-manufacturing", "label": "AI+制造", "label_en": "AI + manufacturing"},
          {"key": "ai-health", "label": "AI+医疗", "label_en": "AI + healthcare"},
          {"key": "ai-infra", "label": "AI基础设施", "label_en": "AI infrastructure"},
          {"key": "embodied", "label": "具身智能", "label_en": "Embodied AI"}]

TEAMMATE_PHONE = "+8613912340001"
SECOND_TEAMMATE_PHONE = "+8613912340002"


# ---- factories ---------------------------------------------------------------------------------------------------

@pytest.fixture
def competition(create_event):
    def make(*, tracks=TRACKS, open_=True, close_at=None, event_status="published"):
        event = create_event(title="港科大百万元奖金创业大赛 · 决赛", kind="competition", capacity=300,
                             starts_in=timedelta(days=20), hours=8, status=event_status)
        item = Competition(name="港科大百万元奖金创业大赛", event_id=event.id, prize_pool_yuan=1_000_000,
                           tracks=list(tracks), applications_open=open_, applications_close_at=close_at)
        db.session.add(item)
        db.session.commit()
        return item
    return make


@pytest.fixture
def founders(create_resident):
    def make(n):
        return [create_resident(name=f"创始人{i}", company=f"AI 公司{i}") for i in range(n)]
    return make


def valid(**overrides):
    values = {
        "team_name": "星河智算",
        "track": "ai-infra",
        "project_name": "低成本私有化大模型推理",
        "project_summary": "为中小企业提供低成本、可私有化部署的大模型推理服务。\n已服务 12 家客户。",
        "members": [{"name": "赵一鸣", "phone": "139 1234 0001", "role": "CTO"},
                    {"name": "钱佳", "phone": "13912340002", "role": "COO"}],
    }
    values.update(overrides)
    return values


def apply(competition_, user, **overrides) -> TeamApplication:
    application, _ = teams.submit_application(competition_.id, user, now=utcnow(), **valid(**overrides))
    db.session.commit()
    return application


@contextmanager
def captured(*signal_list):
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


def count(model=TeamApplication) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def bearer(user) -> dict:
    token = issue_api_token(user, now=utcnow())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def zh(headers: dict | None = None) -> dict:
    return {**(headers or {}), "Accept-Language": "zh-CN"}


# ---- applying --------------------------------------------------------------------------------------------------

def test_a_founder_applies_with_two_teammates_and_becomes_the_lead(competition, founders):
    comp, (founder,) = competition(), founders(1)
    with captured(signals.team_application_submitted) as seen:
        application, created = teams.submit_application(comp.id, founder, now=utcnow(), **valid())
        db.session.commit()
    assert created and application.status == "submitted" and application.created_by_id == founder.id
    members = [(m.name, m.phone, m.role, m.is_lead, m.user_id) for m in application.members]
    assert members == [("创始人0", founder.phone, "", True, founder.id),
                       ("赵一鸣", TEAMMATE_PHONE, "CTO", False, None),
                       ("钱佳", SECOND_TEAMMATE_PHONE, "COO", False, None)]
    assert application.project_summary == "为中小企业提供低成本、可私有化部署的大模型推理服务。\n已服务 12 家客户。"
    assert seen == [("team-application-submitted", {
        "application_id": application.id, "competition_id": comp.id, "event_id": comp.event_id,
        "user_id": founder.id, "member_user_ids": [founder.id]})]


def test_a_double_submit_returns_the_same_application(competition, founders):
    comp, (founder,) = competition(), founders(1)
    first, created = teams.submit_application(comp.id, founder, now=utcnow(), **valid())
    db.session.commit()
    again, created_again = teams.submit_application(comp.id, founder, now=utcnow(),
                                                    **valid(team_name=" 星河智算 ", project_name="别的"))
    db.session.commit()
    assert (created, created_again) == (True, False) and again.id == first.id
    assert again.project_name == "低成本私有化大模型推理"
    assert count() == 1 and count(TeamMember) == 3


def test_members_with_accounts_are_linked_and_the_lead_can_be_someone_else(competition, founders, create_resident):
    comp, (founder,) = competition(), founders(1)
    cto = create_resident(phone=TEAMMATE_PHONE, name="赵一鸣")
    application = apply(comp, founder, members=[
        {"name": founder.name, "phone": founder.phone, "role": "CEO"},
        {"name": "赵一鸣", "phone": TEAMMATE_PHONE, "role": "CTO", "is_lead": True}])
    by_phone = {m.phone: m for m in application.members}
    assert by_phone[TEAMMATE_PHONE].user_id == cto.id and by_phone[TEAMMATE_PHONE].is_lead
    assert not by_phone[founder.phone].is_lead
    assert teams.member_user_ids(application) == sorted([founder.id, cto.id])


def test_a_solo_founder_needs_only_the_team_and_project(competition, founders):
    comp, (founder,) = competition(tracks=[]), founders(1)
    application = apply(comp, founder, members=None, track=None)
    assert [(m.phone, m.is_lead) for m in application.members] == [(founder.phone, True)]
    assert application.track == ""


def test_team_names_are_unique_per_competition_ignoring_case_and_spacing(competition, founders):
    comp, other = competition(), competition()
    a, b, c = founders(3)
    apply(comp, a, team_name="DeepFlow 深流", members=[])
    error = error_of(lambda: apply(comp, b, team_name="deepflow  深流", members=[]))
    assert (error.code, error.status) == ("team_name_taken", 409)
    assert "team_name" in error.details["fields"]
    assert apply(other, c, team_name="DeepFlow 深流", members=[]).competition_id == other.id
    assert count() == 2


def test_a_person_is_in_one_active_team_per_competition(competition, founders):
    comp, (a, b) = competition(), founders(2)
    first = apply(comp, a)
    error = error_of(lambda: apply(comp, a, team_name="另一支队伍", members=[]))
    assert (error.code, error.status) == ("already_in_team", 409)
    assert error.details["application_id"] == first.id
    error = error_of(lambda: apply(comp, b, team_name="第二支队伍", members=[
        {"name": "赵一鸣", "phone": "13912340001"}]))
    assert error.code == "already_in_team"
    assert error.details["fields"] == {"members.0.phone": "赵一鸣（139****0001）已在本届大赛的其他团队中。"}
    assert count() == 1 and count(TeamMember) == 3


def test_after_withdrawing_a_member_can_join_another_team_or_send_it_again(competition, founders):
    comp, (a, b) = competition(), founders(2)
    first = apply(comp, a)
    teams.withdraw_application(first.id, a, now=utcnow())
    db.session.commit()
    second = apply(comp, b, team_name="新队伍", members=[{"name": "赵一鸣", "phone": TEAMMATE_PHONE}])
    assert second.status == "submitted"
    again = apply(comp, a, members=[])  # the same team name, sent again by its member: the same row
    assert again.id == first.id and again.status == "submitted"
    assert [m.phone for m in again.members] == [a.phone]
    error = error_of(lambda: apply(comp, b, team_name="星河智算", members=[]))
    assert error.code in ("already_in_team", "team_name_taken")


def test_a_withdrawn_teams_name_stays_with_that_team(competition, founders):
    comp, (a, b) = competition(), founders(2)
    first = apply(comp, a, members=[])
    teams.withdraw_application(first.id, a, now=utcnow())
    db.session.commit()
    assert error_of(lambda: apply(comp, b, members=[])).code == "team_name_taken"


def test_applications_must_be_open(competition, founders):
    a, b, c, d = founders(4)
    assert error_of(lambda: apply(competition(open_=False), a)).code == "applications_closed"
    closed = competition(close_at=utcnow() - timedelta(minutes=1))
    assert error_of(lambda: apply(closed, b)).code == "applications_closed"
    assert error_of(lambda: apply(competition(event_status="cancelled"), c)).code == "event_cancelled"
    assert error_of(lambda: teams.submit_application(99999, d, now=utcnow(), **valid())).code == \
        "competition_not_found"
    assert count() == 0 and count(TeamMember) == 0


def test_an_incomplete_profile_is_asked_for_first(competition, create_resident):
    comp, newcomer = competition(), create_resident(profile=False)
    assert error_of(lambda: apply(comp, newcomer)).code == "profile_incomplete"


@pytest.mark.parametrize("overrides, field, reason", [
    ({"team_name": ""}, "team_name", "required"),
    ({"team_name": "队" * 61}, "team_name", "too_long"),
    ({"team_name": 42}, "team_name", "not_text"),
    ({"project_name": "  "}, "project_name", "required"),
    ({"project_name": "项" * 121}, "project_name", "too_long"),
    ({"project_summary": "字" * 2001}, "project_summary", "too_long"),
    ({"track": None}, "track", "required"),
    ({"track": "blockchain"}, "track", "unknown_track"),
    ({"members": [{"name": "赵一鸣", "phone": "12345"}]}, "members.0.phone", "invalid_phone"),
    ({"members": [{"name": "赵一鸣", "phone": "+861012345678"}]}, "members.0.phone", "invalid_phone"),  # landline
    ({"members": [{"name": "赵一鸣", "phone": ""}]}, "members.0.phone", "required"),
    ({"members": [{"name": "", "phone": TEAMMATE_PHONE}]}, "members.0.name", "required"),
    ({"members": [{"name": "名" * 81, "phone": TEAMMATE_PHONE}]}, "members.0.name", "too_long"),
    ({"members": [{"name": "赵一鸣", "phone": TEAMMATE_PHONE, "role": "职" * 41}]}, "members.0.role", "too_long"),
    ({"members": [{"name": "赵一鸣", "phone": TEAMMATE_PHONE}, {"name": "赵二鸣", "phone": "139-1234-0001"}]},
     "members.1.phone", "duplicate_phone"),
    ({"members": [{"name": f"成员{i}", "phone": f"+86139123400{i:02d}"} for i in range(8)]},
     "members", "too_many_members"),  # 8 teammates + the founder = 9
    ({"members": [{"name": f"成员{i}", "phone": f"+86139123400{i:02d}"} for i in range(9)]},
     "members", "too_many_members"),
    ({"members": [{"name": "赵一鸣", "phone": TEAMMATE_PHONE, "is_lead": True},
                  {"name": "钱佳", "phone": SECOND_TEAMMATE_PHONE, "is_lead": True}]}, "members", "lead_multiple"),
    ({"members": "赵一鸣"}, "members", "not_a_list"),
    ({"members": [{"name": "赵一鸣", "phone": TEAMMATE_PHONE, "is_lead": "yes"}]}, "members.0.is_lead",
     "not_a_choice"),
    ({"members": [{"id": 1, "name": "赵一鸣"}]}, "members.0.id", "unknown_member"),
])
def test_bad_input_is_refused_with_a_reason_and_nothing_is_written(competition, founders, overrides, field, reason):
    comp, (founder,) = competition(), founders(1)
    error = error_of(lambda: apply(comp, founder, **overrides))
    assert (error.code, error.status) == ("invalid_team_application", 400)
    assert error.details["reasons"][field] == reason, error.details
    assert field in error.details["fields"]
    assert count() == 0 and count(TeamMember) == 0


def test_no_lead_is_refused_when_the_founder_is_listed_without_one(competition, founders):
    comp, (founder,) = competition(), founders(1)
    error = error_of(lambda: apply(comp, founder, members=[
        {"name": founder.name, "phone": founder.phone}, {"name": "赵一鸣", "phone": TEAMMATE_PHONE}]))
    assert error.details["reasons"] == {"members": "lead_missing"}
    assert count() == 0


def test_html_and_control_characters_stay_text(competition, founders):
    comp, (founder,) = competition(), founders(1)
    application = apply(comp, founder, team_name="  <script>alert(1)</script>\x00 ",
                        project_summary="<b>大模型</b>\r\n\r\n\r\n\r\n第二段\x07", members=[
                            {"name": " <i>赵</i>  一鸣 ", "phone": TEAMMATE_PHONE}])
    assert application.team_name == "<script>alert(1)</script>"
    assert application.project_summary == "<b>大模型</b>\n\n第二段"
    assert application.members[1].name == "<i>赵</i> 一鸣"


# ---- the team owns it -------------------------------------------------------------------------------------------

def test_a_second_member_can_edit_and_a_stranger_cannot(competition, founders, create_resident):
    comp, (founder, stranger) = competition(), founders(2)
    cto = create_resident(phone=TEAMMATE_PHONE, name="赵一鸣")
    application = apply(comp, founder)
    ids = {m.phone: m.id for m in application.members}
    updated = teams.update_application(application.id, cto, now=utcnow(), project_name="推理加速云", members=[
        {"id": ids[founder.phone], "name": "创始人0", "role": "CEO", "is_lead": True},
        {"id": ids[TEAMMATE_PHONE], "name": "赵一鸣", "role": "CTO & 联合创始人"},
        {"name": "孙九", "phone": "+8613912340009", "role": "算法"}])
    db.session.commit()
    assert updated.project_name == "推理加速云"
    assert sorted((m.name, m.phone, m.role, m.is_lead) for m in updated.members) == sorted([
        ("创始人0", founder.phone, "CEO", True), ("赵一鸣", TEAMMATE_PHONE, "CTO & 联合创始人", False),
        ("孙九", "+8613912340009", "算法", False)])
    assert error_of(lambda: teams.update_application(application.id, stranger, now=utcnow(),
                                                     project_name="抢走")).code == "team_application_not_found"
    assert error_of(lambda: teams.withdraw_application(application.id, stranger, now=utcnow())).status == 404
    assert db.session.get(TeamApplication, application.id).project_name == "推理加速云"


def test_a_member_cannot_remove_themself_and_phones_can_be_corrected(competition, founders):
    comp, (founder,) = competition(), founders(1)
    application = apply(comp, founder)
    ids = {m.phone: m.id for m in application.members}
    error = error_of(lambda: teams.update_application(application.id, founder, now=utcnow(), members=[
        {"id": ids[TEAMMATE_PHONE], "name": "赵一鸣", "is_lead": True}]))
    assert error.details["reasons"] == {"members": "self_removed"}
    teams.update_application(application.id, founder, now=utcnow(), members=[
        {"id": ids[founder.phone], "name": "创始人0", "is_lead": True},
        {"id": ids[TEAMMATE_PHONE], "name": "赵一鸣", "phone": SECOND_TEAMMATE_PHONE},
        {"id": ids[SECOND_TEAMMATE_PHONE], "name": "钱佳", "phone": TEAMMATE_PHONE}])  # swapped numbers
    db.session.commit()
    phones = {m.name: m.phone for m in db.session.get(TeamApplication, application.id).members}
    assert phones == {"创始人0": founder.phone, "赵一鸣": SECOND_TEAMMATE_PHONE, "钱佳": TEAMMATE_PHONE}


def test_a_member_who_signs_up_later_sees_the_team(competition, founders, create_resident):
    comp, (founder,) = competition(), founders(1)
    application = apply(comp, founder)
    assert application.members[1].user_id is None
    cto = create_resident(phone=TEAMMATE_PHONE, name="赵一鸣")  # signs up after being added
    assert [a.id for a in teams.applications_of_user(cto)] == [application.id]
    assert teams.application_of(comp.id, cto).id == application.id
    assert teams.link_member_accounts(cto) == 1
    db.session.commit()
    assert db.session.get(TeamMember, application.members[1].id).user_id == cto.id
    assert teams.link_member_accounts(cto) == 0


def test_editing_stops_once_decided_and_withdrawing_twice_is_harmless(competition, founders, create_resident):
    comp, (founder,) = competition(), founders(1)
    organizer = create_resident(name="黄蕾", roles=[("organizer", scope_key("competition", comp.id))])
    application = apply(comp, founder)
    teams.decide_applications(comp.id, [application.id], organizer, decision="accept", now=utcnow())
    db.session.commit()
    assert error_of(lambda: teams.update_application(application.id, founder, now=utcnow(),
                                                     project_name="改")).code == "application_not_editable"
    with captured(signals.team_application_withdrawn) as seen:
        teams.withdraw_application(application.id, founder, now=utcnow())
        teams.withdraw_application(application.id, founder, now=utcnow())
        db.session.commit()
    assert db.session.get(TeamApplication, application.id).status == "withdrawn"
    assert [kwargs["previous_status"] for _, kwargs in seen] == ["accepted"]


def test_editing_into_a_taken_name_or_a_busy_member_is_refused(competition, founders):
    comp, (a, b) = competition(), founders(2)
    apply(comp, a)
    mine = apply(comp, b, team_name="灵犀医疗", members=[])
    assert error_of(lambda: teams.update_application(mine.id, b, now=utcnow(), team_name="星河智算")).code == \
        "team_name_taken"
    error = error_of(lambda: teams.update_application(mine.id, b, now=utcnow(), members=[
        {"id": mine.members[0].id, "name": "创始人1", "is_lead": True},
        {"name": "赵一鸣", "phone": TEAMMATE_PHONE}]))
    assert error.code == "already_in_team" and "members.1.phone" in error.details["fields"]


# ---- organizers ------------------------------------------------------------------------------------------------

def test_organizers_filter_decide_in_bulk_and_count_per_track(competition, founders, create_resident):
    comp = competition()
    organizer = create_resident(name="黄蕾", roles=[("organizer", scope_key("competition", comp.id))])
    people = founders(4)
    made = [apply(comp, person, team_name=f"队伍{i}", track=track, members=[])
            for i, (person, track) in enumerate(zip(people, ["ai-health", "ai-health", "embodied", "ai-infra"],
                                                    strict=True))]
    health = teams.list_applications(comp.id, organizer, track="ai-health")
    assert [a.id for a in health] == [made[0].id, made[1].id]
    with captured(signals.team_application_decided) as seen:
        teams.decide_applications(comp.id, [made[0].id, made[2].id], organizer, decision="accept",
                                  note="恭喜进入初赛，请按时提交材料。", now=utcnow())
        teams.decide_applications(comp.id, [made[1].id], organizer, decision="decline", now=utcnow())
        teams.decide_applications(comp.id, [made[0].id], organizer, decision="accept", now=utcnow())  # again
        db.session.commit()
    assert [(k["application_id"], k["status"], k["previous_status"]) for _, k in seen] == [
        (made[0].id, "accepted", "submitted"), (made[2].id, "accepted", "submitted"),
        (made[1].id, "declined", "submitted")]
    assert seen[0][1]["member_user_ids"] == [people[0].id] and seen[0][1]["note"] == "恭喜进入初赛，请按时提交材料。"
    assert [a.id for a in teams.list_applications(comp.id, organizer, status="accepted")] == [made[0].id, made[2].id]
    assert [a.id for a in teams.list_applications(comp.id, organizer, track="ai-health", status="declined")] == \
        [made[1].id]
    by_track = {row["track"]: (row["counts"]["submitted"], row["counts"]["accepted"], row["total"])
                for row in teams.counts_by_track(comp)}
    assert by_track == {"ai-manufacturing": (0, 0, 0), "ai-health": (0, 1, 2), "ai-infra": (1, 0, 1),
                        "embodied": (0, 1, 1)}
    assert teams.application_counts(comp.id) == {"submitted": 1, "accepted": 2, "declined": 1, "withdrawn": 0}


def test_a_batch_is_all_or_nothing(competition, founders, create_resident):
    comp, other = competition(), competition()
    organizer = create_resident(name="王珂", roles=["organizer"])
    a, b, c = founders(3)
    first, second = apply(comp, a, team_name="一队", members=[]), apply(comp, b, team_name="二队", members=[])
    elsewhere = apply(other, c, team_name="外队", members=[])
    teams.withdraw_application(second.id, b, now=utcnow())
    db.session.commit()
    error = error_of(lambda: teams.decide_applications(comp.id, [first.id, second.id], organizer, decision="accept",
                                                        now=utcnow()))
    assert (error.code, error.details["application_id"]) == ("application_withdrawn", second.id)
    assert error_of(lambda: teams.decide_applications(comp.id, [first.id, elsewhere.id], organizer,
                                                      decision="accept", now=utcnow())).status == 404
    assert error_of(lambda: teams.decide_applications(comp.id, [first.id], organizer, decision="maybe",
                                                      now=utcnow())).code == "invalid_decision"
    assert error_of(lambda: teams.decide_applications(comp.id, [first.id], organizer, decision="accept",
                                                      note="长" * 501, now=utcnow())).code == "invalid_decision"
    assert db.session.get(TeamApplication, first.id).status == "submitted"


def test_only_the_competitions_organizers_review(competition, founders, create_resident):
    comp, other = competition(), competition()
    (founder,) = founders(1)
    application = apply(comp, founder, members=[])
    scoped = create_resident(roles=[("organizer", scope_key("competition", comp.id))])
    event_scoped = create_resident(roles=[("organizer", scope_key("event", comp.event_id))])
    elsewhere = create_resident(roles=[("organizer", scope_key("competition", other.id))])
    for person in (scoped, event_scoped):
        assert [a.id for a in teams.list_applications(comp.id, person)] == [application.id]
        teams.authorize_view(person, application)
    for person in (founder, elsewhere):
        assert error_of(lambda p=person: teams.list_applications(comp.id, p)).status == 403
        assert error_of(lambda p=person: teams.decide_applications(comp.id, [application.id], p, decision="accept",
                                                                   now=utcnow())).status == 403
    assert error_of(lambda: teams.authorize_view(elsewhere, application)).status == 404


def test_tracks_may_be_plain_names_and_malformed_entries_are_skipped(competition, founders):
    comp = competition(tracks=["AI+制造", {"label": "没有 key"}, 42, {"key": "embodied", "label": "具身智能"}])
    (founder,) = founders(1)
    assert [(t["key"], t["label"]) for t in teams.tracks_of(comp)] == [("AI+制造", "AI+制造"), ("embodied", "具身智能")]
    assert apply(comp, founder, track="AI+制造", members=[]).track == "AI+制造"


def test_open_competitions_are_listed_with_their_tracks(competition):
    shown = competition()
    competition(open_=False)
    competition(close_at=utcnow() - timedelta(hours=1))
    competition(event_status="draft")
    assert [c.id for c in teams.open_competitions(now=utcnow())] == [shown.id]


def test_concurrent_submits_keep_names_unique_and_people_in_one_team(app, competition, founders, create_resident):
    """Real threads over HTTP: eight founders race for one team name, and eight more name the same teammate."""
    comp = competition()
    racers = founders(16)
    headers = [bearer(person) for person in racers]
    comp_id = comp.id
    db.session.rollback()

    def post(index):
        body = valid(team_name="同名队伍" if index < 8 else f"队伍{index}", members=[] if index < 8 else [
            {"name": "抢手的 CTO", "phone": TEAMMATE_PHONE}])
        return requests.post(f"{base}/api/v1/competitions/{comp_id}/team-applications", json=body,
                             headers=headers[index], timeout=30)

    with live_server(app) as base, ThreadPoolExecutor(max_workers=16) as pool:
        barrier = threading.Barrier(16)

        def go(index):
            barrier.wait()
            return post(index)
        responses = list(pool.map(go, range(16)))
    codes = sorted(r.status_code for r in responses)
    assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses if r.status_code >= 500]
    assert codes.count(201) == 2
    errors = sorted(r.json()["error"]["code"] for r in responses if r.status_code == 409)
    assert errors == ["already_in_team"] * 7 + ["team_name_taken"] * 7
    holders = db.session.scalars(sa.select(TeamMember.phone).where(TeamMember.phone == TEAMMATE_PHONE)).all()
    assert len(holders) == 1 and count() == 2


# ---- the JSON API -----------------------------------------------------------------------------------------------

def test_api_apply_retry_view_edit_withdraw(client, competition, founders, create_resident):
    comp, (founder, stranger) = competition(), founders(2)
    auth = bearer(founder)
    url = f"/api/v1/competitions/{comp.id}/team-applications"
    created = client.post(url, json=valid(), headers=auth)
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["team_name"], body["track"], body["track_label"], body["status"]) == \
        ("星河智算", "ai-infra", "AI基础设施", "submitted")
    assert [(m["name"], m["phone"], m["is_lead"], m["is_me"]) for m in body["members"]] == [
        ("创始人0", founder.phone, True, True), ("赵一鸣", "139****0001", False, False),
        ("钱佳", "139****0002", False, False)]
    assert body["can_edit"] and body["can_withdraw"]
    again = client.post(url, json=valid(), headers=auth)
    assert (again.status_code, again.json["id"]) == (200, body["id"])

    cto = create_resident(phone=TEAMMATE_PHONE, name="赵一鸣")
    cto_auth = bearer(cto)
    mine = client.get("/api/v1/me/team-applications", headers=cto_auth)
    assert [a["id"] for a in mine.json] == [body["id"]] and mine.json[0]["competition_name"] == comp.name
    item = f"/api/v1/team-applications/{body['id']}"
    seen_by_cto = client.get(item, headers=cto_auth).json
    assert [(m["phone"], m["is_me"], m["has_account"]) for m in seen_by_cto["members"]] == [
        ("139****" + founder.phone[-4:], False, True), (TEAMMATE_PHONE, True, True), ("139****0002", False, False)]
    members = [{"id": m["id"], "name": m["name"], "role": m["role"], "is_lead": m["is_lead"]}
               for m in seen_by_cto["members"]][:2]
    edited = client.patch(item, json={"project_summary": "<img src=x onerror=alert(1)>", "members": members},
                          headers=cto_auth)
    assert edited.status_code == 200, edited.json
    assert edited.json["project_summary"] == "<img src=x onerror=alert(1)>" and len(edited.json["members"]) == 2

    assert client.get(item, headers=bearer(stranger)).status_code == 404
    assert client.patch(item, json={"team_name": "x"}, headers=bearer(stranger)).status_code == 404
    assert client.delete(item, headers=bearer(stranger)).status_code == 404
    assert client.get(item).status_code == 401
    withdrawn = client.delete(item, headers=auth)
    assert (withdrawn.status_code, withdrawn.json["status"], withdrawn.json["can_edit"]) == (200, "withdrawn", False)
    assert client.delete(item, headers=auth).status_code == 200


def test_api_errors_have_codes_in_the_callers_language(client, competition, founders):
    comp, (founder,) = competition(), founders(1)
    auth = zh(bearer(founder))
    url = f"/api/v1/competitions/{comp.id}/team-applications"
    bad = client.post(url, json=valid(members=[{"name": "赵一鸣", "phone": "1391234"}]), headers=auth)
    assert bad.status_code == 400
    assert bad.json["error"]["code"] == "invalid_team_application"
    assert bad.json["error"]["details"]["reasons"] == {"members.0.phone": "invalid_phone"}
    assert bad.json["error"]["message"] == "请修改标出的字段。"
    assert bad.json["error"]["details"]["fields"]["members.0.phone"] == "第 1 位成员：手机号码无效。"
    nine = client.post(url, json=valid(members=[{"name": f"成员{i}", "phone": f"+86139123400{i:02d}"}
                                                for i in range(9)]), headers=auth)
    assert nine.json["error"]["details"]["reasons"] == {"members": "too_many_members"}
    assert client.post(url, json={**valid(), "extra": 1}, headers=auth).status_code == 422
    assert client.post(url, json=valid(members=[{"name": "赵一鸣", "phone": 13912340001}]),
                       headers=auth).status_code == 422
    assert client.post(url, data="{", headers={**auth, "Content-Type": "application/json"}).json["error"]["code"] == \
        "invalid_json"
    huge = client.post(url, json=valid(project_summary="字" * 400_000), headers=auth)
    assert (huge.status_code, huge.json["error"]["code"]) == (413, "payload_too_large")
    assert client.post("/api/v1/competitions/99999/team-applications", json=valid(),
                       headers=auth).json["error"]["code"] == "competition_not_found"
    assert client.post(url, json=valid(), headers={"Accept-Language": "zh-CN"}).status_code == 401
    assert count() == 0 and count(TeamMember) == 0


def test_api_open_competitions(client, competition):
    comp = competition()
    competition(open_=False)
    listed = client.get("/api/v1/competitions", headers={"Accept-Language": "en"}).json
    assert [c["id"] for c in listed] == [comp.id]
    assert listed[0]["tracks"][0] == {"key": "ai-manufacturing", "label": "AI + manufacturing"}
    assert listed[0]["applications_open"] is True
    assert client.get("/api/v1/competitions", headers=zh()).json[0]["tracks"][1]["label"] == "AI+医疗"


def test_api_organizer_review_counts_and_export(client, competition, founders, create_resident):
    comp = competition()
    organizer = create_resident(name="黄蕾", roles=[("organizer", scope_key("competition", comp.id))])
    a, b = founders(2)
    first = apply(comp, a, project_summary="=HYPERLINK(\"http://evil\")\n第二行")
    second = apply(comp, b, team_name="灵犀医疗", track="ai-health", members=[])
    auth = zh(bearer(organizer))
    base = f"/api/v1/competitions/{comp.id}/team-applications"

    listed = client.get(f"{base}?track=ai-health", headers=auth)
    assert [x["id"] for x in listed.json] == [second.id]
    assert client.get(f"{base}?track=nope", headers=auth).json["error"]["code"] == "invalid_filter"
    assert client.get(f"{base}?status=nope", headers=auth).status_code == 422
    full = client.get(base, headers=auth).json
    assert full[0]["members"][1]["phone"] == TEAMMATE_PHONE  # organizers see whole numbers
    assert client.get(base, headers=bearer(a)).status_code == 403

    decided = client.post(f"{base}/decisions", json={"application_ids": [first.id], "decision": "accept",
                                                     "note": "恭喜进入初赛"}, headers=auth)
    assert decided.status_code == 200 and decided.json[0]["status"] == "accepted"
    assert client.post(f"{base}/decisions", json={"application_ids": [], "decision": "accept"},
                       headers=auth).status_code == 422
    counts = client.get(f"{base}/counts", headers=auth).json
    assert counts["counts"] == {"submitted": 1, "accepted": 1, "declined": 0, "withdrawn": 0}
    assert {t["track"]: t["total"] for t in counts["tracks"]}["ai-health"] == 1
    assert client.get(f"/api/v1/team-applications/{first.id}", headers=bearer(a)).json["review_note"] == "恭喜进入初赛"

    csv_response = client.get(f"{base}/export?format=csv", headers=auth)
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert csv_response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]  # said once (issue 23)
    assert "attachment" in csv_response.headers["Content-Disposition"]
    raw = csv_response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["申请编号", "团队名称", "赛道", "项目名称"]
    assert len(rows) == 1 + 3 + 1  # three members of the first team, one of the second
    lead = next(r for r in rows[1:] if r[1] == "星河智算" and r[-2] == "是")
    assert lead[2] == "AI基础设施" and lead[5] == "已入选" and lead[4].startswith("'=HYPERLINK")
    # numbers as people write them, which Excel and WPS keep as text (not 8.61E+12, not a formula)
    assert {r[9] for r in rows[1:]} >= {"139 1234 0001", "139 1234 0002"}

    xlsx = client.get(f"{base}/export?format=xlsx&track=ai-health", headers=auth)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][1] == "团队名称" and values[1][1] == "灵犀医疗" and values[1][2] == "AI+医疗"
    assert len(values) == 2
    assert client.get(f"{base}/export?format=pdf", headers=auth).status_code == 422
    assert client.get(f"{base}/export", headers=bearer(a)).status_code == 403


def test_the_openapi_document_describes_the_team_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/competitions", "/api/v1/competitions/{competition_id}/team-applications",
                 "/api/v1/me/team-applications", "/api/v1/team-applications/{application_id}",
                 "/api/v1/competitions/{competition_id}/team-applications/decisions",
                 "/api/v1/competitions/{competition_id}/team-applications/export"):
        assert path in paths, path


# ---- the pages ----------------------------------------------------------------------------------------------------

def form_for(values: dict, token: str, rows: list[dict], lead: int) -> dict:
    data = {"csrf_token": token, **values, "lead": str(lead), "submit": "1"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"members-{index}-{key}"] = value
    return data


def test_pages_apply_without_javascript_keep_typed_input_and_show_the_team(client, competition, founders,
                                                                           create_resident):
    comp, (founder,) = competition(), founders(1)
    sign_in(client, founder)
    apply_url = f"/competitions/{comp.id}/teams/apply"
    page = client.get(apply_url, headers=zh())
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('data-testid="member-row"') == 3 + 1  # 3 rows + the template
    token = csrf_token_from(client, apply_url)
    rows = [{"name": "创始人0", "role": "CEO"}, {"name": "赵一鸣", "phone": "139 1234 0001", "role": "CTO"},
            {"name": "钱佳", "phone": "1391234", "role": "<b>COO</b>"}]
    values = {"team_name": "<script>alert(1)</script>", "track": "ai-infra", "project_name": "推理云",
              "project_summary": "第一行\n第二行"}
    bad = client.post(apply_url, data=form_for(values, token, rows, lead=0), headers=zh())
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "第 3 位成员：手机号码无效。" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert 'value="1391234"' in html and 'value="&lt;b&gt;COO&lt;/b&gt;"' in html
    assert count() == 0

    added = client.post(apply_url, data={**form_for(values, token, rows, lead=0), "add_member": "1"}, headers=zh())
    assert added.get_data(as_text=True).count('data-testid="member-row"') == 4 + 1

    rows[2]["phone"] = "13912340002"
    done = client.post(apply_url, data=form_for(values, token, rows, lead=1), headers=zh())
    assert done.status_code == 302
    application = db.session.scalars(sa.select(TeamApplication)).one()
    assert done.headers["Location"].endswith(f"/teams/{application.id}")
    assert {m.phone: (m.name, m.role, m.is_lead) for m in application.members} == {
        founder.phone: ("创始人0", "CEO", False), TEAMMATE_PHONE: ("赵一鸣", "CTO", True),
        SECOND_TEAMMATE_PHONE: ("钱佳", "<b>COO</b>", False)}
    db.session.rollback()

    team_page = client.get(f"/teams/{application.id}", headers=zh()).get_data(as_text=True)
    assert "审核中" in team_page and "139****0001" in team_page and TEAMMATE_PHONE not in team_page
    assert founder.phone in team_page  # their own number
    assert client.get(apply_url).headers["Location"].endswith(f"/teams/{application.id}")

    cto = create_resident(phone=TEAMMATE_PHONE, name="赵一鸣")
    other = client.application.test_client()
    sign_in(other, cto)
    event_page = other.get(f"/events/{comp.event_id}", headers=zh()).get_data(as_text=True)
    assert "你的队伍“&lt;script&gt;alert(1)&lt;/script&gt;”" in event_page and "审核中" in event_page
    assert "我的队伍" in other.get("/me/teams", headers=zh()).get_data(as_text=True)
    edit_url = f"/teams/{application.id}/edit"
    edit_page = other.get(edit_url, headers=zh()).get_data(as_text=True)
    assert "139****0002" in edit_page and SECOND_TEAMMATE_PHONE not in edit_page
    assert "<h1>修改团队申请</h1>" in edit_page and "保存修改" in edit_page
    edit_token = csrf_token_from(other, edit_url)
    members = sorted(application.members, key=lambda m: (not m.is_lead, m.id))
    edit_rows = [{"id": str(m.id), "name": m.name, "role": m.role} for m in members]
    edit_rows[2]["remove"] = "1"
    saved = other.post(edit_url, data=form_for({**values, "team_name": "星河智算"}, edit_token, edit_rows, lead=0),
                       headers=zh())
    assert saved.status_code == 302
    db.session.expire_all()
    refreshed = db.session.get(TeamApplication, application.id)
    assert refreshed.team_name == "星河智算" and len(refreshed.members) == 2
    assert refreshed.members[0].phone in (founder.phone, TEAMMATE_PHONE)

    stranger = client.application.test_client()
    sign_in(stranger, founders(1)[0])
    assert stranger.get(f"/teams/{application.id}").status_code == 404
    assert stranger.get(edit_url).status_code == 404


def test_pages_organizer_reviews_with_filters_and_bulk_decisions(client, competition, founders, create_resident):
    comp = competition()
    organizer = create_resident(name="黄蕾", roles=[("organizer", scope_key("competition", comp.id))])
    a, b = founders(2)
    first = apply(comp, a, members=[])
    second = apply(comp, b, team_name="灵犀医疗", track="ai-health", members=[])
    sign_in(client, organizer)
    review_url = f"/competitions/{comp.id}/teams/review"
    page = client.get(f"{review_url}?track=ai-health", headers=zh()).get_data(as_text=True)
    assert "灵犀医疗" in page and "星河智算" not in page and "AI+医疗" in page
    event_page = client.get(f"/events/{comp.event_id}", headers=zh()).get_data(as_text=True)
    assert "审核参赛申请" in event_page
    token = csrf_token_from(client, review_url)
    done = client.post(review_url, data={"csrf_token": token, "application_ids": [str(first.id), str(second.id)],
                                         "decision": "decline", "note": "感谢参与"}, headers=zh())
    assert done.status_code == 302
    db.session.expire_all()
    assert {a.status for a in db.session.scalars(sa.select(TeamApplication))} == {"declined"}
    db.session.rollback()
    export_link = re.search(r'href="([^"]+format=csv[^"]*)"', page).group(1).replace("&amp;", "&")
    exported = client.get(export_link)  # the page's download link works with the cookie session
    assert exported.status_code == 200 and exported.data.startswith(b"\xef\xbb\xbf")
    assert "灵犀医疗".encode() in exported.data and "星河智算".encode() not in exported.data  # the track filter
    nothing = client.post(review_url, data={"csrf_token": token, "decision": "accept"}, headers=zh())
    assert "请至少选择一份申请。" in nothing.get_data(as_text=True)
    closed = client.post(f"/competitions/{comp.id}/teams/applications-open", data={"csrf_token": token, "open": "0"})
    db.session.expire_all()
    assert closed.status_code == 302 and db.session.get(Competition, comp.id).applications_open is False
    sign_in(client, a)
    assert client.get(review_url).status_code == 403


def test_the_event_page_shows_the_apply_button_only_while_open(client, competition, founders):
    comp, (founder,) = competition(), founders(1)
    sign_in(client, founder)
    page = client.get(f"/events/{comp.event_id}", headers=zh()).get_data(as_text=True)
    assert 'data-testid="apply-as-team"' in page and "具身智能" in page
    comp.applications_open = False
    db.session.commit()
    page = client.get(f"/events/{comp.event_id}", headers=zh()).get_data(as_text=True)
    assert 'data-testid="apply-as-team"' not in page and "参赛报名已截止" in page
    assert "参赛报名已截止" in client.get(f"/competitions/{comp.id}/teams/apply", headers=zh()).get_data(as_text=True)


# ---- demo data ---------------------------------------------------------------------------------------------------

def test_the_demo_competition_takes_applications_with_realistic_teams(client):
    from app.accounts.models import User
    from app.accounts.phones import normalise_phone
    from app.demo import DEMO_TEAMS, seed_demo

    assert seed_demo(now=utcnow())
    db.session.commit()
    (comp,) = teams.open_competitions(now=utcnow())
    assert [t["label"] for t in teams.tracks_of(comp)] == ["AI+制造", "AI+医疗", "AI基础设施", "具身智能"]
    applications = db.session.scalars(sa.select(TeamApplication)).all()
    assert len(applications) == len(DEMO_TEAMS) >= 5
    for application in applications:
        assert sum(m.is_lead for m in application.members) == 1
        assert all(normalise_phone(m.phone) == m.phone for m in application.members)
        assert application.track in {t["key"] for t in comp.tracks}
    founder = db.session.scalars(sa.select(User).where(User.phone == "+8613800000001")).one()
    assert teams.application_of(comp.id, founder) is None
    sun = db.session.scalars(sa.select(User).where(User.phone == "+8613800000006")).one()
    assert teams.application_of(comp.id, sun).status == "accepted"
    sign_in(client, founder)
    page = client.get(f"/events/{comp.event_id}", headers=zh()).get_data(as_text=True)
    assert 'data-testid="apply-as-team"' in page
    organizer = db.session.scalars(sa.select(User).where(User.phone == "+8613800000012")).one()
    assert len(teams.list_applications(comp.id, organizer)) == len(DEMO_TEAMS)
    assert not seed_demo(now=utcnow())


# ---- the migration -----------------------------------------------------------------------------------------------

def test_the_tracks_migration_keeps_competitions_rounds_and_teams(tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from tests.conftest import TEST_DATABASE, make_config

    if TEST_DATABASE != "sqlite":
        pytest.skip("the SQLite table rebuild is what can lose rows")
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(make_config(url))
    with app.app_context():
        upgrade(revision="0003_recurrence_id")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO competitions (id, name, description, created_at) "
                                 "VALUES (1, '大赛', '', '2026-11-01')"))
            conn.execute(sa.text("INSERT INTO competition_rounds (id, competition_id, kind, name, position) "
                                 "VALUES (1, 1, 'preliminary', '初赛', 1)"))
            conn.execute(sa.text("INSERT INTO team_applications (id, competition_id, team_name, track, project_name, "
                                 "project_summary, status, review_note, created_at, updated_at) VALUES (1, 1, '一队', "
                                 "'', '项目', '', 'submitted', '', '2026-11-01', '2026-11-01')"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM competition_rounds")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM team_applications")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT tracks, applications_open FROM competitions")).one() == ("[]", 0)
        downgrade(revision="0003_recurrence_id")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM team_applications")).scalar_one() == 1
        db.engine.dispose()
