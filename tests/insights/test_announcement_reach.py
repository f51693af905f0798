"""An announcement's reach over time, per channel: inbox messages written and opened, deliveries queued, delivered
and failed, cumulative per hour (per day when it goes on longer than three days). Every number is recounted here
from the rows one by one; the page, the CSV and the XLSX hold the same; only the announcement's organizers see it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa

from app.db_types import utcnow
from app.extensions import db
from notifications.models import Announcement, Delivery, Notification
from tests.conftest import sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def organizer(create_resident):
    return create_resident(name="王珂", roles=["organizer"])


def announce(people, *, written: datetime, spread: timedelta, segment=None) -> Announcement:
    """Messages written over `spread`; pushes delivered an hour later or failing after two; SMS for one in three;
    half of them read the next hour."""
    announcement = Announcement(title="小镇通知：周四停水", status="sent", created_at=written,
                                segment=segment or {"kind": "all"})
    db.session.add(announcement)
    db.session.flush()
    step = spread / max(1, len(people))
    for i, person in enumerate(people):
        at = written + step * i
        note = Notification(user_id=person.id, category="announcement", kind="announcement", title="通知",
                            dedupe_key=f"announcement:{announcement.id}", announcement_id=announcement.id,
                            created_at=at, read_at=at + timedelta(hours=1) if i % 2 else None)
        db.session.add(note)
        db.session.flush()
        failed = i % 4 == 3
        db.session.add(Delivery(notification_id=note.id, channel="webpush", created_at=at,
                                status="failed" if failed else "sent", next_attempt_at=at + timedelta(hours=2),
                                sent_at=None if failed else at + timedelta(hours=1)))
        if i % 3 == 0:
            db.session.add(Delivery(notification_id=note.id, channel="sms", created_at=at, status="pending",
                                    next_attempt_at=at + timedelta(minutes=5)))
    db.session.commit()
    return announcement


def slice_end(start: datetime, step: str) -> datetime:
    return start + (timedelta(hours=1) if step == "hour" else timedelta(days=1))


def expected(announcement_id: int, times: list[datetime], step: str) -> dict:
    notes = list(db.session.scalars(sa.select(Notification).where(Notification.announcement_id == announcement_id)))
    deliveries = [d for n in notes for d in db.session.scalars(sa.select(Delivery)
                                                                .where(Delivery.notification_id == n.id))]

    def upto(moments):
        return [sum(1 for m in moments if m is not None and m < slice_end(t, step)) for t in times]

    out = {"inbox": {"written": upto([n.created_at for n in notes]), "opened": upto([n.read_at for n in notes])},
           "channels": {}}
    for channel in sorted({d.channel for d in deliveries}):
        mine = [d for d in deliveries if d.channel == channel]
        out["channels"][channel] = {
            "queued": upto([d.created_at for d in mine]),
            "sent": upto([d.sent_at if d.status == "sent" else None for d in mine]),
            "failed": upto([d.next_attempt_at if d.status == "failed" else None for d in mine])}
    return out


def test_hour_by_hour_the_reach_matches_the_rows(client, organizer, create_resident):
    people = [create_resident(name=f"居民{i}") for i in range(12)]
    written = utcnow().replace(minute=20, second=0, microsecond=0) - timedelta(hours=30)
    announcement = announce(people, written=written, spread=timedelta(hours=6))
    sign_in(client, organizer)
    data = client.get(f"/api/v1/announcements/{announcement.id}/insights/reach").get_json()
    assert data["step"] == "hour" and data["empty_reason"] is None
    times = [datetime.fromisoformat(t) for t in data["times"]]
    assert times[0] == written.replace(minute=0).astimezone(UTC)
    assert all(b - a == timedelta(hours=1) for a, b in zip(times, times[1:], strict=False))
    got = {"inbox": data["inbox"], "channels": {c: dict(v) for c, v in data["channels"].items()}}
    assert got == expected(announcement.id, times, "hour")
    assert data["inbox"]["written"][-1] == 12 and data["inbox"]["opened"][-1] == 6
    assert data["channels"]["webpush"]["sent"][-1] == 9 and data["channels"]["webpush"]["failed"][-1] == 3
    assert data["channels"]["sms"]["queued"][-1] == 4 and data["channels"]["sms"]["sent"][-1] == 0


def test_a_long_campaign_is_counted_per_town_day(client, organizer, create_resident):
    people = [create_resident(name=f"居民{i}") for i in range(8)]
    written = utcnow() - timedelta(days=9)
    announcement = announce(people, written=written, spread=timedelta(days=6))
    sign_in(client, organizer)
    data = client.get(f"/api/v1/announcements/{announcement.id}/insights/reach").get_json()
    assert data["step"] == "day"
    times = [datetime.fromisoformat(t) for t in data["times"]]
    first_day = written.astimezone(SHANGHAI).date()
    assert times[0] == datetime(first_day.year, first_day.month, first_day.day, tzinfo=SHANGHAI)
    got = {"inbox": data["inbox"], "channels": {c: dict(v) for c, v in data["channels"].items()}}
    assert got == expected(announcement.id, times, "day")


def test_the_page_and_the_downloads_hold_the_same_numbers(client, organizer, create_resident):
    people = [create_resident(name=f"居民{i}") for i in range(6)]
    announcement = announce(people, written=utcnow() - timedelta(hours=5), spread=timedelta(hours=2))
    sign_in(client, organizer)
    data = client.get(f"/api/v1/announcements/{announcement.id}/insights/reach").get_json()
    page = client.get(f"/notifications/announcements/{announcement.id}").get_data(as_text=True)
    assert f'href="/notifications/announcements/{announcement.id}/insights"' in page
    html = client.get(f"/notifications/announcements/{announcement.id}/insights").get_data(as_text=True)
    assert "触达走势" in html and 'data-testid="reach-chart"' in html and "uPlot.iife.min.js" in html
    table = list(csv.reader(io.StringIO(client.get(
        f"/notifications/announcements/{announcement.id}/insights/reach.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["时间", "消息中心：已写入", "消息中心：已打开", "短信：已排队", "短信：已送达", "短信：失败",
                        "网页推送：已排队", "网页推送：已送达", "网页推送：失败"]
    assert len(table) - 1 == len(data["times"])
    assert [int(r[1]) for r in table[1:]] == data["inbox"]["written"]
    assert [int(r[7]) for r in table[1:]] == data["channels"]["webpush"]["sent"]
    assert [int(r[8]) for r in table[1:]] == data["channels"]["webpush"]["failed"]
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/notifications/announcements/{announcement.id}/insights/reach.xlsx").get_data()))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == data["inbox"]["opened"]


def test_an_announcement_nobody_received_says_why(client, organizer):
    announcement = Announcement(title="空通知", status="sent", created_at=utcnow(), segment={"kind": "all"})
    db.session.add(announcement)
    db.session.commit()
    sign_in(client, organizer)
    data = client.get(f"/api/v1/announcements/{announcement.id}/insights/reach").get_json()
    assert data["empty_reason"] == "no_recipients" and data["times"] == []
    html = client.get(f"/notifications/announcements/{announcement.id}/insights").get_data(as_text=True)
    assert 'data-testid="reach-empty"' in html and "还没有人收到这条通知" in html and "insights.js" not in html


@pytest.mark.parametrize("path", ["/api/v1/announcements/{id}/insights/reach",
                                  "/notifications/announcements/{id}/insights",
                                  "/notifications/announcements/{id}/insights/reach.csv"])
def test_residents_and_other_events_organizers_get_403(client, create_resident, create_event, path):
    from app.accounts.services import grant_role

    event, other = create_event(), create_event(title="另一个活动")
    announcement = announce([create_resident()], written=utcnow() - timedelta(hours=2), spread=timedelta(0),
                            segment={"kind": "registrants", "event_id": event.id})
    someone = create_resident(name="别的组织者")
    grant_role(someone, "organizer", f"event:{other.id}")
    db.session.commit()
    for user in (create_resident(name="路人"), someone):
        sign_in(client, user)
        response = client.get(path.format(id=announcement.id))
        assert response.status_code == 403
        body = response.get_json()["error"]["message"] if response.is_json else response.get_data(as_text=True)
        assert "你没有权限进行此操作。" in body
    own = create_resident(name="本活动组织者")
    grant_role(own, "organizer", f"event:{event.id}")
    db.session.commit()
    sign_in(client, own)
    assert client.get(path.format(id=announcement.id)).status_code == 200


def test_the_reach_endpoint_is_in_the_openapi_document(client):
    assert "/api/v1/announcements/{announcement_id}/insights/reach" in client.get(
        "/api/v1/openapi.json").get_json()["paths"]
