"""On the day and after: arrivals per gate per 5 minutes, the share of expected people in, attendance, no-shows and
how early people came; live while tickets are scanned (the page listens to check-in's door room). Numbers checked
against counts made here from the admissions, one by one."""

from __future__ import annotations

import contextvars
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db, socketio
from checkin.admission import admit_registration
from checkin.models import Admission
from events import services
from events.models import Registration
from tests.conftest import sign_in

FIVE_MINUTES = 300


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


@pytest.fixture
def door_day(create_event, create_resident, organizer):
    """A salon starting in 30 minutes (doors open since 90 minutes ago), six confirmed, five let in at two gates
    over the last hour and a half; one has not come."""
    event = create_event(title="技术沙龙：端侧模型", capacity=10, starts_in=timedelta(minutes=30))
    now = utcnow()
    registrations = []
    for i in range(6):
        registration, _ = services.register_for_event(event.id, create_resident(name=f"观众{i}"),
                                                      now=now - timedelta(days=1))
        db.session.commit()
        registrations.append(registration)
    for registration, (minutes_ago, gate) in zip(registrations, [(85, "A"), (62, "A"), (50, "B"), (49, "B"),
                                                                 (3, "A")], strict=False):
        admit_registration(event.id, registration.id, organizer, gate=gate, scan_id=str(uuid.uuid4()),
                           now=now - timedelta(minutes=minutes_ago))
        db.session.commit()
    return event


def admissions(event_id: int) -> list[Admission]:
    return list(db.session.scalars(sa.select(Admission).where(Admission.event_id == event_id)))


def test_arrivals_per_gate_per_five_minutes_match_the_admissions(client, door_day, organizer):
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{door_day.id}/insights/arrivals").get_json()
    rows = admissions(door_day.id)
    slices = {}
    for admission in rows:
        key = int(admission.first_admitted_at.timestamp()) // FIVE_MINUTES
        slices.setdefault(key, {}).setdefault(admission.gate, 0)
        slices[key][admission.gate] += 1
    assert data["gates"] == ["A", "B"] and data["bucket_minutes"] == 5 and data["phase"] == "open"
    starts = [int(datetime.fromisoformat(b["start"]).timestamp()) for b in data["buckets"]]
    assert starts[0] // FIVE_MINUTES == min(slices)
    assert all(b - a == FIVE_MINUTES for a, b in zip(starts, starts[1:], strict=False))  # no gap: quiet slices are 0
    arrived = 0
    for start, bucket in zip(starts, data["buckets"], strict=True):
        expected = slices.get(start // FIVE_MINUTES, {})
        assert bucket["counts"] == [expected.get("A", 0), expected.get("B", 0)]
        arrived += sum(expected.values())
        assert bucket["arrived"] == arrived
    assert arrived == len(rows) == 5
    confirmed = db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.event_id == door_day.id, Registration.status == "confirmed"))
    assert (data["expected"], data["came"], data["no_shows"], data["admitted"]) == (confirmed, 5, 1, 5)
    assert data["share_in"] == round(100 * 5 / 6, 1)
    # All five came early: over 30 minutes before the start (85, 62 and 50, 49 minutes before it less 30) ...
    early = {"early_30": 0, "early_15": 0, "early_0": 0, "late_15": 0, "late_more": 0}
    for admission in rows:
        before = (door_day.starts_at - admission.first_admitted_at).total_seconds() / 60
        key = ("early_30" if before > 30 else "early_15" if before > 15 else "early_0" if before > 0
               else "late_15" if before > -15 else "late_more")
        early[key] += 1
    assert data["punctuality"] == early and data["outside_window"] == 0 and data["empty_reason"] is None


