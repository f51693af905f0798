"""The town over twelve months (admins only): events per month by kind, returning attendees within 90 days, no-show
rate by kind, and announcements' reach per channel; every number recounted here from the rows, by brute force."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.db_types import utcnow
from app.extensions import db
from events.models import Registration
from notifications.models import Announcement, Delivery, Notification
from tests.conftest import sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = ("roadshow", "salon", "competition", "other")


def month_of(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


@pytest.fixture
def admin(create_resident):
    return create_resident(name="镇管理员", roles=["admin"])


@pytest.fixture
def town(create_event, create_resident):
    """Events over the last months (drafts and cancelled ones too), attendances, no-shows and two announcements."""
    now = utcnow()
    events = {
        "old_salon": create_event(kind="salon", starts_in=timedelta(days=-100)),
        "salon": create_event(kind="salon", starts_in=timedelta(days=-40)),
        "roadshow": create_event(kind="roadshow", starts_in=timedelta(days=-20)),
        "draft": create_event(kind="roadshow", status="draft", starts_in=timedelta(days=-20)),
        "cancelled": create_event(kind="competition", status="cancelled", starts_in=timedelta(days=-30)),
        "long_ago": create_event(kind="other", starts_in=timedelta(days=-500)),
        "soon": create_event(kind="salon", starts_in=timedelta(days=3)),
    }
    people = [create_resident(name=f"居民{i}") for i in range(5)]
    came, absent = True, False
    plan = [(0, "old_salon", came), (1, "old_salon", came), (0, "salon", came), (1, "salon", absent),
            (2, "salon", came), (2, "roadshow", came), (3, "roadshow", absent), (4, "long_ago", came),
            (4, "old_salon", came)]
    for seq, (person, key, attended) in enumerate(plan, start=1):
        event = events[key]
        db.session.add(Registration(event_id=event.id, user_id=people[person].id, status="confirmed",
                                    waitlist_seq=seq, created_at=event.starts_at - timedelta(days=5),
                                    confirmed_at=event.starts_at - timedelta(days=5),
                                    checked_in_at=event.starts_at if attended else None))
    db.session.add(Registration(event_id=events["roadshow"].id, user_id=people[4].id, status="cancelled",
                                waitlist_seq=99, created_at=now - timedelta(days=30)))
    recent = Announcement(title="小镇通知", created_at=now - timedelta(days=10), status="done")
    old = Announcement(title="旧通知", created_at=now - timedelta(days=500), status="done")
    db.session.add_all([recent, old])
    db.session.flush()
    outcomes = [[("webpush", "sent"), ("sms", "sent")], [("webpush", "failed"), ("email", "skipped")],
                [("webpush", "sent")]]
    for i, person in enumerate(people[:3]):
        note = Notification(user_id=person.id, category="announcement", kind="announcement", title="小镇通知",
                            dedupe_key=f"announcement:{recent.id}", announcement_id=recent.id,
                            read_at=now if i < 2 else None)
        db.session.add(note)
        db.session.flush()
        for channel, status in outcomes[i]:
            db.session.add(Delivery(notification_id=note.id, channel=channel, status=status))
    stale = Notification(user_id=people[0].id, category="announcement", kind="announcement", title="旧通知",
                         dedupe_key=f"announcement:{old.id}", announcement_id=old.id, read_at=now)
    db.session.add(stale)
    db.session.flush()
    db.session.add(Delivery(notification_id=stale.id, channel="sms", status="sent"))
    db.session.commit()
    return events


def test_the_town_numbers_match_the_rows_counted_one_by_one(client, admin, town):
    sign_in(client, admin)
    response = client.get("/api/v1/insights/town")
    assert response.status_code == 200
    data = response.get_json()
    now = utcnow()
    months = data["months"]
    assert len(months) == 12 and months[-1] in (month_of(now - timedelta(minutes=1)), month_of(now))

    published = [e for e in town.values() if e.status == "published"]
    for kind in KINDS:
        assert data["events"][kind] == [sum(1 for e in published if e.kind == kind and month_of(e.starts_at) == m)
                                        for m in months]
    assert sum(data["events"]["salon"]) >= 2 and data["events"]["competition"] == [0] * 12  # cancelled: not counted

    attendances = [(r.user_id, r.event.starts_at) for r in db.session.query(Registration).all()
                   if r.checked_in_at is not None]
    for row in data["returns"]:
        people = {u for u, at in attendances if month_of(at) == row["month"]}
        back = {u for u, at in attendances if month_of(at) == row["month"]
                and any(v == u and at < later <= at + timedelta(days=90) for v, later in attendances)}
        assert (row["attendees"], row["returned"]) == (len(people), len(back)), row["month"]
    assert sum(r["returned"] for r in data["returns"]) >= 2  # person 0 after the old salon, person 2 after the salon

    for row in data["no_shows"]:
        confirmed = [r for r in db.session.query(Registration).all()
                     if r.event.kind == row["kind"] and r.event.status == "published" and r.status == "confirmed"
                     and r.event.ends_at < now and month_of(r.event.starts_at) >= months[0]]
        attended = sum(1 for r in confirmed if r.checked_in_at is not None)
        assert (row["confirmed"], row["attended"], row["no_shows"]) == (len(confirmed), attended,
                                                                        len(confirmed) - attended)
    salon = next(r for r in data["no_shows"] if r["kind"] == "salon")
    assert salon["rate"] == round(100 * salon["no_shows"] / salon["confirmed"], 1)

    assert data["inbox"] == {"written": 3, "opened": 2}  # the announcement of 500 days ago is not in the year
    assert data["channels"]["webpush"] == {"sent": 2, "failed": 1, "pending": 0, "skipped": 0}
    assert data["channels"]["sms"] == {"sent": 1, "failed": 0, "pending": 0, "skipped": 0}
    assert data["channels"]["email"]["skipped"] == 1 and sum(data["channels"]["wechat"].values()) == 0


def test_the_page_and_its_downloads_hold_the_same_numbers(client, admin, town):
    sign_in(client, admin)
    data = client.get("/api/v1/insights/town").get_json()
    assert 'href="/insights/town"' in client.get("/manage").get_data(as_text=True)
    html = client.get("/insights/town").get_data(as_text=True)
    assert "小镇数据" in html and 'data-url="/api/v1/insights/town"' in html
    for key in ("events", "returns", "no-shows", "reach"):
        assert f'data-testid="town-{key}-chart"' in html
    table = list(csv.reader(io.StringIO(client.get("/insights/town/events.csv").get_data().decode("utf-8-sig"))))
    assert table[0] == ["月份", "路演日", "技术沙龙", "创业大赛", "活动", "合计"]
    assert [[int(v) for v in row[1:5]] for row in table[1:]] == [
        [data["events"][k][i] for k in KINDS] for i in range(12)]
    table = list(csv.reader(io.StringIO(client.get("/insights/town/reach.csv").get_data().decode("utf-8-sig"))))
    assert table[1][:2] == ["消息中心", "3"]
    assert client.get("/insights/town/town.xlsx").status_code == 200
    assert client.get("/insights/town/nothing.csv").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/insights/town", "/insights/town", "/insights/town/events.csv",
                                  "/insights/town/town.xlsx"])
def test_only_admins_see_the_town(client, create_resident, path):
    sign_in(client, create_resident(name="组织者", roles=["organizer"]))
    response = client.get(path)
    assert response.status_code == 403
    assert "你没有权限进行此操作。" in (response.get_json()["error"]["message"] if response.is_json
                               else response.get_data(as_text=True))
    assert 'href="/insights/town"' not in client.get("/manage").get_data(as_text=True)


def test_an_empty_town_says_so(client, admin):
    sign_in(client, admin)
    data = client.get("/api/v1/insights/town").get_json()
    assert all(sum(v) == 0 for v in data["events"].values()) and data["inbox"] == {"written": 0, "opened": 0}
    assert all(r["rate"] is None for r in data["returns"])
    assert "这十二个月还没有相关数字" in client.get("/insights/town").get_data(as_text=True)


def test_the_town_endpoint_is_in_the_openapi_document(client):
    assert "/api/v1/insights/town" in client.get("/api/v1/openapi.json").get_json()["paths"]