def test_the_chart_moves_live_when_a_ticket_is_scanned(app, client, door_day, organizer, create_resident):
    sign_in(client, organizer)
    http = app.test_client()
    sign_in(http, organizer)
    sio = contextvars.Context().run(socketio.test_client, app, flask_test_client=http)
    ack = contextvars.Context().run(sio.emit, "join_checkin", {"event_id": door_day.id}, callback=True)
    assert ack["ok"]  # the insights page listens in check-in's door room: organizers may join it
    sio.get_received()
    before = client.get(f"/api/v1/events/{door_day.id}/insights/arrivals").get_json()

    late = db.session.scalars(sa.select(Registration).where(
        Registration.event_id == door_day.id, Registration.id.not_in(
            sa.select(Admission.registration_id).where(Admission.event_id == door_day.id)))).one()
    response = client.post(f"/api/v1/events/{door_day.id}/checkins/manual",
                           json={"registration_id": late.id, "gate": "B", "scan_id": str(uuid.uuid4())},
                           headers={"X-CSRFToken": _csrf(client)})
    assert response.status_code in (200, 201), response.get_json()

    heard = [e for e in sio.get_received() if e["name"] == "checkin_counters"]
    assert heard and heard[-1]["args"][0]["admitted"] == 6
    after = client.get(f"/api/v1/events/{door_day.id}/insights/arrivals").get_json()
    assert after["came"] == before["came"] + 1 and after["no_shows"] == 0 and after["share_in"] == 100.0
    assert after["buckets"][-1]["counts"][1] == before["buckets"][-1]["counts"][1] + 1  # gate B, this slice
    sio.disconnect()


def _csrf(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client, "/manage")


def test_the_downloads_hold_the_api_numbers(client, door_day, organizer):
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{door_day.id}/insights/arrivals").get_json()
    base = f"/manage/events/{door_day.id}/insights"
    table = list(csv.reader(io.StringIO(client.get(base + "/arrivals.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["时间", "入口 A", "入口 B", "累计到场", "应到人员已到比例（%）"]
    assert [[int(v) for v in r[1:4]] for r in table[1:]] == [b["counts"] + [b["arrived"]] for b in data["buckets"]]
    shanghai = datetime.fromisoformat(data["buckets"][0]["start"]).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert table[1][0] == shanghai.strftime("%Y-%m-%d %H:%M")
    table = list(csv.reader(io.StringIO(client.get(base + "/attendance.csv").get_data().decode("utf-8-sig"))))
    assert table[1:5] == [["应到", "6"], ["已到", "5"], ["未到场", "1"], ["到场率（%）", str(data["share_in"])]]
    assert client.get(base + "/arrivals.xlsx").status_code == 200


def test_a_steward_of_the_event_does_not_see_the_insights(client, door_day, create_resident):
    steward = create_resident(name="志愿者小李", roles=[("steward", f"event:{door_day.id}")])
    sign_in(client, steward)
    response = client.get(f"/api/v1/events/{door_day.id}/insights/arrivals")
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "你没有权限进行此操作。"
    for path in ("arrivals.csv", "attendance.csv", "arrivals.xlsx"):
        assert client.get(f"/manage/events/{door_day.id}/insights/{path}").status_code == 403


@pytest.mark.parametrize(("starts_in", "confirmed", "reason", "message"), [
    (timedelta(days=2), 0, "no_tickets", "还没有人持有已确认的门票"),
    (timedelta(days=2), 1, "no_arrivals_yet", "还没有人入场"),
    (timedelta(days=-2), 1, "nobody_came", "这个活动没有人扫码入场"),
])
def test_without_arrivals_the_page_says_why(client, create_event, create_resident, organizer, starts_in, confirmed,
                                            reason, message):
    event = create_event(starts_in=starts_in)
    for _ in range(confirmed):
        db.session.add(Registration(event_id=event.id, user_id=create_resident().id, status="confirmed",
                                    waitlist_seq=1, created_at=datetime(2026, 1, 1, tzinfo=UTC)))
        db.session.commit()
    sign_in(client, organizer)
    data = client.get(f"/api/v1/events/{event.id}/insights/arrivals").get_json()
    assert data["buckets"] == [] and data["empty_reason"] == reason
    assert data["no_shows"] == confirmed
    html = client.get(f"/manage/events/{event.id}/insights").get_data(as_text=True)
    assert 'data-testid="arrivals-empty"' in html and message in html


def test_the_arrivals_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/v1/events/{event_id}/insights/arrivals"]
